import PasserelleDemoKit
import SwiftUI

/// The orders inbox (new orders highlighted) and the selected order's details, side by side on iPad.
struct OrdersView: View {
    @Bindable var model: OrdersModel

    var body: some View {
        NavigationSplitView {
            List(selection: $model.selection) {
                if model.rows.isEmpty {
                    Text(model.text.noOrders).foregroundStyle(.secondary)
                }
                ForEach(model.rows) { row in
                    OrderRowView(row: row, newBadge: model.text.newBadge).tag(row.id)
                }
                if model.hasMore {
                    Button(model.text.showMore) { Task { await model.loadMore() } }
                }
            }
            .navigationTitle(model.text.tabOrders)
            // SwiftUI runs this `@Sendable` action off the main actor: `await` hops to the model's.
            .refreshable { await model.pullToRefresh() }
        } detail: {
            if let detail = model.detail {
                OrderDetailView(model: model, detail: detail)
            } else {
                Text(model.text.selectAnOrder).foregroundStyle(.secondary)
            }
        }
        .alert(
            model.text.rejectTitle,
            isPresented: $model.isConfirmingReject,
            presenting: model.rejectCandidate
        ) { _ in
            TextField(model.text.rejectReasonField, text: $model.rejectReason)
            Button(model.text.rejectConfirm, role: .destructive) { Task { await model.confirmReject() } }
            Button(model.text.cancel, role: .cancel) { model.cancelReject() }
        } message: { row in
            Text(row.title)
        }
    }
}

struct OrderRowView: View {
    let row: OrderRow
    let newBadge: String

    var body: some View {
        HStack {
            VStack(alignment: .leading, spacing: 2) {
                HStack {
                    Text(row.title).font(row.isNew ? .headline : .body)
                    if row.isNew {
                        Text(newBadge).font(.caption.bold()).padding(.horizontal, 6)
                            .background(.orange, in: Capsule()).foregroundStyle(.white)
                    }
                }
                if let customer = row.customer { Text(customer) }
                Text(row.subtitle).font(.footnote).foregroundStyle(.secondary)
                Text(row.status).font(.footnote).foregroundStyle(row.isSending ? Color.orange : Color.secondary)
            }
            Spacer()
            if let total = row.total { Text(total).monospacedDigit() }
        }
        .listRowBackground(row.isNew ? Color.orange.opacity(0.15) : nil)
    }
}

/// An order's lines (deleted ones struck through), customer, notes, HubRise's total, and the
/// accept / reject actions.
struct OrderDetailView: View {
    let model: OrdersModel
    let detail: OrderDetail

    var body: some View {
        List {
            Section {
                Text(detail.row.status)
                if detail.row.canAccept {
                    HStack {
                        ForEach(model.readyInChoices, id: \.self) { minutes in
                            Button(model.text.readyIn(minutes)) {
                                Task { await model.accept(detail.row.id, readyInMinutes: minutes) }
                            }
                            .buttonStyle(.borderedProminent)
                        }
                    }
                    Button(model.text.reject, role: .destructive) { model.askToReject(detail.row) }
                }
            }
            .disabled(model.busy.contains(detail.row.id))
            ForEach(detail.sections) { section in
                Section(section.title) {
                    ForEach(section.lines) { line in
                        HStack {
                            Text(line.label)
                                .strikethrough(line.isDeleted)
                                .padding(.leading, line.isOption ? 16 : 0)
                                .foregroundStyle(line.isDeleted || line.isOption ? Color.secondary : Color.primary)
                            Spacer()
                            if let amount = line.amount { Text(amount).strikethrough(line.isDeleted).monospacedDigit() }
                        }
                    }
                }
            }
            if !detail.customerLines.isEmpty || !detail.notes.isEmpty {
                Section {
                    ForEach(detail.customerLines + detail.notes, id: \.self) { Text($0) }
                }
            }
            Section {
                HStack {
                    Text(detail.totalLabel).font(.headline)
                    Spacer()
                    Text(detail.total ?? "—").font(.headline).monospacedDigit()
                }
            }
        }
        .navigationTitle(detail.row.title)
    }
}

#Preview("Commandes") {
    OrdersView(model: SessionModel.preview().orders)
}

#Preview("Service du midi") {
    // An order every 30 s, HubRise down at 2 min, a cancellation at 3 min; ten times faster.
    OrdersView(model: SessionModel.preview(timeline: .lunchService, speed: 10).orders)
}

#Preview("Order row") {
    List { OrderRowView(row: OrderDetail.preview(language: .english).row, newBadge: "New") }
}

#Preview("Détails") {
    NavigationStack { OrderDetailView(model: SessionModel.preview().orders, detail: .preview()) }
}
