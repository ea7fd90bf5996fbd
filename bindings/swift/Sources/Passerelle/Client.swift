import Foundation
import PasserelleBindings

/// The library: one per data directory, opened with ``open(config:secrets:events:)`` (or
/// ``openProtected(config:secrets:events:)``, which also prepares the directory), closed with
/// ``close()``.
///
/// It is a thin wrapper over the generated bindings (the module `PasserelleBindings`, which this
/// package does not re-export): it offers each call once, in its Swift spelling (`URL`, a first
/// argument without a label where the name says what it is, cancellation by the calling `Task`),
/// and throws ``PasserelleError`` with lowerCamel cases. ``PasserelleClient`` lists the same calls,
/// so screens take `any PasserelleClient` and run on ``PreviewPasserelle`` in previews and tests.
///
/// Every call that goes to the network stops when its task is cancelled and throws
/// `CancellationError`, as `URLSession` or `Task.sleep` do:
///
/// ```swift
/// let signingIn = Task { try await app.signIn(email: email, password: password) }
/// ...
/// signingIn.cancel()   // the person tapped "Cancel": the task throws CancellationError
/// ```
///
/// A task already cancelled when the call starts throws at once.
public final class Client: PasserelleClient, Sendable {
    /// The generated object every call goes through.
    let bindings: PasserelleBindings.Passerelle

    init(_ bindings: PasserelleBindings.Passerelle) {
        self.bindings = bindings
    }

    /// Opens the library on `config.dataDir`: the database, the secrets in `secrets`, the events
    /// to `events` (a ``PasserelleEvents``); sync starts. Use ``openProtected(config:secrets:events:)``
    /// in an app: it prepares the directory (file protection on iOS) and waits for `open`'s events.
    public static func `open`(
        config: PasserelleConfig, secrets: any SecretStore, events: any EventListener
    ) async throws -> Client {
        let bindings = try await mapErrors {
            try await PasserelleBindings.Passerelle.open(config: config.bindings, secrets: SecretStoreBridge(secrets), events: events)
        }
        return Client(bindings)
    }

    // MARK: The POS account

    /// The signed-in POS account, if any.
    public func account() async throws -> POSAccount? {
        try await Self.mapErrors { try await self.bindings.account() }
    }

    /// Signs in with the POS account's e-mail and password (never stored); cancellable.
    public func signIn(email: String, password: String) async throws -> POSAccount {
        try await Self.cancellable { try await self.bindings.signIn(email: email, password: password, cancellation: $0) }
    }

    /// Adopts the POS session of a host app that is already signed in; cancellable.
    public func signInWithPOSSession(accessToken: String) async throws -> POSAccount {
        try await Self.cancellable { try await self.bindings.signInWithPosSession(accessToken: accessToken, cancellation: $0) }
    }

    /// Signs out, keeping the account's HubRise connections or disconnecting them; cancellable
    /// while it disconnects (the connections already revoked stay so, the others keep syncing).
    public func signOut(mode: SignOutMode) async throws -> SignOutOutcome {
        try await Self.cancellable { try await self.bindings.signOut(mode: mode, cancellation: $0) }
    }

    /// Whether the POS backend answered at the last open, restart or sync.
    public func backendStatus() throws -> BackendStatus {
        try Self.mapErrors { try bindings.backendStatus() }
    }

    /// Erases the signed-in account's data (or every account's) from the device.
    public func eraseAccountData(scope: ErasureScope) async throws -> ErasureReport {
        try await Self.mapErrors { try await self.bindings.eraseAccountData(scope: scope) }
    }

    /// This installation's id (the device, as the POS backend and HubRise see it).
    public func deviceId() throws -> String {
        try Self.mapErrors { try bindings.deviceId() }
    }

    // MARK: HubRise connections

    /// The account's HubRise connections.
    public func connections() async throws -> [HubriseConnection] {
        try await Self.mapErrors { try await self.bindings.connections() }
    }

    /// Starts connecting a location: open ``HubriseAuthorization/authorizeURL``.
    public func beginHubriseConnection(options: HubriseConnectionOptions) async throws -> HubriseAuthorization {
        HubriseAuthorization(try await Self.mapErrors { try await self.bindings.beginHubriseConnection(options: options) })
    }

