import Foundation
import XCTest

@testable import Passerelle

/// The banner a till shows when online orders are late, in French and English.
final class HealthBannerTests: XCTestCase {
    private let now = Date(timeIntervalSince1970: 1_800_000_000)

    private func connection(
        _ state: SyncState, reason: DelayReason? = nil, since: TimeInterval = 0, quarantined: UInt32 = 0
    ) -> ConnectionHealth {
        ConnectionHealth(
            connectionId: "c1", locationName: "Paris", state: state, lastSuccessAt: nil,
            delayReason: reason, delayedSince: state == .delayed ? now.addingTimeInterval(-since) : nil,
            nextAttemptAt: nil, errorCode: nil, retryAfterCapped: false, quarantined: quarantined, failedChanges: 0)
    }

    private func health(_ connections: [ConnectionHealth]) -> SyncHealth {
        SyncHealth(
            state: connections.map(\.state).max { $0.severity < $1.severity } ?? .flowing,
            needsAttention: connections.contains { $0.quarantined + $0.failedChanges > 0 },
            connections: connections)
    }

    func testNoBannerWhileOrdersFlow() {
        XCTAssertNil(health([connection(.flowing)]).banner(in: .french, now: now))
        XCTAssertNil(health([]).banner(in: .english, now: now))
    }

    func testADelaySaysSinceWhenAndWhy() {
        let late = health([connection(.flowing), connection(.delayed, reason: .offline, since: 125)])
        XCTAssertEqual(late.banner(in: .french, now: now), "Commandes en ligne en retard depuis 2 min : pas de réseau")
        XCTAssertEqual(late.banner(in: .english, now: now), "Online orders delayed for 2 min: no network")
        let justNow = health([connection(.delayed, reason: .hubriseUnavailable, since: 10)])
        XCTAssertEqual(
            justNow.banner(in: .french, now: now),
            "Commandes en ligne en retard depuis moins d’une minute : HubRise ne répond pas")
    }

    func testAReconnectComesFirstAndAttentionLast() {
        let both = health([connection(.delayed, reason: .rateLimited, since: 60), connection(.reconnectNeeded)])
        XCTAssertEqual(
            both.banner(in: .english, now: now), "Reconnect HubRise: online orders no longer arrive (Paris)")
        let attention = health([connection(.flowing, quarantined: 2)])
        XCTAssertEqual(attention.banner(in: .french, now: now), "2 éléments des commandes en ligne sont à vérifier")
    }

    func testEveryReasonHasWordsInBothLanguages() {
        for reason in [DelayReason.offline, .hubriseUnavailable, .rateLimited, .deviceStorage, .budget, .pushChannelDown, .other] {
            for language in PasserelleLanguage.allCases {
                XCTAssertFalse(HealthWords.reason(reason, language: language).isEmpty)
            }
        }
    }
}
