import Foundation

extension PasserelleError {
    /// A stable code (`"invalid_credentials"`, `"connection_revoked"`, ...) to localise and log.
    public var code: String { passerelleErrorCode(error: self) }

    /// Whether retrying later may succeed without the user doing anything.
    public var isRetryable: Bool { passerelleErrorIsRetryable(error: self) }
}