    /// Starts connecting a location through the POS backend's https redirect (it holds the client
    /// secret and receives HubRise's answer).
    public func beginHubriseConnectionViaPOSBackend(options: HubriseConnectionOptions) async throws -> HubriseAuthorization {
        HubriseAuthorization(
            try await Self.mapErrors { try await self.bindings.beginHubriseConnectionViaPosBackend(options: options) })
    }

    /// Asks the POS backend for HubRise's answer to an attempt begun with
    /// ``beginHubriseConnectionViaPOSBackend(options:)``: `nil` while the restaurant is still on
    /// HubRise's page, else the connection. Cancellable.
    public func completeHubriseConnectionViaPOSBackend(state: String) async throws -> HubriseConnection? {
        try await Self.cancellable { try await self.bindings.completeHubriseConnectionViaPosBackend(state: state, cancellation: $0) }
    }

    /// Completes a connection from the URL HubRise redirected to (what
    /// `ASWebAuthenticationSession` returns); it waits for a restart to go active. Cancellable.
    public func completeHubriseConnection(callbackURL: URL) async throws -> HubriseConnection {
        try await Self.cancellable { try await self.bindings.completeHubriseConnection(callbackUrl: callbackURL, cancellation: $0) }
    }

    /// Completes an out-of-band attempt with the code the restaurant copied from HubRise's page
    /// (spaces and line breaks around it are ignored); cancellable.
    public func completeHubriseConnection(code: String, state: String) async throws -> HubriseConnection {
        try await Self.cancellable {
            try await self.bindings.completeHubriseConnectionWithCode(code: code, state: state, cancellation: $0)
        }
    }

    /// Abandons an attempt (the person closed the page).
    public func cancelHubriseConnection(state: String) async throws {
        try await Self.mapErrors { try await self.bindings.cancelHubriseConnection(state: state) }
    }

    /// Asks HubRise now whether the connection works; cancellable.
    public func checkConnection(connectionId: String) async throws -> HubriseConnection {
        try await Self.cancellable { try await self.bindings.checkConnection(connectionId: connectionId, cancellation: $0) }
    }

    /// Confirms a connection made off the device (its token comes from the POS backend); cancellable.
    public func confirmConnection(connectionId: String) async throws -> HubriseConnection {
        try await Self.cancellable { try await self.bindings.confirmConnection(connectionId: connectionId, cancellation: $0) }
    }

    /// Refuses a connection made off the device (revoked through the POS backend); cancellable.
    public func refuseConnection(connectionId: String) async throws -> HubriseConnection {
        try await Self.cancellable { try await self.bindings.refuseConnection(connectionId: connectionId, cancellation: $0) }
    }

    /// Disconnects now; cancelled, the connection stays as it was and keeps syncing.
    public func disconnect(connectionId: String) async throws -> DisconnectOutcome {
        try await Self.cancellable { try await self.bindings.disconnect(connectionId: connectionId, cancellation: $0) }
    }

    /// Routes a URL the app was opened with (`onOpenURL`): HubRise's redirect after its consent
    /// page, or HubRise's Open URL naming a connection; cancellable.
    public func handleOpenURL(_ url: URL) async throws -> OpenURLOutcome {
        try await Self.cancellable { try await self.bindings.handleOpenUrl(url: url, cancellation: $0) }
    }

    // MARK: Restart to apply

    /// What a restart would apply.
    public func pendingChanges() async throws -> [ConfigChange] {
        try await Self.mapErrors { try await self.bindings.pendingChanges() }
    }

    /// Whether a restart would apply something.
    public func restartRequired() async throws -> Bool {
        try await Self.mapErrors { try await self.bindings.restartRequired() }
    }

    /// Applies the pending configuration; cancellable while it reloads the POS backend's
    /// configuration (then nothing is applied and sync starts again).
    public func restart() async throws {
        try await Self.cancellable { try await self.bindings.restart(cancellation: $0) }
    }

    /// The settings in use (poll interval, when changes apply).
    public func settings() throws -> Settings {
        try Self.mapErrors { try bindings.settings() }
    }

