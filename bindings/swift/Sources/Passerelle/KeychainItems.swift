import Foundation

/// The four Keychain calls ``KeychainSecretStore`` makes, for one service: `SecItemCopyMatching`,
/// `SecItemAdd`, `SecItemUpdate` and `SecItemDelete`, each answering an `OSStatus`.
///
/// A seam so that what the store does with the statuses (``KeychainItems``) compiles and is tested
/// on every platform; the real calls (`SecItemAPI`) exist only where Security does.
protocol KeychainAPI: Sendable {
    /// The data of `account`'s item (`SecItemCopyMatching`, one item, its data returned).
    func copy(account: String) -> (status: Int32, data: Data?)
    /// Adds `account`'s item holding `data` (`SecItemAdd`).
    func add(account: String, data: Data) -> Int32
    /// Replaces the data of `account`'s item (`SecItemUpdate`).
    func update(account: String, data: Data) -> Int32
    /// Deletes `account`'s item, or every item of the service when `account` is `nil`
    /// (`SecItemDelete`).
    func delete(account: String?) -> Int32
    /// The system's words for `status` (`SecCopyErrorMessageString`), when it has some.
    func message(for status: Int32) -> String?
}

/// The `OSStatus` values the store tells apart, as numbers: Security's constants do not exist on
/// Linux, where this logic is tested.
enum KeychainStatus {
    /// `errSecSuccess`.
    static let success: Int32 = 0
    /// `errSecItemNotFound`.
    static let itemNotFound: Int32 = -25300
    /// `errSecDuplicateItem`.
    static let duplicateItem: Int32 = -25299
}

/// What ``KeychainSecretStore`` does with the Keychain's answers: a missing item is `nil` or
/// nothing to delete, a write updates or adds, and every failure becomes
/// ``SecretStoreError/unavailable(reason:)`` with the `OSStatus`, never with a secret.
struct KeychainItems: Sendable {
    /// How many times ``set(_:for:)`` tries update-then-add when other writers keep adding or
    /// deleting the same item between its two calls.
    static let writeRounds = 3

    let api: any KeychainAPI

    func value(for account: String) throws -> String? {
        let (status, data) = api.copy(account: account)
        switch status {
        case KeychainStatus.success:
            guard let data, let value = String(data: data, encoding: .utf8) else {
                throw SecretStoreError.unavailable(reason: "Keychain item for a key is not UTF-8 text")
            }
            return value
        case KeychainStatus.itemNotFound:
            return nil
        default:
            throw failure("read", status)
        }
    }

    /// Updates the item, or adds it when there is none. When another thread or process adds the
    /// same item between the update and the add, the add answers `errSecDuplicateItem`: the item
    /// now exists, so the update is tried again, up to ``writeRounds`` times.
    func set(_ value: String, for account: String) throws {
        let data = Data(value.utf8)
        var added = KeychainStatus.success
        for _ in 0..<Self.writeRounds {
            switch api.update(account: account, data: data) {
            case KeychainStatus.success: return
            case KeychainStatus.itemNotFound: break
            case let updated: throw failure("update", updated)
            }
            added = api.add(account: account, data: data)
            switch added {
            case KeychainStatus.success: return
            case KeychainStatus.duplicateItem: continue  // another writer added it first
            default: throw failure("add", added)
            }
        }
        throw failure("add", added)
    }

    /// Deletes `account`'s item, or every item of the service for `nil`; nothing to delete succeeds.
    func delete(_ account: String?) throws {
        let status = api.delete(account: account)
        guard status == KeychainStatus.success || status == KeychainStatus.itemNotFound else {
            throw failure(account == nil ? "delete all" : "delete", status)
        }
    }

    private func failure(_ operation: String, _ status: Int32) -> SecretStoreError {
        // errSecInteractionNotAllowed (-25308): the device is locked and the item is not yet
        // readable (before the first unlock after a reboot).
        let message = api.message(for: status) ?? "unknown"
        return SecretStoreError.unavailable(reason: "Keychain \(operation) failed: \(status) (\(message))")
    }
}
