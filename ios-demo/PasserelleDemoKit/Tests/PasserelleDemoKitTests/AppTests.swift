import Foundation
import Passerelle
import PasserelleDemoKit
import PasserelleSandbox
import XCTest

/// The rest of the app: connections made off the iPad, HubRise's Open URL, the lifecycle,
/// settings pointed at a sandbox, a test order, sign-out, help, and the texts.
final class AppTests: DemoTestCase, @unchecked Sendable {
    @MainActor
    func testConnectionsMadeOffTheIPadAreConfirmedOrRefused() async throws {
        let model = try await startedModel()
        let session = try await signIn(model)
        let pos = sandbox.info.posAccount
        let admin = sandbox.admin
        let (parisId, lyonId) = (paris.id, lyon.id)
        try await withDeadline(15, "back-office connects") {
            try await SandboxBackOffice.connectFromHubrise(admin: admin, locationId: parisId, posEmail: pos.email, posPassword: pos.password)
            try await SandboxBackOffice.connectFromHubrise(admin: admin, locationId: lyonId, posEmail: pos.email, posPassword: pos.password)
        }

        // "Restart the app on your iPad to apply the changes."
        try await withDeadline(15, "restart") { await session.restartNow() }
        XCTAssertEqual(session.connections.rows.count, 2)
        for row in session.connections.rows {
            XCTAssertTrue(row.needsConfirmation)
            XCTAssertEqual(row.status, "Faite hors de l’iPad : confirmez-la pour recevoir ses commandes")
            XCTAssertEqual(row.originLine, "Connectée depuis le back-office HubRise")
            XCTAssertFalse(row.canDisconnect || row.canReconnect)
        }
        let toConfirm = try XCTUnwrap(session.connections.rows.first { $0.connection.locationId == parisId })
        let toRefuse = try XCTUnwrap(session.connections.rows.first { $0.connection.locationId == lyonId })
        try await withDeadline(10, "confirm") { await session.connections.confirm(toConfirm) }
        try await withDeadline(10, "refuse") { await session.connections.refuse(toRefuse) }
        XCTAssertNil(model.notices.current, "\(model.notices.history.map(\.text))")
        XCTAssertEqual(session.connections.rows.filter(\.isActive).map(\.title), ["Paris"])
        XCTAssertFalse(session.connections.rows.contains { $0.id == toRefuse.id && $0.isActive })

        let orderId = try await sandbox.admin.placeOrder(locationId: parisId, order: .sample())
        try await waitUntil(20, "the confirmed connection receives orders") {
            session.orders.rows.contains { $0.id == orderId }
        }
    }

    @MainActor
    func testHubrisesOpenURLShowsTheConnection() async throws {
        let browser = ScriptedBrowser(sandbox: sandbox)
        let model = try await startedModel(browser: browser)
        let session = try await signIn(model)
        let row = try await connectActive(session, browser, paris)
        let openURL = try await sandbox.admin.openURL(paris.id)
        XCTAssertEqual(session.tab, .orders)

        try await withDeadline(10, "open URL") { await model.handleOpenURL(try XCTUnwrap(URL(string: openURL))) }
        XCTAssertEqual(session.tab, .connections)
        XCTAssertEqual(session.connections.highlightedID, row.id)

        // Somebody else's URL is left alone, silently.
        try await withDeadline(10, "open URL") { await model.handleOpenURL(try XCTUnwrap(URL(string: "https://example.com/x"))) }
        XCTAssertNil(model.notices.current)
    }

    @MainActor
    func testNoSyncInTheBackgroundAndOrdersArriveOnReturn() async throws {
        let browser = ScriptedBrowser(sandbox: sandbox)
        let model = try await startedModel(browser: browser)
        let session = try await signIn(model)
        _ = try await connectActive(session, browser, paris)

        model.scenePhaseChanged(.inactive)
        model.scenePhaseChanged(.background)
        try await Task.sleep(nanoseconds: 300_000_000)
        let orderId = try await sandbox.admin.placeOrder(locationId: paris.id, order: .sample(customer: "Léa"))
        try await Task.sleep(nanoseconds: 2_500_000_000)
        XCTAssertFalse(session.orders.rows.contains { $0.id == orderId }, "iOS runs no timer in the background")

        model.scenePhaseChanged(.active)
        try await waitUntil(10, "the order arrives on return") { session.orders.rows.contains { $0.id == orderId } }
        XCTAssertNil(model.notices.current)
    }

