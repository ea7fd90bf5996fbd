import Foundation
import Passerelle

/// A step that did not finish in time.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    /// What was awaited.
    public let what: String
    /// The time allowed.
    public let seconds: Double
    /// "… did not finish within … s".
    public var description: String { "\(what) did not finish within \(seconds) s" }

    /// - Parameters: what was awaited, and the time allowed.
    public init(what: String, seconds: Double) {
        self.what = what
        self.seconds = seconds
    }
}

/// Runs `body` and throws ``DeadlineExceeded`` if it has not finished after `seconds`, so that a
/// test fails instead of hanging CI.
///
/// The body runs in its own task. When time is up this returns at once, without waiting for the
/// body (a call into the library may not react to cancellation); the body is cancelled.
public func withDeadline<T: Sendable>(
    _ seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = Race<T>()
    return try await withCheckedThrowingContinuation { continuation in
        race.arm(continuation)
        let work = Task { race.finish(await Result(catching: body)) }
        Task {
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
            if race.finish(.failure(DeadlineExceeded(what: what, seconds: seconds))) { work.cancel() }
        }
    }
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass (then throws ``DeadlineExceeded``).
///
/// For state that changes in the background (an order arriving, a status reaching HubRise).
public func eventually(
    _ seconds: Double = 15, _ what: String, _ condition: @escaping @Sendable () async throws -> Bool
) async throws {
    let start = Date()
    while try await !condition() {
        if Date().timeIntervalSince(start) > seconds { throw DeadlineExceeded(what: what, seconds: seconds) }
        try await Task.sleep(nanoseconds: 20_000_000)
    }
}

/// The first continuation resume wins; later ones are dropped.
private final class Race<T: Sendable>: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var result: Result<T, any Error>?

    func arm(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = lock.withLock {
            if let result { return result }
            self.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    /// Returns whether this call decided the race.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let (won, waiting): (Bool, CheckedContinuation<T, any Error>?) = lock.withLock {
            guard self.result == nil else { return (false, nil) }
            self.result = result
            let waiting = continuation
            continuation = nil
            return (true, waiting)
        }
        waiting?.resume(with: result)
        return won
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

/// Records a subscription to ``PasserelleEvents`` from a background task, so tests can wait for an
/// event seen before or after they ask.
public final class EventRecorder: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var events: [PasserelleEvent] = []
    private var task: Task<Void, Never>?

    /// Subscribes to `events` (receiving the unheard events first) and starts reading.
    public init(_ events: PasserelleEvents) {
        let stream = events.subscribe(replay: .unheard)
        task = Task { [weak self] in
            for await event in stream {
                guard let self else { return }
                self.lock.withLock { self.events.append(event) }
            }
        }
    }

    deinit {
        task?.cancel()
    }

    /// Every event so far.
    public var all: [PasserelleEvent] {
        lock.withLock { events }
    }

    /// Waits until an event matches `predicate` (seen before or after the call) and returns it.
    public func wait(
        _ seconds: Double = 15, for what: String, _ predicate: @escaping @Sendable (PasserelleEvent) -> Bool
    ) async throws -> PasserelleEvent {
        try await eventually(seconds, what) { self.all.contains(where: predicate) }
        guard let event = all.first(where: predicate) else { throw DeadlineExceeded(what: what, seconds: seconds) }
        return event
    }
}

/// Turns a freeze into a failure within seconds: unless ``disarm()`` is called within `seconds`,
/// it names what froze on standard error and aborts the process.
///
/// For deadlock tests, where the frozen thread may be the main thread itself, so that nothing
/// awaiting on it (``withDeadline(_:_:_:)``) could ever report. It watches from a thread of its
/// own; the test binary's outer watchdog (scripts/watchdog.sh) prints every thread's stack when
/// a process stops making progress.
public final class Watchdog: Sendable {
    private let done = DispatchSemaphore(value: 0)

    /// Starts watching: `what` must be done within `seconds`.
    public init(_ seconds: Double, _ what: String) {
        let done = done
        let thread = Thread {
            guard done.wait(timeout: .now() + seconds) == .timedOut else { return }
            FileHandle.standardError.write(Data("FROZEN: \(what) did not finish within \(seconds) s\n".utf8))
            abort()
        }
        thread.name = "watchdog"
        thread.start()
    }

    /// What was watched finished.
    public func disarm() {
        done.signal()
    }
}

/// Aborts the test process when a loop stops making progress: no ``progress()`` for `seconds`.
/// For stress loops whose whole duration depends on the machine (the Thread Sanitizer makes them
/// five times slower), where a freeze shows as one round that never ends.
public final class StallWatchdog: Sendable {
    private let last = Locked(Date())
    private let done = Locked(false)

    /// Starts watching: each round of `what` must end within `seconds` of the previous one.
    public init(_ seconds: Double, _ what: String) {
        let (last, done) = (last, done)
        let thread = Thread {
            while !done.withLock({ $0 }) {
                Thread.sleep(forTimeInterval: 0.1)
                let still = Date().timeIntervalSince(last.withLock { $0 })
                guard still > seconds, !done.withLock({ $0 }) else { continue }
                FileHandle.standardError.write(Data("FROZEN: \(what) made no progress for \(seconds) s\n".utf8))
                abort()
            }
        }
        thread.name = "stall watchdog"
        thread.start()
    }

    /// A round ended.
    public func progress() {
        last.withLock { $0 = Date() }
    }

    /// What was watched finished.
    public func disarm() {
        done.withLock { $0 = true }
    }
}

/// Plays the library's event thread: calls ``PasserelleEvents/onEvent(event:)`` with `event` in a
/// loop on a thread of its own, `pause` microseconds apart, until ``stop()``. A pause lets readers
/// catch up and wait for the next event, the moment a cancellation races a `yield`.
public final class EventFlood: Sendable {
    private let stopped = Locked(false)
    private let ended = DispatchSemaphore(value: 0)

    /// Starts emitting `event` into `events`.
    public init(_ events: PasserelleEvents, event: PasserelleEvent, pause: UInt32 = 2) {
        let (stopped, ended) = (stopped, ended)
        let thread = Thread {
            while !stopped.withLock({ $0 }) {
                events.onEvent(event: event)
                usleep(pause)
            }
            ended.signal()
        }
        thread.name = "passerelle-events"
        thread.start()
    }

    /// Stops emitting and waits for the thread's last call to return.
    public func stop() {
        stopped.withLock { $0 = true }
        ended.wait()
    }
}

