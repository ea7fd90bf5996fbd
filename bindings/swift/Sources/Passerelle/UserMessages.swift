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

    /// The language of the person's first preferred language (`Locale.preferredLanguages`).
    public static var preferred: PasserelleLanguage {
        from(identifier: Locale.preferredLanguages.first ?? Locale.current.identifier)
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
        case .LockedOut(let retryAfterSecs), .RateLimited(let retryAfterSecs):
            return PasserelleMessages.message(for: code, language: language, waiting: retryAfterSecs)
        case .ConnectionRevoked(let reason):
            return PasserelleMessages.message(for: HubriseRefusal(reason: reason).code, language: language)
        default:
            return PasserelleMessages.message(for: code, language: language)
        }
    }

    /// The words for the restaurant manager in `locale`'s language (French or English).
    public func userMessage(locale: Locale) -> PasserelleUserMessage {
        userMessage(in: PasserelleLanguage(locale: locale))
    }

    /// What happened, in the person's preferred language (``userMessage(in:)``'s message).
    ///
    /// `errorDescription` stays the developer's description (the case and its fields), for logs.
    public var failureReason: String? { userMessage().message }

    /// The next step, in the person's preferred language (``userMessage(in:)``'s next step).
    public var recoverySuggestion: String? { userMessage().nextStep }
}

/// Why HubRise refused a connection's token, from HubRise's documented 401 messages.
///
/// HubRise answers 401 with "The connection has been blocked", "The account/location has been
/// suspended for non payment of the subscription", or "The access token is invalid or the
/// connection has been revoked"; the library keeps that text in
/// ``PasserelleError/ConnectionRevoked(reason:)``, the ``PasserelleEvent/reconnectNeeded(connectionId:reason:)``
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

/// The table of user-facing messages, in French and English, keyed by error code.
///
/// Every code of ``PasserelleError`` has a message in both languages (a test checks it); so do
/// ``HubriseRefusal``'s codes and `"unexpected"`, the message for failures that are not Passerelle's.
public enum PasserelleMessages: Sendable {
    /// The code of the message for an error Passerelle does not know.
    public static let unexpectedCode = "unexpected"

    /// Every code with a message.
    public static var codes: [String] { table.keys.sorted() }

    /// Whether `code` has its own message in `language`.
    public static func hasMessage(for code: String, language: PasserelleLanguage) -> Bool {
        table[code]?[language] != nil
    }

