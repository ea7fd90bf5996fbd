import Foundation
import Observation
import Passerelle

/// One HubRise connection as the list shows it.
public struct ConnectionRow: Identifiable, Equatable, Sendable {
    /// How the status reads.
    public enum Tone: Sendable, Equatable {
        case ok, pending, warning, error
    }

    public let id: String
    /// The location's name ("Paris").
    public let title: String
    public let locationLine: String
    public let accountLine: String
    public let catalogLine: String
    public let customerListLine: String
    public let originLine: String
    public let status: String
    public let tone: Tone
    /// "Last failure on … : …", when there was one.
    public let failureLine: String?
    /// HubRise's or the library's own words about the failure, for support.
    public let failureDetail: String?
    public let canReconnect: Bool
    public let canCheck: Bool
    public let canDisconnect: Bool
    /// Made off the iPad: confirm or refuse before it receives orders.
    public let needsConfirmation: Bool
    /// The connection itself.
    public let connection: HubriseConnection

    /// Whether orders arrive through it.
    public var isActive: Bool { connection.state == .active && !connection.reconnectNeeded }

    init(_ connection: HubriseConnection, text: DemoText) {
        id = connection.id
        self.connection = connection
        title = connection.locationName ?? connection.locationId
        locationLine = text.locationLine(connection.locationName, connection.locationId)
        accountLine = text.accountLine(connection.accountName, connection.accountId)
        catalogLine = text.catalogLine(connection.catalogName, connection.catalogId)
        customerListLine = text.customerListLine(connection.customerListName, connection.customerListId)
        originLine = text.originLine(connection.origin)
        needsConfirmation = connection.needsConfirmation && connection.state == .pending
        let refusal = connection.refusal
        switch (connection.state, refusal) {
        case (.removing, _):
            (status, tone) = (text.statusRemoving, .pending)
        case (.removed, _):
            (status, tone) = (text.statusRemoved, .pending)
        case (_, let refusal?):
            (status, tone) = (text.statusReconnect(refusal.userMessage(in: text.language).title), .error)
        case (.pending, _):
            (status, tone) = connection.needsConfirmation
                ? (text.statusNeedsConfirmation, .warning) : (text.statusPendingRestart, .pending)
        case (.active, nil):
            (status, tone) = (text.statusActive, .ok)
        }
        if let failedAt = connection.lastFailedAt {
            let summary = refusal.map { $0.userMessage(in: text.language).message } ?? text.transientFailure
            failureLine = text.lastFailure(failedAt, summary)
            failureDetail = connection.lastFailedReason
        } else {
            failureLine = nil
            failureDetail = nil
        }
        let live = connection.state == .active || connection.state == .pending
        canReconnect = live && !needsConfirmation && (connection.reconnectNeeded || connection.state == .active)
        canCheck = connection.state == .active
        canDisconnect = live && !needsConfirmation
    }
}

/// The connections screen: the list with status, "Connect HubRise" (in the browser or with a
/// pasted code), Reconnect, Check, Disconnect (after a confirmation), and the confirmation of
/// connections made off the iPad. The connections themselves are ``PasserelleModel``'s.
@MainActor @Observable
public final class ConnectionsModel {
    /// A consent page is open or its code is being exchanged.
    public private(set) var isConnecting = false
    /// The connection the confirmation dialog asks about; `nil` closes the dialog.
    public var disconnectCandidate: ConnectionRow?
    /// An out-of-band attempt waiting for its pasted code.
    public private(set) var pastedCodeFlow: HubriseAuthorization?
    /// Why the pasted code replaced the browser, when it did (Guided Access...): the sheet says it.
    public private(set) var pastedCodeReason: String?
    /// What the person pastes.
    public var pastedCode = ""
    /// The connection to highlight (just connected, or opened from HubRise's Open URL).
    public var highlightedID: String?
    public let text: DemoText

    @ObservationIgnored private let passerelle: PasserelleModel
    @ObservationIgnored private let notices: NoticeCenter
    @ObservationIgnored private let authenticator: any WebAuthenticator
    @ObservationIgnored private let callback: WebAuthenticationCallback?

    init(
        passerelle: PasserelleModel, notices: NoticeCenter, authenticator: any WebAuthenticator, redirectUri: String,
        text: DemoText
    ) {
        self.passerelle = passerelle
        self.notices = notices
        self.authenticator = authenticator
        callback = WebAuthenticationCallback(redirectURI: redirectUri)
        self.text = text
    }

    /// The connections as the list shows them.
    public var rows: [ConnectionRow] {
        passerelle.connections.map { ConnectionRow($0, text: text) }
    }

    /// Connections with an operation under way (their buttons are disabled).
    public var busy: Set<String> { passerelle.connectionsInProgress }

    /// Pull to refresh: asks HubRise and the POS backend now (each connection's health, the
    /// configuration made off the iPad). Failures are told.
    public func pullToRefresh() async {
        await notices.attempt { try await passerelle.syncNow() }
    }

