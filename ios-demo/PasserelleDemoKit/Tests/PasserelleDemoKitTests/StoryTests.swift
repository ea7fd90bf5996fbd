import Foundation
import Passerelle
import PasserelleDemoKit
import PasserelleSandbox
import XCTest

/// The seed's story through the demo's view models, against the sandbox process: sign in,
/// "Connect HubRise", "Restart to apply", an order arrives (highlighted, with a sound), accept,
/// details, disconnect with confirmation.
final class StoryTests: DemoTestCase, @unchecked Sendable {
    @MainActor
    func testSignInConnectRestartOrderArrivesAcceptDisconnect() async throws {
        let browser = ScriptedBrowser(sandbox: sandbox)
        let alert = RecordingAlert()
        let model = try await startedModel(browser: browser, alert: alert)
        guard case .signedOut = model.phase else { return XCTFail("sign-in first, got \(model.phase)") }

        let session = try await signIn(model)
        XCTAssertEqual(session.account?.businessName, "Bella Pizza")
        XCTAssertTrue(session.connections.rows.isEmpty)
        XCTAssertFalse(session.keepsScreenAwake)

        // "Connect HubRise": the consent page in the browser, then a pending connection.
        browser.next = .approve(paris.id)
        try await withDeadline(15, "connect") { await session.connections.connect() }
        XCTAssertEqual(browser.opened.count, 1)
        let pending = try XCTUnwrap(session.connections.rows.first)
        XCTAssertEqual(pending.status, "Ajoutée : redémarrez pour l’activer")
        XCTAssertEqual(pending.tone, .pending)
        XCTAssertTrue(session.passerelle.restartRequired)
        XCTAssertEqual(session.restartChanges, ["Nouvelle connexion : Paris (3r4s3-1)"])
        XCTAssertNil(model.notices.current, "no failure")

        // "Restart to apply".
        try await withDeadline(15, "restart") { await session.restartNow() }
        XCTAssertFalse(session.passerelle.restartRequired)
        let row = try XCTUnwrap(session.connections.rows.first)
        XCTAssertTrue(row.isActive)
        XCTAssertEqual(row.status, "Active : les commandes arrivent")
        XCTAssertEqual(row.tone, .ok)
        XCTAssertEqual(row.locationLine, "Point de vente : Paris (3r4s3-1)")
        XCTAssertEqual(row.accountLine, "Compte : Bella Pizza (3r4s3)")
        XCTAssertEqual(row.catalogLine, "Catalogue : Bella Pizza (psmlf)")
        XCTAssertEqual(row.customerListLine, "Liste de clients : Bella Pizza (xab66)")
        XCTAssertEqual(row.originLine, "Connectée depuis cet iPad")
        XCTAssertNil(row.failureLine)
        XCTAssertTrue(session.keepsScreenAwake)

        // An order placed from another app arrives: highlighted, announced once.
        let orderId = try await sandbox.admin.placeOrder(locationId: paris.id, order: .sample(customer: "Marie"))
        try await waitUntil(20, "the order shows") { session.orders.rows.contains { $0.id == orderId } }
        let orderRow = try XCTUnwrap(session.orders.rows.first { $0.id == orderId })
        XCTAssertTrue(orderRow.isNew)
        XCTAssertTrue(orderRow.canAccept && orderRow.canReject)
        XCTAssertEqual(orderRow.customer, "Marie Dupont")
        XCTAssertEqual(orderRow.total?.hasPrefix("30,80"), true, orderRow.total ?? "no total")
        XCTAssertTrue(orderRow.subtitle.hasPrefix("Livraison · Pour "), orderRow.subtitle)
        XCTAssertEqual(alert.count, 1)

        // Details.
        await session.orders.select(orderId)
        let detail = try XCTUnwrap(session.orders.detail)
        XCTAssertEqual(detail.sections.map(\.title), ["Articles", "Frais", "Paiements"])
        XCTAssertEqual(detail.sections[0].lines.map(\.label), ["2 × Margherita – Grande", "Piquante", "1 × Tiramisu"])
        XCTAssertEqual(detail.sections[0].lines.map(\.isOption), [false, true, false])
        XCTAssertEqual(detail.sections[0].lines[0].amount?.hasPrefix("22,80"), true)
        XCTAssertEqual(detail.totalLabel, "Total (HubRise)")
        XCTAssertEqual(detail.total?.hasPrefix("30,80"), true)
        XCTAssertTrue(detail.customerLines.contains("Marie Dupont"))
        XCTAssertEqual(detail.notes, ["Note du client : Sonner deux fois"])

        // Accept, ready in 20 minutes: HubRise has it accepted; no longer highlighted.
        try await withDeadline(10, "accept") { await session.orders.accept(orderId, readyInMinutes: 20) }
        XCTAssertFalse(try XCTUnwrap(session.orders.rows.first { $0.id == orderId }).isNew)
        let admin = sandbox.admin
        let location = paris.id
        try await eventually(15, "HubRise has it accepted") {
            try await admin.order(locationId: location, orderId: orderId).status == "accepted"
        }
        try await waitUntil(10, "the inbox shows it accepted") {
            session.orders.rows.first { $0.id == orderId }?.status == "Acceptée"
        }
        XCTAssertEqual(alert.count, 1, "an update does not ring")

        // Disconnect, after a confirmation; gone after the restart.
        session.connections.askToDisconnect(row)
        XCTAssertEqual(session.connections.disconnectCandidate?.id, row.id)
        session.connections.cancelDisconnect()
        XCTAssertTrue(try XCTUnwrap(session.connections.rows.first).isActive, "cancel leaves it connected")
        session.connections.askToDisconnect(row)
        try await withDeadline(10, "disconnect") { await session.connections.confirmDisconnect() }
        XCTAssertEqual(session.connections.rows.first?.status, "Déconnectée : disparaîtra au redémarrage")
        XCTAssertTrue(session.passerelle.restartRequired)
        XCTAssertEqual(session.restartChanges, ["Déconnexion : Paris (3r4s3-1)"])
        try await withDeadline(15, "restart") { await session.restartNow() }
        XCTAssertTrue(session.connections.rows.isEmpty)
        XCTAssertNil(model.notices.current, "no failure along the way: \(model.notices.history.map(\.text))")
    }

