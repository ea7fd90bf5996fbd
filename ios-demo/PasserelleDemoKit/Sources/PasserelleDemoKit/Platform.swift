import Foundation

/// Opens HubRise's consent page and returns the callback URL it redirects to.
///
/// On iOS: `ASWebAuthenticationSession` with an ephemeral session and the app's custom scheme
/// (PasserelleDemo/WebAuthenticationSession.swift). In tests: the sandbox's consent page played
/// with URLSession. Throw ``WebAuthenticationCancelled`` when the person closes the page.
public protocol WebAuthenticator: Sendable {
    @MainActor func authenticate(url: URL, callbackScheme: String) async throws -> URL
}

/// The person closed the consent page: not a failure, nothing to tell.
public struct WebAuthenticationCancelled: Error, Equatable {
    public init() {}
}

/// Sounds the new-order alert (AudioToolbox on iOS: PasserelleDemo/SystemSoundAlert.swift).
public protocol NewOrderAlert: Sendable {
    @MainActor func newOrderArrived()
}

/// The scene phase, mirrored from SwiftUI's `ScenePhase` (not available on Linux).
public enum AppLifecycle: Sendable, Equatable {
    case active, inactive, background
}
