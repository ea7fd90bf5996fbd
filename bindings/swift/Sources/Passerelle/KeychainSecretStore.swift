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
    /// holds no mutable state. A write that races another writer of the same key (both find no
    /// item, one adds it first) updates the item the other added instead of failing. Failures are
    /// thrown as ``SecretStoreError/unavailable(reason:)`` with the `OSStatus`, never with a secret.
    public final class KeychainSecretStore: SecretStore, Sendable {
        /// The Keychain service (`kSecAttrService`) the items are filed under.
        public let service: String
        /// The Keychain access group (`kSecAttrAccessGroup`) to share items with app extensions,
        /// or `nil` for the app's default group.
        public let accessGroup: String?
        private let items: KeychainItems

        /// - Parameters:
        ///   - service: the Keychain service name; use one of your own, such as
        ///     `"com.example.pos.passerelle"`.
        ///   - accessGroup: a Keychain access group shared with extensions, or `nil`.
        public init(service: String = "passerelle", accessGroup: String? = nil) {
            self.service = service
            self.accessGroup = accessGroup
            items = KeychainItems(api: SecItemAPI(service: service, accessGroup: accessGroup))
        }

        /// The secret stored under `key`, or `nil` when there is none.
        public func get(key: String) throws -> String? {
            try items.value(for: key)
        }

        /// Stores `value` under `key`, replacing any previous value.
        public func set(key: String, value: String) throws {
            try items.set(value, for: key)
        }

        /// Deletes the secret under `key`; deleting a missing key succeeds.
        public func delete(key: String) throws {
            try items.delete(key)
        }

        /// Deletes every item of ``service`` (a "reset this iPad" action). Passerelle's own
        /// sign-out already deletes the account's secrets.
        public func deleteAll() throws {
            try items.delete(nil)
        }
    }

    /// The Keychain calls, on generic passwords of one service (and access group).
    struct SecItemAPI: KeychainAPI {
        let service: String
        let accessGroup: String?

        private func query(_ account: String?) -> [CFString: Any] {
            var query: [CFString: Any] = [
                kSecClass: kSecClassGenericPassword,
                kSecAttrService: service,
                kSecUseDataProtectionKeychain: true,
            ]
            if let account { query[kSecAttrAccount] = account }
            if let accessGroup { query[kSecAttrAccessGroup] = accessGroup }
            return query
        }

        private func attributes(_ data: Data) -> [CFString: Any] {
            [kSecValueData: data, kSecAttrAccessible: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly]
        }

        func copy(account: String) -> (status: Int32, data: Data?) {
            var query = query(account)
            query[kSecReturnData] = true
            query[kSecMatchLimit] = kSecMatchLimitOne
            var result: CFTypeRef?
            let status = SecItemCopyMatching(query as CFDictionary, &result)
            return (status, result as? Data)
        }

        func add(account: String, data: Data) -> Int32 {
            SecItemAdd(query(account).merging(attributes(data)) { $1 } as CFDictionary, nil)
        }

        func update(account: String, data: Data) -> Int32 {
            SecItemUpdate(query(account) as CFDictionary, attributes(data) as CFDictionary)
        }

        func delete(account: String?) -> Int32 {
            SecItemDelete(query(account) as CFDictionary)
        }

        func message(for status: Int32) -> String? {
            SecCopyErrorMessageString(status, nil) as String?
        }
    }
#endif
