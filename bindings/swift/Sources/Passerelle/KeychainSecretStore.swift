#if canImport(Security)
    import Foundation
    import Security

    /// A ``SecretStore`` backed by the Keychain: POS session tokens and HubRise access tokens.
    ///
    /// Items are generic passwords (`kSecClassGenericPassword`) under one service name, readable
    /// after the first unlock following a reboot and never leaving this device
    /// (`kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`): background sync works while the iPad
    /// is locked, and backups or a new iPad never carry the tokens.
    ///
    /// The library calls it from its own threads; the Keychain API is thread-safe, and the store
    /// holds no mutable state. Failures are thrown as ``SecretStoreError/Unavailable(reason:)``
    /// with the `OSStatus`, never with a secret.
    public final class KeychainSecretStore: SecretStore, Sendable {
        /// The Keychain service (`kSecAttrService`) the items are filed under.
        public let service: String
        /// The Keychain access group (`kSecAttrAccessGroup`) to share items with app extensions,
        /// or `nil` for the app's default group.
        public let accessGroup: String?

        /// - Parameters:
        ///   - service: the Keychain service name; use one of your own, such as
        ///     `"com.example.pos.passerelle"`.
        ///   - accessGroup: a Keychain access group shared with extensions, or `nil`.
        public init(service: String = "passerelle", accessGroup: String? = nil) {
            self.service = service
            self.accessGroup = accessGroup
        }

        private func query(_ key: String? = nil) -> [CFString: Any] {
            var query: [CFString: Any] = [
                kSecClass: kSecClassGenericPassword,
                kSecAttrService: service,
                kSecUseDataProtectionKeychain: true,
            ]
            if let key { query[kSecAttrAccount] = key }
            if let accessGroup { query[kSecAttrAccessGroup] = accessGroup }
            return query
        }

        /// The secret stored under `key`, or `nil` when there is none.
        public func get(key: String) throws -> String? {
            var query = query(key)
            query[kSecReturnData] = true
            query[kSecMatchLimit] = kSecMatchLimitOne
            var result: CFTypeRef?
            let status = SecItemCopyMatching(query as CFDictionary, &result)
            switch status {
            case errSecSuccess:
                guard let data = result as? Data, let value = String(data: data, encoding: .utf8) else {
                    throw SecretStoreError.Unavailable(reason: "Keychain item for a key is not UTF-8 text")
                }
                return value
            case errSecItemNotFound:
                return nil
            default:
                throw Self.failure("read", status)
            }
        }

        /// Stores `value` under `key`, replacing any previous value.
        public func set(key: String, value: String) throws {
            let attributes: [CFString: Any] = [
                kSecValueData: Data(value.utf8),
                kSecAttrAccessible: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
            ]
            let status = SecItemUpdate(query(key) as CFDictionary, attributes as CFDictionary)
            switch status {
            case errSecSuccess:
                return
            case errSecItemNotFound:
                let added = SecItemAdd(query(key).merging(attributes) { $1 } as CFDictionary, nil)
                guard added == errSecSuccess else { throw Self.failure("add", added) }
            default:
                throw Self.failure("update", status)
            }
        }

        /// Deletes the secret under `key`; deleting a missing key succeeds.
        public func delete(key: String) throws {
            let status = SecItemDelete(query(key) as CFDictionary)
            guard status == errSecSuccess || status == errSecItemNotFound else {
                throw Self.failure("delete", status)
            }
        }

        /// Deletes every item of ``service`` (a "reset this iPad" action). Passerelle's own
        /// sign-out already deletes the account's secrets.
        public func deleteAll() throws {
            let status = SecItemDelete(query() as CFDictionary)
            guard status == errSecSuccess || status == errSecItemNotFound else {
                throw Self.failure("delete all", status)
            }
        }

        private static func failure(_ operation: String, _ status: OSStatus) -> SecretStoreError {
            // errSecInteractionNotAllowed (-25308): the device is locked and the item is not yet
            // readable (before the first unlock after a reboot).
            let message = SecCopyErrorMessageString(status, nil) as String? ?? "unknown"
            return SecretStoreError.Unavailable(reason: "Keychain \(operation) failed: \(status) (\(message))")
        }
    }
#endif
