import Foundation
import Observation
import Passerelle
import PasserelleSandbox

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The servers the app can use, one tap each (reachable before signing in too).
public enum ServerPreset: String, CaseIterable, Identifiable, Sendable {
    /// `passerelle-sandbox serve --ports 8480,8481,8482` on the Mac running the simulator, which
    /// shares the Mac's 127.0.0.1.
    case simulator
    /// `serve --listen 0.0.0.0 --ports 8480,8481,8482` on a Mac of the iPad's network: the Mac's
    /// address and the admin token it printed.
    case macOnNetwork
    /// HubRise's production servers and the POS vendor's backend (from the app's Info.plist).
    case production

    public var id: String { rawValue }
}

/// The server settings: the presets, a sandbox's admin URL, and test orders in a sandbox.
@MainActor @Observable
public final class SettingsModel {
    /// "Sandbox on this Mac's network": the Mac's address, `192.168.1.20` or `my-mac.local`.
    public var macAddressText = ""
    /// The admin token `serve` printed (a sandbox on the network asks for it).
    public var adminTokenText: String
    /// Another sandbox: its "Admin API" URL, as `serve` prints it.
    public var adminURLText: String
    public private(set) var isWorking = false
    /// A confirmation ("Sandbox loaded: …").
    public private(set) var status: String?
    /// The servers in use.
    public private(set) var environment: DemoEnvironment
    public let text: DemoText

    @ObservationIgnored private let notices: NoticeCenter
    @ObservationIgnored private let environmentStore: any EnvironmentStore
    @ObservationIgnored private let supportEmail: String
    @ObservationIgnored private let productionEnvironment: DemoEnvironment?
    @ObservationIgnored var onEnvironmentChanged: @MainActor (DemoEnvironment) async -> Void = { _ in }

    init(
        environment: DemoEnvironment, production: DemoEnvironment?, store: any EnvironmentStore,
        notices: NoticeCenter, text: DemoText
    ) {
        self.environment = environment
        adminURLText = environment.sandboxAdminUrl ?? ""
        adminTokenText = environment.sandboxAdminToken ?? ""
        if let admin = environment.sandboxAdminUrl.flatMap(URL.init(string:)), let host = admin.host,
            !["127.0.0.1", "localhost"].contains(host)
        {
            macAddressText = admin.port.map { $0 == 8480 ? host : "\(host):\($0)" } ?? host
        }
        productionEnvironment = production
        environmentStore = store
        supportEmail = environment.supportEmail
        self.notices = notices
        self.text = text
    }

    /// The preset the servers in use come from, if any.
    public var currentPreset: ServerPreset? {
        if environment.isProduction { return .production }
        if environment == .localSandbox(supportEmail: supportEmail) { return .simulator }
        if environment.sandboxAdminToken != nil { return .macOnNetwork }
        return nil
    }

    /// Whether the production preset can be used (the app's Info.plist names the servers).
    public var isProductionConfigured: Bool { productionEnvironment != nil }

    /// Switches to `preset`'s servers and reopens Passerelle on them (sign-in comes next when
    /// no account is signed in there). Each environment keeps its own data and Keychain items.
    public func use(_ preset: ServerPreset) async {
        switch preset {
        case .simulator:
            await switchTo(.localSandbox(supportEmail: supportEmail))
        case .production:
            guard let productionEnvironment else { return notices.post(text.productionNotConfigured) }
            await switchTo(productionEnvironment)
        case .macOnNetwork:
            guard let url = DemoEnvironment.sandboxAdminURL(macAddress: macAddressText) else {
                return notices.post(text.invalidMacAddress)
            }
            await load(adminURL: url)
        }
    }

    /// Reads the sandbox's URLs from ``adminURLText`` (and ``adminTokenText``), saves them and
    /// reopens Passerelle on them.
    public func loadSandbox() async {
        let typed = adminURLText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let url = URL(string: typed), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            return notices.post(text.invalidURL)
        }
        await load(adminURL: url)
    }

    private func load(adminURL: URL) async {
        isWorking = true
        defer { isWorking = false }
        let token = adminTokenText.trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            let environment = try await DemoEnvironment.fromSandbox(
                adminURL: adminURL, token: token.isEmpty ? nil : token, supportEmail: supportEmail)
            await switchTo(environment)
        } catch let failure as SandboxAdmin.Failure where failure.status == 401 {
            notices.post(text.sandboxTokenRefused)
        } catch let failure as SandboxAdmin.Failure where failure.status == 421 || failure.status == 403 {
            notices.post(text.sandboxRefusedAddress)
        } catch {
            notices.report(error)
        }
    }

    private func switchTo(_ environment: DemoEnvironment) async {
        environmentStore.save(environment)
        self.environment = environment
        status = text.serversInUse(environment)
        await onEnvironmentChanged(environment)
    }

    /// Places the sandbox's sample order at `locationId`, as another HubRise app would.
    func placeTestOrder(adminURL: URL, token: String?, locationId: String) async {
        isWorking = true
        defer { isWorking = false }
        do {
            try await SandboxAdmin(adminURL: adminURL, token: token)
                .placeOrder(locationId: locationId, order: .sample(customer: "Camille"))
            status = text.testOrderPlaced
        } catch let failure as SandboxAdmin.Failure where failure.status == 401 {
            notices.post(text.sandboxTokenRefused)
        } catch {
            notices.report(error)
        }
    }
}
