import Foundation
import PasserelleBindings

/// An in-memory ``PasserelleClient`` with a restaurant's sample data, for SwiftUI previews and
/// unit tests: no database, no network, no Keychain.
///
/// It starts signed in to "Bella Pizza" with Paris connected and three orders of today (one
/// waiting for a decision), answers like the library (a wrong password throws
/// ``PasserelleError/invalidCredentials``, a new connection waits for ``restart()``), emits the
/// library's events on ``events``, and records every call:
///
/// ```swift
/// let fake = PreviewPasserelle()
/// let model = PasserelleModel(client: fake, events: fake.events)
/// fake.receive(PreviewPasserelle.sampleOrder(id: "o-9", customer: "Camille"))  // an order arrives
/// try await model.accept("o-9", confirmedTime: nil)
/// XCTAssertTrue(fake.calls.contains("accept(o-9)"))
/// ```
public final class PreviewPasserelle: PasserelleClient, Sendable {
    /// The e-mail and password ``signIn(email:password:)`` accepts (the sandbox's POS account).
    public static let email = "chef@bellapizza.fr"
    /// See ``email``.
    public static let password = "bella-pos-2026"

    /// The events it emits, as the library would: pass them to ``PasserelleModel``.
    public let events: PasserelleEvents

    private struct State {
        var account: POSAccount?
        var connections: [HubriseConnection]
        var pending: [ConfigChange] = []
        var orders: [Order]
        var attempts: Set<String> = []
        var version: UInt64 = 1
        var settings = Settings(
            pollIntervalSecs: 30, applyMode: .onRestart, scope: "location[orders.write,customer_list.write,catalog.read]")
        var quarantined: [QuarantinedItem] = []
        var failedChanges: [FailedChange] = []
        var syncRunning = true
        /// Why and since when HubRise is "down", per the timeline; `nil` while orders flow.
        var delay: (reason: DelayReason, since: Date)?
        /// The timeline being played: its moments, its start and how far it went.
        var timeline = Timeline()
        var timelineStart = Date()
        var elapsed: TimeInterval = 0
        var played = 0
        var timelineOrders = 0
        var calls: [String] = []
        var failures: [String: PasserelleError] = [:]
        var delays: [String: Double] = [:]
    }

    private let state: Locked<State>

    /// A fake with the sample data, or with yours.
    ///
    /// - Parameters:
    ///   - signedIn: whether "Bella Pizza" is signed in; `false` starts on the sign-in screen.
    ///   - connections: the account's connections; Paris, active, by default.
    ///   - orders: today's three sample orders by default.
    ///   - events: where its events go.
    public init(
        signedIn: Bool = true, connections: [HubriseConnection] = [PreviewPasserelle.sampleConnection()],
        orders: [Order] = PreviewPasserelle.sampleOrders(), events: PasserelleEvents = PasserelleEvents()
    ) {
        self.events = events
        state = Locked(State(account: signedIn ? Self.sampleAccount : nil, connections: connections, orders: orders))
    }

    /// Every call so far, oldest first: `"signIn(chef@bellapizza.fr)"`, `"accept(o-1)"`, `"restart()"`...
    public var calls: [String] {
        state.withLock { $0.calls }
    }

    /// Makes the next call to `method` (`"signIn"`, `"accept"`, `"restart"`, ...) throw `error`.
    public func fail(_ method: String, with error: PasserelleError) {
        state.withLock { $0.failures[method] = error }
    }

    /// Makes every later call to `method` (`"orderSummaries"`, `"restart"`, ...) take `seconds`
    /// first, as a slow disk or network would; cancelling the calling task ends the wait with
    /// `CancellationError`. `0` makes it quick again.
    public func delay(_ method: String, by seconds: Double) {
        state.withLock { $0.delays[method] = seconds > 0 ? seconds : nil }
    }

    /// An order arrives from HubRise: it is stored and announced (``PasserelleEvent/orderReceived(order:)``),
    /// or only stored when `announced` is false (another till's order an app only reads).
    public func receive(_ order: Order, announced: Bool = true) {
        state.withLock { $0.orders.append(order) }
        if announced { events.onEvent(event: .orderReceived(order: order)) }
    }

