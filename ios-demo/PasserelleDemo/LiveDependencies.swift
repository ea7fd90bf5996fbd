import Foundation
import Passerelle
import PasserelleDemoKit

extension AppModel.Dependencies {
    /// The iOS app's: Keychain (one service per environment), the system alert sound,
    /// ASWebAuthenticationSession, UserDefaults, Application Support.
    @MainActor
    static func live() -> AppModel.Dependencies {
        let supportEmail = Bundle.main.object(forInfoDictionaryKey: "PasserelleSupportEmail") as? String
            ?? "support@passerelle-pos.example"
        let dataRoot = (try? PasserelleDataDirectory.defaultURL())
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("Passerelle", isDirectory: true)
        return AppModel.Dependencies(
            secrets: { KeychainSecretStore(service: "com.passerelle.demo.\($0)") },
            alert: SystemSoundAlert(),
            authenticator: WebAuthenticationSessionAuthenticator(),
            environmentStore: UserDefaultsEnvironmentStore(),
            dataRoot: dataRoot,
            defaultEnvironment: .localSandbox(supportEmail: supportEmail))
    }
}
