import AuthenticationServices
import PasserelleDemoKit
import UIKit

/// Opens HubRise's consent page in `ASWebAuthenticationSession` (never an embedded web view), in
/// an ephemeral session, and returns the callback to the app's custom scheme.
@MainActor
final class WebAuthenticationSessionAuthenticator: NSObject, WebAuthenticator, ASWebAuthenticationPresentationContextProviding {
    private var session: ASWebAuthenticationSession?

    func authenticate(url: URL, callbackScheme: String) async throws -> URL {
        defer { session = nil }
        return try await withCheckedThrowingContinuation { continuation in
            let session = ASWebAuthenticationSession(url: url, callbackURLScheme: callbackScheme) { callback, error in
                if let callback {
                    continuation.resume(returning: callback)
                } else if let error = error as? ASWebAuthenticationSessionError, error.code == .canceledLogin {
                    continuation.resume(throwing: WebAuthenticationCancelled())
                } else {
                    continuation.resume(throwing: error ?? WebAuthenticationCancelled())
                }
            }
            // No cookies shared with Safari: each connection signs in to HubRise afresh.
            session.prefersEphemeralWebBrowserSession = true
            session.presentationContextProvider = self
            self.session = session
            if !session.start() {
                // Not started: the completion handler will never run.
                continuation.resume(throwing: WebAuthenticationCancelled())
            }
        }
    }

    nonisolated func presentationAnchor(for session: ASWebAuthenticationSession) -> ASPresentationAnchor {
        MainActor.assumeIsolated {
            UIApplication.shared.connectedScenes
                .compactMap { ($0 as? UIWindowScene)?.keyWindow }
                .first ?? ASPresentationAnchor()
        }
    }
}
