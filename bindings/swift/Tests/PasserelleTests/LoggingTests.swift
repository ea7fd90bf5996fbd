import Foundation
import Passerelle
import PasserelleSandbox
import XCTest

/// Passerelle's logs reach a Swift `Logger` (on Apple platforms, `OSLogLogger` forwards them to
/// `os.Logger`), redacted: the password and tokens never appear.
final class LoggingTests: SandboxTestCase {
    final class Recorder: Logger, @unchecked Sendable {
        // Guarded by `lock`: the library calls from its own threads.
        private let lock = NSLock()
        private var records: [LogRecord] = []

        func log(record: LogRecord) {
            lock.withLock { records.append(record) }
        }

        var all: [LogRecord] { lock.withLock { records } }
    }

    func testRecordsReachTheHostLoggerWithoutSecrets() async throws {
        let recorder = Recorder()
        try setLogger(logger: recorder, level: .debug)
        // The logger is process-wide: leave a quiet one for the other tests.
        addTeardownBlock { try? setLogger(logger: Recorder(), level: .error) }
        let secrets = InMemorySecretStore()
        let app = try await openApp(secrets: secrets)
        try await signIn(app)
        _ = try await connectActive(app, sandbox.info.locations[0])

        let records = recorder.all
        XCTAssertFalse(records.isEmpty, "the library logged through the Swift logger")
        XCTAssertTrue(records.contains { $0.target.hasPrefix("passerelle") }, "\(records.map(\.target))")
        let text = records.map(\.message).joined(separator: "\n")
        XCTAssertFalse(text.contains(sandbox.info.posAccount.password), "no password in the logs")
        for key in secrets.keys {
            let secret = try XCTUnwrap(secrets.get(key: key))
            XCTAssertFalse(text.contains(secret), "the secret under \(key) is not in the logs")
        }
    }
}
