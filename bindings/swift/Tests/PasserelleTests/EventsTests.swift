import Foundation
import Passerelle
import PasserelleSandbox
import XCTest

/// `PasserelleEvents` fans the library's events out to independent subscriptions. Pure Swift: the
/// tests play the library by calling `onEvent(event:)`.
final class EventsTests: XCTestCase {
    /// Reads one subscription in its own task and keeps the versions of the
    /// `configurationApplied` events it receives, the events these tests emit.
    private final class Reader: @unchecked Sendable {
        // Guarded by `lock`.
        private let lock = NSLock()
        private var seen: [UInt64] = []
        private var task: Task<Void, Never>?

        init(_ stream: AsyncStream<PasserelleEvent>) {
            task = Task { [self] in
                for await event in stream {
                    if case .configurationApplied(let version) = event {
                        lock.withLock { seen.append(version) }
                    }
                }
            }
        }

        var versions: [UInt64] { lock.withLock { seen } }

        /// Waits until exactly `expected` was received.
        func waitFor(_ expected: [UInt64]) async throws {
            try await eventually(5, "a reader receiving \(expected) (has \(versions))") { self.versions == expected }
        }

        /// Cancels the reading task and waits for its loop to end.
        func cancel() async throws {
            let task = lock.withLock { self.task }
            task?.cancel()
            try await withDeadline(5, "the cancelled reader's loop ending") { await task?.value }
        }

        /// Waits for the loop to end by itself (its stream finished).
        func ended() async throws {
            let task = lock.withLock { self.task }
            try await withDeadline(5, "the reader's loop ending") { await task?.value }
        }
    }

    private func emit(_ events: PasserelleEvents, _ versions: ClosedRange<UInt64>) {
        for version in versions { events.onEvent(event: .configurationApplied(version: version)) }
    }

    func testEveryReaderGetsEveryEvent() async throws {
        let events = PasserelleEvents()
        let first = Reader(events.subscribe(replay: .none))
        let second = Reader(events.subscribe(replay: .none))
        emit(events, 1...5)
        try await first.waitFor([1, 2, 3, 4, 5])
        try await second.waitFor([1, 2, 3, 4, 5])
    }

    func testCancellingOneReaderLeavesTheOthersReceiving() async throws {
        let events = PasserelleEvents()
        let leaving = Reader(events.subscribe(replay: .none))
        let staying = Reader(events.subscribe(replay: .none))
        emit(events, 1...1)
        try await leaving.waitFor([1])
        try await staying.waitFor([1])

        try await leaving.cancel()
        emit(events, 2...3)

        try await staying.waitFor([1, 2, 3])
        XCTAssertEqual(leaving.versions, [1], "the cancelled reader receives nothing more")
    }

    func testAReaderSubscribingAfterAnotherWasCancelledGetsLaterEvents() async throws {
        let events = PasserelleEvents()
        let first = Reader(events.subscribe(replay: .none))
        emit(events, 1...1)
        try await first.waitFor([1])
        try await first.cancel()

        let next = Reader(events.subscribe(replay: .none))
        emit(events, 2...3)
        try await next.waitFor([2, 3])

        // And with a reader still there, a newcomer gets what follows its subscription.
        let third = Reader(events.subscribe(replay: .none))
        emit(events, 4...4)
        try await next.waitFor([2, 3, 4])
        try await third.waitFor([4])
    }

    func testEverySubscriptionThatAsksGetsTheLaunchEvents() async throws {
        let events = PasserelleEvents()
        emit(events, 1...3)  // as during `Client.open`, before the app subscribes

        // As in an app: the model subscribes first, then the app's own ringing subscription.
        let model = Reader(events.subscribe(replay: .unheard))
        let app = Reader(events.subscribe(replay: .unheard))
        let screen = Reader(events.subscribe(replay: .none))
        emit(events, 4...4)
        try await model.waitFor([1, 2, 3, 4])
        try await app.waitFor([1, 2, 3, 4])
        try await screen.waitFor([4])

        // Heard by then: a later subscription gets the launch's events, not the ones it missed.
        let late = Reader(events.subscribe(replay: .unheard))
        emit(events, 5...5)
        try await late.waitFor([1, 2, 3, 5])
    }

