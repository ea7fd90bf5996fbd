import Foundation
import Passerelle
import PasserelleDemoKit
import PasserelleSandbox
import XCTest

/// Every failure reaches the restaurant manager in their words, with the next step: wrong
/// password, offline, refused on HubRise, a closed browser (silent: the person did it), a bad
/// pasted code, a blocked connection, a bad sandbox URL.
final class FailureTests: DemoTestCase, @unchecked Sendable {
    @MainActor
    func testAWrongPasswordShowsTheFrenchMessage() async throws {
        let model = try await startedModel()
        guard case .signedOut(let signIn) = model.phase else { return XCTFail("\(model.phase)") }
        signIn.email = sandbox.info.posAccount.email
        signIn.password = "pas le bon"
        XCTAssertTrue(signIn.canSubmit)
        try await withDeadline(10, "sign in") { await signIn.signIn() }

        let failure = try XCTUnwrap(signIn.failure)
        XCTAssertEqual(failure.code, "invalid_credentials")
        XCTAssertEqual(failure.title, "Identifiants incorrects")
        XCTAssertEqual(failure.message, "L’e-mail ou le mot de passe est incorrect.")
        XCTAssertTrue(failure.nextStep.hasPrefix("Utilisez les mêmes identifiants que pour votre caisse."), failure.nextStep)
        XCTAssertEqual(signIn.password, "", "the password is not kept")
        XCTAssertFalse(signIn.isWorking)
        guard case .signedOut = model.phase else { return XCTFail("still on the sign-in screen") }
    }

    @MainActor
    func testTheSameFailureInEnglish() async throws {
        let model = try await startedModel(language: .english)
        guard case .signedOut(let signIn) = model.phase else { return XCTFail("\(model.phase)") }
        signIn.email = sandbox.info.posAccount.email
        signIn.password = "wrong"
        try await withDeadline(10, "sign in") { await signIn.signIn() }
        XCTAssertEqual(signIn.failure?.message, "The e-mail or the password is wrong.")
    }

    @MainActor
    func testOfflineSaysToCheckTheConnection() async throws {
        // Nothing listens on port 9: as if the iPad had no network.
        var offline = try await sandboxEnvironment()
        offline.posUrl = "http://127.0.0.1:9"
        let model = try await startedModel(environment: offline)
        guard case .signedOut(let signIn) = model.phase else { return XCTFail("\(model.phase)") }
        signIn.email = sandbox.info.posAccount.email
        signIn.password = sandbox.info.posAccount.password
        try await withDeadline(15, "sign in") { await signIn.signIn() }
        let failure = try XCTUnwrap(signIn.failure)
        XCTAssertEqual(failure.code, "network")
        XCTAssertEqual(failure.title, "Pas de connexion Internet")
        XCTAssertTrue(failure.nextStep.contains("Wi-Fi"), failure.nextStep)
    }

    @MainActor
    func testRefusedOnHubriseIsToldAndAClosedBrowserIsNot() async throws {
        let browser = ScriptedBrowser(sandbox: sandbox)
        let model = try await startedModel(browser: browser)
        let session = try await signIn(model)

        browser.next = .deny(paris.id)
        try await withDeadline(15, "connect") { await session.connections.connect() }
        let notice = try XCTUnwrap(model.notices.current)
        XCTAssertEqual(notice.code, "access_denied")
        XCTAssertEqual(notice.title, "Accès refusé sur HubRise")
        XCTAssertTrue(notice.nextStep.contains("« Autoriser »"))
        XCTAssertTrue(session.connections.rows.isEmpty)
        model.notices.dismiss()
        XCTAssertNil(model.notices.current)

        browser.next = .close
        try await withDeadline(15, "connect") { await session.connections.connect() }
        XCTAssertNil(model.notices.current, "closing the page is the person's choice, not a failure")
        XCTAssertFalse(session.connections.isConnecting)
        XCTAssertEqual(model.notices.history.count, 1)
    }

    @MainActor
    func testPastedCodeFallbackAndAWrongCode() async throws {
        let model = try await startedModel()
        let session = try await signIn(model)
        let connections = session.connections

        // A wrong code: HubRise refuses it; a new code needs a new link.
        await connections.startPastedCodeConnection()
        XCTAssertNotNil(connections.pastedCodeFlow)
        connections.pastedCode = "0123456789abcdef0123456789abcdef"
        try await withDeadline(10, "submit") { await connections.submitPastedCode() }
        XCTAssertEqual(model.notices.current?.code, "invalid_grant")
        XCTAssertEqual(model.notices.current?.title, "HubRise a refusé le code")
        XCTAssertNil(connections.pastedCodeFlow)
        model.notices.dismiss()

        // The right code, copied from HubRise's page.
        await connections.startPastedCodeConnection()
        let flow = try XCTUnwrap(connections.pastedCodeFlow)
        XCTAssertNil(flow.callbackURLScheme)
        let user = sandbox.info.hubriseUser
        let location = lyon.id
        let outcome = try await withDeadline(10, "consent page") {
            try await SandboxConsentPage.run(
                authorizeURL: flow.authorizeURL.absoluteString, email: user.email, password: user.password, locationId: location)
        }
        guard case .outOfBandCode(let code) = outcome else { return XCTFail("\(outcome)") }
        connections.pastedCode = code
        try await withDeadline(10, "submit") { await connections.submitPastedCode() }
        XCTAssertNil(model.notices.current, "\(model.notices.history.map(\.text))")
        XCTAssertNil(connections.pastedCodeFlow)
        XCTAssertEqual(connections.rows.map(\.title), ["Lyon"])
        XCTAssertEqual(connections.highlightedID, connections.rows.first?.id)
        XCTAssertTrue(session.passerelle.restartRequired)
    }

