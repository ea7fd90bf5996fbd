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
/// connections made off the iPad.
@MainActor @Observable
public final class ConnectionsModel {
    public private(set) var rows: [ConnectionRow] = []
    /// Connections with an operation under way (their buttons are disabled).
    public private(set) var busy: Set<String> = []
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
    /// The connection to highlight (opened from HubRise's Open URL).
    public var highlightedID: String?
    public let text: DemoText

    @ObservationIgnored private let app: Passerelle
    @ObservationIgnored private let notices: NoticeCenter
    @ObservationIgnored private let restart: RestartModel
    @ObservationIgnored private let authenticator: any WebAuthenticator
    @ObservationIgnored private let callback: WebAuthenticationCallback?

    init(
        app: Passerelle, notices: NoticeCenter, restart: RestartModel, authenticator: any WebAuthenticator,
        redirectUri: String, text: DemoText
    ) {
        self.app = app
        self.notices = notices
        self.restart = restart
        self.authenticator = authenticator
        callback = WebAuthenticationCallback(redirectURI: redirectUri)
        self.text = text
    }

    /// Reads the connections again.
    public func refresh() {
        do {
            rows = try app.connections().map { ConnectionRow($0, text: text) }
        } catch {
            notices.report(error)
        }
    }

    /// Pull to refresh: asks HubRise and the POS backend now (each connection's health, the
    /// configuration made off the iPad), then reads the list again. Failures are told.
    public func pullToRefresh() async {
        do {
            _ = try await app.syncNow()
        } catch {
            notices.report(error)
        }
        changed()
    }

    /// "Connect HubRise" (or "Reconnect" for `row`): opens HubRise's consent page in the
    /// browser and completes the connection from its callback. A new connection waits for a
    /// restart (the banner shows); a reconnected one resumes at once.
    public func connect(reconnecting row: ConnectionRow? = nil) async {
        guard !isConnecting else { return }
        isConnecting = true
        defer { isConnecting = false }
        let authorization: HubriseAuthorization
        do {
            authorization = try app.beginHubriseConnection(
                options: HubriseConnectionOptions(accountId: row?.connection.accountId))
        } catch {
            return notices.report(error)
        }
        do {
            guard let url = URL(string: authorization.authorizeUrl),
                let callback = callback ?? authorization.callbackUrlScheme.map(WebAuthenticationCallback.customScheme)
            else {
                throw PasserelleError.UnexpectedResponse(service: "HubRise", reason: "authorize URL")
            }
            let redirect = try await authenticator.authenticate(url: url, callback: callback)
            let connection = try await app.completeHubriseConnection(callbackUrl: redirect.absoluteString)
            highlightedID = connection.id
        } catch is WebAuthenticationCancelled {
            // The person closed the page: forget the attempt, say nothing.
            try? app.cancelHubriseConnection(state: authorization.state)
        } catch let unavailable as WebAuthenticationUnavailable {
            // The page cannot open here (Guided Access): the pasted code instead, saying why.
            try? app.cancelHubriseConnection(state: authorization.state)
            startPastedCodeConnection(accountId: row?.connection.accountId, reason: text.browserUnavailable(unavailable.reason))
        } catch {
            try? app.cancelHubriseConnection(state: authorization.state)
            notices.report(error)
        }
        changed()
    }

    /// "Connect with a code": starts an out-of-band attempt; ``pastedCodeFlow`` holds the link
    /// to open (here or on a computer), after which HubRise shows the code to paste.
    public func startPastedCodeConnection() {
        startPastedCodeConnection(accountId: nil, reason: nil)
    }

    private func startPastedCodeConnection(accountId: String?, reason: String?) {
        do {
            pastedCode = ""
            pastedCodeReason = reason
            pastedCodeFlow = try app.beginHubriseConnection(
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
            let connection = try await app.completeHubriseConnectionWithCode(code: pastedCode, state: flow.state)
            pastedCodeFlow = nil
            pastedCodeReason = nil
            pastedCode = ""
            highlightedID = connection.id
        } catch let error as PasserelleError where error == .CodeMissing {
            // Let the person paste again in the same attempt.
            notices.report(error)
        } catch {
            // The attempt is spent (refused, expired or used): a new code needs a new link.
            pastedCodeFlow = nil
            notices.report(error)
        }
        changed()
    }

    /// Abandons the out-of-band attempt.
    public func cancelPastedCode() {
        if let flow = pastedCodeFlow { try? app.cancelHubriseConnection(state: flow.state) }
        pastedCodeFlow = nil
        pastedCodeReason = nil
        pastedCode = ""
    }

    /// "Check": asks HubRise now whether the connection works; refreshes its names.
    public func check(_ row: ConnectionRow) async {
        await perform(row) { app in _ = try await app.checkConnection(connectionId: row.id) }
    }

    /// "Disconnect": asks for a confirmation first.
    public func askToDisconnect(_ row: ConnectionRow) {
        disconnectCandidate = row
    }

    /// The confirmation dialog's "Disconnect".
    public func confirmDisconnect() async {
        guard let row = disconnectCandidate else { return }
        disconnectCandidate = nil
        await perform(row) { app in _ = try await app.disconnect(connectionId: row.id) }
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
        await perform(row) { app in _ = try await app.confirmConnection(connectionId: row.id) }
    }

    /// Refuses a connection made off the iPad: it never receives orders here.
    public func refuse(_ row: ConnectionRow) async {
        await perform(row) { app in _ = try await app.refuseConnection(connectionId: row.id) }
    }

    private func perform(_ row: ConnectionRow, _ operation: @Sendable (Passerelle) async throws -> Void) async {
        guard !busy.contains(row.id) else { return }
        busy.insert(row.id)
        defer { busy.remove(row.id) }
        do {
            try await operation(app)
        } catch {
            notices.report(error)
        }
        changed()
    }

    private func changed() {
        refresh()
        restart.refresh()
    }
}
