import Foundation

extension SyncHealth {
    /// The line a till shows above its orders when online orders are late, need a reconnect or
    /// need attention; `nil` while they flow.
    ///
    /// ```swift
    /// health.banner(in: .french)
    /// // "Commandes en ligne en retard depuis 2 min : pas de réseau"
    /// ```
    ///
    /// The connection in the worst state speaks for all (a reconnect first, then a delay, then
    /// items needing attention).
    public func banner(in language: PasserelleLanguage = .preferred, now: Date = Date()) -> String? {
        banner(in: language, now: now, catalog: .shared)
    }

    func banner(in language: PasserelleLanguage, now: Date, catalog: MessageCatalog) -> String? {
        let worst = connections.max { $0.state.severity < $1.state.severity }
        if let worst, worst.state == .reconnectNeeded {
            return HealthWords.reconnect(worst.locationName, language: language, catalog: catalog)
        }
        if let worst, worst.state == .delayed {
            let since = worst.delayedSince.map { now.timeIntervalSince($0) } ?? 0
            return HealthWords.delayed(
                minutes: Int(since / 60), reason: worst.delayReason, language: language, catalog: catalog)
        }
        let attention = connections.reduce(0) { $0 + Int($1.quarantined) + Int($1.failedChanges) }
        return attention > 0 ? HealthWords.attention(attention, language: language, catalog: catalog) : nil
    }
}

extension SyncState {
    /// Orders states from fine to worst, as the library does.
    var severity: Int {
        switch self {
        case .flowing: 0
        case .paused: 1
        case .starting: 2
        case .delayed: 3
        case .reconnectNeeded: 4
        }
    }
}

/// The banner's words, in French and English, from the String Catalog (`health.…`).
enum HealthWords {
    static func delayed(
        minutes: Int, reason: DelayReason?, language: PasserelleLanguage, catalog: MessageCatalog = .shared
    ) -> String {
        let since =
            minutes < 1
            ? catalog.string("health.delayed.less_than_a_minute", in: language)
            : catalog.string("health.delayed.minutes", in: language, minutes)
        guard let reason else { return since }
        return catalog.string(
            "health.delayed.because", in: language, since, self.reason(reason, language: language, catalog: catalog))
    }

    static func reason(_ reason: DelayReason, language: PasserelleLanguage, catalog: MessageCatalog = .shared) -> String {
        catalog.string("health.delay_reason.\(reason.catalogKey)", in: language)
    }

    static func reconnect(_ location: String?, language: PasserelleLanguage, catalog: MessageCatalog = .shared) -> String {
        guard let location else { return catalog.string("health.reconnect", in: language) }
        return catalog.string("health.reconnect.location", in: language, location)
    }

    static func attention(_ count: Int, language: PasserelleLanguage, catalog: MessageCatalog = .shared) -> String {
        count == 1
            ? catalog.string("health.attention.one", in: language)
            : catalog.string("health.attention.other", in: language, count)
    }
}

extension DelayReason {
    /// The reason's key in the catalog (`health.delay_reason.<key>`).
    var catalogKey: String {
        switch self {
        case .offline: "offline"
        case .hubriseUnavailable: "hubrise_unavailable"
        case .rateLimited: "rate_limited"
        case .deviceStorage: "device_storage"
        case .budget: "budget"
        case .pushChannelDown: "push_channel_down"
        case .other: "other"
        }
    }
}
