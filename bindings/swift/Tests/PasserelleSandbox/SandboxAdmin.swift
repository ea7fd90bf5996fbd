import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The sandbox's admin API (`{manager}/_sandbox/...`): place orders as another HubRise app, read
/// them as HubRise stores them, block or disconnect connections, make back-office connections.
public struct SandboxAdmin: Sendable {
    /// `http://127.0.0.1:P1/_sandbox`.
    public let adminURL: URL
    /// The token `serve` printed, when the admin API asks for one (a sandbox listening on the
    /// network); sent as `Authorization: Bearer`.
    public let token: String?

    /// - Parameters:
    ///   - adminURL: the admin API's base URL, as `serve` prints it.
    ///   - token: the admin token `serve` printed, if it printed one.
    public init(adminURL: URL, token: String? = nil) {
        self.adminURL = adminURL
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The sandbox's URLs and seed (`GET /seed`).
    public func info() async throws -> SandboxInfo {
        try SandboxInfo.decode(try await send("GET", "seed"))
    }

    /// Places `order` at `locationId` as the other app ("Uber Eats (sandbox)"); returns its id.
    /// Every Passerelle connection listening on the location gets an event.
    @discardableResult
    public func placeOrder(locationId: String, order: SandboxOrderRequest) async throws -> String {
        let body = try SandboxJSON.encoder.encode(order)
        let placed = try SandboxJSON.decoder.decode(Placed.self, from: try await send("POST", "locations/\(locationId)/orders", body))
        return placed.id
    }

    /// Changes an order as the other app (a customer cancellation, an item deleted), with a JSON
    /// patch in HubRise's PATCH form: `{"status": "cancelled"}`, `{"items": [{"id": "…", "deleted": true}]}`.
    public func updateOrderAsOtherApp(locationId: String, orderId: String, patchJSON: String) async throws {
        _ = try await send("PATCH", "locations/\(locationId)/orders/\(orderId)", Data(patchJSON.utf8))
    }

    /// The order as HubRise holds it.
    public func order(locationId: String, orderId: String) async throws -> SandboxOrder {
        try SandboxJSON.decoder.decode(SandboxOrder.self, from: try await send("GET", "locations/\(locationId)/orders/\(orderId)"))
    }

    /// HubRise's connections (every client, every device).
    public func connections() async throws -> [SandboxConnection] {
        try SandboxJSON.decoder.decode([SandboxConnection].self, from: try await send("GET", "connections"))
    }

    /// Blocks the connections `key` names (a connection id, a token or a location id).
    public func blockConnection(_ key: String) async throws {
        _ = try await send("POST", "connections/\(key)/block")
    }

    /// Lifts a block.
    public func unblockConnection(_ key: String) async throws {
        _ = try await send("POST", "connections/\(key)/unblock")
    }

    /// Disconnects as HubRise's back office does (and calls the Disconnect callback).
    public func disconnectConnection(_ key: String) async throws {
        _ = try await send("POST", "connections/\(key)/disconnect")
    }

    /// Suspends a location for non payment.
    public func suspendLocation(_ locationId: String) async throws {
        _ = try await send("POST", "locations/\(locationId)/suspend")
    }

    /// HubRise's Open URL for the connections `key` names (`passerelle-demo://hubrise/open?…`).
    public func openURL(_ key: String) async throws -> String {
        try SandboxJSON.decoder.decode(URLAnswer.self, from: try await send("GET", "connections/\(key)/open-url")).url
    }

    /// Connects `locationId` in the POS back office as the signed-in restaurant would (an
    /// off-device connection): returns the Connect URL the browser lands on, to fetch.
    public func backOfficeConnectURL(locationId: String) async throws -> String {
        let body = Data(#"{"location_id":"\#(locationId)"}"#.utf8)
        return try SandboxJSON.decoder.decode(URLAnswer.self, from: try await send("POST", "back-office/connect", body)).url
    }

    /// Injects `fault`: the next matching requests (or every one, until ``clearFaults()``) fail
    /// or wait as it says.
    public func injectFault(_ fault: SandboxFault) async throws {
        _ = try await send("POST", "faults", try SandboxJSON.encoder.encode(fault))
    }

    /// The faults still waiting for a request (a fault with `times` leaves the list once used up:
    /// an empty list after a request says it reached the fault).
    public func pendingFaultCount() async throws -> Int {
        let faults = try JSONSerialization.jsonObject(with: try await send("GET", "faults")) as? [Any]
        return faults?.count ?? 0
    }

    /// Removes every injected fault.
    public func clearFaults() async throws {
        _ = try await send("DELETE", "faults")
    }

    /// Cuts the network: every server stops answering (connections dropped) until
    /// ``restoreNetwork()``. Returns once every server follows.
    public func cutNetwork() async throws {
        _ = try await send("POST", "network/cut")
    }

    /// Ends ``cutNetwork()``.
    public func restoreNetwork() async throws {
        _ = try await send("POST", "network/restore")
    }

    /// A request the sandbox refused.
    public struct Failure: Error, CustomStringConvertible {
        /// The HTTP status.
        public let status: Int
        /// The sandbox's answer.
        public let body: String
        /// The status and the answer.
        public var description: String { "sandbox admin answered \(status): \(body)" }
    }

    private struct Placed: Decodable { let id: String }
    private struct URLAnswer: Decodable { let url: String }

    private func send(_ method: String, _ path: String, _ body: Data? = nil) async throws -> Data {
        var request = URLRequest(url: adminURL.appendingPathComponent(path))
        request.httpMethod = method
        request.timeoutInterval = 10
        if let token {
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        }
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw Failure(status: status, body: String(decoding: data, as: UTF8.self))
        }
        return data
    }
}

/// A fault of the sandbox's HTTP servers (`POST /_sandbox/faults`), for the requests whose path
/// starts with ``pathPrefix``.
public struct SandboxFault: Encodable, Sendable {
    /// What happens to a matching request.
    public struct Kind: Encodable, Sendable {
        let type: String
        let millis: Int?
        let status: Int?

