import Foundation

/// The library's events, as many `AsyncStream`s as there are readers.
///
/// Create one per ``Passerelle`` instance, pass it to ``Passerelle/open(config:secrets:events:)``
/// and call ``subscribe(bufferingPolicy:)`` wherever a screen or service wants the events; each
/// call returns a stream of its own:
///
/// ```swift
/// let events = PasserelleEvents()
/// let app = try await Passerelle.openProtected(config: config, secrets: KeychainSecretStore(),
///                                              events: events)
/// Task { @MainActor in
///     for await event in events.subscribe() {
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
///   subscription only; the others keep receiving, and ``subscribe(bufferingPolicy:)`` may be
///   called again at any time.
/// - Events emitted while nobody is subscribed (those emitted during `open`, such as a
///   configuration applied or a restart required, or those of a moment between two screens) are
///   kept, up to `replayLimit` of the newest, and delivered to the next subscription, once.
///   Older ones are dropped: the orders stay in the database either way, re-read them with
///   ``Passerelle/orderSummaries(filter:)`` (or follow them with ``PasserelleModel``).
/// - The library calls ``onEvent(event:)`` on its own thread; it never waits for a reader.
/// - ``finish()`` ends every subscription, present and future.
public final class PasserelleEvents: EventListener, Sendable {
    private struct State {
        var subscribers: [UInt64: AsyncStream<PasserelleEvent>.Continuation] = [:]
        var nextID: UInt64 = 0
        /// What was emitted while `subscribers` was empty, oldest first; at most `replayLimit`.
        var unheard: [PasserelleEvent] = []
        var finished = false
    }

    private let state = Locked(State())
    private let replayLimit: Int

    /// Creates the listener; pass it to ``Passerelle/open(config:secrets:events:)``.
    ///
    /// - Parameter replayLimit: how many events emitted while nobody is subscribed are kept for
    ///   the next subscription (the newest ones). 256 covers the events of `open` and of a busy
    ///   minute between two screens.
    public init(replayLimit: Int = 256) {
        self.replayLimit = max(replayLimit, 0)
    }

    deinit {
        finish()
    }

    /// A new stream of the events: those kept while nobody was subscribed, then every event
    /// emitted until the reading task is cancelled, the loop ends or ``finish()`` is called.
    ///
    /// - Parameter bufferingPolicy: what this subscription keeps while its reader is busy;
    ///   `.unbounded` (the default) keeps everything.
    public func subscribe(
        bufferingPolicy: AsyncStream<PasserelleEvent>.Continuation.BufferingPolicy = .unbounded
    ) -> AsyncStream<PasserelleEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: PasserelleEvent.self, bufferingPolicy: bufferingPolicy)
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        // Set before the subscription is registered, so no ending can miss it. AsyncStream runs
        // it outside its own lock (it takes ours) when the reader's task is cancelled, its loop
        // ends or the stream is finished.
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        let isOpen = state.withLock { state in
            guard !state.finished else { return false }
            // Replayed under the lock, so an event emitted meanwhile cannot overtake them.
            for event in state.unheard { continuation.yield(event) }
            state.unheard.removeAll()
            state.subscribers[id] = continuation
            return true
        }
        if !isOpen { continuation.finish() }
        return stream
    }

    /// Called by the library on its event thread; hands the event to every subscription, or keeps
    /// it for the next one when there is none. Never blocks on a reader.
    public func onEvent(event: PasserelleEvent) {
        state.withLock { state in
            guard !state.finished else { return }
            if state.subscribers.isEmpty {
                guard replayLimit > 0 else { return }
                if state.unheard.count == replayLimit { state.unheard.removeFirst() }
                state.unheard.append(event)
            } else {
                // Yielding under the lock keeps every subscription in the library's order;
                // `yield` only enqueues (or resumes a waiting reader's continuation), it runs no
                // reader code.
                for continuation in state.subscribers.values { continuation.yield(event) }
            }
        }
    }

    /// Ends every subscription (a `for await` loop finishes after its buffered events) and every
    /// later one.
    public func finish() {
        let ending = state.withLock { state in
            state.finished = true
            state.unheard.removeAll()
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        // Outside the lock: `finish` runs the termination handler, which takes the lock.
        for continuation in ending { continuation.finish() }
    }
}

/// A value guarded by a lock, for state the library's threads and Swift tasks share.
///
/// `NSLock` rather than `Mutex` (iOS 18) or `OSAllocatedUnfairLock` (Apple only): the package
/// supports iOS 16 and its tests run on Linux.
final class Locked<Value: Sendable>: @unchecked Sendable {
    // @unchecked: `value` is only touched inside `lock`.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
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
