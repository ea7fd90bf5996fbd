import Foundation
import Passerelle
import PasserelleSandbox

/// Where the demo connects: the POS backend, HubRise's OAuth server and API, and the client ids.
///
/// The demo points at a local `passerelle-sandbox serve` by default; the settings screen loads
/// another sandbox from its admin URL. Each environment gets its own data directory and
/// Keychain service (``storageKey``), so switching never mixes accounts.
public struct DemoEnvironment: Codable, Sendable, Equatable {
    public var posUrl: String
    public var hubriseOauthUrl: String
    public var hubriseApiUrl: String
    public var clientId: String
    public var posClientId: String
    public var redirectUri: String
    public var scope: String
    public var pollIntervalSecs: UInt32
    /// The e-mail to add in HubRise's back office to give support access.
    public var supportEmail: String
    /// The sandbox's admin API, when this environment is a sandbox (for test orders).
    public var sandboxAdminUrl: String?
    /// The token that admin API asks for (a sandbox on the Mac's network prints one at start).
    public var sandboxAdminToken: String?

    public init(
        posUrl: String, hubriseOauthUrl: String, hubriseApiUrl: String, clientId: String, posClientId: String,
        redirectUri: String = DemoEnvironment.redirectUri, scope: String, pollIntervalSecs: UInt32 = 30,
        supportEmail: String, sandboxAdminUrl: String? = nil, sandboxAdminToken: String? = nil
    ) {
        self.posUrl = posUrl
        self.hubriseOauthUrl = hubriseOauthUrl
        self.hubriseApiUrl = hubriseApiUrl
        self.clientId = clientId
        self.posClientId = posClientId
        self.redirectUri = redirectUri
        self.scope = scope
        self.pollIntervalSecs = pollIntervalSecs
        self.supportEmail = supportEmail
        self.sandboxAdminUrl = sandboxAdminUrl
        self.sandboxAdminToken = sandboxAdminToken
    }

    /// The app's OAuth redirect URI; its scheme is the one `ASWebAuthenticationSession` waits for
    /// and the app declares (project.yml, `CFBundleURLTypes`).
    public static let redirectUri = "passerelle-demo://oauth/hubrise"

    /// The sandbox started with fixed ports, as the demo's README says:
    /// `cargo run -p passerelle-sandbox -- serve --ports 8480,8481,8482`.
    public static func localSandbox(supportEmail: String) -> DemoEnvironment {
        DemoEnvironment(
            posUrl: "http://127.0.0.1:8482",
            hubriseOauthUrl: "http://127.0.0.1:8480/oauth2/v1",
            hubriseApiUrl: "http://127.0.0.1:8481/v1",
            clientId: "459691768564.clients.hubrise.com",
            posClientId: "passerelle-ios",
            scope: "location[orders.write,customer_list.write,catalog.read]",
            pollIntervalSecs: 5,
            supportEmail: supportEmail,
            sandboxAdminUrl: "http://127.0.0.1:8480/_sandbox")
    }

    /// The environment of the sandbox whose admin API is at `adminURL` (`GET {admin}/seed`, with
    /// `token` when the sandbox printed one).
    public static func fromSandbox(
        adminURL: URL, token: String? = nil, supportEmail: String, pollIntervalSecs: UInt32 = 5
    ) async throws -> DemoEnvironment {
        let admin = SandboxAdmin(adminURL: adminURL, token: token)
        let info = try await admin.info()
        return DemoEnvironment(
            posUrl: info.posUrl, hubriseOauthUrl: info.hubriseOauthUrl, hubriseApiUrl: info.hubriseApiUrl,
            clientId: info.clientId, posClientId: info.seed.posClientId, scope: info.seed.scope,
            pollIntervalSecs: pollIntervalSecs, supportEmail: supportEmail, sandboxAdminUrl: info.adminUrl,
            sandboxAdminToken: admin.token)
    }

