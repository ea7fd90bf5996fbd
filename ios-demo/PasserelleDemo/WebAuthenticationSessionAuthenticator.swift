import AuthenticationServices
import PasserelleDemoKit
import UIKit

/// Opens HubRise's consent page in `ASWebAuthenticationSession` (never an embedded web view), in
/// an ephemeral session, and returns HubRise's redirect to the app.
///
/// - iOS 17.4 and later: `init(url:callback:completionHandler:)` with a `.customScheme` callback
///   (`passerelle-demo://oauth/hubrise`) or an `.https(host:path:)` one (a redirect through the
///   POS backend to an associated domain); earlier systems: the older
///   `init(url:callbackURLScheme:completionHandler:)` (custom schemes only).
/// - Under Guided Access the session does not start: that, and any refusal of `start()`, throws
///   ``WebAuthenticationUnavailable``, and the connections screen opens the pasted-code flow and
///   says why. Nothing is ever silently dropped.
/// - The completion handler is `@Sendable` and made outside the main actor: AuthenticationServices
///   calls it on a queue of its choosing, where a handler that inherited the main actor's
///   isolation would trap under Swift 6.
@MainActor
final class WebAuthenticationSessionAuthenticator: NSObject, WebAuthenticator, ASWebAuthenticationPresentationContextProviding {
    private var session: ASWebAuthenticationSession?

    func authenticate(url: URL, callback: WebAuthenticationCallback) async throws -> URL {
        // ASWebAuthenticationSession does not start under Guided Access: say so before trying.
        if UIAccessibility.isGuidedAccessEnabled {
            throw WebAuthenticationUnavailable(.guidedAccess)
        }
        defer { session = nil }
        return try await withCheckedThrowingContinuation { continuation in
            let completion = Self.completion(resuming: continuation)
            let session: ASWebAuthenticationSession
            if #available(iOS 17.4, *) {
                let sessionCallback: ASWebAuthenticationSession.Callback
                switch callback {
                case .customScheme(let scheme): sessionCallback = .customScheme(scheme)
                case .https(let host, let path): sessionCallback = .https(host: host, path: path)
                }
                session = ASWebAuthenticationSession(url: url, callback: sessionCallback, completionHandler: completion)
            } else {
                guard case .customScheme(let scheme) = callback else {
                    return continuation.resume(throwing: WebAuthenticationUnavailable(.httpsCallbackNeedsNewerSystem))
                }
                session = ASWebAuthenticationSession(url: url, callbackURLScheme: scheme, completionHandler: completion)
            }
            // No cookies shared with Safari: each connection signs in to HubRise afresh.
            session.prefersEphemeralWebBrowserSession = true
            session.presentationContextProvider = self
            self.session = session
            if !session.start() {
                // Not started (Guided Access turned on meanwhile, no window to present from): the
                // completion handler will never run. Never silent: the pasted code takes over.
                continuation.resume(throwing: WebAuthenticationUnavailable(
                    UIAccessibility.isGuidedAccessEnabled ? .guidedAccess : .notStarted))
            }
        }
    }

    /// The session's completion handler: `@Sendable` and nonisolated, whatever queue calls it.
    private nonisolated static func completion(
        resuming continuation: CheckedContinuation<URL, any Error>
    ) -> ASWebAuthenticationSession.CompletionHandler {
        { @Sendable callbackURL, error in
            if let callbackURL {
                continuation.resume(returning: callbackURL)
            } else if let error = error as? ASWebAuthenticationSessionError, error.code == .canceledLogin {
                continuation.resume(throwing: WebAuthenticationCancelled())
            } else {
                continuation.resume(throwing: error ?? WebAuthenticationCancelled())
            }
        }
    }

    nonisolated func presentationAnchor(for session: ASWebAuthenticationSession) -> ASPresentationAnchor {
        // AuthenticationServices asks from the main thread.
        MainActor.assumeIsolated {
            UIApplication.shared.connectedScenes
                .compactMap { ($0 as? UIWindowScene)?.keyWindow }
                .first ?? ASPresentationAnchor()
        }
    }
}
