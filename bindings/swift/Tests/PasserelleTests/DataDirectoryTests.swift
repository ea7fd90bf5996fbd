import Foundation
import Passerelle
import XCTest

/// The data directory helper (on iOS it also sets the file protection class; here it creates
/// the directory and reports failures as a typed error).
final class DataDirectoryTests: XCTestCase {
    func testPrepareCreatesNestedDirectoriesAndIsIdempotent() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("passerelle-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: root) }
        let dir = root.appendingPathComponent("Application Support/Passerelle")
        try PasserelleDataDirectory.prepare(dir)
        try PasserelleDataDirectory.prepare(dir)
        var isDirectory: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDirectory))
        XCTAssertTrue(isDirectory.boolValue)
    }

    func testAnUnusableDirectoryIsATypedErrorWithAMessage() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("passerelle-\(UUID().uuidString)")
        try Data("not a directory".utf8).write(to: file)
        addTeardownBlock { try? FileManager.default.removeItem(at: file) }
        XCTAssertThrowsError(try PasserelleDataDirectory.prepare(file.appendingPathComponent("Passerelle"))) { error in
            guard case PasserelleError.dataDirectory(let path, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "Passerelle")
            XCTAssertEqual((error as? PasserelleError)?.userMessage(in: .french).title, "Enregistrement impossible")
        }
    }

    func testOpenProtectedOpensInADirectoryItCreated() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("passerelle-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: root) }
        let config = PasserelleConfig(
            dataDir: root.appendingPathComponent("a/b/Passerelle").path,
            posBaseURL: "http://127.0.0.1:9", posClientId: "passerelle-ios",
            hubriseOAuthURL: "http://127.0.0.1:9/oauth2/v1", hubriseAPIURL: "http://127.0.0.1:9/v1",
            clientId: "459691768564.clients.hubrise.com", redirectURI: "passerelle-demo://oauth/hubrise",
            deviceId: nil, tokenExchange: .broker,
            rateLimits: RateLimits(perMinute: 500, perHour: 2500, perDay: 10000, heavyPerMinute: 10, minuteMs: 60000),
            initialSettings: Settings(pollIntervalSecs: 30, applyMode: .onRestart, scope: "location[orders.write]"))
        let app = try await Client.openProtected(config: config, secrets: InMemorySecretStore(), events: PasserelleEvents())
        let account = try await app.account()
        XCTAssertNil(account)
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: config.dataDir).isEmpty, "the database is there")
    }
}
