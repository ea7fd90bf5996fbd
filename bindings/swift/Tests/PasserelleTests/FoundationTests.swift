import Foundation
import XCTest

@testable import Passerelle

/// The foundation from Swift: open an instance, record a pending change, restart, see it active.
final class FoundationTests: XCTestCase {
    private func makeConfig(dataDir: String) -> PasserelleConfig {
        PasserelleConfig(
            dataDir: dataDir,
            posBaseURL: "http://127.0.0.1:9",
            posClientId: "passerelle-ios",
            hubriseOAuthURL: "http://127.0.0.1:9/oauth2/v1",
            hubriseAPIURL: "http://127.0.0.1:9/v1",
            clientId: "459691768564.clients.hubrise.com",
            redirectURI: "passerelle-demo://oauth/hubrise",
            deviceId: nil,
            tokenExchange: .broker,
            rateLimits: RateLimits(perMinute: 500, perHour: 2500, perDay: 10000, heavyPerMinute: 10, minuteMs: 60000),
            initialSettings: Settings(pollIntervalSecs: 30, applyMode: .onRestart, scope: "location[orders.write]")
        )
    }

    private func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("passerelle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func testPendingSettingsBecomeActiveOnRestart() async throws {
        let events = PasserelleEvents()
        let app = try await Client.open(
            config: makeConfig(dataDir: try temporaryDirectory()), secrets: InMemorySecretStore(), events: events)
        let requiredAtFirst = try await app.restartRequired()
        XCTAssertFalse(requiredAtFirst)
        let version = try app.configurationVersion()

        var wanted = try app.settings()
        wanted.pollIntervalSecs = 5
        try await app.updateSettings(settings: wanted)

        let required = try await app.restartRequired()
        XCTAssertTrue(required)
        XCTAssertEqual(try app.settings().pollIntervalSecs, 30, "the running instance keeps the active settings")
        guard case .settingsChanged(let active, let pending) = try await app.pendingChanges().first else {
            return XCTFail("expected a pending settings change")
        }
        XCTAssertEqual(active.pollIntervalSecs, 30)
        XCTAssertEqual(pending.pollIntervalSecs, 5)

        try await app.restart()

        XCTAssertEqual(try app.settings().pollIntervalSecs, 5)
        let stillRequired = try await app.restartRequired()
        XCTAssertFalse(stillRequired)
        XCTAssertEqual(try app.configurationVersion(), version + 1)

        var seen: [PasserelleEvent] = []
        for await event in events.subscribe(replay: .unheard) {
            seen.append(event)
            if case .configurationApplied = event { break }
        }
        XCTAssertTrue(seen.contains { if case .restartRequired = $0 { true } else { false } })
    }

    func testStateSurvivesReopening() async throws {
        let dir = try temporaryDirectory()
        // The same install: its database and its Keychain. (A database whose identity is not in
        // the secret store is another iPad's restored backup, which takes a new device id.)
        let secrets = InMemorySecretStore()
        let first = try await Client.open(config: makeConfig(dataDir: dir), secrets: secrets, events: PasserelleEvents())
        let deviceId = try first.deviceId()
        var wanted = try first.settings()
        wanted.applyMode = .immediately
        try await first.updateSettings(settings: wanted)

        // One instance per data directory: a second open is refused until the first closes.
        do {
            _ = try await Client.open(config: makeConfig(dataDir: dir), secrets: InMemorySecretStore(), events: PasserelleEvents())
            XCTFail("a second open of a directory in use should throw")
        } catch let error as PasserelleError {
            guard case .dataDirectoryInUse = error else { return XCTFail("unexpected \(error)") }
        }
        try await first.close()
        let second = try await Client.open(config: makeConfig(dataDir: dir), secrets: secrets, events: PasserelleEvents())
        XCTAssertEqual(try second.deviceId(), deviceId, "the per-install device id is kept")
        XCTAssertEqual(try second.settings().applyMode, .immediately, "open() applied the pending settings")
    }

    func testMalformedConfigurationThrowsATypedError() async throws {
        var config = makeConfig(dataDir: try temporaryDirectory())
        config.hubriseAPIURL = "not a url"
        do {
            _ = try await Client.open(config: config, secrets: InMemorySecretStore(), events: PasserelleEvents())
            XCTFail("open should have thrown")
        } catch let error as PasserelleError {
            guard case .invalidConfig(let field, _) = error else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(field, "hubrise_api_url")
            XCTAssertEqual(error.code, "invalid_config")
            XCTAssertFalse(error.isRetryable)
        }
    }
}
