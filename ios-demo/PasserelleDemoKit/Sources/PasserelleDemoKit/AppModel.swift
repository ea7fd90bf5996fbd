import Foundation
import Observation
import Passerelle

/// The demo app's root: opens Passerelle on the chosen environment, routes its events, follows
/// the app's lifecycle, and holds the screen models.
///
/// ```swift
/// @State var model = AppModel(dependencies: .iOS)
/// var body: some Scene {
///     WindowGroup { RootView(model: model).task { await model.start() } }
/// }
/// ```
@MainActor @Observable
public final class AppModel {
    /// What the window shows.
    public enum Phase: Sendable {
        case starting
        /// Passerelle could not open; the notice says why, "Try again" calls ``start()``.
        case unavailable(Notice)
        case signedOut(SignInModel)
        case signedIn(SessionModel)
    }

    /// What the app needs from the platform; the iOS app passes the Keychain, the system sound
    /// and ASWebAuthenticationSession, tests pass the in-memory store and the sandbox's page.
    public struct Dependencies: Sendable {
        /// The Keychain service (or test store) for an environment's ``DemoEnvironment/storageKey``.
        public var secrets: @Sendable (String) -> any SecretStore
        /// Sounds the new-order alert.
        public var alert: any NewOrderAlert
        /// Opens HubRise's consent page.
        public var authenticator: any WebAuthenticator
        /// Keeps the chosen environment between launches.
        public var environmentStore: any EnvironmentStore
        /// Each environment's data goes in a subdirectory named by its storage key.
        public var dataRoot: URL
        /// The environment of the first launch.
        public var defaultEnvironment: DemoEnvironment
        /// HubRise's production servers with the POS vendor's backend, when the app names them
        /// (the "Production" preset).
        public var productionEnvironment: DemoEnvironment?
        /// The language of every word shown.
        public var language: PasserelleLanguage

        /// Gathers the platform's pieces.
        public init(
            secrets: @escaping @Sendable (String) -> any SecretStore, alert: any NewOrderAlert,
            authenticator: any WebAuthenticator, environmentStore: any EnvironmentStore, dataRoot: URL,
            defaultEnvironment: DemoEnvironment, productionEnvironment: DemoEnvironment? = nil,
            language: PasserelleLanguage = .preferred
        ) {
            self.secrets = secrets
            self.alert = alert
            self.authenticator = authenticator
            self.environmentStore = environmentStore
            self.dataRoot = dataRoot
            self.defaultEnvironment = defaultEnvironment
            self.productionEnvironment = productionEnvironment
            self.language = language
        }
    }

    /// What the window shows.
    public private(set) var phase: Phase = .starting
    /// Where the app connects.
    public private(set) var environment: DemoEnvironment
    /// Failures waiting to be shown, one at a time.
    public let notices: NoticeCenter
    /// The server settings (reachable before signing in) and the sandbox's test orders.
    public let settings: SettingsModel
    /// Every word shown, in the chosen language.
    public let text: DemoText

    @ObservationIgnored private let dependencies: Dependencies
    @ObservationIgnored private var app: Passerelle?
    @ObservationIgnored private var events: PasserelleEvents?
    @ObservationIgnored private var eventLoop: Task<Void, Never>?
    #if canImport(Network)
        /// Tells Passerelle when the network comes back, so late orders arrive at once.
        @ObservationIgnored private var networkMonitor: PasserelleNetworkMonitor?
    #endif
    @ObservationIgnored private var wentToBackground = false

    /// Reads the saved environment (or the default one); call ``start()`` next.
    public init(dependencies: Dependencies) {
        self.dependencies = dependencies
        text = DemoText(language: dependencies.language)
        let environment = dependencies.environmentStore.load() ?? dependencies.defaultEnvironment
        self.environment = environment
        notices = NoticeCenter(language: dependencies.language)
        settings = SettingsModel(
            environment: environment, production: dependencies.productionEnvironment,
            store: dependencies.environmentStore, notices: notices, text: text)
        settings.onEnvironmentChanged = { [weak self] environment in await self?.switchTo(environment) }
    }

