import Foundation
import Observation
import Passerelle

/// One order in the inbox list.
public struct OrderRow: Identifiable, Equatable, Sendable {
    public let id: String
    public let title: String
    public let customer: String?
    /// "Livraison · Pour 20:30".
    public let subtitle: String
    public let total: String?
    public let status: String
    /// Waiting for the restaurant to accept or reject it: highlighted.
    public let isNew: Bool
    /// A status change is on its way to HubRise.
    public let isSending: Bool
    public let canAccept: Bool
    public let canReject: Bool
}

/// One line of an order's details; deleted lines stay, struck through.
public struct DetailLine: Identifiable, Equatable, Sendable {
    public let id: Int
    public let label: String
    public let amount: String?
    /// Removed at HubRise (`"deleted": true`): show it struck through.
    public let isDeleted: Bool
    /// An option under its item.
    public let isOption: Bool
}

/// An order's details: items with options, charges, discounts, payments, customer, notes, and
/// HubRise's total (which already leaves out deleted lines).
public struct OrderDetail: Equatable, Sendable {
    public struct Section: Identifiable, Equatable, Sendable {
        public var id: String { title }
        public let title: String
        public let lines: [DetailLine]
    }

    public let row: OrderRow
    public let sections: [Section]
    public let customerLines: [String]
    public let notes: [String]
    public let totalLabel: String
    public let total: String?
}

/// The orders inbox: new orders highlighted and announced, accept (ready in N minutes) or reject
/// (after a confirmation), details.
@MainActor @Observable
public final class OrdersModel {
    public private(set) var rows: [OrderRow] = []
    /// The order whose details show.
    public var selectedID: String?
    /// Orders with an action under way.
    public private(set) var busy: Set<String> = []
    /// The order the reject dialog asks about; `nil` closes it.
    public var rejectCandidate: OrderRow?
    /// The reason typed in the reject dialog (kept on the iPad).
    public var rejectReason = ""
    /// The preparation times offered with "Accept".
    public let readyInChoices = [10, 20, 30, 45]
    public let text: DemoText

    @ObservationIgnored private var orders: [String: Order] = [:]
    @ObservationIgnored private let app: Passerelle
    @ObservationIgnored private let notices: NoticeCenter
    @ObservationIgnored private let alert: any NewOrderAlert

    init(app: Passerelle, notices: NoticeCenter, alert: any NewOrderAlert, text: DemoText) {
        self.app = app
        self.notices = notices
        self.alert = alert
        self.text = text
    }

    /// The selected order's details.
    public var detail: OrderDetail? {
        selectedID.flatMap { orders[$0] }.map(detail(of:))
    }

