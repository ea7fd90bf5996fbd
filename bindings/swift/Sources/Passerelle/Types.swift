import Foundation
import PasserelleBindings

// The records and enums of the library, as the generated bindings (the module
// `PasserelleBindings`, which this package does not re-export) declare them. Apps name them
// through this module: `Passerelle.Order`, or `Order` where nothing of the app's is called so.
// What the bindings spell otherwise than Swift does is not here: the class (``Client``), the
// errors (``PasserelleError``, ``SecretStoreError``), the secret store (``SecretStore``),
// ``HubriseAuthorization`` and ``PasserelleConfig`` are written in this module; ``POSAccount``
// and ``OpenURLOutcome`` are the bindings' types under their Swift names.

public typealias ApplyMode = PasserelleBindings.ApplyMode
public typealias BackendStatus = PasserelleBindings.BackendStatus
public typealias ConfigChange = PasserelleBindings.ConfigChange
public typealias ConnectionHealth = PasserelleBindings.ConnectionHealth
public typealias ConnectionOrigin = PasserelleBindings.ConnectionOrigin
public typealias ConnectionState = PasserelleBindings.ConnectionState
public typealias DatabaseRecovery = PasserelleBindings.DatabaseRecovery
public typealias DelayReason = PasserelleBindings.DelayReason
public typealias DisconnectOutcome = PasserelleBindings.DisconnectOutcome
public typealias ErasureReport = PasserelleBindings.ErasureReport
public typealias ErasureScope = PasserelleBindings.ErasureScope
public typealias EventListener = PasserelleBindings.EventListener
public typealias FailedChange = PasserelleBindings.FailedChange
public typealias HubriseConnection = PasserelleBindings.HubriseConnection
public typealias HubriseConnectionOptions = PasserelleBindings.HubriseConnectionOptions
public typealias LogField = PasserelleBindings.LogField
public typealias LogLevel = PasserelleBindings.LogLevel
public typealias LogRecord = PasserelleBindings.LogRecord
public typealias Money = PasserelleBindings.Money
/// What ``Client/handleOpenURL(_:)`` did with the URL.
public typealias OpenURLOutcome = PasserelleBindings.OpenUrlOutcome
public typealias Order = PasserelleBindings.Order
public typealias OrderCharge = PasserelleBindings.OrderCharge
public typealias OrderCursor = PasserelleBindings.OrderCursor
public typealias OrderCustomer = PasserelleBindings.OrderCustomer
public typealias OrderDiscount = PasserelleBindings.OrderDiscount
public typealias OrderFilter = PasserelleBindings.OrderFilter
public typealias OrderItem = PasserelleBindings.OrderItem
public typealias OrderOption = PasserelleBindings.OrderOption
public typealias OrderPayment = PasserelleBindings.OrderPayment
public typealias OrderStatus = PasserelleBindings.OrderStatus
public typealias OrderSummary = PasserelleBindings.OrderSummary
public typealias PasserelleEvent = PasserelleBindings.PasserelleEvent
public typealias PasserelleLogger = PasserelleBindings.PasserelleLogger
public typealias POSAccount = PasserelleBindings.PosAccount
public typealias QuarantinedItem = PasserelleBindings.QuarantinedItem
public typealias RateLimits = PasserelleBindings.RateLimits
public typealias Retention = PasserelleBindings.Retention
public typealias RetentionReport = PasserelleBindings.RetentionReport
public typealias Settings = PasserelleBindings.Settings
public typealias SignOutMode = PasserelleBindings.SignOutMode
public typealias SignOutOutcome = PasserelleBindings.SignOutOutcome
public typealias SyncHealth = PasserelleBindings.SyncHealth
public typealias SyncReport = PasserelleBindings.SyncReport
public typealias SyncState = PasserelleBindings.SyncState
public typealias TokenExchange = PasserelleBindings.TokenExchange

/// What the host needs to open HubRise's consent page, from
/// ``Client/beginHubriseConnection(options:)`` or ``Client/beginHubriseConnectionViaPOSBackend(options:)``.
public struct HubriseAuthorization: Equatable, Hashable, Sendable {
    /// Open this in `ASWebAuthenticationSession` (never an embedded web view), or show it as a
    /// QR code.
    public var authorizeURL: URL
    /// The attempt's one-time state; needed to complete an out-of-band attempt.
    public var state: String
    /// The custom scheme `ASWebAuthenticationSession` waits for (`callback: .customScheme`);
    /// `nil` out of band and for https redirects.
    public var callbackURLScheme: String?
    /// For an https redirect (the POS backend's, or the app's universal link): the host
    /// `ASWebAuthenticationSession` waits for on iOS 17.4 and later (`callback: .https(host:path:)`);
    /// `nil` otherwise.
    public var callbackHTTPSHost: String?
    /// The path that goes with ``callbackHTTPSHost``.
    public var callbackHTTPSPath: String?
    /// After this the attempt can no longer complete (HubRise codes live 10 minutes).
    public var expiresAt: Date