    /// The signed-in session, if any.
    public var session: SessionModel? {
        if case .signedIn(let session) = phase { session } else { nil }
    }

    /// Opens Passerelle on the current environment (file protection on iOS) and shows sign-in or
    /// the signed-in screens. Call it once at launch, and again from "Try again".
    public func start() async {
        phase = .starting
        eventLoop?.cancel()
        // One instance per data directory: the previous one lets go before the next opens.
        await close()
        let events = PasserelleEvents()
        let directory = dependencies.dataRoot.appendingPathComponent(environment.storageKey, isDirectory: true)
        let config = environment.passerelleConfig(dataDir: directory.path)
        do {
            let app = try await Passerelle.openProtected(
                config: config, secrets: dependencies.secrets(environment.storageKey), events: events)
            self.app = app
            #if canImport(Network)
                networkMonitor = PasserelleNetworkMonitor(app: app)
            #endif
            self.events = events
            eventLoop = Task { [weak self] in
                for await event in events.subscribe() { self?.handle(event) }
            }
            if let account = try app.account() {
                showSession(app, account)
            } else {
                showSignIn(app)
            }
        } catch {
            phase = .unavailable(Notice(error: error, language: text.language))
        }
    }

    /// Stops Passerelle and releases its data directory (before another instance opens it).
    public func close() async {
        guard let app else { return }
        self.app = nil
        try? await app.close()
    }

    /// The scene phase changed: pause sync in the background, sync at once on return.
    public func scenePhaseChanged(_ lifecycle: AppLifecycle) {
        guard let app else { return }
        do {
            switch lifecycle {
            case .background:
                try app.appDidEnterBackground()
                wentToBackground = true
            case .active where wentToBackground:
                wentToBackground = false
                try app.appWillEnterForeground()
                session?.refresh()
            case .active, .inactive:
                break
            }
        } catch {
            notices.report(error)
        }
    }

    /// The app was opened with a URL: HubRise's Open URL (`passerelle-demo://hubrise/open?…`)
    /// shows the connection it names.
    public func handleOpenURL(_ url: URL) async {
        guard let app else { return }
        do {
            switch try await app.handleOpenUrl(url: url.absoluteString) {
            case .connected(let connection), .showConnection(let connection):
                guard let session else { return }
                session.refresh()
                session.connections.highlightedID = connection.id
                session.tab = .connections
            case .notHandled:
                break
            }
        } catch {
            notices.report(error)
        }
    }

    /// Whether "Place a test order" can work: a sandbox and an active connection.
    public var canPlaceTestOrder: Bool {
        environment.sandboxAdminUrl != nil && session?.connections.rows.contains(where: \.isActive) == true
    }

    /// Places the sandbox's sample order at the first active location (sandbox only).
    public func placeTestOrder() async {
        guard let admin = environment.sandboxAdminUrl.flatMap(URL.init(string:)),
            let location = session?.connections.rows.first(where: \.isActive)?.connection.locationId
        else {
            return notices.post(text.noActiveConnection)
        }
        await settings.placeTestOrder(adminURL: admin, token: environment.sandboxAdminToken, locationId: location)
    }

    private func switchTo(_ environment: DemoEnvironment) async {
        self.environment = environment
        // Drop the running instance before opening the new environment's.
        eventLoop?.cancel()
        events?.finish()
        app = nil
        await start()
    }

    private func showSignIn(_ app: Passerelle, email: String = "") {
        phase = .signedOut(
            SignInModel(app: app, email: email, text: text) { [weak self] account in
                self?.showSession(app, account)
            })
    }

    private func showSession(_ app: Passerelle, _ account: PosAccount) {
        let session = SessionModel(
            app: app, account: account, notices: notices, alert: dependencies.alert,
            authenticator: dependencies.authenticator, redirectUri: environment.redirectUri,
            supportEmail: environment.supportEmail, text: text
        ) { [weak self] in
            self?.showSignIn(app, email: account.email)
        }
        phase = .signedIn(session)
    }

    private func handle(_ event: PasserelleEvent) {
        if let session {
            session.handle(event)
        } else if case .backendUnavailable = event {
            notices.post(text.backendUnavailable())
        }
    }
}
