import Foundation

/// The library's events, as many `AsyncStream`s as there are readers.
///
/// Create one per ``Client`` instance, pass it to ``Client/open(config:secrets:events:)``
/// and call ``subscribe(replay:bufferingPolicy:)`` wherever a screen or service wants the events;
/// each call returns a stream of its own:
///
/// ```swift
/// let events = PasserelleEvents()
/// let app = try await Client.openProtected(config: config, secrets: KeychainSecretStore(),
///                                              events: events)
/// Task { @MainActor in
///     // The app's one ringing subscription also hears what `open` announced.
///     for await event in events.subscribe(replay: .unheard) {
///         switch event {
///         case .orderReceived(let order): inbox.insert(order); alert.play()
///         case .restartRequired: banner.isVisible = true
///         case .reconnectNeeded(let id, let reason): connections.markRefused(id, HubriseRefusal(reason: reason))
///         default: break
///         }
///     }
/// }
/// ```
///
/// - Every subscription receives every event emitted while it is open, in the order the library
///   emitted them. Cancelling the task that reads one subscription (or leaving its loop) ends that
///   subscription only; the others keep receiving, and ``subscribe(replay:bufferingPolicy:)`` may
///   be called again at any time.
/// - Events emitted while no subscription is open (those of `open`, such as the unseen orders
///   announced again or a database recovered, or those of a moment between two screens) are
///   *unheard*. The newest `replayLimit` of them are kept, and every subscription that asks for
///   them with ``Replay/unheard`` receives them first; ``Replay/none`` starts with the next event.
///   ``Client/openProtected(config:secrets:events:)`` returns only once `open`'s events
///   were handed to the hub (``Client/eventsDelivered()``, at most 5 s), so every
///   subscription made after it that asks for ``Replay/unheard`` gets the launch's events,
///   whichever subscribed first. After the generated `open`, call `eventsDelivered()` yourself.
///   The orders stay in the database either way: re-read them with
///   ``Client/orderSummaries(filter:)`` (or follow them with ``PasserelleModel``).
/// - The library calls ``onEvent(event:)`` on its own thread; it never waits for a reader.
/// - ``finish()`` ends every subscription, present and future.
///
/// No lock of the hub is held while it calls into the concurrency runtime (`yield`, `finish`),
/// and the termination handler takes the lock only for a dictionary update: a reader cancelled on
/// the main thread while the library emits can never deadlock with it (docs/locks.md).
public final class PasserelleEvents: EventListener, Sendable {
    /// Which past events a new subscription starts with.
    public enum Replay: Sendable {
        /// Only events emitted from now on.
        case none
        /// First the unheard events (emitted while no subscription was open, the newest
        /// `replayLimit`), then every event from now on. Take it for the subscription that rings
        /// for new orders, so the orders `open` announced ring too.
        case unheard
    }

    private typealias Continuation = AsyncStream<PasserelleEvent>.Continuation

    /// A delivery waiting for the drainer: what to hand to which continuations, captured when it
    /// was queued so that each subscription sees exactly the events of its own lifetime.
    private enum Delivery {
        case events([PasserelleEvent], to: [Continuation])
        case finish([Continuation])
    }

    private struct State {
        var subscribers: [UInt64: Continuation] = [:]
        var nextID: UInt64 = 0
        /// Emitted while `subscribers` was empty, oldest first; at most `replayLimit`.
        var unheard: [PasserelleEvent] = []
        /// Deliveries in the order they were queued; one drainer at a time hands them over.
        var queue: [Delivery] = []
        var draining = false
        var finished = false
    }

    private let state = Locked(State())
    private let replayLimit: Int

    /// Creates the listener; pass it to ``Client/open(config:secrets:events:)``.
    ///
    /// - Parameter replayLimit: how many unheard events (emitted while no subscription is open)
    ///   are kept for the subscriptions that ask for them (the newest ones). 256 covers the
    ///   events of `open` and of a busy minute between two screens.
    public init(replayLimit: Int = 256) {
        self.replayLimit = max(replayLimit, 0)
    }

    deinit {
        finish()
    }

