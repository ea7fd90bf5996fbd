import Foundation
import Passerelle

/// Every word the demo shows, in French (the restaurants' language) and English.
///
/// Each string is written as a pair, so none can exist in one language only. Error messages come
/// from Passerelle (``PasserelleUserMessage``), keyed by the stable error codes.
public struct DemoText: Sendable {
    /// The language shown.
    public let language: PasserelleLanguage

    public init(language: PasserelleLanguage = .preferred) {
        self.language = language
    }

    func t(_ french: String, _ english: String) -> String {
        language == .french ? french : english
    }

    var locale: Locale { language.locale }

    // MARK: App

    public var appTitle: String { "Passerelle" }
    public var starting: String { t("Démarrage…", "Starting…") }
    public var retry: String { t("Réessayer", "Try again") }
    public var ok: String { "OK" }
    public var cancel: String { t("Annuler", "Cancel") }
    public var tabOrders: String { t("Commandes", "Orders") }
    public var tabConnections: String { t("Connexions HubRise", "HubRise connections") }
    public var tabHelp: String { t("Aide", "Help") }
    public var tabSettings: String { t("Réglages", "Settings") }

    // MARK: Sign in

    public var signInTitle: String { t("Connexion à votre caisse", "Sign in to your POS") }
    public var signInExplanation: String {
        t("Utilisez l’e-mail et le mot de passe de votre compte caisse. Le mot de passe n’est jamais enregistré sur l’iPad.",
          "Use the e-mail and password of your POS account. The password is never stored on the iPad.")
    }
    public var email: String { t("E-mail", "E-mail") }
    public var password: String { t("Mot de passe", "Password") }
    public var signIn: String { t("Se connecter", "Sign in") }
    public var signOut: String { t("Se déconnecter de la caisse", "Sign out of the POS") }
    public func signedInAs(_ account: POSAccount) -> String {
        t("Connecté : \(account.businessName) (\(account.email))", "Signed in: \(account.businessName) (\(account.email))")
    }

    // MARK: Connections

    public var noConnection: String {
        t("Aucun point de vente HubRise n’est connecté. Touchez « Connecter HubRise » pour recevoir les commandes.",
          "No HubRise location is connected. Tap “Connect HubRise” to receive orders.")
    }
    public var connectHubrise: String { t("Connecter HubRise", "Connect HubRise") }
    public var connectWithCode: String { t("Connecter avec un code", "Connect with a code") }
    public var reconnect: String { t("Reconnecter", "Reconnect") }
    public var check: String { t("Vérifier", "Check") }
    public var disconnect: String { t("Déconnecter", "Disconnect") }
    public var confirmConnection: String { t("Confirmer", "Confirm") }
    public var refuseConnection: String { t("Refuser", "Refuse") }
    public var connecting: String { t("Connexion à HubRise en cours…", "Connecting to HubRise…") }

    func locationLine(_ name: String?, _ id: String) -> String {
        t("Point de vente : \(named(name, id))", "Location: \(named(name, id))")
    }
    func accountLine(_ name: String?, _ id: String?) -> String {
        t("Compte : \(named(name, id))", "Account: \(named(name, id))")
    }
    func catalogLine(_ name: String?, _ id: String?) -> String {
        t("Catalogue : \(named(name, id))", "Catalog: \(named(name, id))")
    }
    func customerListLine(_ name: String?, _ id: String?) -> String {
        t("Liste de clients : \(named(name, id))", "Customer list: \(named(name, id))")
    }
    func named(_ name: String?, _ id: String?) -> String {
        switch (name, id) {
        case let (name?, id?): "\(name) (\(id))"
        case let (name?, nil): name
        case let (nil, id?): id
        case (nil, nil): t("aucun", "none")
        }
    }

    var statusActive: String { t("Active : les commandes arrivent", "Active: orders arrive") }
    var statusPendingRestart: String { t("Ajoutée : redémarrez pour l’activer", "Added: restart to activate it") }
    var statusNeedsConfirmation: String {
        t("Faite hors de l’iPad : confirmez-la pour recevoir ses commandes", "Made outside the iPad: confirm it to receive its orders")
    }
    var statusRemoving: String { t("Déconnectée : disparaîtra au redémarrage", "Disconnected: goes away at restart") }
    var statusRemoved: String { t("Retirée", "Removed") }
    func statusReconnect(_ reason: String) -> String {
        t("Reconnexion nécessaire : \(reason)", "Reconnect needed: \(reason)")
    }

