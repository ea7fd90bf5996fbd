import Foundation
import Passerelle
import PasserelleDemoKit
import PasserelleSandbox
import XCTest

/// The demo on a real iPad: the servers are chosen before signing in (simulator, a Mac of the
/// network whose sandbox asks for its admin token, production), Guided Access falls back to the
/// pasted code instead of doing nothing, and pull to refresh asks HubRise at once.
final class DeviceTests: DemoTestCase, @unchecked Sendable {
    /// A sandbox that asks for an admin token, as `serve --listen 0.0.0.0` does (on loopback here).
    static let adminToken = "demo-token-2026"
    override var sandboxArguments: [String] { ["--admin-token", Self.adminToken] }

    /// The manager port the "Mac's address" field gets in this test (8480 on a real Mac).
    var macAddress: String {
        let admin = URL(string: sandbox.info.adminUrl)
        return "127.0.0.1:\(admin?.port ?? 0)"
    }

    @MainActor
    func testServersAreChosenBeforeSigningInAndTheNetworkSandboxWantsItsToken() async throws {
        // First launch on the simulator preset, where nothing runs: the sign-in screen still shows,
        // with the servers reachable from it.
        let store = MemoryEnvironmentStore()
        let browser = ScriptedBrowser(sandbox: sandbox)
        let model = try await startedModel(environment: .localSandbox(supportEmail: Self.supportEmail), browser: browser, store: store)
        guard case .signedOut = model.phase else { return XCTFail("\(model.phase)") }
        XCTAssertEqual(model.settings.currentPreset, .simulator)

        // The Mac's address without its token: refused, said, nothing switched.
        model.settings.macAddressText = macAddress
        model.settings.adminTokenText = ""
        try await withDeadline(15, "without the token") { await model.settings.use(.macOnNetwork) }
        XCTAssertEqual(model.notices.current?.code, "sandbox_token_refused")
        XCTAssertEqual(model.notices.current?.title, "Jeton d’admin refusé")
        XCTAssertEqual(model.environment, .localSandbox(supportEmail: Self.supportEmail))
        model.notices.dismiss()

        // An address with a path is not an address.
        model.settings.macAddressText = "http://\(macAddress)/_sandbox"
        await model.settings.use(.macOnNetwork)
        XCTAssertEqual(model.notices.current?.code, "invalid_mac_address")
        model.notices.dismiss()

        // The address and the token printed at start.
        model.settings.macAddressText = " \(macAddress) "
        model.settings.adminTokenText = Self.adminToken
        try await withDeadline(15, "with the token") { await model.settings.use(.macOnNetwork) }
        XCTAssertNil(model.notices.current, "\(model.notices.history.map(\.text))")
        XCTAssertEqual(model.environment.posUrl, sandbox.info.posUrl)
        XCTAssertEqual(model.environment.sandboxAdminToken, Self.adminToken)
        XCTAssertEqual(store.load(), model.environment, "kept for the next launch")
        XCTAssertEqual(model.settings.currentPreset, .macOnNetwork)
        guard case .signedOut = model.phase else { return XCTFail("reopened on the Mac's sandbox: \(model.phase)") }

        // Signed in there, a test order goes through the token-guarded admin API.
        let session = try await signIn(model)
        _ = try await connectActive(session, browser, paris)
        try await withDeadline(10, "test order") { await model.placeTestOrder() }
        XCTAssertNil(model.notices.current, "\(model.notices.history.map(\.text))")
        try await waitUntil(20, "the test order arrives") { session.orders.rows.contains { $0.customer == "Camille Dupont" } }
    }

    @MainActor
    func testProductionPresetUsesHubrisesServersOrSaysItIsNotConfigured() async throws {
        let unconfigured = try await startedModel()
        await unconfigured.settings.use(.production)
        XCTAssertEqual(unconfigured.notices.current?.code, "production_not_configured")
        XCTAssertTrue(unconfigured.notices.current?.nextStep.contains("PasserelleProductionPOSURL") == true)
        XCTAssertFalse(unconfigured.settings.isProductionConfigured)

        let production = DemoEnvironment.production(
            posUrl: "https://pos.example.invalid", posClientId: "pos-ios", hubriseClientId: "123.clients.hubrise.com",
            supportEmail: Self.supportEmail)
        let model = try await startedModel(production: production)
        XCTAssertTrue(model.settings.isProductionConfigured)
        try await withDeadline(15, "switch") { await model.settings.use(.production) }
        XCTAssertEqual(model.environment.hubriseOauthUrl, "https://manager.hubrise.com/oauth2/v1")
        XCTAssertEqual(model.environment.hubriseApiUrl, "https://api.hubrise.com/v1")
        XCTAssertEqual(model.environment.pollIntervalSecs, 30, "HubRise's minimum poll interval")
        XCTAssertNil(model.environment.sandboxAdminUrl)
        XCTAssertEqual(model.settings.currentPreset, .production)
        guard case .signedOut = model.phase else { return XCTFail("\(model.phase)") }
        XCTAssertFalse(model.canPlaceTestOrder)
    }

