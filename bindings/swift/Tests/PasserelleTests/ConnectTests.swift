import Foundation
import XCTest

@testable import Passerelle

/// Sign in, connect a HubRise location on the sandbox's consent page, restart to apply, check
/// the connection, disconnect and restart, all through the generated bindings.
final class ConnectTests: XCTestCase {
    private var sandbox: SandboxProcess!

    override func setUpWithError() throws {
        sandbox = try SandboxProcess()
    }

    override func tearDown() {
        sandbox?.stop()
    }

    private func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("passerelle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func testSignInConnectRestartDisconnect() async throws {
        let secrets = InMemorySecretStore()
        let app = try await Passerelle.open(
            config: sandbox.config(dataDir: try temporaryDirectory()), secrets: secrets, events: PasserelleEvents())
        let pos = sandbox.info.posAccount
        let account = try await app.signIn(email: pos.email, password: pos.password)
        XCTAssertEqual(account.email, pos.email)

        let location = sandbox.locations[0]
        let authorization = try app.beginHubriseConnection(options: HubriseConnectionOptions())
        XCTAssertEqual(authorization.callbackUrlScheme, "passerelle-demo")
        let callback = try await ConsentPage.approve(
            authorizeUrl: authorization.authorizeUrl, email: sandbox.info.hubriseUser.email,
            password: sandbox.info.hubriseUser.password, locationId: location.id)
        let connection = try await app.completeHubriseConnection(callbackUrl: callback)
        XCTAssertEqual(connection.state, .pending)
        XCTAssertEqual(connection.locationName, location.name)
        XCTAssertTrue(try app.restartRequired())

        try await app.restart()
        XCTAssertEqual(try app.connections().map(\.state), [.active])
        let checked = try await app.checkConnection(connectionId: connection.id)
        XCTAssertFalse(checked.reconnectNeeded)

        let outcome = try await app.disconnect(connectionId: connection.id)
        XCTAssertTrue(outcome.revoked)
        XCTAssertEqual(outcome.connection.state, .removing)
        try await app.restart()
        XCTAssertTrue(try app.connections().isEmpty)
        XCTAssertFalse(secrets.keys.contains { $0.hasSuffix("access_token") })
    }

    func testWrongPasswordAndReplayedCallbackAreTypedErrors() async throws {
        let app = try await Passerelle.open(
            config: sandbox.config(dataDir: try temporaryDirectory()), secrets: InMemorySecretStore(),
            events: PasserelleEvents())
        do {
            _ = try await app.signIn(email: sandbox.info.posAccount.email, password: "not the password")
            XCTFail("sign-in should fail")
        } catch PasserelleError.InvalidCredentials {
        }
        do {
            _ = try await app.completeHubriseConnection(callbackUrl: "passerelle-demo://oauth/hubrise?code=x&state=forged")
            XCTFail("an unknown state must be refused")
        } catch let error as PasserelleError {
            XCTAssertEqual(error.code, "state_unknown")
        }
    }
}