    /// HubRise's production servers with the POS vendor's backend, from the app's Info.plist
    /// (`PasserelleProductionPOSURL`, `PasserelleProductionPOSClientID`,
    /// `PasserelleHubriseClientID`, set in project.yml). Polls every 30 s, HubRise's minimum.
    public static func production(
        posUrl: String, posClientId: String, hubriseClientId: String, supportEmail: String
    ) -> DemoEnvironment {
        DemoEnvironment(
            posUrl: posUrl,
            hubriseOauthUrl: "https://manager.hubrise.com/oauth2/v1",
            hubriseApiUrl: "https://api.hubrise.com/v1",
            clientId: hubriseClientId,
            posClientId: posClientId,
            scope: "location[orders.write,customer_list.write,catalog.read]",
            pollIntervalSecs: 30,
            supportEmail: supportEmail)
    }

    /// The admin API of a sandbox on a machine of this network, from what the person types: the
    /// Mac's address (`192.168.1.20`, `my-mac.local`), with the manager port when it is not 8480.
    public static func sandboxAdminURL(macAddress: String) -> URL? {
        let typed = macAddress.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !typed.isEmpty, !typed.contains("/"), !typed.contains(" ") else { return nil }
        let hostAndPort = typed.contains(":") && !typed.hasPrefix("[") || typed.contains("]:") ? typed : "\(typed):8480"
        guard let url = URL(string: "http://\(hostAndPort)/_sandbox"), url.host != nil else { return nil }
        return url
    }

    /// Whether the servers are HubRise's production ones.
    public var isProduction: Bool { hubriseApiUrl == "https://api.hubrise.com/v1" }

    /// A short stable name for this environment's data directory and Keychain service.
    public var storageKey: String {
        // FNV-1a: stable across launches and platforms (Hasher is seeded per process).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(posUrl)|\(hubriseApiUrl)|\(clientId)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    /// Passerelle's configuration for this environment, with its data in `dataDir`.
    public func passerelleConfig(dataDir: String) -> PasserelleConfig {
        PasserelleConfig(
            dataDir: dataDir,
            posBaseURL: posUrl,
            posClientId: posClientId,
            hubriseOAuthURL: hubriseOauthUrl,
            hubriseAPIURL: hubriseApiUrl,
            clientId: clientId,
            redirectURI: redirectUri,
            deviceId: nil,
            tokenExchange: .broker,
            rateLimits: RateLimits(perMinute: 500, perHour: 2500, perDay: 10000, heavyPerMinute: 10, minuteMs: 60000),
            initialSettings: Settings(pollIntervalSecs: pollIntervalSecs, applyMode: .onRestart, scope: scope))
    }
}

/// Keeps the chosen environment between launches.
public protocol EnvironmentStore: Sendable {
    func load() -> DemoEnvironment?
    func save(_ environment: DemoEnvironment)
}

/// ``EnvironmentStore`` in `UserDefaults` (JSON under one key).
public struct UserDefaultsEnvironmentStore: EnvironmentStore {
    private let key: String

    public init(key: String = "PasserelleDemo.environment") {
        self.key = key
    }

    public func load() -> DemoEnvironment? {
        UserDefaults.standard.data(forKey: key).flatMap { try? JSONDecoder().decode(DemoEnvironment.self, from: $0) }
    }

    public func save(_ environment: DemoEnvironment) {
        if let data = try? JSONEncoder().encode(environment) { UserDefaults.standard.set(data, forKey: key) }
    }
}

/// ``EnvironmentStore`` in memory, for tests and previews.
public final class MemoryEnvironmentStore: EnvironmentStore, @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var environment: DemoEnvironment?

    public init(_ environment: DemoEnvironment? = nil) {
        self.environment = environment
    }

    public func load() -> DemoEnvironment? { lock.withLock { environment } }
    public func save(_ environment: DemoEnvironment) { lock.withLock { self.environment = environment } }
}
