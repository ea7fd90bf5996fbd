import Foundation
import Observation
import Passerelle

/// The sign-in form: the POS account's e-mail and password (the same as the POS app's).
@MainActor @Observable
public final class SignInModel {
    public var email = ""
    public var password = ""
    public private(set) var isWorking = false
    /// Why the last attempt failed, shown under the form (wrong password, locked, offline...).
    public private(set) var failure: Notice?
    public let text: DemoText

    @ObservationIgnored private let passerelle: PasserelleModel

    init(passerelle: PasserelleModel, text: DemoText) {
        self.passerelle = passerelle
        self.text = text
    }

    /// Whether the button can be pressed.
    public var canSubmit: Bool {
        !email.trimmingCharacters(in: .whitespaces).isEmpty && !password.isEmpty && !isWorking
    }

    /// Signs in; the signed-in screens replace the form. The password is forgotten whatever happens.
    public func signIn() async {
        guard canSubmit else { return }
        isWorking = true
        failure = nil
        let email = email.trimmingCharacters(in: .whitespaces)
        let password = password
        self.password = ""
        defer { isWorking = false }
        do {
            try await passerelle.signIn(email: email, password: password)
        } catch {
            failure = Notice(error: error, language: text.language)
        }
    }
}
