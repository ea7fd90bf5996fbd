import PasserelleDemoKit
import SwiftUI
import UIKit

/// HubRise connections: status, Reconnect, Check, Disconnect (confirmed), Confirm/Refuse for
/// connections made off the iPad, and "Connect HubRise" (browser or pasted code).
struct ConnectionsView: View {
    @Bindable var model: ConnectionsModel

    var body: some View {
        NavigationStack {
            List {
                if model.rows.isEmpty {
                    Text(model.text.noConnection).foregroundStyle(.secondary)
                }
                ForEach(model.rows) { row in
                    ConnectionRowView(model: model, row: row)
                        .listRowBackground(model.highlightedID == row.id ? Color.accentColor.opacity(0.12) : nil)
                }
            }
            .navigationTitle(model.text.tabConnections)
            .toolbar {
                ToolbarItemGroup(placement: .primaryAction) {
                    Button(model.text.connectWithCode) { Task { await model.startPastedCodeConnection() } }
                    Button {
                        Task { await model.connect() }
                    } label: {
                        if model.isConnecting { ProgressView() } else { Label(model.text.connectHubrise, systemImage: "plus") }
                    }
                    .disabled(model.isConnecting)
                }
            }
            // SwiftUI runs this `@Sendable` action off the main actor: `await` hops to the model's.
            .refreshable { await model.pullToRefresh() }
            .confirmationDialog(
                model.text.disconnectTitle,
                isPresented: $model.isConfirmingDisconnect,
                titleVisibility: .visible,
                presenting: model.disconnectCandidate
            ) { _ in
                Button(model.text.disconnectConfirm, role: .destructive) { Task { await model.confirmDisconnect() } }
                Button(model.text.cancel, role: .cancel) { model.cancelDisconnect() }
            } message: { row in
                Text(model.text.disconnectMessage(row))
            }
            .sheet(isPresented: $model.isEnteringPastedCode) {
                PastedCodeSheet(model: model)
            }
        }
    }
}

struct ConnectionRowView: View {
    let model: ConnectionsModel
    let row: ConnectionRow

    var body: some View {
        VStack(alignment: .leading, spacing: 4) {
            Text(row.title).font(.headline)
            Label(row.status, systemImage: icon).foregroundStyle(color)
            Text(row.locationLine)
            Text(row.accountLine)
            Text(row.catalogLine)
            Text(row.customerListLine)
            Text(row.originLine).font(.footnote).foregroundStyle(.secondary)
            if let failure = row.failureLine {
                Text(failure).font(.footnote).foregroundStyle(.red)
            }
            if let detail = row.failureDetail {
                Text(detail).font(.caption2).foregroundStyle(.secondary).textSelection(.enabled)
            }
            HStack {
                if row.needsConfirmation {
                    Button(model.text.confirmConnection) { Task { await model.confirm(row) } }
                        .buttonStyle(.borderedProminent)
                    Button(model.text.refuseConnection, role: .destructive) { Task { await model.refuse(row) } }
                }
                if row.canReconnect {
                    Button(model.text.reconnect) { Task { await model.connect(reconnecting: row) } }
                }
                if row.canCheck {
                    Button(model.text.check) { Task { await model.check(row) } }
                }
                if row.canDisconnect {
                    Button(model.text.disconnect, role: .destructive) { model.askToDisconnect(row) }
                }
            }
            .buttonStyle(.bordered)
            .disabled(model.busy.contains(row.id) || model.isConnecting)
        }
        .padding(.vertical, 4)
    }

    private var icon: String {
        switch row.tone {
        case .ok: "checkmark.circle.fill"
        case .pending: "clock"
        case .warning: "questionmark.circle"
        case .error: "exclamationmark.triangle.fill"
        }
    }

    private var color: Color {
        switch row.tone {
        case .ok: .green
        case .pending: .secondary
        case .warning: .orange
        case .error: .red
        }
    }
}

/// The out-of-band fallback: open the link (here or on a computer), paste the code HubRise shows.
/// Also what "Connect HubRise" opens when the browser sheet cannot (Guided Access), saying so.
struct PastedCodeSheet: View {
    @Bindable var model: ConnectionsModel
    @Environment(\.openURL) private var openURL

    var body: some View {
        NavigationStack {
            Form {
                Section {
                    if let reason = model.pastedCodeReason {
                        Label(reason, systemImage: "exclamationmark.triangle").foregroundStyle(.orange)
                    }
                    Text(model.text.pastedCodeExplanation)
                    if let link = model.pastedCodeFlow?.authorizeURL {
                        Text(link.absoluteString).font(.footnote).textSelection(.enabled)
                        Button(model.text.openLink) { openURL(link) }
                        Button(model.text.copyLink) { UIPasteboard.general.string = link.absoluteString }
                    }
                }
                Section {
                    TextField(model.text.pastedCodeField, text: $model.pastedCode)
                        .textInputAutocapitalization(.never)
                        .autocorrectionDisabled()
                        .font(.body.monospaced())
                    Button {
                        Task { await model.submitPastedCode() }
                    } label: {
                        if model.isConnecting { ProgressView() } else { Text(model.text.pastedCodeSubmit) }
                    }
                    .disabled(model.pastedCode.isEmpty || model.isConnecting)
                }
            }
            .navigationTitle(model.text.pastedCodeTitle)
            .toolbar {
                ToolbarItem(placement: .cancellationAction) {
                    Button(model.text.cancel) { model.cancelPastedCode() }
                }
            }
        }
    }
}

#Preview("Connexions") {
    ConnectionsView(model: SessionModel.preview().connections)
}

#Preview("Connection row") {
    List { ConnectionRowView(model: SessionModel.preview().connections, row: .preview()) }
}

#Preview("Pasted code") {
    PastedCodeSheet(model: SessionModel.preview(language: .english).connections)
}