    /// Reads the inbox again (the latest 100 orders).
    public func refresh() {
        do {
            let list = try app.orders(filter: OrderFilter(limit: 100))
            orders = Dictionary(list.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            rows = list.map(row(of:))
        } catch {
            notices.report(error)
        }
    }

    /// Pull to refresh: asks HubRise for new orders now (without waiting for the next poll), then
    /// reads the inbox again. New orders also arrive as events, with their alert. Failures are told.
    public func pullToRefresh() async {
        do {
            _ = try await app.syncNow()
        } catch {
            notices.report(error)
        }
        refresh()
    }

    /// An order arrived (event): show it first and sound the alert.
    func received(_ order: Order) {
        upsert(order)
        alert.newOrderArrived()
        // On screen and announced: it need not be announced again after a restart.
        Task { [app] in _ = try? await app.markOrdersSeen(orderIds: [order.id]) }
    }

    /// An order changed (event): a status pushed, a customer cancellation, a line deleted.
    func updated(_ order: Order) {
        upsert(order)
    }

    /// Accepts the order, ready in `minutes`.
    public func accept(_ id: String, readyInMinutes minutes: Int) async {
        let ready = Date().addingTimeInterval(TimeInterval(minutes * 60))
        await perform(id) { app in try await app.accept(orderId: id, confirmedTime: ready) }
    }

    /// "Reject": asks for a confirmation (and an optional reason) first.
    public func askToReject(_ row: OrderRow) {
        rejectReason = ""
        rejectCandidate = row
    }

    /// The reject dialog's confirmation.
    public func confirmReject() async {
        guard let row = rejectCandidate else { return }
        rejectCandidate = nil
        let reason = rejectReason.trimmingCharacters(in: .whitespacesAndNewlines)
        await perform(row.id) { app in try await app.reject(orderId: row.id, reason: reason.isEmpty ? nil : reason) }
    }

    /// The reject dialog's "Cancel".
    public func cancelReject() {
        rejectCandidate = nil
    }

    /// Whether the reject confirmation shows; setting it to `false` cancels it (the view binds
    /// `$model.isConfirmingReject`).
    public var isConfirmingReject: Bool {
        get { rejectCandidate != nil }
        set { if !newValue { cancelReject() } }
    }

    private func perform(_ id: String, _ operation: @Sendable (Passerelle) async throws -> Void) async {
        guard !busy.contains(id) else { return }
        busy.insert(id)
        defer { busy.remove(id) }
        do {
            try await operation(app)
        } catch {
            notices.report(error)
        }
        // The outbox took it; HubRise's answer comes back as an `orderUpdated` event.
        if let order = try? app.order(orderId: id) { upsert(order) }
    }

    private func upsert(_ order: Order) {
        orders[order.id] = order
        let row = row(of: order)
        if let index = rows.firstIndex(where: { $0.id == order.id }) {
            rows[index] = row
        } else {
            rows.insert(row, at: 0)
        }
    }

    private func row(of order: Order) -> OrderRow {
        let waiting = order.status.awaitsDecision && order.pendingStatus == nil
        let name = [order.customer?.firstName, order.customer?.lastName].compactMap { $0 }.joined(separator: " ")
        let subtitle = [text.serviceType(order.serviceType), order.expectedTime.map { text.expected(text.time($0)) }]
            .compactMap { $0 }.joined(separator: " · ")
        let status = order.pendingStatus.map { "\($0.displayName(in: text.language)) — \(text.sendingToHubrise)" }
            ?? order.status.displayName(in: text.language)
        return OrderRow(
            id: order.id, title: text.orderTitle(order), customer: name.isEmpty ? nil : name, subtitle: subtitle,
            total: text.money(order.total), status: status, isNew: waiting, isSending: order.pendingStatus != nil,
            canAccept: waiting, canReject: waiting)
    }

    private func detail(of order: Order) -> OrderDetail {
        var number = 0
        func line(_ label: String, _ amount: Money?, deleted: Bool, option: Bool = false) -> DetailLine {
            number += 1
            return DetailLine(id: number, label: label, amount: text.money(amount), isDeleted: deleted, isOption: option)
        }
        var items: [DetailLine] = []
        for item in order.items {
            let name = [item.productName, item.skuName].compactMap { $0 }.joined(separator: " – ")
            items.append(line("\(item.quantity) × \(name)", item.subtotal ?? item.price, deleted: item.deleted))
            for option in item.options {
                let label = option.removed ? text.without(option.name) : (option.quantity > 1 ? "\(option.quantity) × \(option.name)" : option.name)
                items.append(line(label, option.price, deleted: option.deleted || item.deleted, option: true))
            }
            if let notes = item.customerNotes { items.append(line(notes, nil, deleted: item.deleted, option: true)) }
        }
        let sections = [
            OrderDetail.Section(title: text.items, lines: items),
            OrderDetail.Section(title: text.charges, lines: order.charges.map { line($0.name, $0.price, deleted: $0.deleted) }),
            OrderDetail.Section(
                title: text.discounts,
                lines: order.discounts.map { line($0.name, $0.priceOff.map { Money(minorUnits: -$0.minorUnits, currency: $0.currency) }, deleted: $0.deleted) }),
            OrderDetail.Section(title: text.payments, lines: order.payments.map { line($0.name, $0.amount, deleted: $0.deleted) }),
        ].filter { !$0.lines.isEmpty }
        let customer = order.customer.map { customer in
            [
                [customer.firstName, customer.lastName].compactMap { $0 }.joined(separator: " "),
                customer.companyName, customer.phone, customer.email,
                [customer.address1, customer.address2].compactMap { $0 }.joined(separator: ", "),
                [customer.postalCode, customer.city].compactMap { $0 }.joined(separator: " "),
                customer.deliveryNotes.map(text.deliveryNotes),
            ].compactMap { $0 }.filter { !$0.isEmpty }
        } ?? []
        let notes = [order.customerNotes.map(text.customerNotes), order.sellerNotes.map(text.sellerNotes)].compactMap { $0 }
        return OrderDetail(
            row: row(of: order), sections: sections, customerLines: customer, notes: notes,
            totalLabel: text.total, total: text.money(order.total))
    }
}