    @MainActor
    func testRejectAsksFirstAndReachesHubrise() async throws {
        let browser = ScriptedBrowser(sandbox: sandbox)
        let model = try await startedModel(browser: browser)
        let session = try await signIn(model)
        _ = try await connectActive(session, browser, lyon)
        let orderId = try await sandbox.admin.placeOrder(locationId: lyon.id, order: .sample(customer: "Paul"))
        try await waitUntil(20, "the order shows") { session.orders.rows.contains { $0.id == orderId } }
        let row = try XCTUnwrap(session.orders.rows.first { $0.id == orderId })

        session.orders.askToReject(row)
        session.orders.cancelReject()
        XCTAssertTrue(try XCTUnwrap(session.orders.rows.first { $0.id == orderId }).isNew)

        session.orders.askToReject(row)
        session.orders.rejectReason = "Plus de pâte à pizza"
        try await withDeadline(10, "reject") { await session.orders.confirmReject() }
        let admin = sandbox.admin
        let location = lyon.id
        try await eventually(15, "HubRise has it rejected") {
            try await admin.order(locationId: location, orderId: orderId).status == "rejected"
        }
    }

    @MainActor
    func testDeletedLinesAreStruckThroughAndTheTotalIsHubrises() async throws {
        let browser = ScriptedBrowser(sandbox: sandbox)
        let model = try await startedModel(browser: browser)
        let session = try await signIn(model)
        _ = try await connectActive(session, browser, paris)
        let orderId = try await sandbox.admin.placeOrder(locationId: paris.id, order: .sample())
        try await waitUntil(20, "the order shows") { session.orders.rows.contains { $0.id == orderId } }

        // The customer's app removes the Margherita: HubRise keeps the line, marked deleted.
        let margherita = try await sandbox.admin.order(locationId: paris.id, orderId: orderId).items[0].id
        try await sandbox.admin.updateOrderAsOtherApp(
            locationId: paris.id, orderId: orderId, patchJSON: #"{"items": [{"id": "\#(margherita)", "deleted": true}]}"#)
        await session.orders.select(orderId)
        try await waitUntil(20, "the deletion arrives") {
            session.orders.detail?.sections.first?.lines.first?.isDeleted == true
        }
        let detail = try XCTUnwrap(session.orders.detail)
        XCTAssertEqual(detail.sections[0].lines.map(\.isDeleted), [true, true, false], "the item and its option")
        XCTAssertEqual(detail.total?.hasPrefix("8,00"), true, "HubRise's total leaves out the deleted item: \(detail.total ?? "")")
    }
}
