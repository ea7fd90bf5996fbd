import Foundation
import PasserelleBindings
import Observation

/// Passerelle's state for SwiftUI, kept current: the account, the connections, what a restart
/// would apply, the sync health, the POS backend's status and today's inbox.
///
/// Create one per ``Client`` instance with the ``PasserelleEvents`` it was opened with. It
/// reads everything once, then follows the library's events: an order arriving, a status
/// reaching HubRise, a connection refused, the health changing... Views read its properties and
/// call its methods; nothing needs refreshing by hand.
///
/// ```swift
/// let events = PasserelleEvents()
/// let app = try await Client.openProtected(config: config, secrets: keychain, events: events)
/// let model = PasserelleModel(client: app, events: events)
///
/// List(model.inbox) { order in
///     OrderRow(order: order)
///         .swipeActions { Button("Accepter") { Task { try await model.accept(order.id) } } }
/// }
/// ```
///
/// Previews and unit tests pass a ``PreviewPasserelle`` instead:
/// `PasserelleModel(client: fake, events: fake.events)`.
///
/// Actions throw what the library throws (``PasserelleError``, `CancellationError`); failures
/// of the reads the model makes by itself land in ``lastError``.
@available(iOS 17.0, macOS 14.0, *)
@MainActor @Observable
public final class PasserelleModel {
    /// The library (or a ``PreviewPasserelle``), for the calls the model does not wrap.
    public let client: any PasserelleClient

    /// The signed-in POS account; `nil` before sign-in and after sign-out.
    public private(set) var account: POSAccount?
    /// The account's HubRise connections.
    public private(set) var connections: [HubriseConnection] = []
    /// What ``restart()`` would apply (new connections, disconnections, settings).
    public private(set) var pendingChanges: [ConfigChange] = []
    /// Whether a restart would apply something: show a "Restart to apply" banner.
    public private(set) var restartRequired = false
    /// Whether orders flow, per connection (``SyncHealth/banner(in:now:)`` says it in words).
    public private(set) var health: SyncHealth?
    /// Whether the POS backend answered, and whether it wants the account to sign in again.
    public private(set) var backendStatus: BackendStatus?
    /// Today's orders, newest first: the first ``pageSize`` and each page ``loadMoreOrders()`` added.
    public private(set) var inbox: [OrderSummary] = []
    /// Whether ``loadMoreOrders()`` would find older orders of today.
    public private(set) var hasMoreOrders = false
    /// The order a details screen shows (``select(_:)``), with its lines, kept current: its status
    /// reaching HubRise, a line deleted at HubRise.
    public private(set) var selectedOrder: Order?
    /// Whether the first read is done (until then the account is not known yet).
    public private(set) var isLoaded = false
    /// A restart is under way.
    public private(set) var isRestarting = false
    /// Orders with an accept or reject under way.
    public private(set) var ordersInProgress: Set<String> = []
    /// Connections with a check, confirmation, refusal or disconnection under way.
    public private(set) var connectionsInProgress: Set<String> = []
    /// The failure of the last read that failed (an event's, or a part of ``refresh()``: the
    /// account, the connections, the inbox... each part is read whatever another's fate); `nil`
    /// once a read succeeds entirely.
    public private(set) var lastError: (any Error)?

    /// How many orders a page of the inbox holds.
    public let pageSize: Int

    /// The inbox's orders the staff has not seen yet (``markSeen(_:)``).
    public var unseenCount: Int { inbox.filter { !$0.seen }.count }

    /// The connections orders arrive through.
    public var activeConnections: [HubriseConnection] {
        connections.filter { $0.state == .active && !$0.reconnectNeeded }
    }

    /// The parts of the state one read fetches.
    private enum Part: CaseIterable {
        case account, connections, restart, health, inbox, selectedOrder
    }

