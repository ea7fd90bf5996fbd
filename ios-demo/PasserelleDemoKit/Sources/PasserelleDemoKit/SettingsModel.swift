import Foundation
import Observation
import Passerelle
import PasserelleSandbox

/// The settings screen: point the app at a local sandbox (from its admin URL) and place a test
/// order there.
@MainActor @Observable
public final class SettingsModel {
    /// What the person typed.
    public var adminURLText: String
    public private(set) var isWorking = false
    /// A confirmation ("Sandbox loaded: …").
    public private(set) var status: String?
    public let text: DemoText

    @ObservationIgnored private let notices: NoticeCenter
    @ObservationIgnored private let environmentStore: any EnvironmentStore
    @ObservationIgnored private let supportEmail: String
    @ObservationIgnored var onEnvironmentChanged: @MainActor (DemoEnvironment) async -> Void = { _ in }

    init(environment: DemoEnvironment, store: any EnvironmentStore, notices: NoticeCenter, text: DemoText) {
        adminURLText = environment.sandboxAdminUrl ?? ""
        environmentStore = store
        supportEmail = environment.supportEmail
        self.notices = notices
        self.text = text
    }

    /// Reads the sandbox's URLs from ``adminURLText``, saves them and reopens Passerelle on them.
    public func loadSandbox() async {
        let typed = adminURLText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let url = URL(string: typed), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            return notices.post(text.invalidURL)
        }
        isWorking = true
        defer { isWorking = false }
        do {
            let environment = try await DemoEnvironment.fromSandbox(adminURL: url, supportEmail: supportEmail)
            environmentStore.save(environment)
            status = text.sandboxLoaded(environment)
            await onEnvironmentChanged(environment)
        } catch {
            notices.report(error)
        }
    }

    /// Places the sandbox's sample order at `locationId`, as another HubRise app would.
    func placeTestOrder(adminURL: URL, locationId: String) async {
        isWorking = true
        defer { isWorking = false }
        do {
            try await SandboxAdmin(adminURL: adminURL).placeOrder(locationId: locationId, order: .sample(customer: "Camille"))
            status = text.testOrderPlaced
        } catch {
            notices.report(error)
        }
    }
}