    /// "Connect HubRise" (or "Reconnect" for `row`): opens HubRise's consent page in the
    /// browser and completes the connection from its callback. A new connection waits for a
    /// restart (the banner shows); a reconnected one resumes at once.
    public func connect(reconnecting row: ConnectionRow? = nil) async {
        guard !isConnecting else { return }
        isConnecting = true
        defer { isConnecting = false }
        let client = passerelle.client
        let authorization: HubriseAuthorization
        do {
            authorization = try await client.beginHubriseConnection(
                options: HubriseConnectionOptions(accountId: row?.connection.accountId))
        } catch {
            return notices.report(error)
        }
        do {
            guard let callback = callback ?? authorization.callbackURLScheme.map(WebAuthenticationCallback.customScheme)
            else {
                throw PasserelleError.unexpectedResponse(service: "HubRise", reason: "no callback for the redirect URI")
            }
            let redirect = try await authenticator.authenticate(url: authorization.authorizeURL, callback: callback)
            highlightedID = try await passerelle.completeHubriseConnection(callbackURL: redirect).id
        } catch is WebAuthenticationCancelled {
            // The person closed the page: forget the attempt, say nothing.
            try? await client.cancelHubriseConnection(state: authorization.state)
        } catch let unavailable as WebAuthenticationUnavailable {
            // The page cannot open here (Guided Access): the pasted code instead, saying why.
            try? await client.cancelHubriseConnection(state: authorization.state)
            await startPastedCodeConnection(
                accountId: row?.connection.accountId, reason: text.browserUnavailable(unavailable.reason))
        } catch {
            try? await client.cancelHubriseConnection(state: authorization.state)
            notices.report(error)
        }
    }

    /// "Connect with a code": starts an out-of-band attempt; ``pastedCodeFlow`` holds the link
    /// to open (here or on a computer), after which HubRise shows the code to paste.
    public func startPastedCodeConnection() async {
        await startPastedCodeConnection(accountId: nil, reason: nil)
    }

    private func startPastedCodeConnection(accountId: String?, reason: String?) async {
        do {
            pastedCode = ""
            pastedCodeReason = reason
            pastedCodeFlow = try await passerelle.client.beginHubriseConnection(
                options: HubriseConnectionOptions(outOfBand: true, accountId: accountId))
        } catch {
            notices.report(error)
        }
    }

    /// Completes the out-of-band attempt with ``pastedCode``.
    public func submitPastedCode() async {
        guard let flow = pastedCodeFlow, !isConnecting else { return }
        isConnecting = true
        defer { isConnecting = false }
        do {
            highlightedID = try await passerelle.completeHubriseConnection(code: pastedCode, state: flow.state).id
            pastedCodeFlow = nil
            pastedCodeReason = nil
            pastedCode = ""
        } catch let error as PasserelleError where error == .codeMissing {
            // Let the person paste again in the same attempt.
            notices.report(error)
        } catch {
            // The attempt is spent (refused, expired or used): a new code needs a new link.
            pastedCodeFlow = nil
            notices.report(error)
        }
    }

    /// Abandons the out-of-band attempt.
    public func cancelPastedCode() {
        if let flow = pastedCodeFlow {
            Task { [client = passerelle.client] in try? await client.cancelHubriseConnection(state: flow.state) }
        }
        pastedCodeFlow = nil
        pastedCodeReason = nil
        pastedCode = ""
    }

    /// "Check": asks HubRise now whether the connection works; refreshes its names.
    public func check(_ row: ConnectionRow) async {
        await notices.attempt { try await passerelle.check(row.id) }
    }

    /// "Disconnect": asks for a confirmation first.
    public func askToDisconnect(_ row: ConnectionRow) {
        disconnectCandidate = row
    }

    /// The confirmation dialog's "Disconnect".
    public func confirmDisconnect() async {
        guard let row = disconnectCandidate else { return }
        disconnectCandidate = nil
        await notices.attempt { try await passerelle.disconnect(row.id) }
    }

    /// The confirmation dialog's "Cancel".
    public func cancelDisconnect() {
        disconnectCandidate = nil
    }

    /// Whether the disconnect confirmation shows; setting it to `false` cancels it (the view binds
    /// `$model.isConfirmingDisconnect`).
    public var isConfirmingDisconnect: Bool {
        get { disconnectCandidate != nil }
        set { if !newValue { cancelDisconnect() } }
    }

    /// Whether the pasted-code sheet shows; setting it to `false` abandons the attempt.
    public var isEnteringPastedCode: Bool {
        get { pastedCodeFlow != nil }
        set { if !newValue { cancelPastedCode() } }
    }

    /// Confirms a connection made off the iPad: it goes active at once.
    public func confirm(_ row: ConnectionRow) async {
        await notices.attempt { try await passerelle.confirm(row.id) }
    }

    /// Refuses a connection made off the iPad: it never receives orders here.
    public func refuse(_ row: ConnectionRow) async {
        await notices.attempt { try await passerelle.refuse(row.id) }
    }
}
