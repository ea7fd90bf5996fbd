import Foundation
import Observation
import Passerelle

/// The "Restart to apply" banner: connections and settings changes wait for a restart.
@MainActor @Observable
public final class RestartModel {
    /// Whether the banner shows.
    public private(set) var isRequired = false
    /// What the restart will apply, one line each.
    public private(set) var changes: [String] = []
    public private(set) var isRestarting = false
    public let text: DemoText

    @ObservationIgnored private let app: Passerelle
    @ObservationIgnored private let notices: NoticeCenter
    @ObservationIgnored var afterRestart: @MainActor () -> Void = {}

    init(app: Passerelle, notices: NoticeCenter, text: DemoText) {
        self.app = app
        self.notices = notices
        self.text = text
    }

    /// Reads whether a restart is required and what it would apply.
    public func refresh() {
        do {
            isRequired = try app.restartRequired()
            changes = isRequired ? try app.pendingChanges().map(text.change) : []
        } catch {
            notices.report(error)
        }
    }

    /// Restarts Passerelle without killing the app: stops sync, reloads the POS backend's
    /// configuration, applies the pending changes, starts again.
    public func restartNow() async {
        guard !isRestarting else { return }
        isRestarting = true
        defer { isRestarting = false }
        do {
            try await app.restart()
        } catch {
            notices.report(error)
        }
        refresh()
        afterRestart()
    }
}
