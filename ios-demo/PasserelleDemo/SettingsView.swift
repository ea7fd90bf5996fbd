import PasserelleDemoKit
import SwiftUI

/// Point the app at a local sandbox, place a test order there, sign out.
struct SettingsView: View {
    let app: AppModel
    @Bindable var settings: SettingsModel
    let session: SessionModel

    var body: some View {
        NavigationStack {
            Form {
                Section(settings.text.settingsServer) {
                    Text(app.environment.posUrl).font(.footnote)
                    TextField(settings.text.sandboxURLField, text: $settings.adminURLText)
                        .keyboardType(.URL)
                        .textInputAutocapitalization(.never)
                        .autocorrectionDisabled()
                    Text(settings.text.sandboxURLHelp).font(.footnote).foregroundStyle(.secondary)
                    Button(settings.text.loadSandbox) { Task { await settings.loadSandbox() } }
                        .disabled(settings.isWorking)
                    Button(settings.text.placeTestOrder) { Task { await app.placeTestOrder() } }
                        .disabled(settings.isWorking || !app.canPlaceTestOrder)
                    if let status = settings.status {
                        Text(status).font(.footnote)
                    }
                }
                Section {
                    Text(session.text.signedInAs(session.account))
                    Button(session.text.signOut, role: .destructive) { Task { await session.signOut() } }
                        .disabled(session.isSigningOut)
                }
            }
            .navigationTitle(settings.text.tabSettings)
        }
    }
}