    func testEventsEmittedWhileNobodyListensAreUnheardToo() async throws {
        let events = PasserelleEvents()
        let first = Reader(events.subscribe(replay: .none))
        emit(events, 1...1)
        try await first.waitFor([1])
        try await first.cancel()

        emit(events, 2...2)  // between two screens
        let next = Reader(events.subscribe(replay: .unheard))
        try await next.waitFor([2])
    }

    func testTheReplayKeepsTheNewestEventsUpToItsLimit() async throws {
        let events = PasserelleEvents(replayLimit: 2)
        emit(events, 1...5)
        let reader = Reader(events.subscribe(replay: .unheard))
        emit(events, 6...6)
        try await reader.waitFor([4, 5, 6])
    }

    func testFinishEndsEverySubscriptionAndLaterOnes() async throws {
        let events = PasserelleEvents()
        let first = Reader(events.subscribe(replay: .none))
        let second = Reader(events.subscribe(replay: .none))
        emit(events, 1...1)
        try await first.waitFor([1])

        events.finish()
        try await first.ended()
        try await second.ended()
        XCTAssertEqual(second.versions, [1], "buffered events are read before the end")

        let late = Reader(events.subscribe(replay: .none))
        emit(events, 2...2)
        try await late.ended()
        XCTAssertEqual(late.versions, [])
    }

    func testEventsFromManyThreadsReachEveryReaderOnce() async throws {
        let events = PasserelleEvents()
        let first = Reader(events.subscribe(replay: .none))
        let second = Reader(events.subscribe(replay: .none))
        DispatchQueue.concurrentPerform(iterations: 500) { index in
            events.onEvent(event: .configurationApplied(version: UInt64(index)))
        }
        try await eventually(5, "500 events for each reader") {
            first.versions.count == 500 && second.versions.count == 500
        }
        XCTAssertEqual(Set(first.versions), Set(0..<500))
        XCTAssertEqual(Set(second.versions), Set(0..<500))
    }

    /// The deadlock the hub had (docs/locks.md): a reader cancelled on one thread ran the
    /// termination handler under the concurrency runtime's lock and waited for the hub's lock,
    /// while the library's thread held the hub's lock in `yield` and waited for the runtime's.
    /// It froze within 200 to 1,800 rounds: 10,000 rounds are five times the latest freeze seen,
    /// and stay well inside the watchdog under the Thread Sanitizer on a loaded 2-core machine
    /// (50,000 took 38 s there of the 45 s, and once over 45 s).
    func testReadersCancelledWhileTheLibraryEmitsNeverFreeze() async throws {
        let events = PasserelleEvents()
        let flood = EventFlood(events, event: .configurationApplied(version: 1))
        let rounds = 10_000
        let watchdog = Watchdog(45, "\(rounds) readers subscribed and cancelled while the library emits")
        for round in 0..<rounds {
            let stream = events.subscribe(replay: round.isMultiple(of: 3) ? .unheard : .none)
            let (started, start) = AsyncStream.makeStream(of: Void.self)
            let reader = Task {
                for await _ in stream { start.yield() }
            }
            // Cancelled before it reads, or once it reads, mostly while it waits for the next event.
            if !round.isMultiple(of: 4) { for await _ in started { break } }
            reader.cancel()
            await reader.value
        }
        watchdog.disarm()
        flood.stop()
    }

    /// `finish` (the hub going away) racing readers that leave and the library's thread.
    func testFinishingWhileReadersLeaveAndTheLibraryEmitsNeverFreezes() async throws {
        let rounds = 2_000
        let watchdog = Watchdog(45, "\(rounds) hubs finished while readers leave and the library emits")
        for _ in 0..<rounds {
            let events = PasserelleEvents()
            let flood = EventFlood(events, event: .configurationApplied(version: 1))
            let readers = (0..<4).map { _ in
                let stream = events.subscribe(replay: .none)
                return Task { for await _ in stream {} }
            }
            readers[0].cancel()
            events.finish()
            for reader in readers { await reader.value }  // finished streams end every loop
            flood.stop()
        }
        watchdog.disarm()
    }
}
