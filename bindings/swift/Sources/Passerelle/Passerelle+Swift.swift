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

// Woken in the background (issue 24, part 5), cancellable as the calls of
// Passerelle+Cancellation.swift are:
//
// ```swift
// func application(_ app: UIApplication, didRegisterForRemoteNotificationsWithDeviceToken token: Data) {
//     Task { try? await passerelle.registerPushToken(token) }
// }
// func application(_ app: UIApplication, didReceiveRemoteNotification info: [AnyHashable: Any],
//                  fetchCompletionHandler done: @escaping (UIBackgroundFetchResult) -> Void) {
//     Task {
//         do {
//             let report = try await passerelle.handlePushNotification()
//             done(report.ordersReceived + report.ordersUpdated > 0 ? .newData : .noData)
//         } catch { done(.failed) }
//     }
// }
// ```
extension Passerelle {
    /// Registers the device token iOS gives with the POS backend, which then wakes the app in
    /// the background when an order arrives while it is away: `false` when the backend does not
    /// wake tills (no error). Call it at each launch once signed in.
    @discardableResult
    public func registerPushToken(_ deviceToken: Data) async throws -> Bool {
        try await Self.cancellable { try await self.registerPushToken(token: deviceToken, cancellation: $0) }
    }

    /// The one cycle a background notification asks for (orders since the last cycle included);
    /// what it brought decides the fetch completion handler's result.
    public func handlePushNotification() async throws -> SyncReport {
        try await Self.cancellable { try await self.handlePushNotification(cancellation: $0) }
    }
}