    @MainActor
    func testABlockedConnectionSaysSoAndReconnectFixesIt() async throws {
        let browser = ScriptedBrowser(sandbox: sandbox)
        let model = try await startedModel(browser: browser)
        let session = try await signIn(model)
        let row = try await connectActive(session, browser, paris)

        try await sandbox.admin.blockConnection(paris.id)
        try await withDeadline(10, "check") { await session.connections.check(row) }
        let blocked = try XCTUnwrap(session.connections.rows.first)
        XCTAssertEqual(blocked.status, "Reconnexion nécessaire : Connexion bloquée")
        XCTAssertEqual(blocked.tone, .error)
        XCTAssertTrue(blocked.canReconnect)
        XCTAssertFalse(blocked.isActive)
        XCTAssertEqual(
            blocked.failureLine?.hasSuffix("HubRise a bloqué la connexion : les commandes n’arrivent plus."), true,
            blocked.failureLine ?? "no failure line")
        XCTAssertEqual(blocked.failureDetail, "The connection has been blocked")
        try await waitUntil(10, "the notice") { model.notices.current != nil }
        XCTAssertEqual(model.notices.current?.title, "Connexion bloquée — Paris")
        XCTAssertTrue(model.notices.current?.nextStep.contains("« Reconnecter »") == true)
        model.notices.dismiss()

        browser.next = .approve(paris.id)
        try await withDeadline(15, "reconnect") { await session.connections.connect(reconnecting: blocked) }
        let fixed = try XCTUnwrap(session.connections.rows.first)
        XCTAssertEqual(fixed.id, row.id, "the same connection, renewed")
        XCTAssertTrue(fixed.isActive)
        XCTAssertEqual(fixed.status, "Active : les commandes arrivent")
        XCTAssertFalse(session.passerelle.restartRequired, "a reconnect needs no restart")
    }

    @MainActor
    func testASuspendedLocationSaysWhatToDo() async throws {
        let browser = ScriptedBrowser(sandbox: sandbox)
        let model = try await startedModel(browser: browser)
        let session = try await signIn(model)
        let row = try await connectActive(session, browser, paris)
        try await sandbox.admin.suspendLocation(paris.id)
        try await withDeadline(10, "check") { await session.connections.check(row) }
        try await waitUntil(10, "the notice") { model.notices.current != nil }
        XCTAssertEqual(model.notices.current?.title, "Compte HubRise suspendu — Paris")
        XCTAssertTrue(model.notices.current?.nextStep.contains("back-office HubRise") == true)
    }

    @MainActor
    func testABadSandboxURLIsTold() async throws {
        let model = try await startedModel()
        model.settings.adminURLText = "pas une url"
        await model.settings.loadSandbox()
        XCTAssertEqual(model.notices.current?.code, "invalid_url")
        XCTAssertEqual(model.notices.current?.title, "Adresse invalide")
        model.notices.dismiss()

        // A URL where no sandbox answers: told as a network failure.
        model.settings.adminURLText = "http://127.0.0.1:9/_sandbox"
        try await withDeadline(15, "load") { await model.settings.loadSandbox() }
        XCTAssertEqual(model.notices.current?.code, "network")
    }

    @MainActor
    func testWhenPasserelleCannotOpenTheScreenSaysWhyAndOffersToRetry() async throws {
        // The data folder cannot be created: its parent is a file.
        let blocker = FileManager.default.temporaryDirectory.appendingPathComponent("passerelle-demo-\(UUID().uuidString)")
        try Data("a file".utf8).write(to: blocker)
        addTeardownBlock { try? FileManager.default.removeItem(at: blocker) }
        let environment = try await sandboxEnvironment()
        let model = AppModel(
            dependencies: AppModel.Dependencies(
                secrets: { _ in InMemorySecretStore() }, alert: RecordingAlert(), authenticator: ScriptedBrowser(sandbox: sandbox),
                environmentStore: MemoryEnvironmentStore(environment), dataRoot: blocker.appendingPathComponent("Passerelle"),
                defaultEnvironment: environment, language: .french))
        try await withDeadline(10, "start") { await model.start() }
        guard case .unavailable(let notice) = model.phase else { return XCTFail("\(model.phase)") }
        XCTAssertEqual(notice.code, "data_directory")
        XCTAssertEqual(notice.title, "Enregistrement impossible")
        XCTAssertTrue(notice.nextStep.contains("Libérez de l’espace"), notice.nextStep)

        try FileManager.default.removeItem(at: blocker)
        try await withDeadline(10, "retry") { await model.start() }
        guard case .signedOut = model.phase else { return XCTFail("\(model.phase)") }
    }

    @MainActor
    func testNoticesQueueOneAtATime() async {
        let center = NoticeCenter(language: .french)
        center.report(PasserelleError.network(reason: "down"))
        center.report(PasserelleError.sessionExpired)
        XCTAssertEqual(center.current?.code, "network")
        center.dismiss()
        XCTAssertEqual(center.current?.title, "Session expirée")
        center.dismiss()
        XCTAssertNil(center.current)
        XCTAssertEqual(center.history.count, 2)
    }
}