    /// Emits `event` as the library would: a health change, a connection HubRise refused, ...
    public func announce(_ event: PasserelleEvent) {
        events.onEvent(event: event)
    }

    /// An event or order is set aside after failing past its budget: listed by
    /// ``quarantinedItems()`` and announced (``PasserelleEvent/itemQuarantined(item:)``).
    public func quarantine(_ item: QuarantinedItem) {
        state.withLock { $0.quarantined.append(item) }
        events.onEvent(event: .itemQuarantined(item: item))
    }

    /// A change from the till HubRise did not take: listed by ``failedChanges()`` and announced
    /// (``PasserelleEvent/changeFailed(change:)``).
    public func failChange(_ change: FailedChange) {
        state.withLock { $0.failedChanges.append(change) }
        events.onEvent(event: .changeFailed(change: change))
    }

    /// Whether sync runs (``stopSync()`` stops it, ``startSync()`` starts it again).
    public var isSyncRunning: Bool {
        state.withLock { $0.syncRunning }
    }

    // MARK: PasserelleClient

    public func account() async throws -> POSAccount? {
        try await call("account")
        return state.withLock { $0.account }
    }

    public func signIn(email: String, password: String) async throws -> POSAccount {
        try await call("signIn", email)
        guard email == Self.email, password == Self.password else { throw PasserelleError.invalidCredentials }
        return state.withLock { state in
            state.account = Self.sampleAccount
            return Self.sampleAccount
        }
    }

    public func signInWithPOSSession(accessToken: String) async throws -> POSAccount {
        try await call("signInWithPOSSession")
        guard !accessToken.isEmpty else { throw PasserelleError.sessionExpired }
        return state.withLock { state in
            state.account = Self.sampleAccount
            return Self.sampleAccount
        }
    }

    public func signOut(mode: SignOutMode) async throws -> SignOutOutcome {
        try await call("signOut", "\(mode)")
        return state.withLock { state in
            state.account = nil
            guard mode == .disconnectConnections else { return SignOutOutcome(disconnected: []) }
            defer { state.connections.removeAll() }
            return SignOutOutcome(disconnected: state.connections.map { connection in
                var removed = connection
                removed.state = .removed
                return DisconnectOutcome(connection: removed, revoked: true, revokeFailure: nil)
            })
        }
    }

    public func backendStatus() throws -> BackendStatus {
        try record("backendStatus")
        return BackendStatus(reachable: true, lastError: nil, lastReloadedAt: Date(), signInRequired: false)
    }

    public func eraseAccountData(scope: ErasureScope) async throws -> ErasureReport {
        try await call("eraseAccountData", "\(scope)")
        return state.withLock { state in
            let report = ErasureReport(
                accounts: state.account == nil ? 0 : 1, orders: UInt32(state.orders.count),
                connections: UInt32(state.connections.count), secrets: state.account == nil ? 0 : 1, notRevoked: 0)
            state.account = nil
            state.orders.removeAll()
            state.connections.removeAll()
            state.pending.removeAll()
            state.quarantined.removeAll()
            state.failedChanges.removeAll()
            return report
        }
    }

    public func deviceId() throws -> String {
        try record("deviceId")
        return "preview-device"
    }

    public func connections() async throws -> [HubriseConnection] {
        try await call("connections")
        return state.withLock { $0.account == nil ? [] : $0.connections }
    }

    public func beginHubriseConnection(options: HubriseConnectionOptions) async throws -> HubriseAuthorization {
        try await call("beginHubriseConnection")
        let attempt = "preview-\(UUID().uuidString)"
        state.withLock { _ = $0.attempts.insert(attempt) }
        guard let consent = URL(string: "https://manager.hubrise.com/oauth2/v1/authorize?state=\(attempt)") else {
            throw PasserelleError.internal(reason: "consent page URL")
        }
        return HubriseAuthorization(
            authorizeURL: consent, state: attempt,
            callbackURLScheme: options.outOfBand ? nil : "passerelle-demo", callbackHTTPSHost: nil,
            callbackHTTPSPath: nil, expiresAt: Date().addingTimeInterval(600))
    }