    @ObservationIgnored private let calendar: Calendar
    /// The order ``select(_:)`` last asked for: a read of another one, finishing later, is dropped.
    @ObservationIgnored private var selectedOrderId: String?
    /// Parts an event made stale, read by ``reading``.
    @ObservationIgnored private var stale: Set<Part> = []
    /// Orders an event or an action changed, re-read one by one (not the whole inbox).
    @ObservationIgnored private var staleOrders: Set<String> = []
    /// The task reading what events made stale, one read at a time, so a burst of events costs
    /// one read, not one each. Reads a caller awaits (``refresh()``, the actions) run in the
    /// caller's task instead, so cancelling it (`.task`, `.refreshable`) stops them.
    @ObservationIgnored private var reading: Task<Void, Never>?
    /// Per part, how many reads started: a read that finishes after a newer one started is dropped,
    /// so an older read never overwrites a newer one.
    @ObservationIgnored private var started: [Part: Int] = [:]
    /// The task following the events; cancelled when the model goes away.
    @ObservationIgnored private let listening = Locked<Task<Void, Never>?>(nil)

    /// Starts following `events` and reads the state.
    ///
    /// - Parameters:
    ///   - client: the ``Client`` instance (or a ``PreviewPasserelle``).
    ///   - events: the events `client` was opened with.
    ///   - pageSize: how many orders each page of the inbox holds.
    ///   - calendar: where "today" starts and ends.
    public init(
        client: any PasserelleClient, events: PasserelleEvents, pageSize: Int = 50, calendar: Calendar = .current
    ) {
        self.client = client
        self.pageSize = max(pageSize, 1)
        self.calendar = calendar
        // Subscribed before the first read, so no event between the two is missed; the read
        // covers what came before, so nothing is replayed.
        let stream = events.subscribe(replay: .none)
        let task = Task { [weak self] in
            await self?.refresh()
            for await event in stream {
                if Task.isCancelled { break }
                self?.handle(event)
            }
        }
        listening.withLock { $0 = task }
    }

    deinit {
        // Cancelled outside the lock: cancelling ends the stream, which runs the events hub's
        // termination handler on this thread (docs/locks.md).
        listening.withLock { $0 }?.cancel()
    }

    // MARK: Reading

    /// Reads everything again and returns once done, in the calling task: cancelling it (a
    /// view's `.task` or `.refreshable` ending) stops the reads. Each part is read whatever
    /// another's fate: the account failing to read still leaves the inbox read. Failures land in
    /// ``lastError``.
    public func refresh() async {
        await read(Set(Part.allCases))
    }

    /// Adds the next page of today's orders to ``inbox``: the orders after its last row (paging
    /// by key, so orders arriving or leaving above never shift the page).
    public func loadMoreOrders() async throws {
        guard hasMoreOrders, let last = inbox.last else { return }
        let page = try await client.orderSummaries(
            filter: OrderFilter(
                createdAfter: startOfToday, limit: UInt32(pageSize),
                after: OrderCursor(createdAt: last.createdAt, id: last.id)))
        let known = Set(inbox.map(\.id))
        inbox.append(contentsOf: page.filter { !known.contains($0.id) })
        hasMoreOrders = page.count == pageSize
    }

    /// Shows `orderId`'s details in ``selectedOrder`` (`nil` clears it) and returns once they are read.
    public func select(_ orderId: String?) async throws {
        selectedOrderId = orderId
        guard orderId != nil else { return selectedOrder = nil }
        try await fetch(.selectedOrder)
    }

    /// The staff saw these orders (they were on screen): they are no longer unseen, and the
    /// library no longer announces them at the next launch.
    public func markSeen(_ orderIds: [String]) async throws {
        _ = try await client.markOrdersSeen(orderIds: orderIds)
        for index in inbox.indices where orderIds.contains(inbox[index].id) {
            inbox[index].seen = true
        }
    }

    // MARK: The account

    /// Signs in with the POS account's e-mail and password, then reads the account's state.
    public func signIn(email: String, password: String) async throws {
        account = try await client.signIn(email: email, password: password)
        await refresh()
    }

    /// Signs out: the account's connections are kept for its return (``SignOutMode/keepConnections``)
    /// or disconnected when the till leaves the restaurant.
    @discardableResult
    public func signOut(mode: SignOutMode = .keepConnections) async throws -> SignOutOutcome {
        let outcome = try await client.signOut(mode: mode)
        await refresh()
        return outcome
    }

    // MARK: Orders