    func originLine(_ origin: ConnectionOrigin) -> String {
        switch origin {
        case .device: t("Connectée depuis cet iPad", "Connected from this iPad")
        case .posBackOffice: t("Connectée depuis le back-office de la caisse", "Connected from the POS back office")
        case .hubriseBackOffice: t("Connectée depuis le back-office HubRise", "Connected from HubRise’s back office")
        }
    }

    func lastFailure(_ date: Date, _ summary: String) -> String {
        t("Dernier échec le \(dateTime(date)) : \(summary)", "Last failure on \(dateTime(date)): \(summary)")
    }
    var transientFailure: String {
        t("problème de réseau ou de serveur ; Passerelle réessaie tout seul.",
          "a network or server problem; Passerelle retries by itself.")
    }

    public var disconnectTitle: String { t("Déconnecter ce point de vente ?", "Disconnect this location?") }
    public func disconnectMessage(_ row: ConnectionRow) -> String {
        t("\(row.title) ne recevra plus de commandes. HubRise bloque l’accès immédiatement ; la connexion disparaîtra de la liste au prochain redémarrage.",
          "\(row.title) will no longer receive orders. HubRise blocks the access at once; the connection leaves the list at the next restart.")
    }
    public var disconnectConfirm: String { t("Déconnecter", "Disconnect") }

    public var pastedCodeTitle: String { t("Connecter avec un code", "Connect with a code") }
    public var pastedCodeExplanation: String {
        t("Ouvrez ce lien (sur cet iPad ou un ordinateur), autorisez l’accès sur HubRise, puis collez ici le code affiché.",
          "Open this link (on this iPad or a computer), allow access on HubRise, then paste the code shown here.")
    }
    func browserUnavailable(_ reason: WebAuthenticationUnavailable.Reason) -> String {
        switch reason {
        case .guidedAccess:
            t("L’Accès guidé empêche la page HubRise de s’ouvrir sur cet iPad. Ouvrez le lien sur un autre appareil (ou quittez l’Accès guidé), puis collez le code ici.",
              "Guided Access keeps HubRise’s page from opening on this iPad. Open the link on another device (or leave Guided Access), then paste the code here.")
        case .notStarted:
            t("La page HubRise n’a pas pu s’ouvrir sur cet iPad. Ouvrez le lien ici ou sur un autre appareil, puis collez le code.",
              "HubRise’s page could not open on this iPad. Open the link here or on another device, then paste the code.")
        case .httpsCallbackNeedsNewerSystem:
            t("Le retour vers l’application demande iOS 17.4 ou plus récent. Ouvrez le lien, puis collez le code ici.",
              "Returning to the app needs iOS 17.4 or later. Open the link, then paste the code here.")
        }
    }
    public var pastedCodeField: String { t("Code HubRise", "HubRise code") }
    public var pastedCodeSubmit: String { t("Valider le code", "Use the code") }
    public var openLink: String { t("Ouvrir le lien", "Open the link") }
    public var copyLink: String { t("Copier le lien", "Copy the link") }

    func connectedNotice(_ row: ConnectionRow) -> String {
        t("\(row.title) est connecté.", "\(row.title) is connected.")
    }

    // MARK: Restart

    public var restartBannerTitle: String { t("Redémarrage nécessaire", "Restart required") }
    public var restartBannerMessage: String {
        t("Des changements attendent un redémarrage pour s’appliquer.", "Changes are waiting for a restart to apply.")
    }
    public var restartNow: String { t("Redémarrer pour appliquer", "Restart to apply") }
    public var restarting: String { t("Redémarrage…", "Restarting…") }

    func change(_ change: ConfigChange) -> String {
        switch change {
        case .connectionAdded(let connection):
            t("Nouvelle connexion : \(named(connection.locationName, connection.locationId))",
              "New connection: \(named(connection.locationName, connection.locationId))")
        case .connectionRemoved(let connection):
            t("Déconnexion : \(named(connection.locationName, connection.locationId))",
              "Disconnection: \(named(connection.locationName, connection.locationId))")
        case .settingsChanged(let active, let pending):
            t("Réglages : synchronisation toutes les \(active.pollIntervalSecs) s → \(pending.pollIntervalSecs) s",
              "Settings: sync every \(active.pollIntervalSecs) s → \(pending.pollIntervalSecs) s")
        }
    }

    // MARK: Orders

