import PasserelleBindings

// The library's errors, with lowerCamel cases as Swift writes enum cases (and as
// `PasserelleEvent`'s are). The bindings' own enums (UpperCamel, as UniFFI writes errors) stay in
// `PasserelleBindings`; ``Client`` turns every error it gets into these. The two conversions
// below are exhaustive switches: a case added in Rust stops the build here until it is added.
// The stable codes (``PasserelleError/code``) come from the library and do not depend on
// these names.

/// What went wrong, typed so the host can react (retry, ask to reconnect, show a message).
/// ``code`` is stable, ``isRetryable`` says whether trying later may succeed, and
/// ``userMessage(in:)`` words it for the restaurant.
public enum PasserelleError: Error, Equatable, Hashable, Sendable {
    /// A field of `PasserelleConfig` is unusable (malformed URL, empty client id, ...).
    case invalidConfig(field: String, reason: String)
    /// The data directory is missing and cannot be created, or cannot be written.
    case dataDirectory(path: String, reason: String)
    /// The database file was not a Passerelle database or was corrupt. It was moved aside, never
    /// deleted; opening again starts from an empty database.
    case corruptDatabase(movedTo: String)
    /// Another Passerelle instance (in this process or another) has this data directory open.
    /// Close it first (`close()`), or use another directory.
    case dataDirectoryInUse(path: String)
    /// This instance was closed (`close()`): open a new one.
    case closed
    /// The database was written by a newer Passerelle; it was left untouched.
    case newerSchema(found: UInt32, supported: UInt32)
    /// SQLite failed in a way that is not corruption (disk full, I/O error, ...).
    case storage(reason: String)
    /// The host's secret store (Keychain) refused an operation.
    case secretStore(reason: String)
    /// The operation needs a signed-in POS account.
    case notSignedIn
    /// The POS account's e-mail or password is wrong. Not retried automatically.
    case invalidCredentials
    /// Too many wrong passwords: the POS backend refuses sign-in for a while.
    case lockedOut(retryAfterSecs: UInt64)
    /// The POS session expired and could not be refreshed: sign in again.
    case sessionExpired
    /// The network or a server failed in a way that may pass: try again later.
    case network(reason: String)
    /// A server answered something this client cannot use (HTML instead of JSON, a missing field).
    case unexpectedResponse(service: String, reason: String)
    /// A server's answer was larger than Passerelle reads (a few MB for orders and pages, less
    /// for tokens and errors): it was not read.
    case responseTooLarge(service: String, limitBytes: UInt64)
    /// The token handed over for a connection made off the device is for another location or
    /// account than the one shown for confirmation: nothing was routed.
    case connectionMismatch(reason: String)
    /// The OAuth callback URL does not match the configured redirect URI.
    case redirectMismatch(reason: String)
    /// The callback carries no `state`.
    case stateMissing
    /// The callback's `state` belongs to no connection attempt started on this device.
    case stateUnknown
    /// The callback's `state` was already used (a replayed callback).
    case stateReplayed
    /// The callback's `state` does not belong to the attempt it was given for.
    case stateMismatch
    /// The connection attempt is older than HubRise's 10-minute code lifetime.
    case flowExpired
    /// The restaurant clicked "Deny" on HubRise's consent page.
    case accessDenied
    /// The callback carries neither a code nor an error.
    case codeMissing
    /// HubRise (or the broker) refused the code: expired, already used or unknown.
    case invalidGrant(reason: String)
    /// HubRise refused the client credentials (wrong client id or secret).
    case invalidClient
    /// HubRise refused the access token: the connection was revoked, blocked or suspended.
    case connectionRevoked(reason: String)
    /// HubRise's rate limit was reached.
    case rateLimited(retryAfterSecs: UInt64)
    /// HubRise answered with an error this client has no better name for.
    case hubriseAPI(status: UInt16, errorType: String, message: String)
    /// No connection or order has this id.
    case notFound(what: String)
    /// The operation is not allowed in the current state (e.g. confirm an active connection).
    case invalidState(reason: String)
    /// The caller cancelled the operation (its Swift task was cancelled); its work stopped.
    case cancelled
    /// A bug: a panic or an invariant broken inside the library. Never a crash of the host.
    case `internal`(reason: String)
}