    /// Accepts the order, ready at `confirmedTime`. Its row (and ``selectedOrder``) shows the
    /// accepted status waiting to reach HubRise (``OrderSummary/pendingStatus``) when this returns.
    public func accept(_ orderId: String, confirmedTime: Date? = nil) async throws {
        try await decide(orderId) { try await $0.accept(orderId: orderId, confirmedTime: confirmedTime) }
    }

    /// Rejects the order; `reason` stays on the device (HubRise has no field for it).
    public func reject(_ orderId: String, reason: String? = nil) async throws {
        try await decide(orderId) { try await $0.reject(orderId: orderId, reason: reason) }
    }

    /// Asks HubRise and the POS backend now, without waiting for the next poll (pull to refresh),
    /// then reads everything again.
    public func syncNow() async throws {
        try await client.syncNow()
        await refresh()
    }

    // MARK: Restart to apply

    /// Applies the pending changes: stops sync, reloads the POS backend's configuration, applies,
    /// starts again.
    public func restart() async throws {
        guard !isRestarting else { return }
        isRestarting = true
        defer { isRestarting = false }
        try await client.restart()
        await refresh()
    }

    // MARK: Connections

    /// Completes a connection from HubRise's redirect (what `ASWebAuthenticationSession`
    /// returned); it shows as pending and ``restartRequired`` becomes true.
    @discardableResult
    public func completeHubriseConnection(callbackURL: URL) async throws -> HubriseConnection {
        let connection = try await client.completeHubriseConnection(callbackURL: callbackURL)
        await read([.connections, .restart])
        return connection
    }

    /// Completes an out-of-band attempt with the code pasted from HubRise's page.
    @discardableResult
    public func completeHubriseConnection(code: String, state: String) async throws -> HubriseConnection {
        let connection = try await client.completeHubriseConnection(code: code, state: state)
        await read([.connections, .restart])
        return connection
    }

    /// Asks HubRise now whether the connection works (a refusal shows on it and in ``health``).
    public func check(_ connectionId: String) async throws {
        try await change(connectionId) { _ = try await $0.checkConnection(connectionId: connectionId) }
    }

    /// Confirms a connection made off the device: it goes active at once.
    public func confirm(_ connectionId: String) async throws {
        try await change(connectionId) { _ = try await $0.confirmConnection(connectionId: connectionId) }
    }

    /// Refuses a connection made off the device: it never receives orders here.
    public func refuse(_ connectionId: String) async throws {
        try await change(connectionId) { _ = try await $0.refuseConnection(connectionId: connectionId) }
    }

    /// Disconnects now (HubRise revokes the token); the connection leaves at the next restart.
    public func disconnect(_ connectionId: String) async throws {
        try await change(connectionId) { _ = try await $0.disconnect(connectionId: connectionId) }
    }

    // MARK: Following the library

    private func handle(_ event: PasserelleEvent) {
        switch event {
        case .orderReceived(let order), .orderUpdated(let order):
            // The event carries the order: its row changes, no other row is read again.
            if order.id == selectedOrderId { selectedOrder = order }
            place(orderSummary(order: order))
        case .orderConflict(let orderId, _):
            scheduleOrders([orderId])
        case .syncHealthChanged(let health):
            self.health = health
        case .restartRequired(let changes):
            pendingChanges = changes
            restartRequired = true
        case .connectionChanged, .reconnectNeeded:
            schedule([.connections, .restart, .health])
        case .backendUnavailable, .sessionExpired:
            schedule([.account])
        case .itemQuarantined(let item):
            schedule([.health])
            if let orderId = item.orderId { scheduleOrders([orderId]) }
        case .changeFailed(let change):
            schedule([.health])
            scheduleOrders([change.orderId])
        case .configurationApplied, .databaseRecovered:
            schedule(Set(Part.allCases))
        }
    }

    private func decide(_ orderId: String, _ call: @Sendable (any PasserelleClient) async throws -> Void) async throws {
        ordersInProgress.insert(orderId)
        defer { ordersInProgress.remove(orderId) }
        try await call(client)
        await reread(orderId)
    }

    private func change(_ connectionId: String, _ call: @Sendable (any PasserelleClient) async throws -> Void) async throws {
        connectionsInProgress.insert(connectionId)
        defer { connectionsInProgress.remove(connectionId) }
        try await call(client)
        await read([.connections, .restart, .health])
    }