    /// Changes the settings; they apply as ``Settings/applyMode`` says.
    public func updateSettings(settings: Settings) async throws {
        try await Self.mapErrors { try await self.bindings.updateSettings(settings: settings) }
    }

    /// The version of the configuration in use.
    public func configurationVersion() throws -> UInt64 {
        try Self.mapErrors { try bindings.configurationVersion() }
    }

    // MARK: Orders

    /// A page of the inbox's rows, newest first.
    public func orderSummaries(filter: OrderFilter) async throws -> [OrderSummary] {
        try await Self.mapErrors { try await self.bindings.orderSummaries(filter: filter) }
    }

    /// Whole orders (lines, customer, payments), newest first.
    public func orders(filter: OrderFilter) async throws -> [Order] {
        try await Self.mapErrors { try await self.bindings.orders(filter: filter) }
    }

    /// One order with its lines, customer and payments.
    public func order(orderId: String) async throws -> Order? {
        try await Self.mapErrors { try await self.bindings.order(orderId: orderId) }
    }

    /// Orders received but not marked seen.
    public func unseenOrders() async throws -> [Order] {
        try await Self.mapErrors { try await self.bindings.unseenOrders() }
    }

    /// Accepts an order, ready at `confirmedTime`.
    public func accept(orderId: String, confirmedTime: Date?) async throws {
        try await Self.mapErrors { try await self.bindings.accept(orderId: orderId, confirmedTime: confirmedTime) }
    }

    /// Rejects an order; the reason stays on the device.
    public func reject(orderId: String, reason: String?) async throws {
        try await Self.mapErrors { try await self.bindings.reject(orderId: orderId, reason: reason) }
    }

    /// Moves an accepted order on (in preparation, ready, completed...).
    public func updateStatus(orderId: String, status: OrderStatus) async throws {
        try await Self.mapErrors { try await self.bindings.updateStatus(orderId: orderId, status: status) }
    }

    /// The staff saw these orders; returns how many were unseen.
    public func markOrdersSeen(orderIds: [String]) async throws -> UInt32 {
        try await Self.mapErrors { try await self.bindings.markOrdersSeen(orderIds: orderIds) }
    }

    // MARK: Sync

    /// Syncs every active connection now (pull to refresh, the app back in the foreground);
    /// cancellable.
    @discardableResult
    public func syncNow() async throws -> SyncReport {
        try await Self.cancellable { try await self.bindings.syncNow(cancellation: $0) }
    }

    /// Whether orders flow, per connection.
    public func syncHealth() async throws -> SyncHealth {
        try await Self.mapErrors { try await self.bindings.syncHealth() }
    }

    /// Starts the sync engine again after ``stopSync()``.
    public func startSync() async throws {
        try await Self.mapErrors { try await self.bindings.startSync() }
    }

    /// Stops the sync engine until ``startSync()`` or ``restart()``.
    public func stopSync() async throws {
        try await Self.mapErrors { try await self.bindings.stopSync() }
    }

    /// Events and orders set aside after failing past their budget.
    public func quarantinedItems() async throws -> [QuarantinedItem] {
        try await Self.mapErrors { try await self.bindings.quarantinedItems() }
    }

    /// Tries a quarantined item again.
    public func retryQuarantined(itemId: Int64) async throws {
        try await Self.mapErrors { try await self.bindings.retryQuarantined(itemId: itemId) }
    }

    /// Changes from the till HubRise did not take within their budget.
    public func failedChanges() async throws -> [FailedChange] {
        try await Self.mapErrors { try await self.bindings.failedChanges() }
    }

    /// Sends an order's failed changes again; returns how many were queued.
    public func retryFailedChanges(orderId: String) async throws -> UInt32 {
        try await Self.mapErrors { try await self.bindings.retryFailedChanges(orderId: orderId) }
    }

    /// Prunes and scrubs what the retention policy says is old (it runs by itself daily).
    public func applyRetention() async throws -> RetentionReport {
        try await Self.mapErrors { try await self.bindings.applyRetention() }
    }

    /// The app went to the background: sync pauses.
    public func appDidEnterBackground() throws {
        try Self.mapErrors { try bindings.appDidEnterBackground() }
    }