    @MainActor
    func testSettingsPointTheAppAtASandboxAndPlaceATestOrder() async throws {
        // First launch: the default local sandbox (fixed ports), where nothing runs in this test.
        let store = MemoryEnvironmentStore()
        let browser = ScriptedBrowser(sandbox: sandbox)
        let model = try await startedModel(
            environment: .localSandbox(supportEmail: Self.supportEmail), browser: browser, store: store)
        XCTAssertEqual(model.environment.posUrl, "http://127.0.0.1:8482")

        model.settings.adminURLText = " \(sandbox.info.adminUrl) "
        try await withDeadline(15, "load the sandbox") { await model.settings.loadSandbox() }
        XCTAssertNil(model.notices.current, "\(model.notices.history.map(\.text))")
        XCTAssertEqual(model.environment.posUrl, sandbox.info.posUrl)
        XCTAssertEqual(store.load(), model.environment, "kept for the next launch")
        XCTAssertEqual(model.settings.status, "Sandbox chargé : \(sandbox.info.posUrl)")
        guard case .signedOut = model.phase else { return XCTFail("reopened on the sandbox: \(model.phase)") }

        let session = try await signIn(model)
        XCTAssertFalse(model.canPlaceTestOrder)
        _ = try await connectActive(session, browser, paris)
        XCTAssertTrue(model.canPlaceTestOrder)
        try await withDeadline(10, "test order") { await model.placeTestOrder() }
        XCTAssertEqual(model.settings.status, "Commande de test envoyée : elle arrive dans quelques secondes.")
        try await waitUntil(20, "the test order arrives") { session.orders.rows.contains { $0.customer == "Camille Dupont" } }
    }

    @MainActor
    func testSignOutReturnsToSignInWithTheEmail() async throws {
        let model = try await startedModel()
        let session = try await signIn(model)
        try await withDeadline(10, "sign out") { await session.signOut() }
        guard case .signedOut(let signIn) = model.phase else { return XCTFail("\(model.phase)") }
        XCTAssertEqual(signIn.email, sandbox.info.posAccount.email)
        XCTAssertEqual(signIn.password, "")
    }