    public var noOrders: String {
        t("Aucune commande pour l’instant. Les nouvelles commandes apparaissent ici et sonnent.",
          "No orders yet. New orders appear here, with a sound.")
    }
    public var newBadge: String { t("Nouvelle", "New") }
    public var accept: String { t("Accepter", "Accept") }
    public var reject: String { t("Refuser", "Reject") }
    public func readyIn(_ minutes: Int) -> String { t("Prête dans \(minutes) min", "Ready in \(minutes) min") }
    public var rejectTitle: String { t("Refuser la commande ?", "Reject the order?") }
    public var rejectReasonField: String { t("Raison (reste sur l’iPad)", "Reason (stays on the iPad)") }
    public var rejectConfirm: String { t("Refuser la commande", "Reject the order") }
    var sendingToHubrise: String { t("Envoi à HubRise…", "Sending to HubRise…") }
    public var selectAnOrder: String { t("Choisissez une commande", "Choose an order") }
    public var showMore: String { t("Afficher les commandes précédentes", "Show earlier orders") }

    func orderTitle(reference: String?, id: String) -> String {
        let name = reference ?? id
        return t("Commande \(name)", "Order \(name)")
    }
    func serviceType(_ type: String?) -> String? {
        switch type {
        case "delivery": t("Livraison", "Delivery")
        case "collection": t("À emporter", "Collection")
        case "eat_in": t("Sur place", "Eat in")
        default: nil
        }
    }
    func expected(_ time: String) -> String { t("Pour \(time)", "For \(time)") }
    var total: String { t("Total (HubRise)", "Total (HubRise)") }
    var items: String { t("Articles", "Items") }
    var charges: String { t("Frais", "Charges") }
    var discounts: String { t("Remises", "Discounts") }
    var payments: String { t("Paiements", "Payments") }
    var customer: String { t("Client", "Customer") }
    var notes: String { t("Notes", "Notes") }
    var deleted: String { t("supprimé", "deleted") }
    func without(_ name: String) -> String { t("Sans \(name)", "No \(name)") }
    func customerNotes(_ text: String) -> String { t("Note du client : \(text)", "Customer note: \(text)") }
    func sellerNotes(_ text: String) -> String { t("Note du restaurant : \(text)", "Restaurant note: \(text)") }
    func deliveryNotes(_ text: String) -> String { t("Livraison : \(text)", "Delivery: \(text)") }
    func orderConflict(_ title: String, _ reason: String) -> Notice {
        Notice(
            code: "order_conflict",
            title: t("Commande modifiée sur HubRise", "Order changed on HubRise"),
            message: t("\(title) a changé sur HubRise avant que votre choix soit envoyé : c’est l’état de HubRise qui compte (\(reason)).",
                       "\(title) changed on HubRise before your choice was sent: HubRise’s state wins (\(reason))."),
            nextStep: t("Vérifiez la commande et prévenez le client si besoin.", "Check the order and tell the customer if needed."))
    }

    // MARK: Notices from events

    func reconnectNeeded(_ name: String, _ refusal: HubriseRefusal) -> Notice {
        let message = refusal.userMessage(in: language)
        return Notice(code: message.code, title: "\(message.title) — \(name)", message: message.message, nextStep: message.nextStep)
    }
    func sessionExpired() -> Notice {
        let message = PasserelleError.sessionExpired.userMessage(in: language)
        return Notice(code: message.code, title: message.title, message: message.message, nextStep: message.nextStep)
    }
    func databaseRecovered(_ recovery: DatabaseRecovery) -> Notice {
        let orders = recovery.unsentChangeOrders.map { $0.joined(separator: ", ") }
        return Notice(
            code: "database_recovered",
            title: t("Données de l’iPad réinitialisées", "iPad data reset"),
            message: orders.map {
                t("Les données locales étaient illisibles. Ces commandes avaient des changements pas encore envoyés à HubRise : \($0).",
                  "The local data was unreadable. These orders had changes not yet sent to HubRise: \($0).")
            } ?? t("Les données locales étaient illisibles : les changements faits juste avant ont pu ne pas atteindre HubRise.",
                   "The local data was unreadable: changes made just before may not have reached HubRise."),
            nextStep: t("Vérifiez les commandes en cours sur HubRise, puis reconnectez-vous.", "Check the open orders on HubRise, then sign in again."))
    }
    func backendUnavailable() -> Notice {
        Notice(
            code: "backend_unavailable",
            title: t("Serveur de la caisse injoignable", "POS server unreachable"),
            message: t("Les changements faits depuis le back-office n’ont pas pu être récupérés : l’iPad continue avec la dernière configuration.",
                       "Changes made in the back office could not be fetched: the iPad keeps the last configuration."),
            nextStep: t("Vérifiez la connexion Internet de l’iPad, puis redémarrez pour réessayer.",
                        "Check the iPad’s Internet connection, then restart to try again."))
    }

    // MARK: Help

