import Foundation

/// The library's events as an `AsyncStream`, for a `for await` loop in a view model.
///
/// Create one per ``Passerelle`` instance, pass it to ``Passerelle/open(config:secrets:events:)``
/// and iterate ``stream`` once, from one task:
///
/// ```swift
/// let events = PasserelleEvents()
/// let app = try await Passerelle.openProtected(config: config, secrets: KeychainSecretStore(),
///                                              events: events)
/// Task { @MainActor in
///     for await event in events.stream {
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
/// - Events are delivered in the order the library emitted them, from the moment the object is
///   created: those emitted while `open` runs (a configuration applied, a restart required) wait
///   in the buffer until the loop reads them.
/// - The buffer is unbounded by default; pass a ``init(bufferingPolicy:)`` policy to bound it
///   (the orders stay in the database either way: re-read them with ``Passerelle/orders(filter:)``).
/// - `AsyncStream` has one consumer: iterate ``stream`` from a single task. Fan out inside that
///   loop if several screens need the events.
/// - The library calls ``onEvent(event:)`` on its own thread and never waits for the loop.
/// - Cancelling the iterating task ends the stream for good; so does ``finish()``.
public final class PasserelleEvents: EventListener, Sendable {
    /// Every event, in order. Iterate it once, from one task.
    public let stream: AsyncStream<PasserelleEvent>
    private let continuation: AsyncStream<PasserelleEvent>.Continuation

    /// Creates the listener and its stream.
    ///
    /// - Parameter bufferingPolicy: what to keep while nobody reads; `.unbounded` (the default)
    ///   keeps everything.
    public init(bufferingPolicy: AsyncStream<PasserelleEvent>.Continuation.BufferingPolicy = .unbounded) {
        (stream, continuation) = AsyncStream.makeStream(of: PasserelleEvent.self, bufferingPolicy: bufferingPolicy)
    }

    deinit {
        continuation.finish()
    }

    /// Called by the library on its event thread; hands the event to ``stream``.
    public func onEvent(event: PasserelleEvent) {
        continuation.yield(event)
    }

    /// Ends ``stream``: a `for await` loop over it finishes after the buffered events.
    public func finish() {
        continuation.finish()
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
