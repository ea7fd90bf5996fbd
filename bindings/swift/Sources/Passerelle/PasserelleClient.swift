import Foundation

/// What an app calls on Passerelle, as a protocol: ``Client`` conforms, and so does
/// ``PreviewPasserelle``, the in-memory stand-in for SwiftUI previews and unit tests.
///
/// ``PasserelleModel`` and an app's own screens take `any PasserelleClient`, so they run on the
/// real library in the app and on the fake in a preview:
///
/// ```swift
/// #Preview { InboxView(model: PasserelleModel(client: PreviewPasserelle())) }
/// ```
///
/// The calls that read the database or the Keychain are `async`; the long ones (sign-in,
/// completing a connection, sync) stop when their task is cancelled and throw
/// `CancellationError`. Everything else throws ``PasserelleError``.
public protocol PasserelleClient: Sendable {
    // MARK: The POS account

    /// The signed-in POS account, if any.
    func account() async throws -> POSAccount?
    /// Signs in with the POS account's e-mail and password (never stored).
    func signIn(email: String, password: String) async throws -> POSAccount
    /// Adopts the POS session of a host app that is already signed in.
    func signInWithPOSSession(accessToken: String) async throws -> POSAccount
    /// Signs out, keeping the account's HubRise connections for its return or disconnecting them.
    func signOut(mode: SignOutMode) async throws -> SignOutOutcome
    /// Whether the POS backend answered at the last open, restart or sync.
    func backendStatus() throws -> BackendStatus
    /// Erases the signed-in account's data (or every account's) from the device.
    func eraseAccountData(scope: ErasureScope) async throws -> ErasureReport
    /// This installation's id (the device, as the POS backend and HubRise see it).
    func deviceId() throws -> String

    // MARK: HubRise connections

    /// The account's HubRise connections.
    func connections() async throws -> [HubriseConnection]
    /// Starts connecting a location: open ``HubriseAuthorization/authorizeURL``.
    func beginHubriseConnection(options: HubriseConnectionOptions) async throws -> HubriseAuthorization
    /// Starts connecting a location through the POS backend (it holds the client secret).
    func beginHubriseConnectionViaPOSBackend(options: HubriseConnectionOptions) async throws -> HubriseAuthorization
    /// Completes an attempt the POS backend received HubRise's redirect for; `nil` while it
    /// has not yet.
    func completeHubriseConnectionViaPOSBackend(state: String) async throws -> HubriseConnection?
    /// Completes a connection from HubRise's redirect; it waits for a restart.
    func completeHubriseConnection(callbackURL: URL) async throws -> HubriseConnection
    /// Completes an out-of-band attempt with the code pasted from HubRise's page.
    func completeHubriseConnection(code: String, state: String) async throws -> HubriseConnection
    /// Abandons an attempt (the person closed the page).
    func cancelHubriseConnection(state: String) async throws
    /// Asks HubRise now whether the connection works.
    func checkConnection(connectionId: String) async throws -> HubriseConnection
    /// Confirms a connection made off the device: it goes active at once.
    func confirmConnection(connectionId: String) async throws -> HubriseConnection
    /// Refuses a connection made off the device.
    func refuseConnection(connectionId: String) async throws -> HubriseConnection
    /// Disconnects now; the connection leaves the list at the next restart.
    func disconnect(connectionId: String) async throws -> DisconnectOutcome
    /// Routes a URL the app was opened with (HubRise's redirect or Open URL).
    func handleOpenURL(_ url: URL) async throws -> OpenURLOutcome

    // MARK: Restart to apply

    /// What a restart would apply.
    func pendingChanges() async throws -> [ConfigChange]
    /// Whether a restart would apply something.
    func restartRequired() async throws -> Bool
    /// Applies the pending configuration without the app being killed.
    func restart() async throws
    /// The settings in use (poll interval, when changes apply).
    func settings() throws -> Settings
    /// Changes the settings; they apply as ``Settings/applyMode`` says (at the next restart by
    /// default).
    func updateSettings(settings: Settings) async throws
    /// The version of the configuration in use.
    func configurationVersion() throws -> UInt64

    // MARK: Orders

    /// A page of the inbox's rows, newest first.
    func orderSummaries(filter: OrderFilter) async throws -> [OrderSummary]
    /// Whole orders (lines, customer, payments), newest first.
    func orders(filter: OrderFilter) async throws -> [Order]
    /// One order with its lines, customer and payments.
    func order(orderId: String) async throws -> Order?
    /// Orders received but not marked seen.
    func unseenOrders() async throws -> [Order]
    /// Accepts an order, ready at `confirmedTime`.
    func accept(orderId: String, confirmedTime: Date?) async throws
    /// Rejects an order; the reason stays on the device.
    func reject(orderId: String, reason: String?) async throws
    /// Moves an accepted order on: in preparation, awaiting shipment or collection, in
    /// delivery, completed...
    func updateStatus(orderId: String, status: OrderStatus) async throws
    /// The staff saw these orders; returns how many were unseen.
    func markOrdersSeen(orderIds: [String]) async throws -> UInt32

    // MARK: Sync

    /// Syncs every active connection now.
    @discardableResult
    func syncNow() async throws -> SyncReport
    /// Whether orders flow, per connection.
    func syncHealth() async throws -> SyncHealth
    /// Starts the sync engine again after ``stopSync()`` (it starts by itself at open).
    func startSync() async throws
    /// Stops the sync engine until ``startSync()`` or ``restart()``.
    func stopSync() async throws
    /// Events and orders set aside after failing past their budget.
    func quarantinedItems() async throws -> [QuarantinedItem]
    /// Tries a quarantined item again.
    func retryQuarantined(itemId: Int64) async throws
    /// Changes from the till HubRise did not take within their budget.
    func failedChanges() async throws -> [FailedChange]
    /// Sends an order's failed changes again; returns how many were queued.
    func retryFailedChanges(orderId: String) async throws -> UInt32
    /// Prunes and scrubs what the retention policy says is old (it runs by itself daily).
    func applyRetention() async throws -> RetentionReport
    /// The app went to the background: sync pauses.
    func appDidEnterBackground() throws
    /// The app is in the foreground again: sync resumes at once.
    func appWillEnterForeground() throws
    /// The network is back: every connection syncs now.
    func networkAvailable() throws
    /// Registers the device's push token with the POS backend, which wakes the app in the
    /// background when an order arrives; `false` when the backend has no such route.
    func registerPushToken(_ deviceToken: Data) async throws -> Bool
    /// The app was woken by the POS backend's notification: one cycle of every connection.
    func handlePushNotification() async throws -> SyncReport
    /// Waits (at most 5 s) until the events listener has been handed every event emitted so far;
    /// ``Client/openProtected(config:secrets:events:)`` does after `open`.
    func eventsDelivered() async throws -> Bool
    /// Stops sync and releases the data directory.
    func close() async throws
}