    @MainActor
    func testTheAppRemembersTheSignedInAccountAcrossLaunches() async throws {
        let environment = try await sandboxEnvironment()
        let dataRoot = FileManager.default.temporaryDirectory.appendingPathComponent("passerelle-demo-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dataRoot) }
        let secrets = SecretStores()
        func launch() async throws -> AppModel {
            let model = AppModel(
                dependencies: AppModel.Dependencies(
                    secrets: { secrets.store(for: $0) }, alert: RecordingAlert(), authenticator: ScriptedBrowser(sandbox: sandbox),
                    environmentStore: MemoryEnvironmentStore(environment), dataRoot: dataRoot,
                    defaultEnvironment: environment, language: .french))
            try await withDeadline(10, "start") { await model.start() }
            return model
        }
        let first = try await launch()
        _ = try await signIn(first)
        await first.close()  // the process ends between two launches
        let second = try await launch()
        XCTAssertEqual(second.session?.account?.email, sandbox.info.posAccount.email)
    }

    /// An order the till stored but never showed (it stopped first) is announced again at the next
    /// launch: the demo rings for it and marks it seen, even with an event thread running late.
    @MainActor
    func testTheAppRingsForAndMarksSeenTheOrdersAnnouncedAgainAtLaunch() async throws {
        let environment = try await sandboxEnvironment()
        let dataRoot = FileManager.default.temporaryDirectory.appendingPathComponent("passerelle-demo-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dataRoot) }
        let secrets = SecretStores()
        let dataDir = dataRoot.appendingPathComponent(environment.storageKey, isDirectory: true)
        try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
        let config = environment.passerelleConfig(dataDir: dataDir.path)

        // The till receives an order and stops before anyone sees it.
        let events = PasserelleEvents()
        let recorder = EventRecorder(events)
        let till = try await Client.open(config: config, secrets: secrets.store(for: environment.storageKey), events: events)
        let pos = sandbox.info.posAccount
        _ = try await withDeadline(10, "sign in") { try await till.signIn(email: pos.email, password: pos.password) }
        let authorization = try await till.beginHubriseConnection(options: HubriseConnectionOptions())
        let (user, location) = (sandbox.info.hubriseUser, paris.id)
        let callback = try await withDeadline(10, "consent page") {
            try await SandboxConsentPage.approve(
                authorizeURL: authorization.authorizeURL.absoluteString, email: user.email, password: user.password,
                locationId: location)
        }
        _ = try await till.completeHubriseConnection(callbackURL: try XCTUnwrap(URL(string: callback)))
        try await withDeadline(15, "restart") { try await till.restart() }
        let admin = sandbox.admin
        let orderId = try await withDeadline(10, "place an order") {
            try await admin.placeOrder(locationId: location, order: .sample(customer: "Marie"))
        }
        _ = try await recorder.wait(20, for: "order \(orderId) received") { $0.order?.id == orderId }
        try await till.close()

        // The demo starts on that directory; the library's event thread hands events 300 ms late.
        let alert = RecordingAlert()
        let model = AppModel(
            dependencies: AppModel.Dependencies(
                secrets: { secrets.store(for: $0) }, alert: alert, authenticator: ScriptedBrowser(sandbox: sandbox),
                environmentStore: MemoryEnvironmentStore(environment), dataRoot: dataRoot,
                defaultEnvironment: environment, language: .french,
                open: { try await Client.openProtected(config: $0, secrets: $1, events: LateEvents($2)) }))
        try await withDeadline(10, "start") { await model.start() }
        let session = try XCTUnwrap(model.session, "signed in from the last launch")

        try await waitUntil(10, "the alert rings for the order announced again") { alert.count == 1 }
        try await waitUntil(10, "the order is marked seen") {
            session.passerelle.inbox.first { $0.id == orderId }?.seen == true
        }
        await model.close()
        let next = try await Client.open(
            config: config, secrets: secrets.store(for: environment.storageKey), events: PasserelleEvents())
        let unseen = try await next.unseenOrders()
        XCTAssertEqual(unseen.map(\.id), [], "not announced again at the next launch")
        try await next.close()
    }

    @MainActor
    func testSupportAccessHelpUsesTheConfiguredEmail() async throws {
        var environment = try await sandboxEnvironment()
        environment.supportEmail = "aide@ma-caisse.example"
        let model = try await startedModel(environment: environment)
        let session = try await signIn(model)
        XCTAssertEqual(session.support.email, "aide@ma-caisse.example")
        XCTAssertEqual(session.support.title, "Donner l’accès au support")
        XCTAssertTrue(session.support.steps.contains { $0.contains("aide@ma-caisse.example") })
        XCTAssertTrue(session.support.steps.contains { $0.contains("Manager") && $0.contains("Technical Partner") })
    }

    func testTextsExistInFrenchAndEnglish() {
        let french = DemoText(language: .french)
        let english = DemoText(language: .english)
        let pairs: [(String, String)] = [
            (french.signInTitle, english.signInTitle), (french.signIn, english.signIn),
            (french.connectHubrise, english.connectHubrise), (french.reconnect, english.reconnect),
            (french.disconnectTitle, english.disconnectTitle), (french.restartNow, english.restartNow),
            (french.restartBannerMessage, english.restartBannerMessage), (french.noOrders, english.noOrders),
            (french.accept, english.accept), (french.reject, english.reject), (french.supportTitle, english.supportTitle),
            (french.pastedCodeExplanation, english.pastedCodeExplanation), (french.sandboxURLHelp, english.sandboxURLHelp),
            (french.screenAwakeHelp, english.screenAwakeHelp), (french.noConnection, english.noConnection),
        ]
        for (fr, en) in pairs {
            XCTAssertFalse(fr.isEmpty || en.isEmpty)
            XCTAssertNotEqual(fr, en)
        }
        XCTAssertEqual(french.supportSteps("x").count, english.supportSteps("x").count)
    }
}

/// Plays a busy event thread: each event reaches the hub 300 ms after the library emitted it.
private final class LateEvents: EventListener, Sendable {
    let hub: PasserelleEvents

    init(_ hub: PasserelleEvents) {
        self.hub = hub
    }

    func onEvent(event: PasserelleEvent) {
        Thread.sleep(forTimeInterval: 0.3)
        hub.onEvent(event: event)
    }
}
