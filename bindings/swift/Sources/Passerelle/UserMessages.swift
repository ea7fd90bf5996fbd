import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A language Passerelle's user-facing messages are written in.
///
/// French is the primary language of the restaurants using Passerelle; every other locale gets
/// English.
public enum PasserelleLanguage: String, Sendable, Hashable, CaseIterable {
    /// Français.
    case french = "fr"
    /// English.
    case english = "en"

    /// The language for `locale`: French for any French locale (`fr`, `fr_FR`, `fr_CA`, ...),
    /// English otherwise.
    public init(locale: Locale) {
        self = Self.from(identifier: locale.identifier)
    }

    /// The language the app is shown in: the first of the app's localizations
    /// (`Bundle.main.preferredLocalizations`, the app's languages matched against the person's)
    /// that Passerelle has, English when there is none.
    ///
    /// An app localized in English only shows English messages on a French iPad, like the rest
    /// of its screens; an app localized in French shows French ones.
    public static var preferred: PasserelleLanguage {
        localizationOverride ?? first(in: Bundle.main.preferredLocalizations)
    }

    /// Stands for the app's localization within a scope: `Bundle.main` cannot be swapped, so the
    /// tests of ``preferred`` and of `localizedDescription` bind this instead.
    @TaskLocal static var localizationOverride: PasserelleLanguage?

    /// The first of `localizations` (`"fr"`, `"en-GB"`, `"Base"`, ...) Passerelle has; English
    /// when none is French or English.
    static func first(in localizations: [String]) -> PasserelleLanguage {
        for identifier in localizations {
            let code = identifier.lowercased().prefix { $0.isLetter }
            if let language = PasserelleLanguage(rawValue: String(code)) { return language }
        }
        return .english
    }

    private static func from(identifier: String) -> PasserelleLanguage {
        identifier.lowercased().hasPrefix("fr") ? .french : .english
    }

    /// The locale used to format dates and amounts in this language.
    public var locale: Locale {
        switch self {
        case .french: Locale(identifier: "fr_FR")
        case .english: Locale(identifier: "en_GB")
        }
    }
}

/// What to tell a restaurant manager about a failure: what happened and what to do next.
///
/// Written for the person at the till, never technical. Show ``title`` as an alert title and
/// ``message`` followed by ``nextStep`` as its text (``text`` joins them). ``code`` is the stable
/// error code, for support and logs.
public struct PasserelleUserMessage: Sendable, Hashable {
    /// The stable code this message was chosen by (`"invalid_credentials"`, ...). Blocked and
    /// suspended connections have their own codes (`"connection_revoked.blocked"`,
    /// `"connection_revoked.suspended"`); failures that are not Passerelle's are `"unexpected"`.
    public let code: String
    /// A short title: "Mot de passe incorrect".
    public let title: String
    /// What happened, in one sentence.
    public let message: String
    /// What the person should do now.
    public let nextStep: String

    /// The message and the next step, as one paragraph.
    public var text: String { "\(message) \(nextStep)" }

    /// Creates a message; hosts normally get one from ``PasserelleError/userMessage(in:)``.
    public init(code: String, title: String, message: String, nextStep: String) {
        self.code = code
        self.title = title
        self.message = message
        self.nextStep = nextStep
    }

    /// The message for any error a Passerelle host may meet: a ``PasserelleError``, a
    /// ``SecretStoreError``, a `URLError` of the host's own requests, or anything else
    /// (an "unexpected" message with the next step, never an empty alert).
    public init(error: any Error, language: PasserelleLanguage = .preferred) {
        switch error {
        case let error as PasserelleError:
            self = error.userMessage(in: language)
        case is SecretStoreError:
            self = PasserelleMessages.message(for: "secret_store", language: language)
        case let error as URLError where error.code != .cancelled:
            self = PasserelleMessages.message(for: "network", language: language)
        default:
            self = PasserelleMessages.message(for: PasserelleMessages.unexpectedCode, language: language)
        }
    }
}

extension PasserelleError {
    /// The words for the restaurant manager, in `language`: what happened and the next step.
    ///
    /// ```swift
    /// do {
    ///     try await app.signIn(email: email, password: password)
    /// } catch let error as PasserelleError {
    ///     let message = error.userMessage(in: .french)
    ///     // "Identifiants incorrects" — "L'e-mail ou le mot de passe est incorrect. Utilisez …"
    /// }
    /// ```
    public func userMessage(in language: PasserelleLanguage = .preferred) -> PasserelleUserMessage {
        switch self {
        case .lockedOut(let retryAfterSecs), .rateLimited(let retryAfterSecs):
            return PasserelleMessages.message(for: code, language: language, waiting: retryAfterSecs)
        case .connectionRevoked(let reason):
            return PasserelleMessages.message(for: HubriseRefusal(reason: reason).code, language: language)
        default:
            return PasserelleMessages.message(for: code, language: language)
        }
    }

