import Foundation
import PasserelleSandbox
import XCTest

@testable import Passerelle

/// Passerelle's logs reach a Swift `PasserelleLogger` (on Apple platforms, `OSLogLogger` forwards
/// them to `os.Logger`), redacted: the password and tokens never appear; and what `OSLogLogger`
/// shows publicly is the constant text and the fields declared safe, nothing else.
final class LoggingTests: SandboxTestCase {
    final class Recorder: PasserelleLogger, @unchecked Sendable {
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
        XCTAssertTrue(records.contains { !$0.fields.isEmpty }, "records carry structured fields")
        let text = records.map(\.message).joined(separator: "\n")
        XCTAssertFalse(text.contains(sandbox.info.posAccount.password), "no password in the logs")
        for key in secrets.keys {
            let secret = try XCTUnwrap(secrets.get(key: key))
            XCTAssertFalse(text.contains(secret), "the secret under \(key) is not in the logs")
        }
        // What OSLogLogger would show publicly holds no order, location or account data.
        let shown = records.map { OSLogLine($0).publicPart }.joined(separator: "\n")
        XCTAssertFalse(shown.contains(sandbox.info.posAccount.email), "the e-mail is private at most")
    }

    func testOSLogShowsTheTextAndTheSafeFieldsAndHidesTheRest() {
        let record = LogRecord(
            level: .info, target: "passerelle::sync", message: "order received order_id=ord-42 status=new",
            text: "order received",
            fields: [
                LogField(name: "order_id", value: "ord-42", isPublic: false),
                LogField(name: "status", value: "new", isPublic: true),
                LogField(name: "location", value: "Paris", isPublic: false),
            ])
        let line = OSLogLine(record)
        XCTAssertEqual(line.publicPart, "order received status=new")
        XCTAssertEqual(line.privatePart, "order_id=ord-42 location=Paris")

        let onlySafe = OSLogLine(
            LogRecord(level: .debug, target: "passerelle::sync", message: "polled count=3", text: "polled",
                      fields: [LogField(name: "count", value: "3", isPublic: true)]))
        XCTAssertEqual(onlySafe.publicPart, "polled count=3")
        XCTAssertEqual(onlySafe.privatePart, "", "nothing to hide: one public argument")
    }
}
