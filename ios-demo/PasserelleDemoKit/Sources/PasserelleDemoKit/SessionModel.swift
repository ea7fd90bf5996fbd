import Foundation
import Observation
import Passerelle

/// The demo's tabs.
public enum DemoTab: Hashable, Sendable {
    case orders, connections, help, settings
}

/// The screens of one open Passerelle instance: sign-in, then the tabs. The state itself
/// (account, connections, inbox, restart, health) is Passerelle's ``PasserelleModel``; this adds
/// what only the demo does: its words, the new-order sound and the notices.
@MainActor @Observable
public final class SessionModel {
    /// Passerelle's state, kept current from its events.
    public let passerelle: PasserelleModel
    public let signIn: SignInModel
    public let connections: ConnectionsModel
    public let orders: OrdersModel
    public let support: SupportAccess
    public let text: DemoText
    public var tab: DemoTab = .orders
    public private(set) var isSigningOut = false

    @ObservationIgnored private let notices: NoticeCenter
    @ObservationIgnored private let alert: any NewOrderAlert

    init(
        passerelle: PasserelleModel, notices: NoticeCenter, alert: any NewOrderAlert,
        authenticator: any WebAuthenticator, redirectUri: String, supportEmail: String, text: DemoText
    ) {
        self.passerelle = passerelle
        self.notices = notices
        self.alert = alert
        self.text = text
        signIn = SignInModel(passerelle: passerelle, text: text)
        connections = ConnectionsModel(
            passerelle: passerelle, notices: notices, authenticator: authenticator, redirectUri: redirectUri, text: text)
        orders = OrdersModel(passerelle: passerelle, notices: notices, text: text)
        support = SupportAccess(email: supportEmail, text: text)
    }

    /// The signed-in POS account.
    public var account: POSAccount? { passerelle.account }

    /// Keep the screen on (idle timer off) while orders can arrive: a till stays awake.
    public var keepsScreenAwake: Bool { !passerelle.activeConnections.isEmpty }

    /// The line above the orders when they are late, need a reconnect or need attention.
    public var healthBanner: String? { passerelle.health?.banner(in: text.language) }

    /// What "Restart to apply" will apply, one line each.
    public var restartChanges: [String] { passerelle.pendingChanges.map(text.change) }

    /// "Restart to apply": stops sync, reloads the POS backend's configuration, applies, starts again.
    public func restartNow() async {
        do {
            try await passerelle.restart()
        } catch {
            notices.report(error)
        }
    }

    /// Signs out of the POS account (its session leaves the Keychain); the HubRise connections
    /// are kept for its return, or disconnected when the till leaves the restaurant. The sign-in
    /// screen comes back with the e-mail filled in.
    public func signOut(disconnectingHubRise: Bool = false) async {
        isSigningOut = true
        defer { isSigningOut = false }
        let email = account?.email ?? ""
        do {
            try await passerelle.signOut(mode: disconnectingHubRise ? .disconnectConnections : .keepConnections)
            signIn.email = email
        } catch {
            notices.report(error)
        }
    }

    /// What the demo does on a library event, beside the state the model keeps: the sound and
    /// the notices.
    func handle(_ event: PasserelleEvent) {
        switch event {
        case .orderReceived(let order):
            alert.newOrderArrived()
            // On screen and announced: it need not be announced again after a restart.
            Task { try? await passerelle.markSeen([order.id]) }
        case .orderConflict(let orderId, let reason):
            notices.post(text.orderConflict(orders.rows.first { $0.id == orderId }?.title ?? orderId, reason))
        case .reconnectNeeded(let connectionId, let reason):
            let name = passerelle.connections.first { $0.id == connectionId }?.locationName ?? connectionId
            notices.post(text.reconnectNeeded(name, HubriseRefusal(reason: reason)))
        case .backendUnavailable:
            notices.post(text.backendUnavailable())
        case .sessionExpired:
            notices.post(text.sessionExpired())
        case .databaseRecovered(let recovery):
            notices.post(text.databaseRecovered(recovery))
        case .orderUpdated, .restartRequired, .configurationApplied, .connectionChanged, .syncHealthChanged,
            .itemQuarantined, .changeFailed:
            break
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
