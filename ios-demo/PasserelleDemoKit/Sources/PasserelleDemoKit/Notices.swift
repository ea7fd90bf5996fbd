import Foundation
import Observation
import Passerelle

/// A failure (or a warning) told to the restaurant manager: what happened and what to do next.
public struct Notice: Identifiable, Equatable, Sendable {
    public let id = UUID()
    /// The stable code (Passerelle's error code, or the demo's own: `order_conflict`, ...).
    public let code: String
    public let title: String
    public let message: String
    public let nextStep: String

    /// The message and the next step, as one paragraph.
    public var text: String { "\(message) \(nextStep)" }

    public init(code: String, title: String, message: String, nextStep: String) {
        self.code = code
        self.title = title
        self.message = message
        self.nextStep = nextStep
    }

    /// The words for any error, from Passerelle's French and English messages.
    public init(error: any Error, language: PasserelleLanguage) {
        let message = PasserelleUserMessage(error: error, language: language)
        self.init(code: message.code, title: message.title, message: message.message, nextStep: message.nextStep)
    }
}

/// The notices waiting to be shown, one at a time (the view shows ``current`` as an alert).
///
/// Every failure of an action reaches the person through here or inline on its screen: no
/// failure is silent, and none crashes the app.
@MainActor @Observable
public final class NoticeCenter {
    /// The notice on screen.
    public private(set) var current: Notice?
    /// Every notice posted, oldest first (for tests and a support screen).
    public private(set) var history: [Notice] = []
    private var queue: [Notice] = []
    let language: PasserelleLanguage

    public init(language: PasserelleLanguage) {
        self.language = language
    }

    /// Shows `notice` now, or after the ones already waiting.
    public func post(_ notice: Notice) {
        history.append(notice)
        if current == nil { current = notice } else { queue.append(notice) }
    }

    /// Tells the person about `error` in their words.
    public func report(_ error: any Error) {
        post(Notice(error: error, language: language))
    }

    /// Runs `action`; its failure is told (``report(_:)``) rather than thrown.
    func attempt(_ action: () async throws -> Void) async {
        do {
            try await action()
        } catch {
            report(error)
        }
    }

    /// The person read the current notice: show the next one.
    public func dismiss() {
        current = queue.isEmpty ? nil : queue.removeFirst()
    }

    /// Whether a notice shows; setting it to `false` dismisses it (the view binds
    /// `$notices.isShowing`).
    public var isShowing: Bool {
        get { current != nil }
        set { if !newValue { dismiss() } }
    }
}
