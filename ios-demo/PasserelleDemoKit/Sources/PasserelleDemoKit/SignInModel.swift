import Foundation
import Observation
import Passerelle

/// The sign-in screen: the POS account's e-mail and password (the same as the POS app's).
@MainActor @Observable
public final class SignInModel {
    public var email: String
    public var password = ""
    public private(set) var isWorking = false
    /// Why the last attempt failed, shown under the form (wrong password, locked, offline...).
    public private(set) var failure: Notice?
    public let text: DemoText

    @ObservationIgnored private let app: Passerelle
    @ObservationIgnored private let onSignedIn: @MainActor (PosAccount) -> Void

    init(app: Passerelle, email: String, text: DemoText, onSignedIn: @escaping @MainActor (PosAccount) -> Void) {
        self.app = app
        self.email = email
        self.text = text
        self.onSignedIn = onSignedIn
    }

    /// Whether the button can be pressed.
    public var canSubmit: Bool {
        !email.trimmingCharacters(in: .whitespaces).isEmpty && !password.isEmpty && !isWorking
    }

    /// Signs in. The password is forgotten whatever happens.
    public func signIn() async {
        guard canSubmit else { return }
        isWorking = true
        failure = nil
        let email = email.trimmingCharacters(in: .whitespaces)
        let password = password
        self.password = ""
        defer { isWorking = false }
        do {
            let account = try await app.signIn(email: email, password: password)
            onSignedIn(account)
        } catch {
            failure = Notice(error: error, language: text.language)
        }
    }
}
