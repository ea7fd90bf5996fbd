import PasserelleDemoKit
import SwiftUI

/// The signed-in Settings tab: the servers, a test order in a sandbox, sign out.
struct SettingsView: View {
    let app: AppModel
    @Bindable var settings: SettingsModel
    let session: SessionModel

    var body: some View {
        NavigationStack {
            Form {
                ServerSettingsSection(app: app, settings: settings)
                Section {
                    Button(settings.text.placeTestOrder) { Task { await app.placeTestOrder() } }
                        .disabled(settings.isWorking || !app.canPlaceTestOrder)
                    if let account = session.account { Text(session.text.signedInAs(account)) }
                    Button(session.text.signOut, role: .destructive) { Task { await session.signOut() } }
                        .disabled(session.isSigningOut)
                }
            }
            .navigationTitle(settings.text.tabSettings)
        }
    }
}

/// The servers: the three presets (simulator, a Mac of this network, production) and another
/// sandbox by its admin URL. Shown in Settings and, before signing in, from the toolbar.
struct ServerSettingsSection: View {
    let app: AppModel
    @Bindable var settings: SettingsModel

    var body: some View {
        Section(settings.text.settingsServer) {
            Text(settings.text.serverInUse(app.environment)).font(.footnote)
            if let status = settings.status {
                Text(status).font(.footnote).foregroundStyle(.secondary)
            }
        }
        ForEach(ServerPreset.allCases) { preset in
            Section {
                Text(settings.text.presetHelp(preset)).font(.footnote).foregroundStyle(.secondary).textSelection(.enabled)
                if preset == .macOnNetwork {
                    TextField(settings.text.macAddressField, text: $settings.macAddressText)
                        .keyboardType(.URL)
                        .textInputAutocapitalization(.never)
                        .autocorrectionDisabled()
                    TextField(settings.text.adminTokenField, text: $settings.adminTokenText)
                        .textInputAutocapitalization(.never)
                        .autocorrectionDisabled()
                        .font(.body.monospaced())
                }
                if settings.currentPreset == preset {
                    Label(settings.text.inUse, systemImage: "checkmark.circle.fill").foregroundStyle(.green)
                }
                Button(settings.text.usePreset) { Task { await settings.use(preset) } }
                    .disabled(settings.isWorking || (preset == .production && !settings.isProductionConfigured))
            } header: {
                Text(settings.text.presetName(preset))
            }
        }
        Section(settings.text.otherSandbox) {
            TextField(settings.text.sandboxURLField, text: $settings.adminURLText)
                .keyboardType(.URL)
                .textInputAutocapitalization(.never)
                .autocorrectionDisabled()
            Text(settings.text.sandboxURLHelp).font(.footnote).foregroundStyle(.secondary)
            Button(settings.text.loadSandbox) { Task { await settings.loadSandbox() } }
                .disabled(settings.isWorking)
        }
    }
}

#Preview("Réglages") {
    SettingsPreview(app: .preview())
}

#Preview("Servers") {
    Form { ServerSettingsSection(app: .preview(signedIn: false, language: .english), settings: AppModel.preview().settings) }
}

/// The Settings tab once the preview's app has opened its session.
private struct SettingsPreview: View {
    let app: AppModel

    var body: some View {
        if let session = app.session {
            SettingsView(app: app, settings: app.settings, session: session)
        } else {
            ProgressView()
        }
    }
}
