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
        let worst = connections.max { $0.state.severity < $1.state.severity }
        if let worst, worst.state == .reconnectNeeded {
            return HealthWords.reconnect(worst.locationName, language: language)
        }
        if let worst, worst.state == .delayed {
            let since = worst.delayedSince.map { now.timeIntervalSince($0) } ?? 0
            return HealthWords.delayed(minutes: Int(since / 60), reason: worst.delayReason, language: language)
        }
        let attention = connections.reduce(0) { $0 + Int($1.quarantined) + Int($1.failedChanges) }
        return attention > 0 ? HealthWords.attention(attention, language: language) : nil
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

/// The banner's words, in French and English.
enum HealthWords {
    static func delayed(minutes: Int, reason: DelayReason?, language: PasserelleLanguage) -> String {
        let why = reason.map { self.reason($0, language: language) }
        switch language {
        case .french:
            let since = minutes < 1 ? "depuis moins d’une minute" : "depuis \(minutes) min"
            return "Commandes en ligne en retard \(since)" + (why.map { " : \($0)" } ?? "")
        case .english:
            let since = minutes < 1 ? "for less than a minute" : "for \(minutes) min"
            return "Online orders delayed \(since)" + (why.map { ": \($0)" } ?? "")
        }
    }

    static func reason(_ reason: DelayReason, language: PasserelleLanguage) -> String {
        switch (reason, language) {
        case (.offline, .french): "pas de réseau"
        case (.offline, .english): "no network"
        case (.hubriseUnavailable, .french): "HubRise ne répond pas"
        case (.hubriseUnavailable, .english): "HubRise is not answering"
        case (.rateLimited, .french): "HubRise demande d’attendre"
        case (.rateLimited, .english): "HubRise asks to wait"
        case (.deviceStorage, .french): "le stockage de l’iPad est indisponible"
        case (.deviceStorage, .english): "the iPad’s storage is unavailable"
        case (.budget, .french): "quota de requêtes HubRise atteint, les statuts venus d’ailleurs arrivent plus tard"
        case (.budget, .english): "HubRise request budget reached, statuses set elsewhere show later"
        case (.pushChannelDown, .french): "le canal instantané est coupé, les commandes arrivent par interrogation"
        case (.pushChannelDown, .english): "the instant channel is down, orders come by polling"
        case (.other, .french): "erreur inattendue"
        case (.other, .english): "unexpected error"
        }
    }

    static func reconnect(_ location: String?, language: PasserelleLanguage) -> String {
        let place = location.map { " (\($0))" } ?? ""
        switch language {
        case .french: return "Reconnectez HubRise : les commandes en ligne n’arrivent plus\(place)"
        case .english: return "Reconnect HubRise: online orders no longer arrive\(place)"
        }
    }

    static func attention(_ count: Int, language: PasserelleLanguage) -> String {
        switch language {
        case .french:
            return count == 1
                ? "1 élément des commandes en ligne est à vérifier"
                : "\(count) éléments des commandes en ligne sont à vérifier"
        case .english:
            return count == 1 ? "1 online order item needs attention" : "\(count) online order items need attention"
        }
    }
}
