import PasserelleDemoKit
import SwiftUI
import UIKit

/// Sign-in, the signed-in tabs, or why Passerelle could not start; failures as alerts. The servers
/// can be chosen before signing in (and when Passerelle cannot start), for a demo on a real iPad.
struct RootView: View {
    let model: AppModel
    @State private var showsServers = false

    var body: some View {
        Group {
            switch model.phase {
            case .starting:
                ProgressView(model.text.starting)
            case .unavailable(let notice):
                NavigationStack {
                    ContentUnavailableView {
                        Label(notice.title, systemImage: "exclamationmark.triangle")
                    } description: {
                        Text(notice.text)
                    } actions: {
                        Button(model.text.retry) { Task { await model.start() } }
                    }
                    .toolbar { ServersButton(text: model.text, isPresented: $showsServers) }
                }
            case .signedOut(let signIn):
                NavigationStack {
                    SignInView(model: signIn, environment: model.environment)
                        .toolbar { ServersButton(text: model.text, isPresented: $showsServers) }
                }
            case .signedIn(let session):
                SessionView(app: model, session: session)
            }
        }
        .sheet(isPresented: $showsServers) {
            NavigationStack {
                Form { ServerSettingsSection(app: model, settings: model.settings) }
                    .navigationTitle(model.text.settingsServer)
                    .toolbar {
                        ToolbarItem(placement: .confirmationAction) {
                            Button(model.text.ok) { showsServers = false }
                        }
                    }
            }
        }
        .alert(
            model.notices.current?.title ?? "",
            isPresented: Bindable(model.notices).isShowing,
            presenting: model.notices.current
        ) { _ in
            Button(model.text.ok) { model.notices.dismiss() }
        } message: { notice in
            Text(notice.text)
        }
        // A till stays awake while orders can arrive (see README: Guided Access).
        .onChange(of: model.session?.keepsScreenAwake ?? false, initial: true) { _, awake in
            UIApplication.shared.isIdleTimerDisabled = awake
        }
    }
}

/// "Servers" in the toolbar of the screens shown before signing in.
struct ServersButton: ToolbarContent {
    let text: DemoText
    @Binding var isPresented: Bool

    var body: some ToolbarContent {
        ToolbarItem(placement: .primaryAction) {
            Button { isPresented = true } label: { Label(text.settingsServer, systemImage: "server.rack") }
        }
    }
}

/// The sign-in form, with the servers in use under it.
struct SignInView: View {
    @Bindable var model: SignInModel
    let environment: DemoEnvironment

    var body: some View {
        Form {
            Section {
                TextField(model.text.email, text: $model.email)
                    .textContentType(.username)
                    .keyboardType(.emailAddress)
                    .textInputAutocapitalization(.never)
                    .autocorrectionDisabled()
                SecureField(model.text.password, text: $model.password)
                    .textContentType(.password)
                    .onSubmit { Task { await model.signIn() } }
            } header: {
                Text(model.text.signInTitle)
            } footer: {
                Text(model.text.signInExplanation)
            }
            if let failure = model.failure {
                Section {
                    Label(failure.title, systemImage: "exclamationmark.circle").foregroundStyle(.red)
                    Text(failure.text)
                }
            }
            Button {
                Task { await model.signIn() }
            } label: {
                if model.isWorking { ProgressView() } else { Text(model.text.signIn) }
            }
            .disabled(!model.canSubmit)
            Section {
                Text(model.text.serverInUse(environment)).font(.footnote).foregroundStyle(.secondary)
            }
        }
        .frame(maxWidth: 600)
    }
}

/// The signed-in tabs, with the "Restart to apply" banner on top.
struct SessionView: View {
    let app: AppModel
    @Bindable var session: SessionModel

    var body: some View {
        VStack(spacing: 0) {
            if let banner = session.healthBanner {
                Text(banner)
                    .font(.callout.bold())
                    .frame(maxWidth: .infinity)
                    .padding(8)
                    .background(.orange.opacity(0.2))
            }
            if session.passerelle.restartRequired {
                RestartBanner(session: session)
            }
            TabView(selection: $session.tab) {
                OrdersView(model: session.orders)
                    .tabItem { Label(session.text.tabOrders, systemImage: "tray.full") }
                    .tag(DemoTab.orders)
                ConnectionsView(model: session.connections)
                    .tabItem { Label(session.text.tabConnections, systemImage: "link") }
                    .tag(DemoTab.connections)
                HelpView(support: session.support, text: session.text)
                    .tabItem { Label(session.text.tabHelp, systemImage: "questionmark.circle") }
                    .tag(DemoTab.help)
                SettingsView(app: app, settings: app.settings, session: session)
                    .tabItem { Label(session.text.tabSettings, systemImage: "gear") }
                    .tag(DemoTab.settings)
            }
        }
    }
}

/// "Restart required": what will change, and the button.
struct RestartBanner: View {
    let session: SessionModel

    var body: some View {
        HStack(alignment: .top) {
            VStack(alignment: .leading, spacing: 4) {
                Text(session.text.restartBannerTitle).font(.headline)
                Text(session.text.restartBannerMessage)
                ForEach(session.restartChanges, id: \.self) { Text("• \($0)").font(.callout) }
            }
            Spacer()
            Button {
                Task { await session.restartNow() }
            } label: {
                if session.passerelle.isRestarting { ProgressView() } else { Text(session.text.restartNow) }
            }
            .buttonStyle(.borderedProminent)
            .disabled(session.passerelle.isRestarting)
        }
        .padding()
        .background(.yellow.opacity(0.25))
    }
}

#Preview("Caisse") {
    RootView(model: .preview())
}

#Preview("Sign in") {
    NavigationStack {
        SignInView(model: SessionModel.preview(signedIn: false, language: .english).signIn, environment: .localSandbox(supportEmail: "support@passerelle-pos.example"))
    }
}

#Preview("Session") {
    SessionView(app: .preview(), session: .preview())
}

#Preview("Redémarrage") {
    RestartBanner(session: .preview())
}
