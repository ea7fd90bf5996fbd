import Passerelle
import PasserelleDemoKit
import SwiftUI

/// The demo app: a thin SwiftUI host of Passerelle. All logic is in PasserelleDemoKit's models.
@main
struct PasserelleDemoApp: App {
    @State private var model = AppModel(dependencies: .live())
    @Environment(\.scenePhase) private var scenePhase

    init() {
        // Passerelle's logs (redacted in Rust) in Console.app, subsystem com.passerelle.demo.
        // A failure here only loses logs; the app works without them.
        try? setLogger(logger: OSLogLogger(subsystem: "com.passerelle.demo"), level: .info)
    }

    var body: some Scene {
        WindowGroup {
            RootView(model: model)
                .task { await model.start() }
                // HubRise's Open URL (passerelle-demo://hubrise/open?app_instance_id=...).
                .onOpenURL { url in Task { await model.handleOpenURL(url) } }
        }
        .onChange(of: scenePhase) { _, phase in
            switch phase {
            case .active: model.scenePhaseChanged(.active)
            case .background: model.scenePhaseChanged(.background)
            default: model.scenePhaseChanged(.inactive)
            }
        }
    }
}
