import Foundation
import Passerelle
import PasserelleSandbox
import XCTest

/// PreviewPasserelle's scripted service: what happens when, with the library's events, read the
/// same way by a test, a preview and ``PasserelleModel``.
///
/// `@unchecked Sendable`: no stored state; the model's test runs on the main actor.
final class TimelineTests: XCTestCase, @unchecked Sendable {
    func testTheLunchServicePlaysInOrderAsTheClockMoves() async throws {
        let fake = PreviewPasserelle(orders: [])
        let recorder = EventRecorder(fake.events)
        fake.load(.lunchService)

        fake.advance(by: 59)
        var orders = try await fake.orders(filter: OrderFilter())
        XCTAssertEqual(orders.map(\.id), ["timeline-1"], "one order at 30 s")
        fake.advance(by: 1)
        orders = try await fake.orders(filter: OrderFilter())
        XCTAssertEqual(orders.count, 2, "another at 60 s")
        var health = try await fake.syncHealth()
        XCTAssertEqual(health.state, .flowing)

        fake.advance(by: 60)  // 2 min: an order, then HubRise down
        health = try await fake.syncHealth()
        XCTAssertEqual(health.state, .delayed)
        XCTAssertEqual(health.connections.first?.delayReason, .hubriseUnavailable)
        XCTAssertEqual(
            health.banner(in: .english, now: Date().addingTimeInterval(0)),
            "Online orders delayed for less than a minute: HubRise is not answering")

        fake.advance(by: 60)  // 3 min: HubRise back at 2 min 30, a cancellation
        health = try await fake.syncHealth()
        XCTAssertEqual(health.state, .flowing)
        orders = try await fake.orders(filter: OrderFilter())
        XCTAssertEqual(orders.count, 6)
        XCTAssertEqual(orders.first?.status, .cancelled, "the newest order, cancelled by its customer")
        XCTAssertEqual(orders.first?.id, "timeline-6")
        XCTAssertEqual(fake.elapsed, 180)

        fake.advance(by: 600)
        orders = try await fake.orders(filter: OrderFilter())
        XCTAssertEqual(orders.count, 10, "an order every 30 s until 5 min")

        // The events, in the order the library would emit them.
        let seen = try await waitForEvents(recorder, count: 10 + 2 + 1)
        let kinds = seen.map { event -> String in
            switch event {
            case .orderReceived: "order"
            case .syncHealthChanged(let health): health.state == .flowing ? "back" : "down"
            case .orderUpdated(let order): order.status == .cancelled ? "cancelled" : "updated"
            default: "other"
            }
        }
        XCTAssertEqual(
            kinds, ["order", "order", "order", "order", "down", "order", "back", "order", "cancelled", "order", "order", "order", "order"])
    }

    func testATimelineBuiltByHandKeepsItsMomentsInTimeOrder() {
        let timeline = PreviewPasserelle.Timeline()
            .at(90, .hubriseBack)
            .at(10, .newOrder(customer: "Camille"))
            .every(20, from: 0, until: 40, .event(.configurationApplied(version: 2)))
        XCTAssertEqual(timeline.moments.map(\.at), [0, 10, 20, 40, 90])
    }

    /// Played in real time (here 600 times faster), for previews and UI tests; cancelling the task
    /// stops it.
    @MainActor
    func testPlayingFollowsTheClockAndTheModelFollowsTheEvents() async throws {
        let fake = PreviewPasserelle(orders: [])
        let model = PasserelleModel(client: fake, events: fake.events)
        let timeline = PreviewPasserelle.Timeline().every(30, until: 90, .newOrder())
        let started = Date()
        await fake.play(timeline, speed: 600)  // 90 s in 0.15 s
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.14)
        try await eventually(5, "the model's inbox has the three orders") { await model.inbox.count == 3 }

        let endless = Task { await fake.play(PreviewPasserelle.Timeline().at(3600, .hubriseBack), speed: 1) }
        endless.cancel()
        try await withDeadline(5, "a cancelled play returns") { await endless.value }
    }

    private func waitForEvents(_ recorder: EventRecorder, count: Int) async throws -> [PasserelleEvent] {
        try await eventually(5, "\(count) events") { recorder.all.count >= count }
        return recorder.all
    }
}
