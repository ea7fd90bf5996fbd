import Foundation
import Passerelle
import PasserelleSandbox
import XCTest

/// The whole story through Swift, against the sandbox process: sign in, connect on HubRise's
/// consent page, restart to apply, an order placed from another app arrives on the AsyncStream,
/// accept it, check its status at HubRise and here, disconnect, restart.
final class StoryTests: SandboxTestCase {
    func testTheWholeStory() async throws {
        let sandbox = try XCTUnwrap(sandbox)
        let admin = sandbox.admin
        let events = PasserelleEvents()
        let recorder = EventRecorder(events)
        let secrets = InMemorySecretStore()
        // openProtected creates the data directory.
        let dataDir = try temporaryDirectory() + "/Application Support/Passerelle"
        let config = sandbox.info.passerelleConfig(dataDir: dataDir)
        let app = try await withDeadline(10, "open") {
            try await Client.openProtected(config: config, secrets: secrets, events: events)
        }
        let nobody = try await app.account()
        XCTAssertNil(nobody)

        // Sign in with the POS account's credentials.
        let pos = sandbox.info.posAccount
        let account = try await withDeadline(10, "sign in") { try await app.signIn(email: pos.email, password: pos.password) }
        XCTAssertEqual(account.businessName, "Bella Pizza")
        let signedIn = try await app.account()
        XCTAssertEqual(signedIn, account)

        // Connect Paris: the test plays the restaurant on HubRise's consent page.
        let paris = sandbox.info.locations[0]
        let connection = try await connect(app, paris)
        XCTAssertEqual(connection.state, .pending)
        XCTAssertEqual(connection.origin, .device)
        XCTAssertEqual(connection.locationId, paris.id)
        XCTAssertEqual(connection.locationName, "Paris")
        XCTAssertEqual(connection.accountName, "Bella Pizza")
        XCTAssertEqual(connection.catalogId, "psmlf")
        XCTAssertEqual(connection.customerListId, "xab66")
        let required = try await app.restartRequired()
        XCTAssertTrue(required)
        guard case .connectionAdded(let added)? = try await app.pendingChanges().first else {
            return XCTFail("the new connection waits for a restart")
        }
        XCTAssertEqual(added.id, connection.id)
        _ = try await recorder.wait(for: "restart required") {
            if case .restartRequired = $0 { true } else { false }
        }

        // Restart to apply.
        let version = try app.configurationVersion()
        try await withDeadline(15, "restart") { try await app.restart() }
        let applied = try await app.connections()
        XCTAssertEqual(applied.map(\.state), [.active])
        let stillRequired = try await app.restartRequired()
        XCTAssertFalse(stillRequired)
        XCTAssertGreaterThan(try app.configurationVersion(), version)
        _ = try await recorder.wait(for: "configuration applied") {
            if case .configurationApplied = $0 { true } else { false }
        }

        // Another app (the sandbox's "Uber Eats") places an order: it arrives on the stream.
        let orderId = try await withDeadline(10, "place an order") {
            try await sandbox.admin.placeOrder(locationId: paris.id, order: .sample(customer: "Marie"))
        }
        let received = try await recorder.wait(20, for: "order \(orderId) received") {
            $0.isNewOrder && $0.order?.id == orderId
        }
        let order = try XCTUnwrap(received.order)
        XCTAssertEqual(order.connectionId, connection.id)
        XCTAssertEqual(order.items.map(\.productName), ["Margherita", "Tiramisu"])
        XCTAssertEqual(order.items[0].options.map(\.name), ["Piquante"])
        XCTAssertEqual(order.charges.first?.price, Money(minorUnits: 250, currency: "EUR"))
        XCTAssertEqual(order.total, Money(minorUnits: 3080, currency: "EUR"), "HubRise's total")
        XCTAssertEqual(order.total?.amount, Decimal(string: "30.8"))
        XCTAssertEqual(order.items.map(\.quantity), [2, 1], "quantities are exact decimals")
        XCTAssertEqual(order.expectedTime, ISO8601DateFormatter().date(from: "2026-11-23T19:30:00Z"))
        XCTAssertEqual(order.customer?.firstName, "Marie")
        XCTAssertTrue(order.status.awaitsDecision)
        try await eventually(10, "HubRise sees the order received") {
            try await admin.order(locationId: paris.id, orderId: orderId).status == "received"
        }

        // Accept it, ready in 20 minutes.
        try await withDeadline(10, "accept") {
            try await app.accept(orderId: orderId, confirmedTime: Date().addingTimeInterval(20 * 60))
        }
        try await eventually(15, "HubRise has the order accepted") {
            try await admin.order(locationId: paris.id, orderId: orderId).status == "accepted"
        }
        let atHubrise = try await sandbox.admin.order(locationId: paris.id, orderId: orderId)
        XCTAssertNotNil(atHubrise.confirmedTime)

        // Check its status here: accepted, nothing left to push.
        try await eventually(10, "the outbox is empty") {
            let local = try await app.order(orderId: orderId)
            return local?.status == .accepted && local?.pendingStatus == nil
        }
        let accepted = try await app.orders(filter: OrderFilter(status: .accepted))
        XCTAssertEqual(accepted.map(\.id), [orderId])
        let rows = try await app.orderSummaries(filter: OrderFilter(limit: 50))
        XCTAssertEqual(rows.map(\.id), [orderId], "the inbox's row of the order")
        XCTAssertEqual(rows.first?.customerName, "Marie Dupont")
        XCTAssertEqual(rows.first?.itemCount, 2)
        XCTAssertEqual(rows.first?.total, order.total)
        XCTAssertEqual(recorder.all.filter(\.isNewOrder).count, 1, "the order arrived once")

        // The connection is still fine at HubRise.
        let checked = try await withDeadline(10, "check") { try await app.checkConnection(connectionId: connection.id) }
        XCTAssertFalse(checked.reconnectNeeded)
        XCTAssertEqual(checked.locationName, "Paris")

        // Disconnect: revoked now, gone after the restart.
        let outcome = try await withDeadline(10, "disconnect") { try await app.disconnect(connectionId: connection.id) }
        XCTAssertTrue(outcome.revoked)
        XCTAssertEqual(outcome.connection.state, .removing)
        let removalRequired = try await app.restartRequired()
        XCTAssertTrue(removalRequired)
        try await withDeadline(15, "restart") { try await app.restart() }
        let remaining = try await app.connections()
        XCTAssertTrue(remaining.isEmpty)
        let requiredAfter = try await app.restartRequired()
        XCTAssertFalse(requiredAfter)
        let atHubriseNow = try await sandbox.admin.connections().filter { $0.locationId == paris.id }
        XCTAssertFalse(atHubriseNow.contains { $0.state == "active" }, "HubRise no longer knows an active token")
        XCTAssertFalse(secrets.keys.contains { $0.hasSuffix("access_token") }, "the token left the secret store")
    }

