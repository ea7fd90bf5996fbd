import Foundation
import Observation
import Passerelle

/// The demo app's root: opens Passerelle on the chosen environment, follows the app's
/// lifecycle and holds the session's screens.
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
    /// and ASWebAuthenticationSession, tests pass the in-memory store and the sandbox's page,
    /// previews ``PreviewPasserelle``.
    public struct Dependencies: Sendable {
        /// Opens Passerelle (``Client/openProtected(config:secrets:events:)`` by default).
        public typealias Opener = @Sendable (PasserelleConfig, any SecretStore, PasserelleEvents) async throws -> any PasserelleClient

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
        /// Opens Passerelle on an environment.
        public var open: Opener

        /// Gathers the platform's pieces.
        public init(
            secrets: @escaping @Sendable (String) -> any SecretStore, alert: any NewOrderAlert,
            authenticator: any WebAuthenticator, environmentStore: any EnvironmentStore, dataRoot: URL,
            defaultEnvironment: DemoEnvironment, productionEnvironment: DemoEnvironment? = nil,
            language: PasserelleLanguage = .preferred,
            open: @escaping Opener = { try await Client.openProtected(config: $0, secrets: $1, events: $2) }
        ) {
            self.secrets = secrets
            self.alert = alert
            self.authenticator = authenticator
            self.environmentStore = environmentStore
            self.dataRoot = dataRoot
            self.defaultEnvironment = defaultEnvironment
            self.productionEnvironment = productionEnvironment
            self.language = language
            self.open = open
        }
    }

    private enum State {
        case starting
        case unavailable(Notice)
        case open(SessionModel)
    }

    /// Where the app connects.
    public private(set) var environment: DemoEnvironment
    /// Failures waiting to be shown, one at a time.
    public let notices: NoticeCenter
    /// The server settings (reachable before signing in) and the sandbox's test orders.
    public let settings: SettingsModel
    /// Every word shown, in the chosen language.
    public let text: DemoText

    private var state: State = .starting
    @ObservationIgnored private let dependencies: Dependencies
    @ObservationIgnored private var client: (any PasserelleClient)?
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

    /// What the window shows: sign-in until an account is signed in, then its screens.
    public var phase: Phase {
        switch state {
        case .starting: .starting
        case .unavailable(let notice): .unavailable(notice)
        case .open(let session): session.passerelle.account == nil ? .signedOut(session.signIn) : .signedIn(session)
        }
    }

    /// The signed-in session, if any.
    public var session: SessionModel? {
        if case .signedIn(let session) = phase { session } else { nil }
    }

    /// Opens Passerelle on the current environment (file protection on iOS) and shows sign-in or
    /// the signed-in screens. Call it once at launch, and again from "Try again".
    public func start() async {
        state = .starting
        // One instance per data directory: the previous one lets go before the next opens.
        await close()
        let events = PasserelleEvents()
        let directory = dependencies.dataRoot.appendingPathComponent(environment.storageKey, isDirectory: true)
        let config = environment.passerelleConfig(dataDir: directory.path)
        do {
            let client = try await dependencies.open(config, dependencies.secrets(environment.storageKey), events)
            self.client = client
            self.events = events
            #if canImport(Network)
                networkMonitor = PasserelleNetworkMonitor(app: client)
            #endif
            let session = SessionModel(
                passerelle: PasserelleModel(client: client, events: events), notices: notices, alert: dependencies.alert,
                authenticator: dependencies.authenticator, redirectUri: environment.redirectUri,
                supportEmail: environment.supportEmail, text: text)
            // The demo's own reactions (the sound, the notices); the model follows the state.
            let stream = events.subscribe(replay: .unheard)
            eventLoop = Task { [weak session] in
                for await event in stream { session?.handle(event) }
            }
            await session.passerelle.refresh()
            if let failure = session.passerelle.lastError { throw failure }
            state = .open(session)
        } catch {
            state = .unavailable(Notice(error: error, language: text.language))
        }
    }

    /// Stops Passerelle and releases its data directory (before another instance opens it).
    public func close() async {
        eventLoop?.cancel()
        events?.finish()
        guard let client else { return }
        self.client = nil
        try? await client.close()
    }

    /// The scene phase changed: pause sync in the background, sync at once on return.
    public func scenePhaseChanged(_ lifecycle: AppLifecycle) {
        guard let client else { return }
        do {
            switch lifecycle {
            case .background:
                try client.appDidEnterBackground()
                wentToBackground = true
            case .active where wentToBackground:
                wentToBackground = false
                try client.appWillEnterForeground()
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
        guard let client else { return }
        do {
            switch try await client.handleOpenURL(url) {
            case .connected(let connection), .showConnection(let connection):
                guard let session else { return }
                await session.passerelle.refresh()
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
        environment.sandboxAdminUrl != nil && session?.passerelle.activeConnections.isEmpty == false
    }

    /// Places the sandbox's sample order at the first active location (sandbox only).
    public func placeTestOrder() async {
        guard let admin = environment.sandboxAdminUrl.flatMap(URL.init(string:)),
            let location = session?.passerelle.activeConnections.first?.locationId
        else {
            return notices.post(text.noActiveConnection)
        }
        await settings.placeTestOrder(adminURL: admin, token: environment.sandboxAdminToken, locationId: location)
    }

    private func switchTo(_ environment: DemoEnvironment) async {
        self.environment = environment
        await start()
    }
}