    public func beginHubriseConnectionViaPOSBackend(options: HubriseConnectionOptions) async throws -> HubriseAuthorization {
        let authorization = try await beginHubriseConnection(options: options)
        state.withLock { state in
            state.calls[state.calls.count - 1] = "beginHubriseConnectionViaPOSBackend()"
        }
        return authorization
    }

    public func completeHubriseConnectionViaPOSBackend(state attempt: String) async throws -> HubriseConnection? {
        try await call("completeHubriseConnectionViaPOSBackend", attempt)
        return try connectLyon(attempt: attempt)
    }

    public func completeHubriseConnection(callbackURL: URL) async throws -> HubriseConnection {
        try await call("completeHubriseConnection", callbackURL.absoluteString)
        let attempt = URLComponents(url: callbackURL, resolvingAgainstBaseURL: false)?
            .queryItems?.first { $0.name == "state" }?.value
        return try connectLyon(attempt: attempt)
    }

    public func completeHubriseConnection(code: String, state attempt: String) async throws -> HubriseConnection {
        try await call("completeHubriseConnectionWithCode", attempt)
        return try connectLyon(attempt: attempt)
    }

    public func cancelHubriseConnection(state attempt: String) async throws {
        try await call("cancelHubriseConnection", attempt)
        state.withLock { _ = $0.attempts.remove(attempt) }
    }

    public func checkConnection(connectionId: String) async throws -> HubriseConnection {
        try await call("checkConnection", connectionId)
        return try change(connectionId) { _ in }
    }

    public func confirmConnection(connectionId: String) async throws -> HubriseConnection {
        try await call("confirmConnection", connectionId)
        return try change(connectionId) { connection in
            connection.state = .active
            connection.needsConfirmation = false
        }
    }

    public func refuseConnection(connectionId: String) async throws -> HubriseConnection {
        try await call("refuseConnection", connectionId)
        return try change(connectionId) { $0.state = .removed }
    }

    public func disconnect(connectionId: String) async throws -> DisconnectOutcome {
        try await call("disconnect", connectionId)
        let connection = try change(connectionId) { $0.state = .removing }
        let changes = state.withLock { state in
            state.pending.append(.connectionRemoved(connection: connection))
            return state.pending
        }
        events.onEvent(event: .restartRequired(changes: changes))
        return DisconnectOutcome(connection: connection, revoked: true, revokeFailure: nil)
    }

    public func handleOpenURL(_ url: URL) async throws -> OpenURLOutcome {
        try await call("handleOpenURL", url.absoluteString)
        return .notHandled
    }

    public func pendingChanges() async throws -> [ConfigChange] {
        try await call("pendingChanges")
        return state.withLock { $0.pending }
    }

    public func restartRequired() async throws -> Bool {
        try await call("restartRequired")
        return state.withLock { !$0.pending.isEmpty }
    }

    public func restart() async throws {
        try await call("restart")
        let version = state.withLock { state in
            for change in state.pending {
                switch change {
                case .connectionAdded(let added):
                    state.connections = state.connections.map { $0.id == added.id ? Self.activated($0) : $0 }
                case .connectionRemoved(let removed):
                    state.connections.removeAll { $0.id == removed.id }
                case .settingsChanged(_, let pending):
                    state.settings = pending
                }
            }
            state.pending.removeAll()
            state.version += 1
            return state.version
        }
        events.onEvent(event: .configurationApplied(version: version))
    }

    public func settings() throws -> Settings {
        try record("settings")
        return state.withLock { $0.settings }
    }

    public func updateSettings(settings: Settings) async throws {
        try await call("updateSettings", "\(settings.pollIntervalSecs) s")
        guard settings.pollIntervalSecs >= 1 else { throw PasserelleError.invalidConfig(field: "poll_interval_secs", reason: "at least 1 s") }
        let changes: [ConfigChange]? = state.withLock { state in
            guard settings.applyMode == .onRestart else {
                state.settings = settings
                return nil
            }
            state.pending.removeAll { if case .settingsChanged = $0 { true } else { false } }
            state.pending.append(.settingsChanged(active: state.settings, pending: settings))
            return state.pending
        }
        if let changes { events.onEvent(event: .restartRequired(changes: changes)) }
    }