    func testARejectedOrderReachesHubrise() async throws {
        let events = PasserelleEvents()
        let recorder = EventRecorder(events)
        let app = try await openApp(events: events)
        try await signIn(app)
        let lyon = sandbox.info.locations[1]
        let admin = sandbox.admin
        _ = try await connectActive(app, lyon)
        let orderId = try await sandbox.admin.placeOrder(locationId: lyon.id, order: .sample(customer: "Paul"))
        _ = try await recorder.wait(20, for: "order received") { $0.order?.id == orderId }

        try await withDeadline(10, "reject") { try await app.reject(orderId: orderId, reason: "Plus de pâte à pizza") }
        try await eventually(15, "HubRise has the order rejected") {
            try await admin.order(locationId: lyon.id, orderId: orderId).status == "rejected"
        }
    }

    func testSyncPausesInTheBackgroundAndResumesInTheForeground() async throws {
        let events = PasserelleEvents()
        let recorder = EventRecorder(events)
        let app = try await openApp(events: events)
        try await signIn(app)
        let paris = sandbox.info.locations[0]
        _ = try await connectActive(app, paris)

        try app.appDidEnterBackground()
        // Let a poll already under way finish before the order exists.
        try await Task.sleep(nanoseconds: 300_000_000)
        let orderId = try await sandbox.admin.placeOrder(locationId: paris.id, order: .sample(customer: "Léa"))
        // Polls are 1 s apart: three seconds without the order means the engine is paused.
        try await Task.sleep(nanoseconds: 3_000_000_000)
        XCTAssertFalse(recorder.all.contains { $0.order?.id == orderId }, "no sync in the background")

        try app.appWillEnterForeground()
        _ = try await recorder.wait(10, for: "order received after the return") { $0.order?.id == orderId }
    }
}