        /// Waits `seconds`, then handles the request: a slow server.
        public static func delay(seconds: Double) -> Kind {
            Kind(type: "delay", millis: Int(seconds * 1000), status: nil)
        }

        /// Answers `status` (500, 503, ...) with the server's error JSON.
        public static func status(_ status: Int) -> Kind {
            Kind(type: "status", millis: nil, status: status)
        }
    }

    /// `/oauth/token`, `/v1/location/orders`, ...
    public var pathPrefix: String
    /// `manager` (HubRise's OAuth server), `api` (HubRise's API) or `pos`; any when `nil`.
    public var server: String?
    /// Only this HTTP method; any when `nil`.
    public var method: String?
    /// How many requests it affects; every one until cleared when `nil`.
    public var times: Int?
    /// What it does.
    public var kind: Kind

    /// A fault for the next `times` requests under `pathPrefix`.
    public init(pathPrefix: String, server: String? = nil, method: String? = nil, times: Int? = 1, kind: Kind) {
        self.pathPrefix = pathPrefix
        self.server = server
        self.method = method
        self.times = times
        self.kind = kind
    }
}

/// An order as another HubRise app sends it (HubRise's JSON, money as `"10.90 EUR"`).
public struct SandboxOrderRequest: Encodable, Sendable {
    /// HubRise's status (`new` by default).
    public var status = "new"
    /// `delivery`, `collection` or `eat_in`.
    public var serviceType = "delivery"
    /// When the customer expects it, `2026-11-23T20:30:00+01:00`.
    public var expectedTime: String?
    /// The customer's note.
    public var customerNotes: String?
    /// The items (at least one).
    public var items: [Item]
    /// Delivery fees and other charges.
    public var charges: [Charge] = []
    /// Payments already made.
    public var payments: [Payment] = []
    /// The customer.
    public var customer: Customer?

    /// An item: `price` like `"10.90 EUR"`, `quantity` a decimal string.
    public struct Item: Encodable, Sendable {
        public var productName: String
        public var skuName: String?
        public var price: String
        public var quantity: String
        public var options: [Option] = []

