import AuthenticationServices
import Passerelle
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
///   says why. Nothing is ever silently dropped, and the caller is resumed once even when a session
///   that did not start calls its completion handler (``runWebAuthenticationSession``).
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
        // Resumed once whatever the session does: one that does not start (Guided Access turned
        // on meanwhile, no window to present from) throws `notStarted`, never silent, and the
        // pasted code takes over; its completion handler, if it still runs, is dropped.
        return try await runWebAuthenticationSession(
            notStarted: WebAuthenticationUnavailable(UIAccessibility.isGuidedAccessEnabled ? .guidedAccess : .notStarted)
        ) { finish in
            let session = try Self.makeSession(url: url, callback: callback, completion: Self.completion(finish))
            // No cookies shared with Safari: each connection signs in to HubRise afresh.
            session.prefersEphemeralWebBrowserSession = true
            session.presentationContextProvider = self
            self.session = session
            return session.start()
        }
    }

    /// The session for `callback`: the iOS 17.4 initializer when the system has it, else the
    /// older one, which knows custom schemes only.
    private static func makeSession(
        url: URL, callback: WebAuthenticationCallback, completion: @escaping ASWebAuthenticationSession.CompletionHandler
    ) throws -> ASWebAuthenticationSession {
        if #available(iOS 17.4, *) {
            let sessionCallback: ASWebAuthenticationSession.Callback
            switch callback {
            case .customScheme(let scheme): sessionCallback = .customScheme(scheme)
            case .https(let host, let path): sessionCallback = .https(host: host, path: path)
            }
            return ASWebAuthenticationSession(url: url, callback: sessionCallback, completionHandler: completion)
        }
        guard case .customScheme(let scheme) = callback else {
            throw WebAuthenticationUnavailable(.httpsCallbackNeedsNewerSystem)
        }
        return ASWebAuthenticationSession(url: url, callbackURLScheme: scheme, completionHandler: completion)
    }

    /// The session's completion handler: `@Sendable` and nonisolated, whatever queue calls it.
    private nonisolated static func completion(
        _ finish: @escaping @Sendable (Result<URL, any Error>) -> Void
    ) -> ASWebAuthenticationSession.CompletionHandler {
        { @Sendable callbackURL, error in
            if let callbackURL {
                finish(.success(callbackURL))
            } else if let error = error as? ASWebAuthenticationSessionError, error.code == .canceledLogin {
                finish(.failure(WebAuthenticationCancelled()))
            } else {
                finish(.failure(error ?? WebAuthenticationCancelled()))
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