    public var supportTitle: String { t("Donner l’accès au support", "Give support access") }
    public var supportExplanation: String {
        t("Pour que le support vous aide, ajoutez son e-mail comme utilisateur de votre compte HubRise :",
          "For support to help you, add their e-mail as a user of your HubRise account:")
    }
    public func supportSteps(_ email: String) -> [String] {
        [
            t("Ouvrez le back-office HubRise (manager.hubrise.com) et connectez-vous avec un compte administrateur.",
              "Open HubRise’s back office (manager.hubrise.com) and sign in with an administrator account."),
            t("Allez dans PARAMÈTRES, section Permissions du compte (ou du point de vente concerné).",
              "Go to SETTINGS, Permissions section of the account (or of the location concerned)."),
            t("Touchez Ajouter et saisissez l’e-mail du support : \(email).",
              "Tap Add and enter the support e-mail: \(email)."),
            t("Choisissez le rôle Manager ou Technical Partner (pas Administrateur : le support n’a pas besoin des factures), puis validez.",
              "Choose the role Manager or Technical Partner (not Administrator: support does not need the invoices), then confirm."),
            t("Prévenez le support. Vous pourrez retirer cet accès à tout moment au même endroit.",
              "Tell support. You can remove this access at any time in the same place."),
        ]
    }
    public var copyEmail: String { t("Copier l’e-mail", "Copy the e-mail") }
    public var screenAwakeHelp: String {
        t("Pour une caisse dédiée : l’écran reste allumé tant qu’un point de vente est connecté, et l’Accès guidé (Réglages › Accessibilité) garde l’iPad sur cette application.",
          "For a dedicated till: the screen stays on while a location is connected, and Guided Access (Settings › Accessibility) keeps the iPad on this app.")
    }

    // MARK: Settings