    /// Reads `parts` in the calling task, each whatever another's fate, and returns once they are
    /// read; a cancelled caller stops there.
    private func read(_ parts: Set<Part>) async {
        var failure: (any Error)?
        for part in Part.allCases where parts.contains(part) {
            if Task.isCancelled { return }
            do {
                try await fetch(part)
            } catch is CancellationError {
                return
            } catch {
                failure = failure ?? error
            }
        }
        lastError = failure
        isLoaded = true
    }

    /// Marks `parts` stale and makes sure a read is under way (for the events).
    private func schedule(_ parts: Set<Part>) {
        stale.formUnion(parts)
        startReading()
    }

    /// Marks these orders' rows stale: each is read again alone.
    private func scheduleOrders(_ orderIds: Set<String>) {
        staleOrders.formUnion(orderIds)
        startReading()
    }

    private func startReading() {
        guard reading == nil else { return }
        reading = Task { [weak self] in
            while let self, !self.stale.isEmpty || !self.staleOrders.isEmpty {
                let parts = self.stale
                let orders = self.staleOrders
                self.stale.removeAll()
                self.staleOrders.removeAll()
                if !parts.isEmpty { await self.read(parts) }
                for orderId in orders { await self.reread(orderId) }
            }
            self?.reading = nil
        }
    }

    /// Reads one order again and puts its row (and ``selectedOrder``) in place.
    private func reread(_ orderId: String) async {
        do {
            let order = try await client.order(orderId: orderId)
            if let order {
                place(orderSummary(order: order))
            } else {
                inbox.removeAll { $0.id == orderId }
            }
            if selectedOrderId == orderId { selectedOrder = order }
        } catch is CancellationError {
        } catch {
            lastError = error
        }
    }

    /// Puts `row` in the inbox: in place of its old row, or where it belongs (newest first) if it
    /// is today's; an order the inbox does not show yet and older than its last row stays for
    /// ``loadMoreOrders()``.
    private func place(_ row: OrderSummary) {
        if let index = inbox.firstIndex(where: { $0.id == row.id }) {
            inbox[index] = row
            return
        }
        guard row.createdAt >= startOfToday else { return }
        let index = inbox.firstIndex { Self.precedes(row, $0) } ?? inbox.endIndex
        if index == inbox.endIndex && hasMoreOrders { return }
        inbox.insert(row, at: index)
    }

    /// The library's order of the inbox: newest first, then by id.
    private static func precedes(_ a: OrderSummary, _ b: OrderSummary) -> Bool {
        a.createdAt != b.createdAt ? a.createdAt > b.createdAt : a.id < b.id
    }

    /// Reads one part; a read that a newer read of the same part overtook is dropped.
    private func fetch(_ part: Part) async throws {
        let ticket = (started[part] ?? 0) + 1
        started[part] = ticket
        func isLatest() throws -> Bool {
            try Task.checkCancellation()
            return started[part] == ticket
        }
        switch part {
        case .account:
            let account = try await client.account()
            let status = try client.backendStatus()
            if try isLatest() { (self.account, backendStatus) = (account, status) }
        case .connections:
            let connections = try await client.connections()
            if try isLatest() { self.connections = connections }
        case .restart:
            let pending = try await client.pendingChanges()
            let required = try await client.restartRequired()
            if try isLatest() { (pendingChanges, restartRequired) = (pending, required) }
        case .health:
            let health = try await client.syncHealth()
            if try isLatest() { self.health = health }
        case .inbox:
            // The pages already shown, read again from the top: new orders come first.
            let limit = max(inbox.count, pageSize)
            let page = try await client.orderSummaries(
                filter: OrderFilter(createdAfter: startOfToday, limit: UInt32(limit)))
            if try isLatest() {
                inbox = page
                hasMoreOrders = page.count == limit
            }
        case .selectedOrder:
            guard let id = selectedOrderId else { return }
            let order = try await client.order(orderId: id)
            if try isLatest(), selectedOrderId == id { selectedOrder = order }
        }
    }

    private var startOfToday: Date {
        calendar.startOfDay(for: Date())
    }
}
