import Foundation

/// A ``SecretStore`` that keeps secrets in memory only: for tests, previews and the sandbox.
///
/// Secrets are lost when the process ends, so a real app uses ``KeychainSecretStore``.
public final class InMemorySecretStore: SecretStore, @unchecked Sendable {
    // Guarded by `lock`: the library calls from its own threads.
    private var values: [String: String] = [:]
    private let lock = NSLock()

    public init() {}

    public func get(key: String) throws -> String? {
        lock.withLock { values[key] }
    }

    public func set(key: String, value: String) throws {
        lock.withLock { values[key] = value }
    }

    public func delete(key: String) throws {
        lock.withLock { _ = values.removeValue(forKey: key) }
    }

    /// The keys currently held, sorted; useful to assert that sign-out cleaned up.
    public var keys: [String] {
        lock.withLock { values.keys.sorted() }
    }
}