    public init(
        authorizeURL: URL, state: String, callbackURLScheme: String?, callbackHTTPSHost: String?,
        callbackHTTPSPath: String?, expiresAt: Date
    ) {
        self.authorizeURL = authorizeURL
        self.state = state
        self.callbackURLScheme = callbackURLScheme
        self.callbackHTTPSHost = callbackHTTPSHost
        self.callbackHTTPSPath = callbackHTTPSPath
        self.expiresAt = expiresAt
    }

    init(_ authorization: PasserelleBindings.HubriseAuthorization) {
        self.init(
            authorizeURL: authorization.authorizeUrl, state: authorization.state,
            callbackURLScheme: authorization.callbackUrlScheme, callbackHTTPSHost: authorization.callbackHttpsHost,
            callbackHTTPSPath: authorization.callbackHttpsPath, expiresAt: authorization.expiresAt)
    }
}

/// Implemented by the host: a small key/value store for secrets (``KeychainSecretStore`` on
/// Apple platforms, ``InMemorySecretStore`` in tests). Keys are opaque, not secret. Methods are
/// synchronous; they are called with no lock of the library held that a synchronous method of
/// the library takes: a store may call the library back. Failures throw ``SecretStoreError``.
public protocol SecretStore: AnyObject, Sendable {
    /// The secret under `key`, `nil` when there is none.
    func get(key: String) throws -> String?
    /// Stores `value` under `key`, replacing what was there.
    func set(key: String, value: String) throws
    /// Deletes the secret under `key`; deleting a missing key succeeds.
    func delete(key: String) throws
}

/// Everything the host tells Passerelle at ``Client/open(config:secrets:events:)``. Holds no
/// secret: the HubRise client secret, when the direct strategy needs one, is read from the host's
/// secret store.
public struct PasserelleConfig: Equatable, Hashable, Sendable {
    /// Directory that holds the SQLite database. Created when missing.
    public var dataDir: String
    /// Base URL of the POS backend (identity, broker, HubRise configuration).
    public var posBaseURL: String
    /// OAuth client id of the POS app at its own backend.
    public var posClientId: String
    /// HubRise OAuth base, e.g. `https://manager.hubrise.com/oauth2/v1`.
    public var hubriseOAuthURL: String
    /// HubRise API base, e.g. `https://api.hubrise.com/v1`.
    public var hubriseAPIURL: String
    /// The app's HubRise client id.
    public var clientId: String
    /// The redirect URI registered at HubRise (custom scheme, or `urn:ietf:wg:oauth:2.0:oob`).
    public var redirectURI: String
    /// Per-install device id sent to HubRise; generated and kept when `nil`.
    public var deviceId: String?
    /// A name people recognise for this till ("Caisse 1 — iPad de Bella"): HubRise shows each
    /// connection's `device_id` on its CONNECTIONS page, so when ``deviceId`` is `nil` the one
    /// generated is this label in HubRise's characters plus a short suffix
    /// (`Caisse-1-iPad-de-Bella-k3f9`). Once sent to HubRise it never changes for this install.
    public var deviceLabel: String?
    /// Who exchanges authorization codes; the broker by default.
    public var tokenExchange: TokenExchange
    /// HubRise's rate limits, kept to by the client.
    public var rateLimits: RateLimits
    /// Settings used when the database holds none yet; afterwards
    /// ``Client/updateSettings(settings:)`` changes them.
    public var initialSettings: Settings
    /// What is pruned and scrubbed, and when; `nil` means the library's default retention.
    public var retention: Retention?

    public init(
        dataDir: String, posBaseURL: String, posClientId: String, hubriseOAuthURL: String, hubriseAPIURL: String,
        clientId: String, redirectURI: String, deviceId: String?, deviceLabel: String? = nil,
        tokenExchange: TokenExchange, rateLimits: RateLimits, initialSettings: Settings, retention: Retention? = nil
    ) {
        self.dataDir = dataDir
        self.posBaseURL = posBaseURL
        self.posClientId = posClientId
        self.hubriseOAuthURL = hubriseOAuthURL
        self.hubriseAPIURL = hubriseAPIURL
        self.clientId = clientId
        self.redirectURI = redirectURI
        self.deviceId = deviceId
        self.deviceLabel = deviceLabel
        self.tokenExchange = tokenExchange
        self.rateLimits = rateLimits
        self.initialSettings = initialSettings
        self.retention = retention
    }

    /// The same configuration as the bindings spell it.
    var bindings: PasserelleBindings.PasserelleConfig {
        PasserelleBindings.PasserelleConfig(
            dataDir: dataDir, posBaseUrl: posBaseURL, posClientId: posClientId, hubriseOauthUrl: hubriseOAuthURL,
            hubriseApiUrl: hubriseAPIURL, clientId: clientId, redirectUri: redirectURI, deviceId: deviceId,
            deviceLabel: deviceLabel, tokenExchange: tokenExchange, rateLimits: rateLimits,
            initialSettings: initialSettings, retention: retention)
    }
}
