import Foundation
import Observation
import Passerelle

/// The demo's tabs.
public enum DemoTab: Hashable, Sendable {
    case orders, connections, help, settings
}

/// Everything shown while a POS account is signed in.
@MainActor @Observable
public final class SessionModel {
    public let account: PosAccount
    public let connections: ConnectionsModel
    public let orders: OrdersModel
    public let restart: RestartModel
    public let health: HealthModel
    public let support: SupportAccess
    public var tab: DemoTab = .orders
    public private(set) var isSigningOut = false
    public let text: DemoText

    @ObservationIgnored private let app: Passerelle
    @ObservationIgnored private let notices: NoticeCenter
    @ObservationIgnored private let onSignedOut: @MainActor () -> Void

    init(
        app: Passerelle, account: PosAccount, notices: NoticeCenter, alert: any NewOrderAlert,
        authenticator: any WebAuthenticator, redirectUri: String, supportEmail: String, text: DemoText,
        onSignedOut: @escaping @MainActor () -> Void
    ) {
        self.app = app
        self.account = account
        self.notices = notices
        self.text = text
        self.onSignedOut = onSignedOut
        restart = RestartModel(app: app, notices: notices, text: text)
        health = HealthModel(app: app, text: text)
        connections = ConnectionsModel(
            app: app, notices: notices, restart: restart, authenticator: authenticator, redirectUri: redirectUri, text: text)
        orders = OrdersModel(app: app, notices: notices, alert: alert, text: text)
        support = SupportAccess(email: supportEmail, text: text)
        restart.afterRestart = { [weak self] in self?.refresh() }
        refresh()
    }

    /// Keep the screen on (idle timer off) while orders can arrive: a till stays awake.
    public var keepsScreenAwake: Bool {
        connections.rows.contains(where: \.isActive)
    }

    /// Reads connections, orders and the restart state again.
    public func refresh() {
        connections.refresh()
        orders.refresh()
        restart.refresh()
    }

    /// Signs out of the POS account (its session leaves the Keychain); the HubRise connections
    /// are kept for its return, or disconnected when the till leaves the restaurant.
    public func signOut(disconnectingHubRise: Bool = false) async {
        isSigningOut = true
        defer { isSigningOut = false }
        do {
            _ = try await app.signOut(mode: disconnectingHubRise ? .disconnectConnections : .keepConnections)
            onSignedOut()
        } catch {
            notices.report(error)
        }
    }

    /// Routes a library event to the screens it concerns.
    func handle(_ event: PasserelleEvent) {
        switch event {
        case .orderReceived(let order):
            orders.received(order)
        case .orderUpdated(let order):
            orders.updated(order)
        case .orderConflict(let orderId, let reason):
            let title = orders.rows.first { $0.id == orderId }?.title ?? orderId
            notices.post(text.orderConflict(title, reason))
            if let order = try? app.order(orderId: orderId) { orders.updated(order) }
        case .connectionChanged:
            connections.refresh()
        case .reconnectNeeded(let connectionId, let reason):
            connections.refresh()
            let name = connections.rows.first { $0.id == connectionId }?.title ?? connectionId
            notices.post(text.reconnectNeeded(name, HubriseRefusal(reason: reason)))
        case .restartRequired:
            restart.refresh()
        case .configurationApplied:
            refresh()
        case .backendUnavailable:
            notices.post(text.backendUnavailable())
        case .sessionExpired:
            notices.post(text.sessionExpired())
        case .databaseRecovered(let recovery):
            notices.post(text.databaseRecovered(recovery))
        case .syncHealthChanged(let health):
            self.health.update(health)
        case .itemQuarantined, .changeFailed:
            Task { await self.health.refresh() }
            orders.refresh()
        }
    }
}

/// "Give support access": add the support e-mail in HubRise's back office with the Manager or
/// Technical Partner role. The e-mail comes from the configuration (``DemoEnvironment/supportEmail``).
public struct SupportAccess: Sendable, Equatable {
    public let email: String
    public let title: String
    public let explanation: String
    public let steps: [String]
    public let screenAwakeHelp: String

    init(email: String, text: DemoText) {
        self.email = email
        title = text.supportTitle
        explanation = text.supportExplanation
        steps = text.supportSteps(email)
        screenAwakeHelp = text.screenAwakeHelp
    }
}
