import Foundation

/// The directory holding Passerelle's SQLite database, prepared the way iOS needs it.
///
/// On iOS the directory gets the file protection class *complete until first user
/// authentication* (`FileProtectionType.completeUntilFirstUserAuthentication`), which files
/// created in it later (the database, its WAL and shared-memory files) inherit. It matches
/// ``KeychainSecretStore``'s accessibility: after the first unlock following a reboot, Passerelle
/// can read both while the iPad is locked, so sync keeps working on a till left locked.
/// Secrets are never in the database (they live in the ``SecretStore``).
public enum PasserelleDataDirectory: Sendable {
    /// `Application Support/Passerelle` in the app's container.
    public static func defaultURL() throws -> URL {
        try FileManager.default
            .url(for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
            .appendingPathComponent("Passerelle", isDirectory: true)
    }

    /// Creates the directory if needed and, on iOS, applies the file protection class to it and to
    /// every file already in it, and excludes it from backups.
    ///
    /// Excluded from backups because the Keychain items it refers to are "this device only": a
    /// database restored on another iPad would list connections whose tokens stayed behind.
    ///
    /// - Throws: ``PasserelleError/dataDirectory(path:reason:)`` when the directory cannot be
    ///   created or protected.
    public static func prepare(_ url: URL, excludeFromBackup: Bool = true) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            #if os(iOS)
                let protection: [FileAttributeKey: Any] = [
                    .protectionKey: FileProtectionType.completeUntilFirstUserAuthentication
                ]
                try FileManager.default.setAttributes(protection, ofItemAtPath: url.path)
                for name in try FileManager.default.contentsOfDirectory(atPath: url.path) {
                    try FileManager.default.setAttributes(
                        protection, ofItemAtPath: url.appendingPathComponent(name).path)
                }
                if excludeFromBackup {
                    var values = URLResourceValues()
                    values.isExcludedFromBackup = true
                    var directory = url
                    try directory.setResourceValues(values)
                }
            #endif
        } catch {
            throw PasserelleError.dataDirectory(path: url.lastPathComponent, reason: error.localizedDescription)
        }
    }
}

extension Client {
    /// Prepares the data directory (``PasserelleDataDirectory/prepare(_:excludeFromBackup:)``: file
    /// protection on iOS) and opens Passerelle on it. Use it instead of
    /// ``open(config:secrets:events:)`` in an app.
    ///
    /// ```swift
    /// var config = PasserelleConfig(dataDir: try PasserelleDataDirectory.defaultURL().path, ...)
    /// let app = try await Client.openProtected(config: config,
    ///                                          secrets: KeychainSecretStore(service: "com.example.pos.passerelle"),
    ///                                          events: events)
    /// ```
    public static func openProtected(
        config: PasserelleConfig, secrets: SecretStore, events: EventListener
    ) async throws -> Client {
        try PasserelleDataDirectory.prepare(URL(fileURLWithPath: config.dataDir, isDirectory: true))
        let app = try await open(config: config, secrets: secrets, events: events)
        // What `open` announced (unseen orders, a database recovered) has reached `events`
        // before this returns, however late the library's event thread: every subscription made
        // afterwards that asks for the unheard events gets it (at most 5 s of waiting).
        _ = try await app.eventsDelivered()
        return app
    }
}
