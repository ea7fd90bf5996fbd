import Foundation
import Passerelle
import PasserelleSandbox
import XCTest

/// What `open` announces (the unseen orders announced again, a database recovered) reaches every
/// subscription made after `openProtected` returns that asks for it, however late the library's
/// event thread hands it over; `open` itself never waits for the listener.
final class LaunchEventsTests: SandboxTestCase {
    /// Plays a busy event thread: each event reaches the hub `delay` after the library emitted it.
    private final class SlowListener: EventListener, Sendable {
        let hub: PasserelleEvents
        let delay: TimeInterval

        init(_ hub: PasserelleEvents, delay: TimeInterval) {
            self.hub = hub
            self.delay = delay
        }

        func onEvent(event: PasserelleEvent) {
            Thread.sleep(forTimeInterval: delay)
            hub.onEvent(event: event)
        }
    }

    func testEverySubscriptionAfterOpenGetsTheOrdersOpenAnnouncedAgain() async throws {
        // A till receives an order and stops before anyone marks it seen.
        let dataDir = try temporaryDirectory()
        let config = sandbox.info.passerelleConfig(dataDir: dataDir)
        let secrets = InMemorySecretStore()
        let before = PasserelleEvents()
        let recorder = EventRecorder(before)
        let first = try await withDeadline(10, "open") {
            try await Client.open(config: config, secrets: secrets, events: before)
        }
        try await signIn(first)
        let paris = sandbox.info.locations[0]
        _ = try await connectActive(first, paris)
        let admin = sandbox.admin
        let orderId = try await withDeadline(10, "place an order") {
            try await admin.placeOrder(locationId: paris.id, order: .sample(customer: "Marie"))
        }
        _ = try await recorder.wait(20, for: "order \(orderId) received") {
            $0.isNewOrder && $0.order?.id == orderId
        }
        try await first.close()

        // The next launch announces it again, through an event thread 300 ms behind.
        let events = PasserelleEvents()
        let app = try await withDeadline(10, "open again") {
            try await Client.openProtected(config: config, secrets: secrets, events: SlowListener(events, delay: 0.3))
        }
        // As in an app: the model subscribes at once, the app's ringing subscription a moment later.
        let model = EventRecorder(events)
        try await Task.sleep(nanoseconds: 600_000_000)
        let ringing = EventRecorder(events)

        for (name, subscription) in [("the first subscription", model), ("the second subscription", ringing)] {
            _ = try await subscription.wait(5, for: "\(name) hearing order \(orderId) announced again") {
                $0.isNewOrder && $0.order?.id == orderId
            }
        }
        try await app.close()
    }
}
