import Foundation
import Passerelle
import PasserelleSandbox
import XCTest

/// A test case with its own `passerelle-sandbox serve` process, started in the synchronous
/// `setUpWithError` (never from an async test: see SandboxProcess) and killed in `tearDown`.
///
/// Without the sandbox binary the tests are skipped, loudly, unless `CI=true`: then they fail.
class SandboxTestCase: XCTestCase {
    var sandbox: SandboxProcess!

    override func setUpWithError() throws {
        do {
            sandbox = try SandboxProcess()
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

    /// A fresh directory under the system's temporary directory, removed after the test.
    func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("passerelle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    /// Opens Passerelle on this sandbox (1 s polls) with its own events and an in-memory store.
    func openApp(
        secrets: InMemorySecretStore = InMemorySecretStore(), events: PasserelleEvents = PasserelleEvents()
    ) async throws -> Client {
        let config = sandbox.info.passerelleConfig(dataDir: try temporaryDirectory())
        return try await withDeadline(10, "open") {
            try await Client.openProtected(config: config, secrets: secrets, events: events)
        }
    }

    /// Signs in with POS account 1.
    func signIn(_ app: Client) async throws {
        let pos = sandbox.info.posAccount
        _ = try await withDeadline(10, "sign in") { try await app.signIn(email: pos.email, password: pos.password) }
    }

    /// Connects `location` on the consent page (as the restaurant) and returns the pending connection.
    func connect(_ app: Client, _ location: SandboxInfo.Location) async throws -> HubriseConnection {
        let authorization = try await app.beginHubriseConnection(options: HubriseConnectionOptions())
        let user = sandbox.info.hubriseUser
        let callback = try await withDeadline(10, "consent page") {
            try await SandboxConsentPage.approve(
                authorizeURL: authorization.authorizeURL.absoluteString, email: user.email, password: user.password,
                locationId: location.id)
        }
        let callbackURL = try XCTUnwrap(URL(string: callback))
        return try await withDeadline(10, "complete the connection") {
            try await app.completeHubriseConnection(callbackURL: callbackURL)
        }
    }

    /// Connects `location` and restarts to apply: the connection is active.
    func connectActive(_ app: Client, _ location: SandboxInfo.Location) async throws -> HubriseConnection {
        let connection = try await connect(app, location)
        try await withDeadline(15, "restart") { try await app.restart() }
        return connection
    }
}