    /// A new stream of the events: with ``Replay/unheard``, the unheard ones first; then every
    /// event emitted until the reading task is cancelled, the loop ends or ``finish()`` is called.
    ///
    /// - Parameters:
    ///   - replay: whether the stream starts with the unheard events (``Replay/unheard``) or with
    ///     the next one (``Replay/none``).
    ///   - bufferingPolicy: what this subscription keeps while its reader is busy;
    ///     `.unbounded` (the default) keeps everything.
    public func subscribe(
        replay: Replay,
        bufferingPolicy: AsyncStream<PasserelleEvent>.Continuation.BufferingPolicy = .unbounded
    ) -> AsyncStream<PasserelleEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: PasserelleEvent.self, bufferingPolicy: bufferingPolicy)
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        // Set before the subscription is registered, so no ending can miss it. It runs on the
        // thread that ends the stream, inside the runtime's locks: it only updates the
        // dictionary, and the hub never holds its lock while calling the runtime.
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        let isOpen = state.withLock { state in
            guard !state.finished else { return false }
            // Queued before the subscription joins, so every later event reaches it after these.
            if replay == .unheard, !state.unheard.isEmpty {
                state.queue.append(.events(state.unheard, to: [continuation]))
            }
            state.subscribers[id] = continuation
            return true
        }
        if isOpen { drain() } else { continuation.finish() }
        return stream
    }

    /// Called by the library on its event thread; hands the event to every subscription, or keeps
    /// it as unheard when there is none. Never blocks on a reader.
    public func onEvent(event: PasserelleEvent) {
        let queued = state.withLock { state in
            guard !state.finished else { return false }
            guard !state.subscribers.isEmpty else {
                if replayLimit > 0 {
                    if state.unheard.count == replayLimit { state.unheard.removeFirst() }
                    state.unheard.append(event)
                }
                return false
            }
            state.queue.append(.events([event], to: Array(state.subscribers.values)))
            return true
        }
        if queued { drain() }
    }

    /// Ends every subscription (a `for await` loop finishes after its buffered events) and every
    /// later one.
    public func finish() {
        state.withLock { state in
            guard !state.finished else { return }
            state.finished = true
            state.unheard.removeAll()
            state.queue.append(.finish(Array(state.subscribers.values)))
            state.subscribers.removeAll()
        }
        drain()
    }

    /// Hands the queued deliveries over, oldest first, outside the lock. One thread drains at a
    /// time and the others only queue, which keeps every subscription in the library's order
    /// without holding the lock around `yield` or `finish`.
    private func drain() {
        guard state.withLock({ state in
            guard !state.draining else { return false }
            state.draining = true
            return true
        }) else { return }  // the draining thread hands over what was just queued
        while let batch = nextBatch() {
            for delivery in batch {
                switch delivery {
                case .events(let events, let continuations):
                    // A continuation whose reader left answers `.terminated`: nothing to do.
                    for continuation in continuations {
                        for event in events { continuation.yield(event) }
                    }
                case .finish(let continuations):
                    for continuation in continuations { continuation.finish() }
                }
            }
        }
    }

    /// What was queued since the last batch, or `nil` (and the drainer's claim released, in the
    /// same critical section, so nothing queued meanwhile is left behind) when nothing was.
    private func nextBatch() -> [Delivery]? {
        state.withLock { state in
            guard !state.queue.isEmpty else {
                state.draining = false
                return nil
            }
            defer { state.queue.removeAll() }
            return state.queue
        }
    }
}

/// A value guarded by a lock, for state the library's threads and Swift tasks share.
///
/// `NSLock` rather than `Mutex` (iOS 18) or `OSAllocatedUnfairLock` (Apple only): the package
/// supports iOS 16 and its tests run on Linux.
///
/// The rule (docs/locks.md): `body` only reads and writes the value. It never calls into the
/// concurrency runtime (`yield`, `finish`, `cancel`, `resume`), the library or the host; take what
/// such a call needs out of the lock and make the call after it.
/// `package`: the test support (PasserelleSandbox) shares it.
package final class Locked<Value: Sendable>: @unchecked Sendable {
    // @unchecked: `value` is only touched inside `lock`.
    private let lock = NSLock()
    private var value: Value

    package init(_ value: Value) {
        self.value = value
    }

    package func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try lock.withLock { try body(&value) }
    }
}

extension PasserelleEvent {
    /// The order an ``orderReceived(order:)`` or ``orderUpdated(order:)`` event carries.
    public var order: Order? {
        switch self {
        case .orderReceived(let order), .orderUpdated(let order): order
        default: nil
        }
    }

    /// Whether this event announces a new order: the moment to sound the alert.
    public var isNewOrder: Bool {
        if case .orderReceived = self { true } else { false }
    }
}