    public var settingsServer: String { t("Serveurs", "Servers") }
    public func serverInUse(_ environment: DemoEnvironment) -> String {
        t("Caisse : \(environment.posUrl) — HubRise : \(environment.hubriseApiUrl)",
          "POS: \(environment.posUrl) — HubRise: \(environment.hubriseApiUrl)")
    }
    public func presetName(_ preset: ServerPreset) -> String {
        switch preset {
        case .simulator: t("Sandbox sur ce Mac (simulateur)", "Sandbox on this Mac (simulator)")
        case .macOnNetwork: t("Sandbox sur un Mac du réseau (iPad)", "Sandbox on a Mac of this network (iPad)")
        case .production: t("Production (HubRise)", "Production (HubRise)")
        }
    }
    public func presetHelp(_ preset: ServerPreset) -> String {
        switch preset {
        case .simulator:
            t("Sur le Mac : `cargo run -p passerelle-sandbox -- serve --ports 8480,8481,8482`. Le simulateur partage le 127.0.0.1 du Mac.",
              "On the Mac: `cargo run -p passerelle-sandbox -- serve --ports 8480,8481,8482`. The simulator shares the Mac’s 127.0.0.1.")
        case .macOnNetwork:
            t("Sur le Mac, même Wi-Fi que l’iPad : `cargo run -p passerelle-sandbox -- serve --listen 0.0.0.0 --ports 8480,8481,8482`. Saisissez l’adresse du Mac et le jeton d’admin affichés, puis autorisez l’accès au réseau local.",
              "On the Mac, on the iPad’s Wi-Fi: `cargo run -p passerelle-sandbox -- serve --listen 0.0.0.0 --ports 8480,8481,8482`. Type the Mac’s address and the admin token it prints, then allow local network access.")
        case .production:
            t("Les serveurs de HubRise et le back-office de votre caisse, indiqués dans l’Info.plist de l’application.",
              "HubRise’s servers and your POS back office, named in the app’s Info.plist.")
        }
    }
    public var usePreset: String { t("Utiliser", "Use") }
    public var inUse: String { t("En service", "In use") }
    public var macAddressField: String { t("Adresse du Mac (192.168.1.20 ou mon-mac.local)", "Mac’s address (192.168.1.20 or my-mac.local)") }
    public var adminTokenField: String { t("Jeton d’admin du sandbox", "Sandbox admin token") }
    public var otherSandbox: String { t("Autre sandbox", "Another sandbox") }
    public var sandboxURLField: String { t("URL d’admin du sandbox", "Sandbox admin URL") }
    public var sandboxURLHelp: String {
        t("Lancez `cargo run -p passerelle-sandbox -- serve` sur le Mac et collez l’URL « Admin API » affichée.",
          "Run `cargo run -p passerelle-sandbox -- serve` on the Mac and paste the “Admin API” URL it prints.")
    }
    public var loadSandbox: String { t("Utiliser ce sandbox", "Use this sandbox") }
    public func serversInUse(_ environment: DemoEnvironment) -> String {
        environment.sandboxAdminUrl == nil
            ? t("Serveurs en service : \(environment.posUrl)", "Servers in use: \(environment.posUrl)")
            : sandboxLoaded(environment)
    }
    public var productionNotConfigured: Notice {
        Notice(
            code: "production_not_configured",
            title: t("Production non configurée", "Production not configured"),
            message: t("Cette version de l’application ne connaît pas le back-office de votre caisse ni votre client HubRise.",
                       "This build of the app does not know your POS back office or your HubRise client."),
            nextStep: t("Renseignez PasserelleProductionPOSURL, PasserelleProductionPOSClientID et PasserelleHubriseClientID dans ios-demo/project.yml, puis recompilez.",
                        "Set PasserelleProductionPOSURL, PasserelleProductionPOSClientID and PasserelleHubriseClientID in ios-demo/project.yml, then build again."))
    }
    public var invalidMacAddress: Notice {
        Notice(
            code: "invalid_mac_address",
            title: t("Adresse du Mac invalide", "Invalid Mac address"),
            message: t("Saisissez l’adresse du Mac seule, sans http:// ni chemin.", "Type the Mac’s address alone, without http:// or a path."),
            nextStep: t("Par exemple 192.168.1.20 ou mon-mac.local (Réglages du Mac › Réseau).",
                        "For example 192.168.1.20 or my-mac.local (the Mac’s System Settings › Network)."))
    }
    public var sandboxTokenRefused: Notice {
        Notice(
            code: "sandbox_token_refused",
            title: t("Jeton d’admin refusé", "Admin token refused"),
            message: t("Le sandbox demande le jeton d’admin qu’il a affiché au démarrage.",
                       "The sandbox asks for the admin token it printed when it started."),
            nextStep: t("Recopiez la ligne « admin token » du terminal où tourne `serve`.",
                        "Copy the “admin token” line from the terminal where `serve` runs."))
    }
    public var sandboxRefusedAddress: Notice {
        Notice(
            code: "sandbox_refused_address",
            title: t("Adresse refusée par le sandbox", "Address refused by the sandbox"),
            message: t("Le sandbox ne répond qu’à l’adresse qu’il a affichée.", "The sandbox answers only at the address it printed."),
            nextStep: t("Utilisez l’adresse de la ligne « Admin API », ou relancez `serve` avec `--host` et le nom que vous saisissez.",
                        "Use the address of its “Admin API” line, or start `serve` again with `--host` and the name you type."))
    }
    public var placeTestOrder: String { t("Passer une commande de test", "Place a test order") }
    public var testOrderPlaced: String { t("Commande de test envoyée : elle arrive dans quelques secondes.", "Test order sent: it arrives in a few seconds.") }
    public func sandboxLoaded(_ environment: DemoEnvironment) -> String {
        t("Sandbox chargé : \(environment.posUrl)", "Sandbox loaded: \(environment.posUrl)")
    }
    public var invalidURL: Notice {
        Notice(
            code: "invalid_url",
            title: t("Adresse invalide", "Invalid address"),
            message: t("Cette adresse n’est pas une URL.", "This address is not a URL."),
            nextStep: t("Collez l’URL « Admin API » affichée par le sandbox, par exemple http://127.0.0.1:8480/_sandbox.",
                        "Paste the “Admin API” URL the sandbox prints, for example http://127.0.0.1:8480/_sandbox."))
    }
    public var noActiveConnection: Notice {
        Notice(
            code: "no_active_connection",
            title: t("Aucun point de vente actif", "No active location"),
            message: t("Une commande de test a besoin d’un point de vente connecté et actif.", "A test order needs a connected, active location."),
            nextStep: t("Connectez HubRise, puis redémarrez pour appliquer.", "Connect HubRise, then restart to apply."))
    }

    // MARK: Formatting

    func dateTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = locale
        formatter.dateStyle = .short
        formatter.timeStyle = .short
        return formatter.string(from: date)
    }

    /// "20:30", in the iPad's time zone.
    func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = locale
        formatter.dateStyle = .none
        formatter.timeStyle = .short
        return formatter.string(from: date)
    }

    /// An item's quantity, exact: "2", "1,5" in French.
    func quantity(_ quantity: Decimal) -> String {
        let formatter = NumberFormatter()
        formatter.locale = locale
        formatter.numberStyle = .decimal
        formatter.maximumFractionDigits = 3
        return formatter.string(from: quantity as NSDecimalNumber) ?? "\(quantity)"
    }

    func money(_ money: Money?) -> String? {
        money?.formatted(in: language)
    }
}