    public func configurationVersion() throws -> UInt64 {
        try record("configurationVersion")
        return state.withLock { $0.version }
    }

    public func orders(filter: OrderFilter) async throws -> [Order] {
        try await call("orders")
        return filtered(filter)
    }

    public func unseenOrders() async throws -> [Order] {
        try await call("unseenOrders")
        return state.withLock { $0.account == nil ? [] : $0.orders.filter { !$0.seen } }
    }

    public func orderSummaries(filter: OrderFilter) async throws -> [OrderSummary] {
        try await call("orderSummaries", filter.after.map { "after: \($0.id)" } ?? "")
        return filtered(filter).map(Self.summary)
    }

    /// The orders `filter` selects, as the library orders them: newest first, then by id.
    private func filtered(_ filter: OrderFilter) -> [Order] {
        let orders = state.withLock { $0.account == nil ? [] : $0.orders }
        let limit = filter.limit == 0 ? 100 : Int(filter.limit)
        // The library's order: newest first, then by id; `after` keeps what follows its row.
        func precedes(_ a: (Date, String), _ b: (Date, String)) -> Bool {
            a.0 != b.0 ? a.0 > b.0 : a.1 < b.1
        }
        return orders
            .filter { order in
                filter.status.map { order.status == $0 } ?? true
                    && filter.connectionId.map { order.connectionId == $0 } ?? true
                    && filter.createdAfter.map { order.createdAt >= $0 } ?? true
                    && filter.createdBefore.map { order.createdAt < $0 } ?? true
                    && filter.after.map { precedes(($0.createdAt, $0.id), (order.createdAt, order.id)) } ?? true
            }
            .sorted { precedes(($0.createdAt, $0.id), ($1.createdAt, $1.id)) }
            .dropFirst(Int(filter.offset))
            .prefix(limit)
            .map { $0 }
    }

    public func order(orderId: String) async throws -> Order? {
        try await call("order", orderId)
        return state.withLock { $0.orders.first { $0.id == orderId } }
    }

    public func accept(orderId: String, confirmedTime: Date?) async throws {
        try await call("accept", orderId)
        try decide(orderId) { order in
            order.status = .accepted
            order.confirmedTime = confirmedTime
        }
    }

    public func reject(orderId: String, reason: String?) async throws {
        try await call("reject", orderId)
        try decide(orderId) { $0.status = .rejected }
    }

    public func updateStatus(orderId: String, status: OrderStatus) async throws {
        try await call("updateStatus", "\(orderId), \(status)")
        try decide(orderId) { $0.status = status }
    }

    public func markOrdersSeen(orderIds: [String]) async throws -> UInt32 {
        try await call("markOrdersSeen", orderIds.joined(separator: ","))
        return state.withLock { state in
            var marked: UInt32 = 0
            for index in state.orders.indices where orderIds.contains(state.orders[index].id) && !state.orders[index].seen {
                state.orders[index].seen = true
                marked += 1
            }
            return marked
        }
    }

    @discardableResult
    public func syncNow() async throws -> SyncReport {
        try await call("syncNow")
        return SyncReport(ordersReceived: 0, ordersUpdated: 0, changesPushed: 0)
    }

    public func syncHealth() async throws -> SyncHealth {
        try await call("syncHealth")
        return state.withLock(Self.health)
    }

    public func startSync() async throws {
        try await call("startSync")
        state.withLock { $0.syncRunning = true }
    }

    public func stopSync() async throws {
        try await call("stopSync")
        state.withLock { $0.syncRunning = false }
    }

    public func quarantinedItems() async throws -> [QuarantinedItem] {
        try await call("quarantinedItems")
        return state.withLock { $0.quarantined }
    }

    public func retryQuarantined(itemId: Int64) async throws {
        try await call("retryQuarantined", "\(itemId)")
        try state.withLock { state in
            guard state.quarantined.contains(where: { $0.id == itemId }) else {
                throw PasserelleError.notFound(what: "quarantined item")
            }
            state.quarantined.removeAll { $0.id == itemId }
        }
    }

