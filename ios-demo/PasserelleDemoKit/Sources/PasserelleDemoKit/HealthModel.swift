import Foundation
import Observation
import Passerelle

/// The banner above the orders when online orders are late, need a reconnect or need attention
/// ("Commandes en ligne en retard depuis 2 min : pas de réseau"), kept current from the
/// library's health events.
@MainActor @Observable
public final class HealthModel {
    /// What the banner says; `nil` while orders flow.
    public private(set) var banner: String?
    /// The health the banner was made from.
    public private(set) var health: SyncHealth?

    @ObservationIgnored private let app: Passerelle
    @ObservationIgnored private let text: DemoText

    init(app: Passerelle, text: DemoText) {
        self.app = app
        self.text = text
    }

    /// The library announced a change.
    func update(_ health: SyncHealth, now: Date = Date()) {
        self.health = health
        banner = health.banner(in: text.language, now: now)
    }

    /// Reads the health again (items set aside, a change failed).
    public func refresh() async {
        if let health = try? await app.syncHealth() {
            update(health)
        }
    }
}
