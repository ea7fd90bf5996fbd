// A stand-in for Apple's UIKit with the declarations the demo app uses, so its sources type-check
// on Linux in Swift 6 mode (ios-demo/check-apple-sources.sh). Not a target; never linked; no
// behaviour. UIKit's classes are `@MainActor` (`NS_SWIFT_UI_ACTOR`); where the isolation of a
// declaration was not compared with the iOS 18.0 SDK, the stand-in is at least as strict.
@_exported import Foundation

@MainActor @preconcurrency open class UIResponder: NSObject {}

@MainActor @preconcurrency open class UIView: UIResponder {}

@MainActor @preconcurrency open class UIWindow: UIView {
    override public init() {}
}

@MainActor @preconcurrency open class UIScene: UIResponder {}

@MainActor @preconcurrency open class UIWindowScene: UIScene {
    open var keyWindow: UIWindow? { nil }
}

@MainActor @preconcurrency open class UIApplication: UIResponder {
    public static let shared = UIApplication()
    open var isIdleTimerDisabled = false
    open var connectedScenes: Set<UIScene> { [] }
}

@MainActor @preconcurrency open class UIPasteboard: NSObject {
    public static let general = UIPasteboard()
    open var string: String?
}

public enum UIKeyboardType: Int, Sendable {
    case `default`, asciiCapable, numbersAndPunctuation, URL, numberPad, phonePad, namePhonePad, emailAddress
}

public struct UITextContentType: Hashable, Sendable, RawRepresentable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let username = UITextContentType(rawValue: "username")
    public static let password = UITextContentType(rawValue: "password")
    public static let emailAddress = UITextContentType(rawValue: "emailAddress")
    public static let URL = UITextContentType(rawValue: "URL")
}

/// `UIAccessibilityIsGuidedAccessEnabled()` and its notification, as Swift names them.
public struct UIAccessibility {
    @MainActor @preconcurrency public static var isGuidedAccessEnabled: Bool { false }
    public static let guidedAccessStatusDidChangeNotification = Notification.Name("UIAccessibilityGuidedAccessStatusDidChangeNotification")
}