    /// The message for `code` in `language`; an unknown code gets the "unexpected" message
    /// (with `code` kept, for support). `waiting` fills the delay of `locked_out` and `rate_limited`.
    public static func message(
        for code: String, language: PasserelleLanguage, waiting seconds: UInt64 = 60
    ) -> PasserelleUserMessage {
        guard let entry = table[code]?[language] ?? table[unexpectedCode]?[language] else {
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

    struct Entry: Sendable {
        let title: String
        let message: String
        let nextStep: String
    }

    private static func entry(_ title: String, _ message: String, _ nextStep: String) -> Entry {
        Entry(title: title, message: message, nextStep: nextStep)
    }

    // French first: the people at the till read French. Apostrophes are typographic (’).
    static let table: [String: [PasserelleLanguage: Entry]] = [
        "invalid_config": [
            .french: entry(
                "Application mal configurée",
                "L’application n’est pas configurée correctement pour se connecter à HubRise.",
                "Contactez le support de votre caisse : la configuration doit être corrigée."),
            .english: entry(
                "App misconfigured",
                "The app is not set up correctly to connect to HubRise.",
                "Contact your POS support: the configuration needs fixing."),
        ],
        "data_directory": [
            .french: entry(
                "Enregistrement impossible",
                "L’iPad ne peut pas enregistrer les données de Passerelle.",
                "Libérez de l’espace sur l’iPad, puis relancez l’application. Si le problème persiste, contactez le support."),
            .english: entry(
                "Cannot save data",
                "The iPad cannot save Passerelle’s data.",
                "Free some space on the iPad, then restart the app. If it keeps happening, contact support."),
        ],
        "corrupt_database": [
            .french: entry(
                "Données locales réinitialisées",
                "Les données de Passerelle sur cet iPad étaient illisibles : elles ont été mises de côté et l’application repart de zéro.",
                "Reconnectez-vous, puis vérifiez vos connexions HubRise. Prévenez le support pour qu’il récupère l’ancien fichier."),
            .english: entry(
                "Local data reset",
                "Passerelle’s data on this iPad could not be read: it was set aside and the app starts afresh.",
                "Sign in again, then check your HubRise connections. Tell support so they can recover the old file."),
        ],
        "newer_schema": [
            .french: entry(
                "Mise à jour nécessaire",
                "Les données de cet iPad ont été créées par une version plus récente de l’application.",
                "Installez la dernière version de l’application depuis l’App Store."),
            .english: entry(
                "Update required",
                "The data on this iPad was written by a newer version of the app.",
                "Install the latest version of the app from the App Store."),
        ],
        "storage": [
            .french: entry(
                "Enregistrement impossible",
                "L’iPad n’a pas pu enregistrer les données (espace de stockage plein ?).",
                "Libérez de l’espace sur l’iPad, puis réessayez."),
            .english: entry(
                "Could not save",
                "The iPad could not save the data (is its storage full?).",
                "Free some space on the iPad, then try again."),
        ],
        "secret_store": [
            .french: entry(
                "Trousseau inaccessible",
                "Le trousseau de l’iPad, où sont gardés les accès à HubRise, est inaccessible.",
                "Déverrouillez l’iPad, puis réessayez. Si le problème persiste, redémarrez l’iPad."),
            .english: entry(
                "Keychain unavailable",
                "The iPad’s keychain, which keeps the HubRise access, cannot be reached.",
                "Unlock the iPad, then try again. If it keeps happening, restart the iPad."),
        ],
        "not_signed_in": [
            .french: entry(
                "Connexion requise",
                "Vous n’êtes pas connecté à votre compte caisse.",
                "Connectez-vous avec l’e-mail et le mot de passe de votre caisse."),
            .english: entry(
                "Sign-in required",
                "You are not signed in to your POS account.",
                "Sign in with your POS e-mail and password."),
        ],
        "invalid_credentials": [
            .french: entry(
                "Identifiants incorrects",
                "L’e-mail ou le mot de passe est incorrect.",
                "Utilisez les mêmes identifiants que pour votre caisse. Mot de passe oublié ? Réinitialisez-le depuis le back-office de votre caisse."),
            .english: entry(
                "Wrong e-mail or password",
                "The e-mail or the password is wrong.",
                "Use the same credentials as for your POS. Forgot your password? Reset it in your POS back office."),
        ],
        "locked_out": [
            .french: entry(
                "Trop de tentatives",
                "La connexion est bloquée un moment après plusieurs mots de passe incorrects.",
                "Attendez {wait}, puis réessayez avec le bon mot de passe."),
            .english: entry(
                "Too many attempts",
                "Sign-in is locked for a while after several wrong passwords.",
                "Wait {wait}, then try again with the right password."),
        ],
        "session_expired": [
            .french: entry(
                "Session expirée",
                "Votre session caisse a expiré.",
                "Reconnectez-vous avec l’e-mail et le mot de passe de votre caisse."),
            .english: entry(
                "Session expired",
                "Your POS session has expired.",
                "Sign in again with your POS e-mail and password."),
        ],
        "network": [
            .french: entry(
                "Pas de connexion Internet",
                "Passerelle n’arrive pas à joindre HubRise ou le serveur de votre caisse.",
                "Vérifiez le Wi-Fi ou la connexion Internet de l’iPad, puis réessayez. Les commandes en attente arriveront dès le retour du réseau."),
            .english: entry(
                "No Internet connection",
                "Passerelle cannot reach HubRise or your POS server.",
                "Check the iPad’s Wi-Fi or Internet connection, then try again. Waiting orders will arrive as soon as the network is back."),
        ],
        "unexpected_response": [
            .french: entry(
                "Réponse inattendue",
                "Un serveur a répondu de façon inattendue.",
                "Réessayez dans quelques minutes. Si cela continue, contactez le support."),
            .english: entry(
                "Unexpected answer",
                "A server gave an unexpected answer.",
                "Try again in a few minutes. If it keeps happening, contact support."),
        ],
        "redirect_mismatch": [
            .french: entry(
                "Connexion non vérifiée",
                "Le retour de HubRise ne correspond pas à cette application.",
                "Recommencez depuis « Connecter HubRise » sur cet iPad."),
            .english: entry(
                "Connection not verified",
                "HubRise’s answer does not belong to this app.",
                "Start again from “Connect HubRise” on this iPad."),
        ],
        "state_missing": [
            .french: entry(
                "Connexion non vérifiée",
                "Le retour de HubRise est incomplet.",
                "Recommencez depuis « Connecter HubRise » sur cet iPad."),
            .english: entry(
                "Connection not verified",
                "HubRise’s answer is incomplete.",
                "Start again from “Connect HubRise” on this iPad."),
        ],
        "state_unknown": [
            .french: entry(
                "Connexion non reconnue",
                "Cette connexion n’a pas été commencée sur cet iPad.",
                "Recommencez depuis « Connecter HubRise » sur cet iPad."),
            .english: entry(
                "Unknown connection",
                "This connection was not started on this iPad.",
                "Start again from “Connect HubRise” on this iPad."),
        ],
        "state_replayed": [
            .french: entry(
                "Déjà connecté",
                "Cette connexion a déjà été finalisée.",
                "Consultez la liste des connexions ; si elle n’y figure pas, recommencez."),
            .english: entry(
                "Already connected",
                "This connection was already completed.",
                "Look at the list of connections; if it is not there, start again."),
        ],
        "state_mismatch": [
            .french: entry(
                "Connexion non vérifiée",
                "Le retour de HubRise ne correspond pas à la connexion en cours.",
                "Recommencez depuis « Connecter HubRise » sur cet iPad."),
            .english: entry(
                "Connection not verified",
                "HubRise’s answer does not match the connection in progress.",
                "Start again from “Connect HubRise” on this iPad."),
        ],
        "flow_expired": [
            .french: entry(
                "Demande expirée",
                "La demande de connexion a plus de 10 minutes.",
                "Recommencez et validez l’accès sur la page HubRise dans les 10 minutes."),
            .english: entry(
                "Request expired",
                "The connection request is more than 10 minutes old.",
                "Start again and approve access on HubRise’s page within 10 minutes."),
        ],
        "access_denied": [
            .french: entry(
                "Accès refusé sur HubRise",
                "L’accès a été refusé sur la page HubRise : aucune commande ne sera reçue.",
                "Pour recevoir les commandes, recommencez et touchez « Autoriser » sur la page HubRise."),
            .english: entry(
                "Access refused on HubRise",
                "Access was refused on HubRise’s page: no orders will arrive.",
                "To receive orders, start again and tap “Allow” on HubRise’s page."),
        ],
        "code_missing": [
            .french: entry(
                "Code manquant",
                "Aucun code de connexion HubRise n’a été reçu.",
                "Recommencez la connexion ; si vous collez le code, copiez-le en entier depuis la page HubRise."),
            .english: entry(
                "Code missing",
                "No HubRise connection code was received.",
                "Start the connection again; if you paste the code, copy all of it from HubRise’s page."),
        ],
        "invalid_grant": [
            .french: entry(
                "HubRise a refusé le code",
                "HubRise a refusé le code de connexion : il a expiré ou a déjà servi.",
                "Recommencez la connexion depuis le début."),
            .english: entry(
                "HubRise refused the code",
                "HubRise refused the connection code: it expired or was already used.",
                "Start the connection again from the beginning."),
        ],
        "invalid_client": [
            .french: entry(
                "Application refusée par HubRise",
                "HubRise ne reconnaît pas cette application.",
                "Contactez le support de votre caisse : l’enregistrement de l’application chez HubRise doit être corrigé."),
            .english: entry(
                "App refused by HubRise",
                "HubRise does not recognise this app.",
                "Contact your POS support: the app’s registration with HubRise needs fixing."),
        ],
        "connection_revoked": [
            .french: entry(
                "Connexion HubRise refusée",
                "HubRise refuse la connexion : elle a été déconnectée ou révoquée. Les commandes n’arrivent plus.",
                "Touchez « Reconnecter » et autorisez l’accès sur la page HubRise."),
            .english: entry(
                "HubRise connection refused",
                "HubRise refuses the connection: it was disconnected or revoked. Orders no longer arrive.",
                "Tap “Reconnect” and allow access on HubRise’s page."),
        ],
        "connection_revoked.blocked": [
            .french: entry(
                "Connexion bloquée",
                "HubRise a bloqué la connexion : les commandes n’arrivent plus.",
                "Touchez « Reconnecter » pour la débloquer. Si elle est de nouveau bloquée, contactez le support HubRise."),
            .english: entry(
                "Connection blocked",
                "HubRise blocked the connection: orders no longer arrive.",
                "Tap “Reconnect” to unblock it. If it is blocked again, contact HubRise support."),
        ],
        "connection_revoked.suspended": [
            .french: entry(
                "Compte HubRise suspendu",
                "HubRise a suspendu le compte ou le point de vente (abonnement impayé) : les commandes n’arrivent plus.",
                "Régularisez l’abonnement dans le back-office HubRise, puis touchez « Vérifier »."),
            .english: entry(
                "HubRise account suspended",
                "HubRise suspended the account or location (unpaid subscription): orders no longer arrive.",
                "Settle the subscription in HubRise’s back office, then tap “Check”."),
        ],
        "rate_limited": [
            .french: entry(
                "HubRise ralentit les échanges",
                "HubRise limite temporairement le nombre de demandes.",
                "Rien à faire : Passerelle reprend automatiquement dans {wait}."),
            .english: entry(
                "HubRise is slowing down requests",
                "HubRise is limiting the number of requests for a while.",
                "Nothing to do: Passerelle resumes by itself in {wait}."),
        ],
        "hubrise_api": [
            .french: entry(
                "Erreur HubRise",
                "HubRise a répondu par une erreur.",
                "Réessayez dans quelques minutes. Si cela continue, donnez l’accès au support (Aide) et contactez-le."),
            .english: entry(
                "HubRise error",
                "HubRise answered with an error.",
                "Try again in a few minutes. If it keeps happening, give support access (Help) and contact them."),
        ],
        "data_directory_in_use": [
            .french: entry(
                "Passerelle déjà ouvert",
                "Les données de Passerelle sont déjà utilisées par une autre partie de l’application.",
                "Relancez l’application. Si cela continue, contactez le support."),
            .english: entry(
                "Passerelle already open",
                "Passerelle’s data is already in use by another part of the app.",
                "Restart the app. If it keeps happening, contact support."),
        ],
        "closed": [
            .french: entry(
                "Passerelle arrêté",
                "Passerelle a été arrêté sur cet iPad.",
                "Relancez l’application pour recevoir de nouveau les commandes."),
            .english: entry(
                "Passerelle stopped",
                "Passerelle was stopped on this iPad.",
                "Restart the app to receive orders again."),
        ],
        "response_too_large": [
            .french: entry(
                "Réponse trop volumineuse",
                "Un serveur a envoyé une réponse bien plus grande qu’attendu ; elle n’a pas été lue.",
                "Réessayez dans quelques minutes. Si cela continue, contactez le support."),
            .english: entry(
                "Answer too large",
                "A server sent an answer far larger than expected; it was not read.",
                "Try again in a few minutes. If it keeps happening, contact support."),
        ],
        "connection_mismatch": [
            .french: entry(
                "Connexion incohérente",
                "La connexion reçue ne correspond pas au restaurant à confirmer ; rien n’a été activé.",
                "Refusez cette connexion, puis connectez de nouveau le restaurant à HubRise."),
            .english: entry(
                "Connection does not match",
                "The connection received does not match the restaurant to confirm; nothing was activated.",
                "Refuse this connection, then connect the restaurant to HubRise again."),
        ],
        "not_found": [
            .french: entry(
                "Introuvable",
                "La commande ou la connexion n’existe plus sur cet iPad.",
                "Actualisez la liste."),
            .english: entry(
                "Not found",
                "The order or connection no longer exists on this iPad.",
                "Refresh the list."),
        ],
        "invalid_state": [
            .french: entry(
                "Action impossible maintenant",
                "Cette action n’est pas possible dans l’état actuel.",
                "Actualisez l’écran ; si un bandeau le propose, redémarrez pour appliquer les changements."),
            .english: entry(
                "Not possible now",
                "This action is not possible right now.",
                "Refresh the screen; if a banner offers it, restart to apply the changes."),
        ],
        "internal": [
            .french: entry(
                "Erreur inattendue",
                "Une erreur inattendue s’est produite dans Passerelle.",
                "Relancez l’application. Si cela se reproduit, contactez le support en indiquant le code « internal »."),
            .english: entry(
                "Unexpected error",
                "An unexpected error happened in Passerelle.",
                "Restart the app. If it happens again, contact support and mention the code “internal”."),
        ],
        "unexpected": [
            .french: entry(
                "Erreur inattendue",
                "Une erreur inattendue s’est produite.",
                "Réessayez. Si cela continue, relancez l’application ou contactez le support."),
            .english: entry(
                "Unexpected error",
                "An unexpected error happened.",
                "Try again. If it keeps happening, restart the app or contact support."),
        ],
    ]
}
