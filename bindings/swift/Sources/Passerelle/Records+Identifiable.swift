import Foundation

// `Identifiable` for the records SwiftUI lists show (`ForEach(model.inbox) { ... }`).

extension Order: Identifiable {}

extension OrderSummary: Identifiable {}

extension HubriseConnection: Identifiable {}

extension QuarantinedItem: Identifiable {}

extension ConnectionHealth: Identifiable {
    /// The connection's id: one health per connection.
    public var id: String { connectionId }
}

extension POSAccount: Identifiable {
    /// The POS account's id.
    public var id: String { accountId }
}
