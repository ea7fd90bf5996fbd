import Foundation

/// ``PasserelleError`` as Foundation shows it: `localizedDescription`, `NSError`, alerts.
///
/// ```swift
/// } catch {
///     errorText = error.localizedDescription   // "L’e-mail ou le mot de passe est incorrect."
///     let nsError = error as NSError            // domain "com.passerelle.error", code 8
///     log(nsError.userInfo[PasserelleError.codeUserInfoKey])   // "invalid_credentials"
/// }
/// ```
///
/// - ``errorDescription`` (hence `localizedDescription`, and what SwiftUI's
///   `alert(isPresented:error:actions:)` shows) is the message for the restaurant
///   (``userMessage(in:)``'s message), ``recoverySuggestion`` its next step and
///   ``failureReason`` the message again, in the app's language (``PasserelleLanguage/preferred``).
///   For logs, `String(describing: error)` gives the case and its fields.
/// - ``errorDomain`` and ``errorCode`` identify the failure for analytics and support: each code
///   has a number that is never reused or changed; ``codeUserInfoKey`` holds the code itself.
extension PasserelleError: LocalizedError {
    /// What happened, in the app's language (``userMessage(in:)``'s message).
    public var errorDescription: String? { userMessage().message }

    /// What happened, in the app's language: the same text as ``errorDescription``, for
    /// `NSError`'s `localizedFailureReason`.
    public var failureReason: String? { userMessage().message }

    /// The next step, in the app's language (``userMessage(in:)``'s next step).
    public var recoverySuggestion: String? { userMessage().nextStep }
}

extension PasserelleError: CustomNSError {
    /// The `NSError` domain of every ``PasserelleError``: `"com.passerelle.error"`.
    public static var errorDomain: String { "com.passerelle.error" }

    /// The `userInfo` key of the stable code (``code``, `"invalid_credentials"`, ...):
    /// `"PasserelleErrorCode"`.
    public static let codeUserInfoKey = "PasserelleErrorCode"

    /// The code's number, fixed for good (`invalid_credentials` is 8, `network` 11, ...); 0 for
    /// a code this version of the package does not know yet.
    public var errorCode: Int { Self.codeNumbers[code] ?? 0 }

    /// The message, the next step and the code, for `NSError`: written out, so every platform's
    /// bridging finds the same texts beside the code.
    public var errorUserInfo: [String: Any] {
        let message = userMessage()
        return [
            NSLocalizedDescriptionKey: message.message,
            NSLocalizedFailureReasonErrorKey: message.message,
            NSLocalizedRecoverySuggestionErrorKey: message.nextStep,
            Self.codeUserInfoKey: code,
        ]
    }

    /// Every code's number. Append new codes with the next number; never renumber or reuse one,
    /// hosts store and compare them.
    static let codeNumbers: [String: Int] = [
        "invalid_config": 1,
        "data_directory": 2,
        "corrupt_database": 3,
        "newer_schema": 4,
        "storage": 5,
        "secret_store": 6,
        "not_signed_in": 7,
        "invalid_credentials": 8,
        "locked_out": 9,
        "session_expired": 10,
        "network": 11,
        "unexpected_response": 12,
        "redirect_mismatch": 13,
        "state_missing": 14,
        "state_unknown": 15,
        "state_replayed": 16,
        "state_mismatch": 17,
        "flow_expired": 18,
        "access_denied": 19,
        "code_missing": 20,
        "invalid_grant": 21,
        "invalid_client": 22,
        "connection_revoked": 23,
        "rate_limited": 24,
        "hubrise_api": 25,
        "not_found": 26,
        "invalid_state": 27,
        "internal": 28,
        "data_directory_in_use": 29,
        "closed": 30,
        "response_too_large": 31,
        "connection_mismatch": 32,
        "cancelled": 33,
    ]
}
