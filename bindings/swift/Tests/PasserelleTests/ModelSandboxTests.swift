import Foundation
import Passerelle
import PasserelleSandbox
import XCTest

/// `PasserelleModel` on the real library and the sandbox: orders placed by another app, their
/// status reaching HubRise and the sync health all show in the model without the test refreshing.
///
/// `@unchecked Sendable`: XCTest runs one test of an instance at a time; the stored state is set
/// in setUp and tearDown.
@available(iOS 17.0, macOS 14.0, *)
final class ModelSandboxTests: SandboxTestCase, @unchecked Sendable {
    @MainActor
    func testTheInboxAndTheHealthFollowTheSandbox() async throws {
        let events = PasserelleEvents()
        let app = try await openApp(events: events)
        let model = PasserelleModel(client: app, events: events)
        try await waitUntil("the first read") { model.isLoaded }
        XCTAssertNil(model.account)

        let pos = sandbox.info.posAccount
        try await withDeadline(10, "sign in") { try await model.signIn(email: pos.email, password: pos.password) }
        XCTAssertEqual(model.account?.businessName, "Bella Pizza")

        // Connect Paris on the consent page, then "Restart to apply" through the model.
        let paris = sandbox.info.locations[0]
        _ = try await connect(app, paris)
        try await waitUntil("the restart banner") { model.restartRequired }
        try await withDeadline(15, "restart") { try await model.restart() }
        XCTAssertFalse(model.restartRequired)
        XCTAssertEqual(model.activeConnections.map(\.locationId), [paris.id])
        try await waitUntil("orders flow") { model.health?.connections.first?.state == .flowing }

        // Another app places an order: it shows first, unseen, without a refresh.
        let admin = sandbox.admin
        let orderId = try await admin.placeOrder(locationId: paris.id, order: .sample(customer: "Marie"))
        try await waitUntil("the order shows", seconds: 20) { model.inbox.first?.id == orderId }
        let row = try XCTUnwrap(model.inbox.first)
        XCTAssertEqual(row.customerName, "Marie Dupont")
        XCTAssertEqual(row.total, Money(minorUnits: 3080, currency: "EUR"))
        XCTAssertFalse(row.seen)
        XCTAssertEqual(model.unseenCount, 1)
        try await model.markSeen([orderId])
        XCTAssertEqual(model.unseenCount, 0)

        // Accepted here: pending at once, then accepted once HubRise has it, by the events alone.
        try await withDeadline(10, "accept") { try await model.accept(orderId, confirmedTime: Date().addingTimeInterval(1200)) }
        XCTAssertTrue(model.inbox.first?.status == .accepted || model.inbox.first?.pendingStatus == .accepted)
        try await waitUntil("HubRise's answer shows", seconds: 20) {
            model.inbox.first?.status == .accepted && model.inbox.first?.pendingStatus == nil
        }
        let atHubrise = try await admin.order(locationId: paris.id, orderId: orderId)
        XCTAssertEqual(atHubrise.status, "accepted")

        // The network goes: the health says orders are late; it comes back: they flow again.
        try await admin.cutNetwork()
        try await waitUntil("the delay shows", seconds: 20) { model.health?.state == .delayed }
        XCTAssertNotNil(model.health?.banner(in: .french))
        try await admin.restoreNetwork()
        try await waitUntil("orders flow again", seconds: 30) { model.health?.state == .flowing }
        XCTAssertNil(model.health?.banner(in: .french))
    }
}
