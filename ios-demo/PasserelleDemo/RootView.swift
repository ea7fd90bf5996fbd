import PasserelleDemoKit
import SwiftUI
import UIKit

/// Sign-in, the signed-in tabs, or why Passerelle could not start; failures as alerts.
struct RootView: View {
    let model: AppModel

    var body: some View {
        Group {
            switch model.phase {
            case .starting:
                ProgressView(model.text.starting)
            case .unavailable(let notice):
                ContentUnavailableView {
                    Label(notice.title, systemImage: "exclamationmark.triangle")
                } description: {
                    Text(notice.text)
                } actions: {
                    Button(model.text.retry) { Task { await model.start() } }
                }
            case .signedOut(let signIn):
                SignInView(model: signIn)
            case .signedIn(let session):
                SessionView(app: model, session: session)
            }
        }
        .alert(
            model.notices.current?.title ?? "",
            isPresented: Binding(get: { model.notices.current != nil }, set: { if !$0 { model.notices.dismiss() } }),
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

/// The sign-in form.
struct SignInView: View {
    @Bindable var model: SignInModel

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
            if let banner = session.health.banner {
                Text(banner)
                    .font(.callout.weight(.semibold))
                    .frame(maxWidth: .infinity)
                    .padding(8)
                    .background(.orange.opacity(0.2))
            }
            if session.restart.isRequired {
                RestartBanner(model: session.restart)
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
    let model: RestartModel

    var body: some View {
        HStack(alignment: .top) {
            VStack(alignment: .leading, spacing: 4) {
                Text(model.text.restartBannerTitle).font(.headline)
                Text(model.text.restartBannerMessage)
                ForEach(model.changes, id: \.self) { Text("• \($0)").font(.callout) }
            }
            Spacer()
            Button {
                Task { await model.restartNow() }
            } label: {
                if model.isRestarting { ProgressView() } else { Text(model.text.restartNow) }
            }
            .buttonStyle(.borderedProminent)
            .disabled(model.isRestarting)
        }
        .padding()
        .background(.yellow.opacity(0.25))
    }
}