    public func failedChanges() async throws -> [FailedChange] {
        try await call("failedChanges")
        return state.withLock { $0.failedChanges }
    }

    public func retryFailedChanges(orderId: String) async throws -> UInt32 {
        try await call("retryFailedChanges", orderId)
        return state.withLock { state in
            let retried = state.failedChanges.filter { $0.orderId == orderId }.count
            state.failedChanges.removeAll { $0.orderId == orderId }
            return UInt32(retried)
        }
    }

    public func applyRetention() async throws -> RetentionReport {
        try await call("applyRetention")
        return RetentionReport(
            ordersPruned: 0, ordersScrubbed: 0, quarantineScrubbed: 0, quarantinePruned: 0, eventsPruned: 0,
            outboxPruned: 0, removedConnectionRows: 0, batches: 0, longestBatchMicros: 0)
    }

    public func appDidEnterBackground() throws {
        try record("appDidEnterBackground")
    }

    public func appWillEnterForeground() throws {
        try record("appWillEnterForeground")
    }

    public func networkAvailable() throws {
        try record("networkAvailable")
    }

    public func registerPushToken(_ deviceToken: Data) async throws -> Bool {
        try await call("registerPushToken", "\(deviceToken.count) bytes")
        return true
    }

    public func handlePushNotification() async throws -> SyncReport {
        try await call("handlePushNotification")
        return SyncReport(ordersReceived: 0, ordersUpdated: 0, changesPushed: 0)
    }

    public func eventsDelivered() async throws -> Bool {
        try await call("eventsDelivered")
        return true  // the fake hands its events over as it emits them
    }

    public func close() async throws {
        try await call("close")
    }

    // MARK: Behaviour

    /// Records the call, waits as ``delay(_:by:)`` asked, then throws the failure
    /// ``fail(_:with:)`` left for `method`, if any.
    private func call(_ method: String, _ argument: String = "") async throws {
        let delay = state.withLock { $0.delays[method] }
        if let delay {
            state.withLock { $0.calls.append("\(method)(\(argument))") }
            try await Task.sleep(nanoseconds: UInt64(delay * 1_000_000_000))
            let failure = state.withLock { $0.failures.removeValue(forKey: method) }
            if let failure { throw failure }
            return
        }
        try record(method, argument)
    }

    /// Records the call, then throws the failure ``fail(_:with:)`` left for `method`, if any.
    private func record(_ method: String, _ argument: String = "") throws {
        let failure = state.withLock { state in
            state.calls.append("\(method)(\(argument))")
            return state.failures.removeValue(forKey: method)
        }
        if let failure { throw failure }
    }

    /// A consent that went through: Lyon, pending until a restart, as the library does.
    private func connectLyon(attempt: String?) throws -> HubriseConnection {
        let connection = Self.sampleConnection(id: "preview-lyon", location: ("3r4s3-2", "Lyon"), state: .pending)
        let changes = try state.withLock { state in
            guard let attempt, state.attempts.remove(attempt) != nil else { throw PasserelleError.stateUnknown }
            state.connections.removeAll { $0.id == connection.id }
            state.connections.append(connection)
            state.pending.append(.connectionAdded(connection: connection))
            return state.pending
        }
        events.onEvent(event: .restartRequired(changes: changes))
        return connection
    }

    private func change(_ connectionId: String, _ body: (inout HubriseConnection) -> Void) throws -> HubriseConnection {
        try state.withLock { state in
            guard let index = state.connections.firstIndex(where: { $0.id == connectionId }) else {
                throw PasserelleError.notFound(what: "connection")
            }
            body(&state.connections[index])
            return state.connections[index]
        }
    }

    /// Applies the staff's decision at once (the library sends it to HubRise first) and announces it.
    private func decide(_ orderId: String, _ body: (inout Order) -> Void) throws {
        let order = try state.withLock { state in
            guard let index = state.orders.firstIndex(where: { $0.id == orderId }) else {
                throw PasserelleError.notFound(what: "order")
            }
            body(&state.orders[index])
            state.orders[index].updatedAt = Date()
            return state.orders[index]
        }
        events.onEvent(event: .orderUpdated(order: order))
    }

