import Foundation

/// Runs one web-authentication session (`ASWebAuthenticationSession` on iOS) to its callback URL
/// and resumes the caller exactly once, whatever the session does.
///
/// `start` makes the session with the completion handler it is given, starts it and returns what
/// its `start()` answered. When that is `false` the caller gets `notStarted` (the app then offers
/// the pasted code), and a completion the session still calls, during `start()` or later (iOS can
/// report `presentationContextInvalid` for a session that never showed), is dropped: a second
/// resume of the continuation would crash the app. An error `start` throws reaches the caller.
///
/// ```swift
/// let callbackURL = try await runWebAuthenticationSession(notStarted: CancellationError()) { completion in
///     let session = ASWebAuthenticationSession(url: authorizeURL, callbackURLScheme: "passerelle-demo") {
///         @Sendable url, error in completion(url.map { .success($0) } ?? .failure(error ?? CancellationError()))
///     }
///     session.presentationContextProvider = presenter
///     return session.start()
/// }
/// ```
@MainActor
public func runWebAuthenticationSession(
    notStarted: @autoclosure () -> any Error,
    start: (_ completion: @escaping @Sendable (Result<URL, any Error>) -> Void) throws -> Bool
) async throws -> URL {
    try await withCheckedThrowingContinuation { continuation in
        let outcome = WebAuthenticationOutcome(continuation)
        do {
            let started = try start { outcome.complete($0) }
            outcome.started(started ? nil : .failure(notStarted()))
        } catch {
            outcome.started(.failure(error))
        }
    }
}

/// Where a web-authentication session's outcome goes: a completion during `start()` waits for
/// `start()`'s answer; a session that did not start (or threw) wins over any completion; the
/// continuation is resumed once, outside the lock.
private final class WebAuthenticationOutcome: @unchecked Sendable {
    // @unchecked: `state` is only touched under `lock`.
    private enum State {
        case starting(completion: Result<URL, any Error>?)
        case started
        case resumed
    }

    private let lock = NSLock()
    private var state = State.starting(completion: nil)
    private let continuation: CheckedContinuation<URL, any Error>

    init(_ continuation: CheckedContinuation<URL, any Error>) {
        self.continuation = continuation
    }

    /// The session's completion handler ran, on any thread, at any time.
    func complete(_ result: Result<URL, any Error>) {
        let resume: Result<URL, any Error>? = lock.withLock {
            switch state {
            case .starting(nil):
                state = .starting(completion: result)  // until start() answers
                return nil
            case .starting, .resumed:
                return nil  // a second completion, or one after the caller was answered
            case .started:
                state = .resumed
                return result
            }
        }
        if let resume { continuation.resume(with: resume) }
    }

    /// `start()` answered: `failure` when the session did not start (or could not be made).
    func started(_ failure: Result<URL, any Error>?) {
        let resume: Result<URL, any Error>? = lock.withLock {
            guard case .starting(let completion) = state else { return nil }
            if let failure {
                state = .resumed
                return failure
            }
            guard let completion else {
                state = .started
                return nil
            }
            state = .resumed
            return completion
        }
        if let resume { continuation.resume(with: resume) }
    }
}
