import Foundation
import Passerelle
import PasserelleSandbox
import XCTest

/// Connecting HubRise locations from Swift against the sandbox process: the consent page, the POS
/// backend's https redirect, the pasted-code fallback, a refusal, a blocked connection and its
/// reconnect, connections made off the iPad that need a confirmation, and the typed errors of
/// forged callbacks.
final class ConnectTests: SandboxTestCase {
    func testSignInConnectRestartDisconnect() async throws {
        let secrets = InMemorySecretStore()
        let app = try await openApp(secrets: secrets)
        try await signIn(app)
        let paris = sandbox.info.locations[0]

        let connection = try await connect(app, paris)
        XCTAssertEqual(connection.state, .pending)
        XCTAssertEqual(connection.locationName, paris.name)
        let restartRequired = try await app.restartRequired()
        XCTAssertTrue(restartRequired)

        try await withDeadline(15, "restart") { try await app.restart() }
        let active = try await app.connections()
        XCTAssertEqual(active.map(\.state), [.active])
        let checked = try await withDeadline(10, "check") { try await app.checkConnection(connectionId: connection.id) }
        XCTAssertFalse(checked.reconnectNeeded)
        XCTAssertNil(checked.refusal)

        let outcome = try await withDeadline(10, "disconnect") { try await app.disconnect(connectionId: connection.id) }
        XCTAssertTrue(outcome.revoked)
        XCTAssertEqual(outcome.connection.state, .removing)
        try await withDeadline(15, "restart") { try await app.restart() }
        let remaining = try await app.connections()
        XCTAssertTrue(remaining.isEmpty)
        XCTAssertFalse(secrets.keys.contains { $0.hasSuffix("access_token") })
    }

    func testPastedCodeFallbackConnects() async throws {
        let app = try await openApp()
        try await signIn(app)
        let lyon = sandbox.info.locations[1]
        let authorization = try await app.beginHubriseConnection(options: HubriseConnectionOptions(outOfBand: true))
        XCTAssertNil(authorization.callbackURLScheme, "nothing comes back to the app: the person pastes the code")
        let user = sandbox.info.hubriseUser
        let outcome = try await withDeadline(10, "consent page") {
            try await SandboxConsentPage.run(
                authorizeURL: authorization.authorizeURL.absoluteString, email: user.email, password: user.password,
                locationId: lyon.id)
        }
        guard case .outOfBandCode(let code) = outcome else { return XCTFail("expected a code, got \(outcome)") }

        let connection = try await withDeadline(10, "complete with the code") {
            // As pasted: with the spaces a copy from a web page often brings along.
            try await app.completeHubriseConnection(code: " \(code)\n", state: authorization.state)
        }
        XCTAssertEqual(connection.locationId, lyon.id)
        XCTAssertEqual(connection.state, .pending)
    }

    func testTheBackendsHttpsRedirectHandsTheCodeToTheTillThatAsks() async throws {
        let app = try await openApp()
        try await signIn(app)
        let paris = sandbox.info.locations[0]
        let attempt = try await withDeadline(10, "begin") {
            try await app.beginHubriseConnectionViaPOSBackend(options: HubriseConnectionOptions())
        }
        XCTAssertNil(attempt.callbackURLScheme)
        XCTAssertEqual(attempt.callbackHTTPSPath, "/hubrise/device-return", "for .https(host:path:) on iOS 17.4+")
        XCTAssertNotNil(attempt.callbackHTTPSHost)
        let early = try await withDeadline(10, "ask") {
            try await app.completeHubriseConnectionViaPOSBackend(state: attempt.state)
        }
        XCTAssertNil(early, "HubRise has not answered yet")

        // The restaurant approves elsewhere (a phone that opened a QR code): HubRise redirects
        // the browser to the POS backend, which keeps the code and sends the browser back.
        let user = sandbox.info.hubriseUser
        let redirect = try await withDeadline(10, "consent page") {
            try await SandboxConsentPage.approve(
                authorizeURL: attempt.authorizeURL.absoluteString, email: user.email, password: user.password, locationId: paris.id)
        }
        let backend = try await withDeadline(10, "the backend") {
            try await SandboxConsentPage.fetchWithoutRedirect(try XCTUnwrap(URL(string: redirect)))
        }
        XCTAssertTrue(backend.location?.contains("/hubrise/device-return?state=") ?? false, "\(backend)")

        let connection = try await withDeadline(10, "ask again") {
            try await app.completeHubriseConnectionViaPOSBackend(state: attempt.state)
        }
        XCTAssertEqual(connection?.locationId, paris.id)
        XCTAssertEqual(connection?.state, .pending)
    }