    @MainActor
    func testGuidedAccessFallsBackToThePastedCodeAndSaysWhy() async throws {
        let browser = ScriptedBrowser(sandbox: sandbox, next: .unavailable(.guidedAccess))
        let model = try await startedModel(browser: browser)
        let session = try await signIn(model)
        let connections = session.connections

        try await withDeadline(15, "connect") { await connections.connect() }
        XCTAssertTrue(browser.opened.isEmpty, "the browser sheet never opened")
        let flow = try XCTUnwrap(connections.pastedCodeFlow, "the pasted-code sheet opens instead of nothing")
        XCTAssertNil(flow.callbackURLScheme, "an out-of-band attempt")
        XCTAssertTrue(flow.authorizeURL.absoluteString.contains("redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob"), flow.authorizeURL.absoluteString)
        XCTAssertTrue(connections.pastedCodeReason?.contains("Accès guidé") == true, connections.pastedCodeReason ?? "nil")
        XCTAssertFalse(connections.isConnecting)

        // On another device, the manager allows access and reads the code to type here.
        let user = sandbox.info.hubriseUser
        let location = paris.id
        let outcome = try await withDeadline(10, "consent page") {
            try await SandboxConsentPage.run(
                authorizeURL: flow.authorizeURL.absoluteString, email: user.email, password: user.password, locationId: location)
        }
        guard case .outOfBandCode(let code) = outcome else { return XCTFail("\(outcome)") }
        connections.pastedCode = code
        try await withDeadline(10, "submit") { await connections.submitPastedCode() }
        XCTAssertNil(model.notices.current, "\(model.notices.history.map(\.text))")
        XCTAssertNil(connections.pastedCodeFlow)
        XCTAssertNil(connections.pastedCodeReason)
        XCTAssertEqual(connections.rows.map(\.title), ["Paris"])
        XCTAssertTrue(session.passerelle.restartRequired)
    }

    @MainActor
    func testABrowserThatDoesNotStartIsNeverSilent() async throws {
        let browser = ScriptedBrowser(sandbox: sandbox, next: .unavailable(.notStarted))
        let model = try await startedModel(language: .english, browser: browser)
        let session = try await signIn(model)
        try await withDeadline(15, "connect") { await session.connections.connect() }
        XCTAssertNotNil(session.connections.pastedCodeFlow)
        XCTAssertEqual(
            session.connections.pastedCodeReason,
            "HubRise’s page could not open on this iPad. Open the link here or on another device, then paste the code.")
    }

    @MainActor
    func testPullToRefreshAsksHubriseAtOnce() async throws {
        // Polls every minute: without pull to refresh, an order would wait for the next poll.
        var environment = try await sandboxEnvironment()
        environment.pollIntervalSecs = 60
        let browser = ScriptedBrowser(sandbox: sandbox)
        let alert = RecordingAlert()
        let model = try await startedModel(environment: environment, browser: browser, alert: alert)
        let session = try await signIn(model)
        _ = try await connectActive(session, browser, paris)
        // The first sync after the restart (its catch-up) is over.
        try await withDeadline(15, "first sync") { await session.orders.pullToRefresh() }
        let before = session.orders.rows.count

        let admin = sandbox.admin
        let location = paris.id
        let orderId = try await withDeadline(10, "order") {
            try await admin.placeOrder(locationId: location, order: .sample(customer: "Léa"))
        }
        try await Task.sleep(nanoseconds: 300_000_000)
        XCTAssertFalse(session.orders.rows.contains { $0.id == orderId }, "not before the next poll")
        try await withDeadline(15, "pull to refresh") { await session.orders.pullToRefresh() }
        XCTAssertTrue(session.orders.rows.contains { $0.id == orderId }, "\(session.orders.rows.map(\.id))")
        XCTAssertEqual(session.orders.rows.count, before + 1)
        try await waitUntil(5, "the alert") { alert.count >= 1 }

        try await withDeadline(15, "pull connections") { await session.connections.pullToRefresh() }
        XCTAssertNil(model.notices.current, "\(model.notices.history.map(\.text))")
        XCTAssertTrue(session.connections.rows.contains { $0.isActive })
    }

    func testTheCallbackComesFromTheRedirectURI() throws {
        XCTAssertEqual(WebAuthenticationCallback(redirectURI: "passerelle-demo://oauth/hubrise"), .customScheme("passerelle-demo"))
        XCTAssertEqual(
            WebAuthenticationCallback(redirectURI: "https://POS.example/hubrise/callback"),
            .https(host: "pos.example", path: "/hubrise/callback"))
        XCTAssertNil(WebAuthenticationCallback(redirectURI: "urn:ietf:wg:oauth:2.0:oob"))
        XCTAssertNil(WebAuthenticationCallback(redirectURI: "http://pos.example/callback"), "never plain http")
        let https = WebAuthenticationCallback.https(host: "pos.example", path: "/hubrise/callback")
        XCTAssertTrue(https.matches(try XCTUnwrap(URL(string: "https://pos.example/hubrise/callback?code=x&state=y"))))
        XCTAssertFalse(https.matches(try XCTUnwrap(URL(string: "https://evil.example/hubrise/callback?code=x"))))
        XCTAssertFalse(https.matches(try XCTUnwrap(URL(string: "https://pos.example/other?code=x"))))
        XCTAssertTrue(WebAuthenticationCallback.customScheme("passerelle-demo").matches(try XCTUnwrap(URL(string: "passerelle-demo://oauth/hubrise?code=x"))))
    }

    func testTheMacsAddressMakesTheAdminURL() {
        XCTAssertEqual(DemoEnvironment.sandboxAdminURL(macAddress: "192.168.1.20")?.absoluteString, "http://192.168.1.20:8480/_sandbox")
        XCTAssertEqual(DemoEnvironment.sandboxAdminURL(macAddress: " my-mac.local ")?.absoluteString, "http://my-mac.local:8480/_sandbox")
        XCTAssertEqual(DemoEnvironment.sandboxAdminURL(macAddress: "10.0.0.5:9000")?.absoluteString, "http://10.0.0.5:9000/_sandbox")
        XCTAssertNil(DemoEnvironment.sandboxAdminURL(macAddress: ""))
        XCTAssertNil(DemoEnvironment.sandboxAdminURL(macAddress: "http://10.0.0.5/_sandbox"))
    }
}