        public init(productName: String, skuName: String? = nil, price: String, quantity: String, options: [Option] = []) {
            self.productName = productName
            self.skuName = skuName
            self.price = price
            self.quantity = quantity
            self.options = options
        }
    }

    /// An option of an item (`quantity` an integer).
    public struct Option: Encodable, Sendable {
        public var optionListName: String
        public var name: String
        public var price: String
        public var quantity = 1

        public init(optionListName: String, name: String, price: String, quantity: Int = 1) {
            self.optionListName = optionListName
            self.name = name
            self.price = price
            self.quantity = quantity
        }
    }

    /// A charge (delivery fee, ...).
    public struct Charge: Encodable, Sendable {
        public var name: String
        public var price: String

        public init(name: String, price: String) {
            self.name = name
            self.price = price
        }
    }

    /// A payment.
    public struct Payment: Encodable, Sendable {
        public var name: String
        public var amount: String

        public init(name: String, amount: String) {
            self.name = name
            self.amount = amount
        }
    }

    /// The customer's name and contact.
    public struct Customer: Encodable, Sendable {
        public var firstName: String
        public var lastName: String
        public var city: String?
        public var phone: String?

        public init(firstName: String, lastName: String, city: String? = nil, phone: String? = nil) {
            self.firstName = firstName
            self.lastName = lastName
            self.city = city
            self.phone = phone
        }
    }

    /// An order of `items`; the other fields as given.
    public init(
        status: String = "new", serviceType: String = "delivery", expectedTime: String? = nil,
        customerNotes: String? = nil, items: [Item], charges: [Charge] = [], payments: [Payment] = [],
        customer: Customer? = nil
    ) {
        self.status = status
        self.serviceType = serviceType
        self.expectedTime = expectedTime
        self.customerNotes = customerNotes
        self.items = items
        self.charges = charges
        self.payments = payments
        self.customer = customer
    }

    /// The order the Rust end-to-end tests place: two Margherita with a spicy sauce, a tiramisu,
    /// delivery, paid by card; HubRise's total is 30.80 EUR.
    public static func sample(customer firstName: String = "Marie") -> SandboxOrderRequest {
        SandboxOrderRequest(
            expectedTime: "2026-11-23T20:30:00+01:00",
            customerNotes: "Sonner deux fois",
            items: [
                Item(
                    productName: "Margherita", skuName: "Grande", price: "10.90 EUR", quantity: "2",
                    options: [Option(optionListName: "Sauce", name: "Piquante", price: "0.50 EUR")]),
                Item(productName: "Tiramisu", price: "5.50 EUR", quantity: "1"),
            ],
            charges: [Charge(name: "Livraison", price: "2.50 EUR")],
            payments: [Payment(name: "Carte bancaire", amount: "30.80 EUR")],
            customer: Customer(firstName: firstName, lastName: "Dupont", city: "Paris", phone: "+33600000000"))
    }
}

/// An order as HubRise holds it (the fields tests look at).
public struct SandboxOrder: Decodable, Sendable {
    /// HubRise's order id.
    public let id: String
    /// HubRise's status (`new`, `received`, `accepted`, ...).
    public let status: String
    /// HubRise's computed total, `"30.80 EUR"`.
    public let total: String?
    /// When the restaurant said it will be ready.
    public let confirmedTime: String?
    /// The items, deleted ones included.
    public let items: [Item]

    /// An item as HubRise holds it.
    public struct Item: Decodable, Sendable {
        public let id: String
        public let productName: String
        public let deleted: Bool
    }
}

/// A HubRise connection as the sandbox lists it.
public struct SandboxConnection: Decodable, Sendable {
    /// The connection's id at HubRise.
    public let id: String
    /// The HubRise client it belongs to.
    public let clientId: String
    /// Its location.
    public let locationId: String?
    /// The device id sent at authorisation.
    public let deviceId: String?
    /// `active`, `blocked`, `disconnected` or `revoked`.
    public let state: String
}
