import Foundation
import Passerelle
import PasserelleDemoKit

extension AppModel.Dependencies {
    /// The iOS app's: Keychain (one service per environment), the system alert sound,
    /// ASWebAuthenticationSession, UserDefaults, Application Support, and the production servers
    /// named in Info.plist (project.yml).
    @MainActor
    static func live() -> AppModel.Dependencies {
        let info = Bundle.main
        func setting(_ key: String) -> String? {
            (info.object(forInfoDictionaryKey: key) as? String).flatMap { $0.isEmpty ? nil : $0 }
        }
        let supportEmail = setting("PasserelleSupportEmail") ?? "support@passerelle-pos.example"
        let dataRoot = (try? PasserelleDataDirectory.defaultURL())
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("Passerelle", isDirectory: true)
        var production: DemoEnvironment?
        if let posUrl = setting("PasserelleProductionPOSURL"), let posClientId = setting("PasserelleProductionPOSClientID"),
            let hubriseClientId = setting("PasserelleHubriseClientID")
        {
            production = .production(
                posUrl: posUrl, posClientId: posClientId, hubriseClientId: hubriseClientId, supportEmail: supportEmail)
        }
        return AppModel.Dependencies(
            secrets: { KeychainSecretStore(service: "com.passerelle.demo.\($0)") },
            alert: SystemSoundAlert(),
            authenticator: WebAuthenticationSessionAuthenticator(),
            environmentStore: UserDefaultsEnvironmentStore(),
            dataRoot: dataRoot,
            defaultEnvironment: .localSandbox(supportEmail: supportEmail),
            productionEnvironment: production)
    }
}