    /// The sync health the state gives: each active connection flowing, or delayed while the
    /// timeline has HubRise down, with its quarantined items and failed changes.
    private static func health(_ state: inout State) -> SyncHealth {
        let delay = state.delay
        let connections = state.connections.filter { $0.state == .active }.map { connection in
            let quarantined = state.quarantined.filter { $0.connectionId == connection.id }.count
            let failed = state.failedChanges.filter { $0.connectionId == connection.id }.count
            return ConnectionHealth(
                connectionId: connection.id, locationName: connection.locationName,
                state: delay == nil ? .flowing : .delayed, lastSuccessAt: delay?.since ?? Date(),
                delayReason: delay?.reason, delayedSince: delay?.since, nextAttemptAt: nil, errorCode: nil,
                retryAfterCapped: false, quarantined: UInt32(quarantined), failedChanges: UInt32(failed))
        }
        return SyncHealth(
            state: delay == nil ? .flowing : .delayed,
            needsAttention: connections.contains { $0.quarantined + $0.failedChanges > 0 }, connections: connections)
    }

    private static func activated(_ connection: HubriseConnection) -> HubriseConnection {
        var active = connection
        active.state = .active
        return active
    }

    /// The inbox's row of an order: the library's own rule (`orderSummary(order:)`, in Rust), so a
    /// preview shows what the library would.
    private static func summary(_ order: Order) -> OrderSummary {
        orderSummary(order: order)
    }
}

// MARK: A timeline

extension PreviewPasserelle {
    /// A service scripted in time, which previews, unit tests and UI tests share: "an order every
    /// 30 s; HubRise down at 2 min, back at 2 min 30; a customer cancels at 3 min".
    ///
    /// ```swift
    /// let lunch = PreviewPasserelle.Timeline()
    ///     .every(30, until: 300, .newOrder())
    ///     .at(120, .hubriseDown(.hubriseUnavailable))
    ///     .at(150, .hubriseBack)
    ///     .at(180, .customerCancels())
    ///
    /// // A preview plays it in real time (or faster):
    /// #Preview { InboxView(model: model).task { await fake.play(lunch, speed: 10) } }
    ///
    /// // A unit test moves the clock itself, no waiting:
    /// fake.load(lunch)
    /// fake.advance(by: 120)          // four orders arrived, HubRise is down
    /// ```
    public struct Timeline: Sendable {
        /// What happens at a moment of the timeline, as the library would tell it.
        public enum Happening: Sendable {
            /// A new order arrives and is announced (the alert rings); the customer's first name
            /// is taken in turn from a few when `nil`.
            case newOrder(customer: String? = nil)
            /// HubRise stops answering: every active connection is delayed for `reason`, and the
            /// health change is announced (the banner shows).
            case hubriseDown(DelayReason)
            /// Orders flow again: the health change is announced (the banner goes).
            case hubriseBack
            /// The customer cancels an order at HubRise (the newest one when `nil`): it becomes
            /// cancelled and is announced.
            case customerCancels(orderId: String? = nil)
            /// Any event, emitted as it is.
            case event(PasserelleEvent)
        }

        /// A happening and when, in seconds from the start.
        public struct Moment: Sendable {
            public let at: TimeInterval
            public let happening: Happening
        }

        /// The moments, by time (in the order they were added at the same time).
        public private(set) var moments: [Moment] = []

        /// An empty timeline; add to it with ``at(_:_:)`` and ``every(_:from:until:_:)``.
        public init() {}

        /// This timeline with `happening` at `seconds` from the start.
        public func at(_ seconds: TimeInterval, _ happening: Happening) -> Timeline {
            var timeline = self
            let index = timeline.moments.firstIndex { $0.at > seconds } ?? timeline.moments.endIndex
            timeline.moments.insert(Moment(at: seconds, happening: happening), at: index)
            return timeline
        }

