import Foundation
import Passerelle
import XCTest

/// ``PasserelleClient`` covers the whole public API of ``Client``, so an app (and its fakes)
/// never downcasts: every method of the generated `PasserelleProtocol` has a requirement of the
/// same name (its Swift spelling: `handleOpenURL` for `handleOpenUrl`, the cancellable wrapper
/// rather than the call taking a `Cancellation`).
final class ClientCoverageTests: XCTestCase {
    private static let sources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Passerelle")

    /// The names of the `func` declarations between `start` and the first line that is `}`.
    private static func functionNames(in file: String, block start: String) throws -> Set<String> {
        let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
        guard let open = text.range(of: start) else { throw CocoaError(.fileReadCorruptFile) }
        let rest = text[open.upperBound...]
        let body = rest[..<(rest.range(of: "\n}\n")?.lowerBound ?? rest.endIndex)]
        return Set(body.matches(of: /\bfunc\s+(\w+)/).map { String($0.output.1) })
    }

    /// The generated names whose Swift spelling differs.
    private static let swiftSpelling = [
        "handleOpenUrl": "handleOpenURL",
        "completeHubriseConnectionWithCode": "completeHubriseConnection",
        "signInWithPosSession": "signInWithPOSSession",
        "beginHubriseConnectionViaPosBackend": "beginHubriseConnectionViaPOSBackend",
        "completeHubriseConnectionViaPosBackend": "completeHubriseConnectionViaPOSBackend",
    ]

    func testTheClientProtocolHasEveryCallOfClient() throws {
        let generated = try Self.functionNames(in: "../PasserelleBindings/passerelle_ffi.swift", block: "public protocol PasserelleProtocol: AnyObject, Sendable {")
        let client = try Self.functionNames(in: "PasserelleClient.swift", block: "public protocol PasserelleClient: Sendable {")
        XCTAssertGreaterThan(generated.count, 30, "the generated protocol was read")
        let missing = generated.map { Self.swiftSpelling[$0] ?? $0 }.filter { !client.contains($0) }.sorted()
        XCTAssertEqual(missing, [], "calls of Client that PasserelleClient leaves out: apps would downcast")
    }

    /// `Client` offers each call once: its public methods are exactly the protocol's requirements
    /// (the generated spellings stay in `PasserelleBindings`, which `Passerelle` does not
    /// re-export; check-apple-sources.sh proves an app cannot name them).
    func testTheClientHasOneSpellingPerCall() throws {
        let text = try String(contentsOf: Self.sources.appendingPathComponent("Client.swift"), encoding: .utf8)
        guard let start = text.range(of: "public final class Client: PasserelleClient, Sendable {") else {
            throw CocoaError(.fileReadCorruptFile)
        }
        let rest = text[start.upperBound...]
        let body = rest[..<(rest.range(of: "\n}\n")?.lowerBound ?? rest.endIndex)]
        let methods = Set(body.matches(of: /public\s+func\s+(\w+)/).map { String($0.output.1) })
        let client = try Self.functionNames(in: "PasserelleClient.swift", block: "public protocol PasserelleClient: Sendable {")
        XCTAssertGreaterThan(methods.count, 30, "Client's methods were read")
        XCTAssertEqual(methods, client, "Client's public calls and PasserelleClient's requirements differ")
        XCTAssertFalse(body.contains("public static func cancellable"), "the cancellation plumbing stays internal")
    }

    /// The everyday till actions through `any PasserelleClient`, on the fake.
    func testTheFakePlaysTheWholeAPI() async throws {
        let fake = PreviewPasserelle()
        let client: any PasserelleClient = fake
        try await client.accept(orderId: "preview-1", confirmedTime: nil)
        try await client.updateStatus(orderId: "preview-1", status: .inPreparation)
        let order = try await client.order(orderId: "preview-1")
        XCTAssertEqual(order?.status, .inPreparation)
        let whole = try await client.orders(filter: OrderFilter(limit: 10))
        XCTAssertEqual(whole.map(\.id), ["preview-1", "preview-2", "preview-3"])
        let unseen = try await client.unseenOrders()
        XCTAssertEqual(unseen.map(\.id), ["preview-1"])

        var settings = try client.settings()
        settings.pollIntervalSecs = 10
        try await client.updateSettings(settings: settings)
        let required = try await client.restartRequired()
        XCTAssertTrue(required, "settings wait for a restart")
        XCTAssertEqual(try client.settings().pollIntervalSecs, 30)
        let version = try client.configurationVersion()
        try await client.restart()
        XCTAssertEqual(try client.settings().pollIntervalSecs, 10)
        XCTAssertEqual(try client.configurationVersion(), version + 1)

        fake.quarantine(
            QuarantinedItem(
                id: 7, connectionId: "preview-paris", isEvent: true, eventId: "e-7", orderId: nil, reason: "unreadable",
                attempts: 5, quarantinedAt: Date(), rawBody: nil))
        fake.failChange(
            FailedChange(
                orderId: "preview-2", connectionId: "preview-paris", status: "completed", reason: "422", attempts: 5,
                failedAt: Date()))
        var items = try await client.quarantinedItems()
        XCTAssertEqual(items.map(\.id), [7])
        try await client.retryQuarantined(itemId: 7)
        items = try await client.quarantinedItems()
        XCTAssertEqual(items, [])
        let retried = try await client.retryFailedChanges(orderId: "preview-2")
        XCTAssertEqual(retried, 1)
        let failed = try await client.failedChanges()
        XCTAssertEqual(failed, [])

        try await client.stopSync()
        XCTAssertFalse(fake.isSyncRunning)
        try await client.startSync()
        XCTAssertTrue(fake.isSyncRunning)

        let authorization = try await client.beginHubriseConnectionViaPOSBackend(options: HubriseConnectionOptions())
        let lyon = try await client.completeHubriseConnectionViaPOSBackend(state: authorization.state)
        XCTAssertEqual(lyon?.locationName, "Lyon")

        let erased = try await client.eraseAccountData(scope: .signedInAccount)
        XCTAssertEqual(erased.orders, 3)
        let account = try await client.account()
        XCTAssertNil(account)
        let again = try await client.signInWithPOSSession(accessToken: "host-app-session")
        XCTAssertEqual(again, PreviewPasserelle.sampleAccount)
        XCTAssertFalse(try client.deviceId().isEmpty)
    }
}