    /// The words for the restaurant manager in `locale`'s language (French or English).
    public func userMessage(locale: Locale) -> PasserelleUserMessage {
        userMessage(in: PasserelleLanguage(locale: locale))
    }
}

/// Why HubRise refused a connection's token, from HubRise's documented 401 messages.
///
/// HubRise answers 401 with "The connection has been blocked", "The account/location has been
/// suspended for non payment of the subscription", or "The access token is invalid or the
/// connection has been revoked"; the library keeps that text in
/// ``PasserelleError/connectionRevoked(reason:)``, the ``PasserelleEvent/reconnectNeeded(connectionId:reason:)``
/// event and ``HubriseConnection/lastFailedReason``.
public enum HubriseRefusal: String, Sendable, Hashable, CaseIterable {
    /// HubRise (or the restaurant in HubRise's back office) blocked the connection.
    case blocked
    /// The HubRise account or location is suspended for non payment.
    case suspended
    /// The token was revoked, the connection removed, or the token is unknown.
    case revoked

    /// Classifies HubRise's refusal message; anything unrecognised counts as ``revoked``.
    public init(reason: String) {
        let text = reason.lowercased()
        if text.contains("blocked") {
            self = .blocked
        } else if text.contains("suspended") {
            self = .suspended
        } else {
            self = .revoked
        }
    }

    /// The message code: `connection_revoked`, `connection_revoked.blocked` or
    /// `connection_revoked.suspended`.
    public var code: String {
        switch self {
        case .revoked: "connection_revoked"
        case .blocked: "connection_revoked.blocked"
        case .suspended: "connection_revoked.suspended"
        }
    }

    /// The words for the restaurant manager.
    public func userMessage(in language: PasserelleLanguage = .preferred) -> PasserelleUserMessage {
        PasserelleMessages.message(for: code, language: language)
    }
}

extension HubriseConnection {
    /// Why HubRise refuses this connection, when it does (``reconnectNeeded`` is set).
    public var refusal: HubriseRefusal? {
        reconnectNeeded ? HubriseRefusal(reason: lastFailedReason ?? "") : nil
    }
}

/// The user-facing messages, in French and English, keyed by error code.
///
/// The texts are in the package's String Catalog, `Localizable.xcstrings`; every code of
/// ``PasserelleError`` has a message in both languages there (a test checks it), and so do
/// ``HubriseRefusal``'s codes and `"unexpected"`, the message for failures that are not Passerelle's.
public enum PasserelleMessages: Sendable {
    /// The code of the message for an error Passerelle does not know.
    public static let unexpectedCode = "unexpected"

    /// Every code with a message.
    public static var codes: [String] { MessageCatalog.shared.codes.sorted() }

    /// Whether `code` has its own message, title, message and next step, in `language`.
    public static func hasMessage(for code: String, language: PasserelleLanguage) -> Bool {
        entry(code, language) != nil
    }

    /// The message for `code` in `language`; an unknown code gets the "unexpected" message
    /// (with `code` kept, for support). `waiting` fills the delay of `locked_out` and `rate_limited`.
    public static func message(
        for code: String, language: PasserelleLanguage, waiting seconds: UInt64 = 60
    ) -> PasserelleUserMessage {
        guard let entry = entry(code, language) ?? entry(unexpectedCode, language) else {
            return PasserelleUserMessage(code: code, title: "Passerelle", message: code, nextStep: "")
        }
        let wait = duration(seconds)
        return PasserelleUserMessage(
            code: code,
            title: entry.title,
            message: entry.message.replacingOccurrences(of: "{wait}", with: wait),
            nextStep: entry.nextStep.replacingOccurrences(of: "{wait}", with: wait))
    }

    /// "45 s", "2 min": seconds under a minute, otherwise whole minutes rounded up.
    static func duration(_ seconds: UInt64) -> String {
        if seconds < 60 { return "\(max(seconds, 1)) s" }
        return "\((seconds + 59) / 60) min"
    }

    private static func entry(
        _ code: String, _ language: PasserelleLanguage
    ) -> (title: String, message: String, nextStep: String)? {
        let catalog = MessageCatalog.shared
        guard let title = catalog.text(.title, of: code, in: language),
            let message = catalog.text(.message, of: code, in: language),
            let nextStep = catalog.text(.nextStep, of: code, in: language)
        else { return nil }
        return (title, message, nextStep)
    }
}