        /// This timeline with `happening` every `interval` seconds, from `start` (one interval in,
        /// by default) up to and including `end`.
        public func every(
            _ interval: TimeInterval, from start: TimeInterval? = nil, until end: TimeInterval, _ happening: Happening
        ) -> Timeline {
            precondition(interval > 0, "an interval of at least a moment")
            var timeline = self
            var time = start ?? interval
            while time <= end {
                timeline = timeline.at(time, happening)
                time += interval
            }
            return timeline
        }

        /// A lunch service of five minutes: an order every 30 s, HubRise down from 2 min to
        /// 2 min 30, a customer cancelling at 3 min.
        public static let lunchService = Timeline()
            .every(30, until: 300, .newOrder())
            .at(120, .hubriseDown(.hubriseUnavailable))
            .at(150, .hubriseBack)
            .at(180, .customerCancels())
    }

    /// Starts `timeline` from its beginning, now; nothing has happened yet
    /// (``advance(by:)`` or ``play(_:speed:)`` moves it on).
    public func load(_ timeline: Timeline) {
        state.withLock { state in
            state.timeline = timeline
            state.timelineStart = Date()
            state.elapsed = 0
            state.played = 0
            state.timelineOrders = 0
        }
    }

    /// How far the loaded timeline went, in seconds.
    public var elapsed: TimeInterval {
        state.withLock { $0.elapsed }
    }

    /// Moves the loaded timeline's clock on by `seconds`: everything due by then happens, in
    /// order, with its events. For unit tests: no waiting.
    public func advance(by seconds: TimeInterval) {
        let target = state.withLock { $0.elapsed + max(seconds, 0) }
        while let moment = nextMoment(dueBy: target) {
            happen(moment)
        }
        state.withLock { $0.elapsed = target }
    }

    /// Plays `timeline` from its beginning in real time divided by `speed` (10: ten times
    /// faster), until its last moment or until the calling task is cancelled (a preview's
    /// `.task` ending). For previews and UI tests.
    public func play(_ timeline: Timeline, speed: Double = 1) async {
        load(timeline)
        let speed = max(speed, 0.001)
        for moment in timeline.moments {
            let wait = (moment.at - elapsed) / speed
            if wait > 0 {
                do {
                    try await Task.sleep(nanoseconds: UInt64(wait * 1_000_000_000))
                } catch {
                    return
                }
            }
            advance(by: moment.at - elapsed)
        }
    }

    /// The next moment of the loaded timeline due by `target`, marked played.
    private func nextMoment(dueBy target: TimeInterval) -> (Timeline.Moment, date: Date)? {
        state.withLock { state in
            guard state.played < state.timeline.moments.count else { return nil }
            let moment = state.timeline.moments[state.played]
            guard moment.at <= target else { return nil }
            state.played += 1
            state.elapsed = moment.at
            return (moment, state.timelineStart.addingTimeInterval(moment.at))
        }
    }

    private static let customers = ["Marie", "Paul", "Léa", "Camille", "Hugo", "Inès"]

    private func happen(_ moment: (Timeline.Moment, date: Date)) {
        let (step, date) = moment
        switch step.happening {
        case .newOrder(let customer):
            let number = state.withLock { state in
                state.timelineOrders += 1
                return state.timelineOrders
            }
            let name = customer ?? Self.customers[(number - 1) % Self.customers.count]
            receive(Self.sampleOrder(id: "timeline-\(number)", customer: name, createdAt: date))
        case .hubriseDown(let reason):
            let health = state.withLock { state in
                state.delay = (reason, date)
                return Self.health(&state)
            }
            announce(.syncHealthChanged(health: health))
        case .hubriseBack:
            let health = state.withLock { state in
                state.delay = nil
                return Self.health(&state)
            }
            announce(.syncHealthChanged(health: health))
        case .customerCancels(let orderId):
            let cancelled: Order? = state.withLock { state in
                let index =
                    orderId.flatMap { id in state.orders.firstIndex { $0.id == id } }
                    ?? state.orders.indices.max { state.orders[$0].createdAt < state.orders[$1].createdAt }
                guard let index else { return nil }
                state.orders[index].status = .cancelled
                state.orders[index].updatedAt = date
                return state.orders[index]
            }
            if let cancelled { announce(.orderUpdated(order: cancelled)) }
        case .event(let event):
            announce(event)
        }
    }
}

