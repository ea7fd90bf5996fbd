import Foundation
import Passerelle
import PasserelleDemoKit
import XCTest

/// The screens the previews show, on `PreviewPasserelle`: no sandbox, no database. What a preview
/// shows is what these tests read.
///
/// `@unchecked Sendable`: XCTest runs one test of an instance at a time, and it has no state.
final class PreviewTests: XCTestCase, @unchecked Sendable {
    @MainActor
    func testThePreviewSessionShowsTheSampleInboxAndConnection() async throws {
        let session = SessionModel.preview()
        try await waitUntil(5, "the first read") { session.passerelle.isLoaded }
        XCTAssertEqual(session.orders.rows.map(\.customer), ["Marie Dupont", "Paul Dupont", "Léa Dupont"])
        let marie = try XCTUnwrap(session.orders.rows.first)
        XCTAssertTrue(marie.isNew && marie.canAccept)
        XCTAssertEqual(marie.total?.hasPrefix("30,80"), true, marie.total ?? "no total")
        XCTAssertTrue(marie.subtitle.hasPrefix("Livraison · Pour "), marie.subtitle)
        XCTAssertEqual(session.connections.rows.map(\.status), ["Active : les commandes arrivent"])
        XCTAssertTrue(session.keepsScreenAwake)
        XCTAssertNil(session.healthBanner)

        await session.orders.select(marie.id)
        XCTAssertEqual(session.orders.detail?.sections.first?.lines.map(\.label), ["2 × Margherita – Grande", "Piquante", "1 × Tiramisu"])
        await session.orders.accept(marie.id, readyInMinutes: 20)
        XCTAssertEqual(session.orders.rows.first?.status, "Acceptée")
        XCTAssertEqual(session.orders.detail?.row.canAccept, false, "the details follow")
    }

    @MainActor
    func testConnectingInThePreviewWaitsForTheRestart() async throws {
        let session = SessionModel.preview(language: .english)
        try await waitUntil(5, "the first read") { session.passerelle.isLoaded }
        await session.connections.connect()
        XCTAssertEqual(session.restartChanges, ["New connection: Lyon (3r4s3-2)"])
        XCTAssertEqual(session.connections.highlightedID, "preview-lyon")
        await session.restartNow()
        XCTAssertFalse(session.passerelle.restartRequired)
        XCTAssertEqual(session.connections.rows.filter(\.isActive).map(\.title), ["Paris", "Lyon"])
    }

    @MainActor
    func testThePreviewAppOpensOnTheFake() async throws {
        let signedOut = AppModel.preview(signedIn: false)
        try await waitUntil(5, "the sign-in screen") {
            if case .signedOut = signedOut.phase { true } else { false }
        }
        guard case .signedOut(let signIn) = signedOut.phase else { return XCTFail("\(signedOut.phase)") }
        signIn.email = PreviewPasserelle.email
        signIn.password = PreviewPasserelle.password
        await signIn.signIn()
        XCTAssertEqual(signedOut.session?.account?.businessName, "Bella Pizza")
        XCTAssertTrue(signedOut.canPlaceTestOrder == true, "a sandbox environment with an active connection")
    }
}