    /// The app is in the foreground again: sync resumes at once.
    public func appWillEnterForeground() throws {
        try Self.mapErrors { try bindings.appWillEnterForeground() }
    }

    /// The network is back: every connection syncs now.
    public func networkAvailable() throws {
        try Self.mapErrors { try bindings.networkAvailable() }
    }

    /// Registers the device token iOS gives with the POS backend, which then wakes the app in
    /// the background when an order arrives while it is away: `false` when the backend does not
    /// wake tills (no error). Call it at each launch once signed in. Cancellable.
    ///
    /// ```swift
    /// func application(_ app: UIApplication, didRegisterForRemoteNotificationsWithDeviceToken token: Data) {
    ///     Task { try? await passerelle.registerPushToken(token) }
    /// }
    /// ```
    @discardableResult
    public func registerPushToken(_ deviceToken: Data) async throws -> Bool {
        try await Self.cancellable { try await self.bindings.registerPushToken(token: deviceToken, cancellation: $0) }
    }

    /// The one cycle a background notification asks for (orders since the last cycle included);
    /// what it brought decides the fetch completion handler's result. Cancellable.
    public func handlePushNotification() async throws -> SyncReport {
        try await Self.cancellable { try await self.bindings.handlePushNotification(cancellation: $0) }
    }

    /// Waits (at most 5 s) until the events listener has been handed every event emitted so far;
    /// ``openProtected(config:secrets:events:)`` does after `open`.
    public func eventsDelivered() async throws -> Bool {
        try await Self.mapErrors { try await self.bindings.eventsDelivered() }
    }

    /// Stops sync and releases the data directory.
    public func close() async throws {
        try await Self.mapErrors { try await self.bindings.close() }
    }

    // MARK: Errors and cancellation

    /// Runs `call` with a `Cancellation` of the bindings that the current task's cancellation
    /// triggers (the Rust task is then aborted, a request in flight dropped), and throws
    /// `CancellationError` for the cancelled error that follows.
    static func cancellable<Value>(_ call: (Cancellation) async throws -> Value) async throws -> Value {
        let cancellation = Cancellation()
        return try await mapErrors {
            do {
                return try await withTaskCancellationHandler {
                    try await call(cancellation)
                } onCancel: {
                    cancellation.cancel()
                }
            } catch PasserelleBindings.PasserelleError.Cancelled {
                throw CancellationError()
            }
        }
    }

    /// Runs `call`, throwing the library's errors as ``PasserelleError``.
    static func mapErrors<Value>(_ call: () async throws -> Value) async throws -> Value {
        do {
            return try await call()
        } catch let error as PasserelleBindings.PasserelleError {
            throw PasserelleError(error)
        }
    }

    /// Runs `call`, throwing the library's errors as ``PasserelleError``.
    static func mapErrors<Value>(_ call: () throws -> Value) throws -> Value {
        do {
            return try call()
        } catch let error as PasserelleBindings.PasserelleError {
            throw PasserelleError(error)
        }
    }
}

/// Routes Passerelle's logs at `level` and above to the host's `logger` (for `os_log`, see
/// ``OSLogLogger``), redacted. Call it again to change the logger or the level.
public func setLogger(logger: any PasserelleLogger, level: LogLevel) throws {
    try Client.mapErrors { try PasserelleBindings.setLogger(logger: logger, level: level) }
}

/// The host's secret store as the bindings call it: its ``SecretStoreError`` becomes theirs.
final class SecretStoreBridge: PasserelleBindings.SecretStore {
    let store: any SecretStore

    init(_ store: any SecretStore) {
        self.store = store
    }

    func get(key: String) throws -> String? {
        try bridged { try store.get(key: key) }
    }

    func set(key: String, value: String) throws {
        try bridged { try store.set(key: key, value: value) }
    }

    func delete(key: String) throws {
        try bridged { try store.delete(key: key) }
    }

    private func bridged<Value>(_ call: () throws -> Value) throws -> Value {
        do {
            return try call()
        } catch let error as SecretStoreError {
            throw error.bindings
        }
    }
}