// MARK: Sample data

extension PreviewPasserelle {
    /// Bella Pizza's POS account.
    public static let sampleAccount = POSAccount(
        accountId: "pos-1001", email: PreviewPasserelle.email, businessName: "Bella Pizza")

    /// A connection of Bella Pizza's HubRise account; Paris, active, by default.
    public static func sampleConnection(
        id: String = "preview-paris", location: (id: String, name: String) = ("3r4s3-1", "Paris"),
        state: ConnectionState = .active
    ) -> HubriseConnection {
        HubriseConnection(
            id: id, locationId: location.id, locationName: location.name, accountId: "3r4s3",
            accountName: "Bella Pizza", catalogId: "psmlf", catalogName: "Bella Pizza", customerListId: "xab66",
            customerListName: "Bella Pizza", appInstanceId: nil, origin: .device, state: state,
            needsConfirmation: false, reconnectNeeded: false, lastFailedAt: nil, lastFailedReason: nil,
            createdAt: Date(timeIntervalSince1970: 1_790_000_000))
    }

    /// Today's orders: Marie's delivery waiting for a decision (2 min ago, not seen yet), Paul's
    /// collection accepted (25 min ago) and Léa's meal completed (70 min ago).
    public static func sampleOrders(now: Date = Date()) -> [Order] {
        [
            sampleOrder(id: "preview-1", customer: "Marie", createdAt: now.addingTimeInterval(-120)),
            sampleOrder(
                id: "preview-2", customer: "Paul", status: .accepted, serviceType: "collection",
                createdAt: now.addingTimeInterval(-25 * 60), seen: true),
            sampleOrder(
                id: "preview-3", customer: "Léa", status: .completed, serviceType: "eat_in",
                createdAt: now.addingTimeInterval(-70 * 60), seen: true),
        ]
    }

    /// The sandbox's sample order: two large Margherita with a spicy sauce and a tiramisu,
    /// delivered, paid by card; 30.80 EUR.
    public static func sampleOrder(
        id: String, customer firstName: String = "Marie", status: OrderStatus = .new, serviceType: String = "delivery",
        createdAt: Date = Date(), seen: Bool = false
    ) -> Order {
        func euros(_ cents: Int64) -> Money { Money(minorUnits: cents, currency: "EUR") }
        return Order(
            id: id, connectionId: "preview-paris", locationId: "3r4s3-1", status: status, pendingStatus: nil,
            serviceType: serviceType, serviceTypeRef: nil, reference: "B-\(id.suffix(3))", collectionCode: nil,
            createdAt: createdAt, expectedTime: createdAt.addingTimeInterval(40 * 60), confirmedTime: nil,
            customerNotes: "Sonner deux fois", sellerNotes: nil, total: euros(3080),
            items: [
                OrderItem(
                    productName: "Margherita", skuName: "Grande", skuRef: nil, price: euros(1090), quantity: 2,
                    subtotal: euros(2280), customerNotes: nil,
                    options: [
                        OrderOption(
                            optionListName: "Sauce", name: "Piquante", reference: nil, price: euros(50), quantity: 1,
                            removed: false, deleted: false)
                    ],
                    deleted: false),
                OrderItem(
                    productName: "Tiramisu", skuName: nil, skuRef: nil, price: euros(550), quantity: 1,
                    subtotal: euros(550), customerNotes: nil, options: [], deleted: false),
            ],
            discounts: [], charges: [OrderCharge(name: "Livraison", reference: nil, price: euros(250), deleted: false)],
            payments: [OrderPayment(name: "Carte bancaire", reference: nil, amount: euros(3080), deleted: false)],
            customer: OrderCustomer(
                firstName: firstName, lastName: "Dupont", email: nil, phone: "+33600000000", companyName: nil,
                address1: "12 rue de la Paix", address2: nil, postalCode: "75002", city: "Paris", deliveryNotes: nil),
            receivedAt: createdAt, updatedAt: createdAt, seen: seen)
    }
}
