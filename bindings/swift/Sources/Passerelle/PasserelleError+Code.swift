import Foundation

extension PasserelleError {
    /// A stable code (`"invalid_credentials"`, `"connection_revoked"`, `"cancelled"`, ...) to
    /// localise and log.
    ///
    /// Codes never change once published, so a host may key its own strings or analytics on them.
    /// ``userMessage(in:)`` already turns every code into words for the restaurant.
    public var code: String { bindings.stableCode() }

    /// Whether retrying later may succeed without the user doing anything (network failures,
    /// HubRise's rate limit, a busy disk, HubRise's 5xx answers).
    public var isRetryable: Bool { bindings.retryable() }
}
