import Foundation

/// Opens HubRise's consent page and returns the callback URL it redirects to.
///
/// On iOS: `ASWebAuthenticationSession` with an ephemeral session
/// (PasserelleDemo/WebAuthenticationSessionAuthenticator.swift). In tests: the sandbox's consent
/// page played with URLSession. Throw ``WebAuthenticationCancelled`` when the person closes the
/// page, and ``WebAuthenticationUnavailable`` when the page cannot open here (Guided Access): the
/// app then offers the pasted code instead, never nothing.
public protocol WebAuthenticator: Sendable {
    @MainActor func authenticate(url: URL, callback: WebAuthenticationCallback) async throws -> URL
}

/// Which redirect ends the web authentication: the app's custom scheme, or (iOS 17.4 and later)
/// an https address the app is associated with (a universal link).
public enum WebAuthenticationCallback: Sendable, Equatable {
    case customScheme(String)
    case https(host: String, path: String)

    /// The callback for the app's redirect URI: `passerelle-demo://oauth/hubrise` gives
    /// `.customScheme("passerelle-demo")`, `https://pos.example/hubrise/callback` gives
    /// `.https(host: "pos.example", path: "/hubrise/callback")`. `nil` for an out-of-band or
    /// malformed URI.
    public init?(redirectURI: String) {
        guard let url = URL(string: redirectURI), let scheme = url.scheme?.lowercased(), scheme != "urn" else { return nil }
        if scheme == "https" {
            guard let host = url.host, !host.isEmpty else { return nil }
            self = .https(host: host.lowercased(), path: url.path.isEmpty ? "/" : url.path)
        } else if scheme == "http" {
            return nil
        } else {
            self = .customScheme(scheme)
        }
    }

    /// Whether HubRise's redirect to `url` is this callback.
    public func matches(_ url: URL) -> Bool {
        switch self {
        case .customScheme(let scheme):
            url.scheme?.lowercased() == scheme.lowercased()
        case .https(let host, let path):
            url.scheme?.lowercased() == "https" && url.host?.lowercased() == host.lowercased() && url.path == path
        }
    }
}

/// The person closed the consent page: not a failure, nothing to tell.
public struct WebAuthenticationCancelled: Error, Equatable {
    public init() {}
}

/// HubRise's page cannot open in the browser sheet on this iPad now. The connections screen then
/// starts the pasted-code connection and says why.
public struct WebAuthenticationUnavailable: Error, Equatable {
    public enum Reason: Sendable, Equatable {
        /// Guided Access is on: `ASWebAuthenticationSession` does not start under it.
        case guidedAccess
        /// The browser sheet refused to start (no window to present from, another sheet open).
        case notStarted
        /// An https callback needs iOS 17.4; this iPad runs an older system.
        case httpsCallbackNeedsNewerSystem
    }

    public let reason: Reason

    public init(_ reason: Reason) {
        self.reason = reason
    }
}

/// Sounds the new-order alert (AudioToolbox on iOS: PasserelleDemo/SystemSoundAlert.swift).
public protocol NewOrderAlert: Sendable {
    @MainActor func newOrderArrived()
}

/// The scene phase, mirrored from SwiftUI's `ScenePhase` (not available on Linux).
public enum AppLifecycle: Sendable, Equatable {
    case active, inactive, background
}

