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
        let first = Reader(events.subscribe())
        let second = Reader(events.subscribe())
        emit(events, 1...5)
        try await first.waitFor([1, 2, 3, 4, 5])
        try await second.waitFor([1, 2, 3, 4, 5])
    }

    func testCancellingOneReaderLeavesTheOthersReceiving() async throws {
        let events = PasserelleEvents()
        let leaving = Reader(events.subscribe())
        let staying = Reader(events.subscribe())
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
        let first = Reader(events.subscribe())
        emit(events, 1...1)
        try await first.waitFor([1])
        try await first.cancel()

        let next = Reader(events.subscribe())
        emit(events, 2...3)
        try await next.waitFor([2, 3])

        // And with a reader still there, a newcomer gets what follows its subscription.
        let third = Reader(events.subscribe())
        emit(events, 4...4)
        try await next.waitFor([2, 3, 4])
        try await third.waitFor([4])
    }

    func testEventsEmittedBeforeTheFirstSubscriptionAreReplayedToIt() async throws {
        let events = PasserelleEvents()
        emit(events, 1...3)  // as during `Passerelle.open`, before the app subscribes

        let first = Reader(events.subscribe())
        emit(events, 4...4)
        try await first.waitFor([1, 2, 3, 4])

        // Replayed once: a later subscription starts from its own moment.
        let second = Reader(events.subscribe())
        emit(events, 5...5)
        try await second.waitFor([5])
        try await first.waitFor([1, 2, 3, 4, 5])
    }

    func testEventsEmittedWhileNobodyListensWaitForTheNextReader() async throws {
        let events = PasserelleEvents()
        let first = Reader(events.subscribe())
        emit(events, 1...1)
        try await first.waitFor([1])
        try await first.cancel()

        emit(events, 2...2)  // between two screens
        let next = Reader(events.subscribe())
        try await next.waitFor([2])
    }

    func testTheReplayKeepsTheNewestEventsUpToItsLimit() async throws {
        let events = PasserelleEvents(replayLimit: 2)
        emit(events, 1...5)
        let reader = Reader(events.subscribe())
        emit(events, 6...6)
        try await reader.waitFor([4, 5, 6])
    }

    func testFinishEndsEverySubscriptionAndLaterOnes() async throws {
        let events = PasserelleEvents()
        let first = Reader(events.subscribe())
        let second = Reader(events.subscribe())
        emit(events, 1...1)
        try await first.waitFor([1])

        events.finish()
        try await first.ended()
        try await second.ended()
        XCTAssertEqual(second.versions, [1], "buffered events are read before the end")

        let late = Reader(events.subscribe())
        emit(events, 2...2)
        try await late.ended()
        XCTAssertEqual(late.versions, [])
    }

    func testEventsFromManyThreadsReachEveryReaderOnce() async throws {
        let events = PasserelleEvents()
        let first = Reader(events.subscribe())
        let second = Reader(events.subscribe())
        DispatchQueue.concurrentPerform(iterations: 500) { index in
            events.onEvent(event: .configurationApplied(version: UInt64(index)))
        }
        try await eventually(5, "500 events for each reader") {
            first.versions.count == 500 && second.versions.count == 500
        }
        XCTAssertEqual(Set(first.versions), Set(0..<500))
        XCTAssertEqual(Set(second.versions), Set(0..<500))
    }
}
