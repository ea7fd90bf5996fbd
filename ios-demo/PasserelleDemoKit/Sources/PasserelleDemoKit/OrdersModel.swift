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

    /// The row of an order, from the fields an inbox row and an order's details share.
    init(
        id: String, reference: String?, status: OrderStatus, pendingStatus: OrderStatus?, serviceType: String?,
        customer: String?, expectedTime: Date?, total: Money?, text: DemoText
    ) {
        let waiting = status.awaitsDecision && pendingStatus == nil
        self.id = id
        title = text.orderTitle(reference: reference, id: id)
        self.customer = customer
        subtitle = [text.serviceType(serviceType), expectedTime.map { text.expected(text.time($0)) }]
            .compactMap { $0 }.joined(separator: " · ")
        self.total = text.money(total)
        self.status = pendingStatus.map { "\($0.displayName(in: text.language)) — \(text.sendingToHubrise)" }
            ?? status.displayName(in: text.language)
        isNew = waiting
        isSending = pendingStatus != nil
        canAccept = waiting
        canReject = waiting
    }

    init(_ order: OrderSummary, text: DemoText) {
        self.init(
            id: order.id, reference: order.reference, status: order.status, pendingStatus: order.pendingStatus,
            serviceType: order.serviceType, customer: order.customerName, expectedTime: order.expectedTime,
            total: order.total, text: text)
    }
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

/// The orders inbox (today's, from ``PasserelleModel``): new orders highlighted, accept (ready
/// in N minutes) or reject (after a confirmation), details.
@MainActor @Observable
public final class OrdersModel {
    /// The order whose details show.
    public private(set) var selectedID: String?
    /// The order the reject dialog asks about; `nil` closes it.
    public var rejectCandidate: OrderRow?
    /// The reason typed in the reject dialog (kept on the iPad).
    public var rejectReason = ""
    /// The preparation times offered with "Accept".
    public let readyInChoices = [10, 20, 30, 45]
    public let text: DemoText

    @ObservationIgnored private let passerelle: PasserelleModel
    @ObservationIgnored private let notices: NoticeCenter

    init(passerelle: PasserelleModel, notices: NoticeCenter, text: DemoText) {
        self.passerelle = passerelle
        self.notices = notices
        self.text = text
    }

    /// Today's orders, newest first.
    public var rows: [OrderRow] {
        passerelle.inbox.map { OrderRow($0, text: text) }
    }

    /// Orders with an action under way.
    public var busy: Set<String> { passerelle.ordersInProgress }

    /// Whether older orders of today can be shown ("Show more").
    public var hasMore: Bool { passerelle.hasMoreOrders }

    /// The list's selection (the view binds `$model.selection`): setting it shows the order's details.
    public var selection: String? {
        get { selectedID }
        set { Task { await select(newValue) } }
    }

    /// The selected order's details, kept current by ``PasserelleModel``.
    public var detail: OrderDetail? {
        passerelle.selectedOrder.flatMap { $0.id == selectedID ? OrderDetail($0, text: text) : nil }
    }

    /// Shows `id`'s details and returns once they are read.
    public func select(_ id: String?) async {
        selectedID = id
        await notices.attempt { try await passerelle.select(id) }
    }

    /// Pull to refresh: asks HubRise for new orders now (without waiting for the next poll).
    /// New orders also arrive as events, with their alert. Failures are told.
    public func pullToRefresh() async {
        await notices.attempt { try await passerelle.syncNow() }
    }

    /// "Show more": the next page of today's orders.
    public func loadMore() async {
        await notices.attempt { try await passerelle.loadMoreOrders() }
    }

    /// Accepts the order, ready in `minutes`.
    public func accept(_ id: String, readyInMinutes minutes: Int) async {
        let ready = Date().addingTimeInterval(TimeInterval(minutes * 60))
        await notices.attempt { try await passerelle.accept(id, confirmedTime: ready) }
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
        await notices.attempt { try await passerelle.reject(row.id, reason: reason.isEmpty ? nil : reason) }
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
}

extension OrderDetail {
    /// The details of `order`, in `text`'s language.
    init(_ order: Order, text: DemoText) {
        var number = 0
        func line(_ label: String, _ amount: Money?, deleted: Bool, option: Bool = false) -> DetailLine {
            number += 1
            return DetailLine(id: number, label: label, amount: text.money(amount), isDeleted: deleted, isOption: option)
        }
        var items: [DetailLine] = []
        for item in order.items {
            let name = [item.productName, item.skuName].compactMap { $0 }.joined(separator: " – ")
            items.append(line("\(text.quantity(item.quantity)) × \(name)", item.subtotal ?? item.price, deleted: item.deleted))
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
                lines: order.discounts.map { line($0.name, $0.priceOff.map { -$0 }, deleted: $0.deleted) }),
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
        let name = [order.customer?.firstName, order.customer?.lastName].compactMap { $0 }.joined(separator: " ")
        let row = OrderRow(
            id: order.id, reference: order.collectionCode ?? order.reference, status: order.status,
            pendingStatus: order.pendingStatus, serviceType: order.serviceType, customer: name.isEmpty ? nil : name,
            expectedTime: order.expectedTime, total: order.total, text: text)
        self.init(
            row: row, sections: sections, customerLines: customer, notes: notes, totalLabel: text.total,
            total: text.money(order.total))
    }
}
