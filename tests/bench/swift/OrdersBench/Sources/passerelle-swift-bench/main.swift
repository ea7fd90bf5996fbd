// Times, through the generated bindings and in Swift, on a database prepared by the Rust side of
// the benchmark: `orders(filter:)` (LIMIT full orders), the inbox's pages of summaries
// (`orderSummaries(filter:)`, 50 and 1,000 rows), one order's details (`order(orderId:)`) and a
// trivial call. Every server is on a closed port and the secret store is empty, as on the Rust
// side: the sync engine is stopped right after `open`.
import Foundation
import Passerelle

final class SilentListener: EventListener, @unchecked Sendable {
    func onEvent(event: PasserelleEvent) {}
}

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// "median_ns=… p90_ns=… min_ns=… max_ns=… runs=…" (nearest-rank p90, as on the Rust side).
func summary(_ samples: [UInt64]) -> String {
    let sorted = samples.sorted()
    let n = sorted.count
    let median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    let rank = max(1, Int((0.9 * Double(n)).rounded(.up)))
    return "median_ns=\(median) p90_ns=\(sorted[rank - 1]) min_ns=\(sorted[0]) max_ns=\(sorted[n - 1]) runs=\(n)"
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("passerelle-swift-bench: \(message)\n".utf8))
    exit(1)
}

/// Runs `call` (which returns how many rows it read) 5 times to warm up, then `runs` times timed.
/// Returns the rows every run read (they must agree) and the samples.
func time(_ name: String, runs: Int, _ call: () async throws -> Int) async throws -> (count: Int, samples: [UInt64]) {
    let count = try await call()
    for _ in 0..<4 {
        let rows = try await call()
        if rows != count { fail("\(name) read \(rows) rows, then \(count)") }
    }
    var samples: [UInt64] = []
    for _ in 0..<runs {
        let start = now()
        let rows = try await call()
        let end = now()
        if rows != count { fail("\(name) read \(rows) rows, then \(count)") }
        samples.append(end - start)
    }
    return (count, samples)
}

let arguments = CommandLine.arguments
guard arguments.count == 4, let runs = Int(arguments[2]), let limit = UInt32(arguments[3]), runs > 0 else {
    fail("usage: passerelle-swift-bench DATA_DIR RUNS LIMIT")
}
let closed = "http://127.0.0.1:9"
let config = PasserelleConfig(
    dataDir: arguments[1],
    posBaseUrl: closed,
    posClientId: "passerelle-ios",
    hubriseOauthUrl: "\(closed)/oauth2/v1",
    hubriseApiUrl: "\(closed)/v1",
    clientId: "459691768564.clients.hubrise.com",
    redirectUri: "passerelle-demo://oauth/hubrise",
    deviceId: nil,
    tokenExchange: .broker,
    rateLimits: RateLimits(perMinute: 500, perHour: 2500, perDay: 10000, heavyPerMinute: 10, minuteMs: 60000),
    initialSettings: Settings(
        pollIntervalSecs: 1, applyMode: .onRestart,
        scope: "location[orders.write,customer_list.write,catalog.read]")
)

do {
    let app = try await Passerelle.open(config: config, secrets: InMemorySecretStore(), events: SilentListener())
    try await app.stopSync()
    let filter = OrderFilter(limit: limit)
    let lists = try await time("orders(filter:)", runs: runs) { try await app.orders(filter: filter).count }
    guard lists.count == Int(limit) else { fail("orders(filter:) returned \(lists.count), expected \(limit)") }
    let firstPage = OrderFilter(limit: 50)
    let pages = try await time("orderSummaries(limit: 50)", runs: runs) {
        try await app.orderSummaries(filter: firstPage).count
    }
    let thousand = OrderFilter(limit: 1000)
    let summaries = try await time("orderSummaries(limit: 1000)", runs: runs) {
        try await app.orderSummaries(filter: thousand).count
    }
    guard let orderId = try await app.orderSummaries(filter: OrderFilter(limit: 1)).first?.id else {
        fail("the database holds no order")
    }
    let details = try await time("order(orderId:)", runs: runs) {
        try await app.order(orderId: orderId) == nil ? 0 : 1
    }
    guard details.count == 1 else { fail("order(orderId:) found nothing for \(orderId)") }
    var trivial: [UInt64] = []
    for _ in 0..<runs {
        let start = now()
        _ = try app.deviceId()
        trivial.append(now() - start)
    }
    print("SWIFT_ORDERS count=\(lists.count) \(summary(lists.samples))")
    print("SWIFT_SUMMARIES_50 count=\(pages.count) \(summary(pages.samples))")
    print("SWIFT_SUMMARIES_1000 count=\(summaries.count) \(summary(summaries.samples))")
    print("SWIFT_ORDER count=\(details.count) \(summary(details.samples))")
    print("SWIFT_DEVICE_ID \(summary(trivial))")
} catch {
    fail("\(error)")
}
