import Foundation

/// The library's events as an `AsyncStream`, for `for await` loops in view models.
///
/// Pass it to ``Passerelle/open(config:secrets:events:)`` and iterate ``stream``:
/// ```swift
/// let events = PasserelleEvents()
/// let app = try await Passerelle.open(config: config, secrets: KeychainSecretStore(), events: events)
/// Task { for await event in events.stream { handle(event) } }
/// ```
/// Events are buffered without limit until read, in the order the library emitted them.
public final class PasserelleEvents: EventListener, Sendable {
    /// Every event, in order. Iterate it once.
    public let stream: AsyncStream<PasserelleEvent>
    private let continuation: AsyncStream<PasserelleEvent>.Continuation

    public init() {
        (stream, continuation) = AsyncStream.makeStream(of: PasserelleEvent.self)
    }

    /// Called by the library on its event thread; hands the event to the stream.
    public func onEvent(event: PasserelleEvent) {
        continuation.yield(event)
    }

    /// Ends the stream (for example when the view model goes away).
    public func finish() {
        continuation.finish()
    }
}