extension PasserelleError {
    /// The library's error as Swift writes its cases.
    init(_ error: PasserelleBindings.PasserelleError) {
        switch error {
        case .InvalidConfig(let field, let reason): self = .invalidConfig(field: field, reason: reason)
        case .DataDirectory(let path, let reason): self = .dataDirectory(path: path, reason: reason)
        case .CorruptDatabase(let movedTo): self = .corruptDatabase(movedTo: movedTo)
        case .DataDirectoryInUse(let path): self = .dataDirectoryInUse(path: path)
        case .Closed: self = .closed
        case .NewerSchema(let found, let supported): self = .newerSchema(found: found, supported: supported)
        case .Storage(let reason): self = .storage(reason: reason)
        case .SecretStore(let reason): self = .secretStore(reason: reason)
        case .NotSignedIn: self = .notSignedIn
        case .InvalidCredentials: self = .invalidCredentials
        case .LockedOut(let retryAfterSecs): self = .lockedOut(retryAfterSecs: retryAfterSecs)
        case .SessionExpired: self = .sessionExpired
        case .Network(let reason): self = .network(reason: reason)
        case .UnexpectedResponse(let service, let reason): self = .unexpectedResponse(service: service, reason: reason)
        case .ResponseTooLarge(let service, let limitBytes): self = .responseTooLarge(service: service, limitBytes: limitBytes)
        case .ConnectionMismatch(let reason): self = .connectionMismatch(reason: reason)
        case .RedirectMismatch(let reason): self = .redirectMismatch(reason: reason)
        case .StateMissing: self = .stateMissing
        case .StateUnknown: self = .stateUnknown
        case .StateReplayed: self = .stateReplayed
        case .StateMismatch: self = .stateMismatch
        case .FlowExpired: self = .flowExpired
        case .AccessDenied: self = .accessDenied
        case .CodeMissing: self = .codeMissing
        case .InvalidGrant(let reason): self = .invalidGrant(reason: reason)
        case .InvalidClient: self = .invalidClient
        case .ConnectionRevoked(let reason): self = .connectionRevoked(reason: reason)
        case .RateLimited(let retryAfterSecs): self = .rateLimited(retryAfterSecs: retryAfterSecs)
        case .HubriseApi(let status, let errorType, let message): self = .hubriseAPI(status: status, errorType: errorType, message: message)
        case .NotFound(let what): self = .notFound(what: what)
        case .InvalidState(let reason): self = .invalidState(reason: reason)
        case .Cancelled: self = .cancelled
        case .Internal(let reason): self = .internal(reason: reason)
        }
    }

    /// The same error as the library's bindings spell it.
    var bindings: PasserelleBindings.PasserelleError {
        switch self {
        case .invalidConfig(let field, let reason): .InvalidConfig(field: field, reason: reason)
        case .dataDirectory(let path, let reason): .DataDirectory(path: path, reason: reason)
        case .corruptDatabase(let movedTo): .CorruptDatabase(movedTo: movedTo)
        case .dataDirectoryInUse(let path): .DataDirectoryInUse(path: path)
        case .closed: .Closed
        case .newerSchema(let found, let supported): .NewerSchema(found: found, supported: supported)
        case .storage(let reason): .Storage(reason: reason)
        case .secretStore(let reason): .SecretStore(reason: reason)
        case .notSignedIn: .NotSignedIn
        case .invalidCredentials: .InvalidCredentials
        case .lockedOut(let retryAfterSecs): .LockedOut(retryAfterSecs: retryAfterSecs)
        case .sessionExpired: .SessionExpired
        case .network(let reason): .Network(reason: reason)
        case .unexpectedResponse(let service, let reason): .UnexpectedResponse(service: service, reason: reason)
        case .responseTooLarge(let service, let limitBytes): .ResponseTooLarge(service: service, limitBytes: limitBytes)
        case .connectionMismatch(let reason): .ConnectionMismatch(reason: reason)
        case .redirectMismatch(let reason): .RedirectMismatch(reason: reason)
        case .stateMissing: .StateMissing
        case .stateUnknown: .StateUnknown
        case .stateReplayed: .StateReplayed
        case .stateMismatch: .StateMismatch
        case .flowExpired: .FlowExpired
        case .accessDenied: .AccessDenied
        case .codeMissing: .CodeMissing
        case .invalidGrant(let reason): .InvalidGrant(reason: reason)
        case .invalidClient: .InvalidClient
        case .connectionRevoked(let reason): .ConnectionRevoked(reason: reason)
        case .rateLimited(let retryAfterSecs): .RateLimited(retryAfterSecs: retryAfterSecs)
        case .hubriseAPI(let status, let errorType, let message): .HubriseApi(status: status, errorType: errorType, message: message)
        case .notFound(let what): .NotFound(what: what)
        case .invalidState(let reason): .InvalidState(reason: reason)
        case .cancelled: .Cancelled
        case .internal(let reason): .Internal(reason: reason)
        }
    }
}

/// A failure of the host's secret store (``SecretStore``), thrown by the store.
public enum SecretStoreError: Error, Equatable, Hashable, Sendable {
    /// The store refused or failed (device locked, Keychain error, ...).
    case unavailable(reason: String)
}

extension SecretStoreError {
    /// The library's error as Swift writes its cases.
    init(_ error: PasserelleBindings.SecretStoreError) {
        switch error {
        case .Unavailable(let reason): self = .unavailable(reason: reason)
        }
    }

    /// The same error as the library's bindings spell it.
    var bindings: PasserelleBindings.SecretStoreError {
        switch self {
        case .unavailable(let reason): .Unavailable(reason: reason)
        }
    }
}