    func testRefusingOnHubrisesPageIsAccessDeniedWithAFrenchMessage() async throws {
        let app = try await openApp()
        try await signIn(app)
        let authorization = try await app.beginHubriseConnection(options: HubriseConnectionOptions())
        let user = sandbox.info.hubriseUser
        let paris = sandbox.info.locations[0]
        let outcome = try await withDeadline(10, "consent page") {
            try await SandboxConsentPage.run(
                authorizeURL: authorization.authorizeURL.absoluteString, email: user.email, password: user.password,
                locationId: paris.id, allow: false)
        }
        guard case .redirect(let callback) = outcome else { return XCTFail("expected a redirect, got \(outcome)") }
        do {
            let callbackURL = try XCTUnwrap(URL(string: callback))
            _ = try await withDeadline(10, "complete") { try await app.completeHubriseConnection(callbackURL: callbackURL) }
            XCTFail("a refusal must not connect")
        } catch let error as PasserelleError {
            XCTAssertEqual(error, .accessDenied)
            let message = error.userMessage(in: .french)
            XCTAssertEqual(message.title, "Accès refusé sur HubRise")
            XCTAssertTrue(message.nextStep.contains("« Autoriser »"), message.nextStep)
        }
        let connections = try await app.connections()
        XCTAssertTrue(connections.isEmpty)
    }

    func testABlockedConnectionAsksToReconnectAndReconnectingLiftsTheBlock() async throws {
        let events = PasserelleEvents()
        let recorder = EventRecorder(events)
        let app = try await openApp(events: events)
        try await signIn(app)
        let paris = sandbox.info.locations[0]
        let connection = try await connectActive(app, paris)

        try await sandbox.admin.blockConnection(paris.id)
        let checked = try await withDeadline(10, "check") { try await app.checkConnection(connectionId: connection.id) }
        XCTAssertTrue(checked.reconnectNeeded)
        XCTAssertEqual(checked.refusal, .blocked)
        XCTAssertNotNil(checked.lastFailedAt)
        XCTAssertEqual(checked.refusal?.userMessage(in: .french).title, "Connexion bloquée")
        let event = try await recorder.wait(for: "reconnect needed") {
            if case .reconnectNeeded(connection.id, _) = $0 { true } else { false }
        }
        if case .reconnectNeeded(_, let reason) = event {
            XCTAssertEqual(HubriseRefusal(reason: reason), .blocked)
        }

        // "Reconnect": the same consent flow for the same location renews the same connection.
        let renewed = try await connect(app, paris)
        XCTAssertEqual(renewed.id, connection.id)
        XCTAssertFalse(renewed.reconnectNeeded)
        let again = try await withDeadline(10, "check") { try await app.checkConnection(connectionId: connection.id) }
        XCTAssertFalse(again.reconnectNeeded)
        XCTAssertEqual(again.state, .active)
    }

    func testAConnectionMadeInHubrisesBackOfficeWaitsForConfirmation() async throws {
        let app = try await openApp()
        try await signIn(app)
        let paris = sandbox.info.locations[0]
        let lyon = sandbox.info.locations[1]
        let pos = sandbox.info.posAccount
        let admin = sandbox.admin
        try await withDeadline(10, "back-office connects") {
            try await SandboxBackOffice.connectFromHubrise(
                admin: admin, locationId: paris.id, posEmail: pos.email, posPassword: pos.password)
            try await SandboxBackOffice.connectFromHubrise(
                admin: admin, locationId: lyon.id, posEmail: pos.email, posPassword: pos.password)
        }

        // "Restart the app on your iPad to apply the changes."
        try await withDeadline(15, "restart") { try await app.restart() }
        let pending = try await app.connections()
        XCTAssertEqual(pending.map(\.locationId).sorted(), [paris.id, lyon.id].sorted())
        for connection in pending {
            XCTAssertEqual(connection.state, .pending)
            XCTAssertTrue(connection.needsConfirmation)
            XCTAssertEqual(connection.origin, .hubriseBackOffice)
            XCTAssertNotNil(connection.catalogName)
        }
        let toConfirm = try XCTUnwrap(pending.first { $0.locationId == paris.id })
        let toRefuse = try XCTUnwrap(pending.first { $0.locationId == lyon.id })

        let confirmed = try await withDeadline(10, "confirm") { try await app.confirmConnection(connectionId: toConfirm.id) }
        XCTAssertEqual(confirmed.state, .active)
        XCTAssertFalse(confirmed.needsConfirmation)
        let refused = try await withDeadline(10, "refuse") { try await app.refuseConnection(connectionId: toRefuse.id) }
        XCTAssertNotEqual(refused.state, .active)
        let active = try await app.connections().filter { $0.state == .active }
        XCTAssertEqual(active.map(\.locationId), [paris.id])
    }

    func testWrongPasswordAndForgedCallbacksAreTypedErrors() async throws {
        let app = try await openApp()
        do {
            let email = sandbox.info.posAccount.email
            _ = try await withDeadline(10, "sign in") { try await app.signIn(email: email, password: "not the password") }
            XCTFail("sign-in should fail")
        } catch let error as PasserelleError {
            XCTAssertEqual(error, .invalidCredentials)
            XCTAssertEqual(error.userMessage(in: .french).message, "L’e-mail ou le mot de passe est incorrect.")
            XCTAssertFalse(error.isRetryable)
        }
        try await signIn(app)
        do {
            let forged = try XCTUnwrap(URL(string: "passerelle-demo://oauth/hubrise?code=x&state=forged"))
            _ = try await app.completeHubriseConnection(callbackURL: forged)
            XCTFail("an unknown state must be refused")
        } catch let error as PasserelleError {
            XCTAssertEqual(error.code, "state_unknown")
        }
    }
}
