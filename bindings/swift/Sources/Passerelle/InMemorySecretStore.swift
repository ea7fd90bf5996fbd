import Foundation

/// A ``SecretStore`` that keeps secrets in memory only: for tests, previews and the sandbox.
///
/// Secrets are lost when the process ends, so a real app uses ``KeychainSecretStore``.
public final class InMemorySecretStore: SecretStore, @unchecked Sendable {
    // Guarded by `lock`: the library calls from its own threads.
    private var values: [String: String] = [:]
    private let lock = NSLock()

    /// An empty store.
    public init() {}

    /// The secret stored under `key`, or `nil`.
    public func get(key: String) throws -> String? {
        lock.withLock { values[key] }
    }

    /// Stores `value` under `key`, replacing any previous value.
    public func set(key: String, value: String) throws {
        lock.withLock { values[key] = value }
    }

    /// Deletes the secret under `key`; deleting a missing key succeeds.
    public func delete(key: String) throws {
        lock.withLock { _ = values.removeValue(forKey: key) }
    }

    /// The keys currently held, sorted; useful to assert that sign-out cleaned up.
    public var keys: [String] {
        lock.withLock { values.keys.sorted() }
    }
}
