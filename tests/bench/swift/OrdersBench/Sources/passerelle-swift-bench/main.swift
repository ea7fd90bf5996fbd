// Times `orders(filter:)` (1,000 orders) and a trivial call through the generated bindings, on a
// database prepared by the Rust side of the benchmark. Every server is on a closed port and the
// secret store is empty, as on the Rust side: the sync engine is stopped right after `open`.
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
    var count = 0
    for _ in 0..<5 { count = try app.orders(filter: filter).count }
    guard count == Int(limit) else { fail("orders(filter:) returned \(count), expected \(limit)") }
    var lists: [UInt64] = []
    for _ in 0..<runs {
        let start = now()
        let orders = try app.orders(filter: filter)
        let end = now()
        if orders.count != Int(limit) { fail("orders(filter:) returned \(orders.count)") }
        lists.append(end - start)
    }
    var trivial: [UInt64] = []
    for _ in 0..<runs {
        let start = now()
        _ = try app.deviceId()
        trivial.append(now() - start)
    }
    print("SWIFT_ORDERS count=\(count) \(summary(lists))")
    print("SWIFT_DEVICE_ID \(summary(trivial))")
} catch {
    fail("\(error)")
}
