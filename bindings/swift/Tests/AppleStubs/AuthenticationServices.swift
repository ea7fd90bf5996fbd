// A stand-in for Apple's AuthenticationServices with the web-authentication declarations the demo
// app uses, so its sources type-check on Linux in Swift 6 mode (ios-demo/check-apple-sources.sh).
// Not a target; never linked; no behaviour.
//
// As in the iOS 18.0 SDK: the completion handler is a plain (not `@Sendable`, not main-actor)
// block, called on a queue of the framework's choosing, so a closure written inside a
// `@MainActor` method that does not say `@Sendable` inherits the main actor and traps under
// Swift 6 when the framework calls it elsewhere. `init(url:callback:completionHandler:)` and
// `ASWebAuthenticationSession.Callback` are iOS 17.4+; `init(url:callbackURLScheme:...)` is the
// older initializer Apple deprecates.
@_exported import Foundation
import UIKit

public typealias ASPresentationAnchor = UIWindow

public protocol ASWebAuthenticationPresentationContextProviding: NSObjectProtocol {
    func presentationAnchor(for session: ASWebAuthenticationSession) -> ASPresentationAnchor
}

public struct ASWebAuthenticationSessionError: Error, Hashable, Sendable {
    public enum Code: Int, Sendable {
        case canceledLogin = 1
        case presentationContextNotProvided = 2
        case presentationContextInvalid = 3
    }
    public let code: Code
    public static var canceledLogin: Code { .canceledLogin }
}

open class ASWebAuthenticationSession: NSObject {
    public typealias CompletionHandler = (URL?, (any Error)?) -> Void

    @available(iOS 17.4, macOS 14.4, *)
    open class Callback: NSObject {
        override private init() {}
        open class func customScheme(_ customScheme: String) -> Self { fatalError() }
        open class func https(host: String, path: String) -> Self { fatalError() }
        open func matchesURL(_ url: URL) -> Bool { false }
    }

    @available(iOS, introduced: 12.0, deprecated: 100000.0, message: "Use init(url:callback:completionHandler:)")
    public init(url URL: URL, callbackURLScheme: String?, completionHandler: @escaping CompletionHandler) {}

    @available(iOS 17.4, macOS 14.4, *)
    public init(url URL: URL, callback: Callback, completionHandler: @escaping CompletionHandler) {}

    weak open var presentationContextProvider: (any ASWebAuthenticationPresentationContextProviding)?
    open var prefersEphemeralWebBrowserSession = false
    @available(iOS 17.4, macOS 14.4, *)
    open var additionalHeaderFields: [String: String]?
    open var canStart: Bool { true }
    open func start() -> Bool { true }
    open func cancel() {}
}
