import Foundation

// Swift spellings of the generated API: `URL` as Swift spells it, and `Identifiable` for the
// records SwiftUI lists show (`ForEach(model.inbox) { ... }`).

extension HubriseAuthorization {
    /// HubRise's consent page, to open in `ASWebAuthenticationSession` (or to show as a QR code).
    public var authorizeURL: URL { authorizeUrl }
}

extension Order: Identifiable {}

extension OrderSummary: Identifiable {}

extension HubriseConnection: Identifiable {}

extension QuarantinedItem: Identifiable {}

extension ConnectionHealth: Identifiable {
    /// The connection's id: one health per connection.
    public var id: String { connectionId }
}

extension PosAccount: Identifiable {
    /// The POS account's id.
    public var id: String { accountId }
}
