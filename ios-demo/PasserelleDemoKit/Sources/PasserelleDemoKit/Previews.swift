import Foundation
import Passerelle

/// The demo's screens on ``PreviewPasserelle``'s sample data, for the views' `#Preview`s: no
/// database, no network, no Keychain.
extension AppModel {
    /// The app opened on the fake (signed in by default), as it is once started.
    public static func preview(signedIn: Bool = true, language: PasserelleLanguage = .french) -> AppModel {
        let model = AppModel(
            dependencies: Dependencies(
                secrets: { _ in InMemorySecretStore() }, alert: SilentAlert(), authenticator: PreviewAuthenticator(),
                environmentStore: MemoryEnvironmentStore(), dataRoot: FileManager.default.temporaryDirectory,
                defaultEnvironment: .localSandbox(supportEmail: "support@passerelle-pos.example"), language: language,
                open: { _, _, events in PreviewPasserelle(signedIn: signedIn, events: events) }))
        Task { await model.start() }
        return model
    }
}

extension SessionModel {
    /// A session on the fake (signed in by default), playing `timeline` at `speed` when given:
    /// the same scripted service the unit tests read (``PreviewPasserelle/Timeline``).
    public static func preview(
        signedIn: Bool = true, language: PasserelleLanguage = .french, timeline: PreviewPasserelle.Timeline? = nil,
        speed: Double = 1
    ) -> SessionModel {
        let fake = PreviewPasserelle(signedIn: signedIn)
        if let timeline { Task { await fake.play(timeline, speed: speed) } }
        let text = DemoText(language: language)
        return SessionModel(
            passerelle: PasserelleModel(client: fake, events: fake.events), notices: NoticeCenter(language: language),
            alert: SilentAlert(), authenticator: PreviewAuthenticator(), redirectUri: DemoEnvironment.redirectUri,
            supportEmail: "support@passerelle-pos.example", text: text)
    }
}

/// No sound in a preview.
struct SilentAlert: NewOrderAlert {
    func newOrderArrived() {}
}

/// "Allows" at once on HubRise's page: the fake connects Lyon.
struct PreviewAuthenticator: WebAuthenticator {
    func authenticate(url: URL, callback: WebAuthenticationCallback) async throws -> URL {
        var redirect = URLComponents(string: DemoEnvironment.redirectUri)
        redirect?.queryItems = [URLQueryItem(name: "code", value: "preview")]
            + (URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems?.filter { $0.name == "state" } ?? [])
        guard let url = redirect?.url else { throw WebAuthenticationCancelled() }
        return url
    }
}

extension ConnectionRow {
    /// A connection HubRise blocked, as its row shows it: the status, the last failure, Reconnect.
    public static func preview(language: PasserelleLanguage = .french) -> ConnectionRow {
        var blocked = PreviewPasserelle.sampleConnection()
        blocked.reconnectNeeded = true
        blocked.lastFailedAt = Date()
        blocked.lastFailedReason = "The connection has been blocked"
        return ConnectionRow(blocked, text: DemoText(language: language))
    }
}

extension OrderDetail {
    /// The sandbox's sample order, waiting for a decision.
    public static func preview(language: PasserelleLanguage = .french) -> OrderDetail {
        OrderDetail(PreviewPasserelle.sampleOrder(id: "preview-1"), text: DemoText(language: language))
    }
}
