import Foundation
import Passerelle
import PasserelleDemoKit
import PasserelleSandbox
import XCTest

/// A test case with its own sandbox process (started in the synchronous setUp, killed in
/// tearDown) and helpers to build the demo's AppModel on it, the way the iOS app does but with
/// the sandbox's consent page for a browser, an in-memory Keychain and a recording alert.
///
/// `@unchecked Sendable`: the tests are `@MainActor` (the view models are), and XCTest runs one
/// test of an instance at a time; the only stored state is set in setUp and tearDown.
class DemoTestCase: XCTestCase, @unchecked Sendable {
    var sandbox: SandboxProcess!

    /// Extra `serve` options for this test case's sandbox.
    var sandboxArguments: [String] { [] }

    override func setUpWithError() throws {
        do {
            sandbox = try SandboxProcess(arguments: sandboxArguments)
        } catch let error as SandboxProcess.StartError {
            if case .binaryMissing = error, ProcessInfo.processInfo.environment["CI"] != "true" {
                throw XCTSkip("\(error)")
            }
            throw error
        }
    }

    override func tearDown() {
        sandbox?.stop()
        sandbox = nil
    }

    static let supportEmail = "support@passerelle-pos.example"

    var paris: SandboxInfo.Location { sandbox.info.locations[0] }
    var lyon: SandboxInfo.Location { sandbox.info.locations[1] }

    /// The sandbox's environment, read from its admin API as the settings screen does (1 s polls).
    @MainActor
    func sandboxEnvironment() async throws -> DemoEnvironment {
        let admin = try XCTUnwrap(URL(string: sandbox.info.adminUrl))
        let token = sandbox.info.adminToken
        return try await withDeadline(10, "read the sandbox's seed") {
            try await DemoEnvironment.fromSandbox(adminURL: admin, token: token, supportEmail: Self.supportEmail, pollIntervalSecs: 1)
        }
    }

    /// An AppModel on `environment` (the sandbox's by default), started.
    @MainActor
    func startedModel(
        environment: DemoEnvironment? = nil, language: PasserelleLanguage = .french,
        browser: ScriptedBrowser? = nil, alert: RecordingAlert = RecordingAlert(),
        store: MemoryEnvironmentStore? = nil, production: DemoEnvironment? = nil
    ) async throws -> AppModel {
        var chosen = environment
        if chosen == nil { chosen = try await sandboxEnvironment() }
        let environment = try XCTUnwrap(chosen)
        let dataRoot = FileManager.default.temporaryDirectory.appendingPathComponent("passerelle-demo-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dataRoot) }
        let secrets = SecretStores()
        let model = AppModel(
            dependencies: AppModel.Dependencies(
                secrets: { secrets.store(for: $0) }, alert: alert,
                authenticator: browser ?? ScriptedBrowser(sandbox: sandbox),
                environmentStore: store ?? MemoryEnvironmentStore(environment), dataRoot: dataRoot,
                defaultEnvironment: environment, productionEnvironment: production, language: language))
        try await withDeadline(10, "start") { await model.start() }
        return model
    }

    /// Signs in with POS account 1 through the sign-in screen.
    @MainActor
    func signIn(_ model: AppModel) async throws -> SessionModel {
        guard case .signedOut(let signIn) = model.phase else {
            throw UnexpectedScreen(description: "expected the sign-in screen, got \(model.phase)")
        }
        signIn.email = sandbox.info.posAccount.email
        signIn.password = sandbox.info.posAccount.password
        try await withDeadline(10, "sign in") { await signIn.signIn() }
        XCTAssertNil(signIn.failure)
        return try XCTUnwrap(model.session, "signed in")
    }

    /// Connects `location` with "Connect HubRise" and applies it with "Restart to apply".
    @MainActor
    func connectActive(_ session: SessionModel, _ browser: ScriptedBrowser, _ location: SandboxInfo.Location) async throws -> ConnectionRow {
        browser.next = .approve(location.id)
        try await withDeadline(15, "connect") { await session.connections.connect() }
        try await withDeadline(15, "restart") { await session.restartNow() }
        return try XCTUnwrap(session.connections.rows.first { $0.connection.locationId == location.id && $0.isActive })
    }
}

struct UnexpectedScreen: Error, CustomStringConvertible {
    let description: String
}

/// Polls `condition` on the main actor (letting the event loop run) until it holds.
@MainActor
func waitUntil(_ seconds: Double = 15, _ what: String, _ condition: () throws -> Bool) async throws {
    let start = Date()
    while try !condition() {
        if Date().timeIntervalSince(start) > seconds { throw DeadlineExceeded(what: what, seconds: seconds) }
        try await Task.sleep(nanoseconds: 20_000_000)
    }
}

/// The browser for "Connect HubRise": plays the sandbox's consent page with URLSession, or
/// behaves as ASWebAuthenticationSession does when it cannot open (Guided Access).
@MainActor
final class ScriptedBrowser: WebAuthenticator {
    enum Behaviour { case approve(String), deny(String), close, unavailable(WebAuthenticationUnavailable.Reason) }

    var next: Behaviour
    private(set) var opened: [URL] = []
    private let user: SandboxInfo.Credentials

    init(sandbox: SandboxProcess, next: Behaviour? = nil) {
        user = sandbox.info.hubriseUser
        self.next = next ?? .approve(sandbox.info.locations[0].id)
    }

    func authenticate(url: URL, callback: WebAuthenticationCallback) async throws -> URL {
        // Under Guided Access the sheet never shows: nothing is opened.
        if case .unavailable(let reason) = next { throw WebAuthenticationUnavailable(reason) }
        opened.append(url)
        let (location, allow): (String, Bool)
        switch next {
        case .approve(let id): (location, allow) = (id, true)
        case .deny(let id): (location, allow) = (id, false)
        case .close: throw WebAuthenticationCancelled()
        case .unavailable(let reason): throw WebAuthenticationUnavailable(reason)
        }
        let user = user
        let outcome = try await withDeadline(10, "consent page") {
            try await SandboxConsentPage.run(
                authorizeURL: url.absoluteString, email: user.email, password: user.password, locationId: location, allow: allow)
        }
        guard case .redirect(let redirect) = outcome, let callbackURL = URL(string: redirect), callback.matches(callbackURL)
        else { throw SandboxConsentPage.Unexpected(description: "no callback to \(callback): \(outcome)") }
        return callbackURL
    }
}

/// Counts the new-order alerts.
@MainActor
final class RecordingAlert: NewOrderAlert {
    private(set) var count = 0
    func newOrderArrived() { count += 1 }
}

/// One in-memory secret store per environment, like one Keychain service each.
final class SecretStores: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var stores: [String: InMemorySecretStore] = [:]

    func store(for key: String) -> InMemorySecretStore {
        lock.withLock {
            if let store = stores[key] { return store }
            let store = InMemorySecretStore()
            stores[key] = store
            return store
        }
    }
}
