import Foundation
import Passerelle
import XCTest

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Every error reaches the restaurant manager in French and in English, with a next step.
final class MessageTests: XCTestCase {
    /// One value of every case of `PasserelleError`. The switch in `caseCount(_:)` has no
    /// `default`, so a case added in Rust (and regenerated) fails to compile until it is listed here.
    static let everyError: [PasserelleError] = [
        .invalidConfig(field: "client_id", reason: "empty"), .dataDirectory(path: "Passerelle", reason: "read-only"),
        .corruptDatabase(movedTo: "passerelle.db.corrupt"), .newerSchema(found: 9, supported: 1),
        .storage(reason: "disk full"), .secretStore(reason: "locked"), .notSignedIn, .invalidCredentials,
        .lockedOut(retryAfterSecs: 90), .sessionExpired, .network(reason: "offline"),
        .unexpectedResponse(service: "POS", reason: "HTML"), .redirectMismatch(reason: "host"), .stateMissing,
        .stateUnknown, .stateReplayed, .stateMismatch, .flowExpired, .accessDenied, .codeMissing,
        .invalidGrant(reason: "expired"), .invalidClient, .connectionRevoked(reason: "The connection has been blocked"),
        .rateLimited(retryAfterSecs: 30), .hubriseAPI(status: 500, errorType: "server_error", message: "boom"),
        .notFound(what: "order"), .invalidState(reason: "active"), .internal(reason: "panic"),
        .dataDirectoryInUse(path: "Passerelle"), .closed,
        .responseTooLarge(service: "HubRise API", limitBytes: 4_194_304),
        .connectionMismatch(reason: "another location"), .cancelled,
    ]

    private static func caseIndex(_ error: PasserelleError) -> Int {
        switch error {
        case .invalidConfig: 0
        case .dataDirectory: 1
        case .corruptDatabase: 2
        case .newerSchema: 3
        case .storage: 4
        case .secretStore: 5
        case .notSignedIn: 6
        case .invalidCredentials: 7
        case .lockedOut: 8
        case .sessionExpired: 9
        case .network: 10
        case .unexpectedResponse: 11
        case .redirectMismatch: 12
        case .stateMissing: 13
        case .stateUnknown: 14
        case .stateReplayed: 15
        case .stateMismatch: 16
        case .flowExpired: 17
        case .accessDenied: 18
        case .codeMissing: 19
        case .invalidGrant: 20
        case .invalidClient: 21
        case .connectionRevoked: 22
        case .rateLimited: 23
        case .hubriseAPI: 24
        case .notFound: 25
        case .invalidState: 26
        case .internal: 27
        case .dataDirectoryInUse: 28
        case .closed: 29
        case .responseTooLarge: 30
        case .connectionMismatch: 31
        case .cancelled: 32
        }
    }

    func testTheListHoldsEveryCaseOnce() {
        XCTAssertEqual(Set(Self.everyError.map(Self.caseIndex)), Set(0...32))
        XCTAssertEqual(Self.everyError.count, 33)
    }

    func testEveryErrorCodeHasAMessageInFrenchAndEnglish() {
        for error in Self.everyError {
            XCTAssertFalse(error.code.isEmpty)
            for language in PasserelleLanguage.allCases {
                XCTAssertTrue(
                    PasserelleMessages.hasMessage(for: error.code, language: language),
                    "no \(language) message for \(error.code)")
                let message = error.userMessage(in: language)
                XCTAssertNotEqual(message.code, PasserelleMessages.unexpectedCode, "\(error.code) fell back")
                XCTAssertFalse(message.title.isEmpty, error.code)
                XCTAssertTrue(message.message.hasSuffix("."), "\(error.code): \(message.message)")
                XCTAssertFalse(message.nextStep.isEmpty, "\(error.code) has no next step")
                XCTAssertFalse(message.text.contains("{"), "\(error.code): unfilled placeholder")
            }
        }
        // The table has nothing for a code that does not exist, in either language.
        let codes = Set(Self.everyError.map(\.code))
        for code in PasserelleMessages.codes {
            let base = String(code.prefix { $0 != "." })
            XCTAssertTrue(codes.contains(base) || code == PasserelleMessages.unexpectedCode, "stray code \(code)")
            for language in PasserelleLanguage.allCases {
                XCTAssertTrue(PasserelleMessages.hasMessage(for: code, language: language), "\(code) lacks \(language)")
            }
        }
        for refusal in HubriseRefusal.allCases {
            XCTAssertTrue(PasserelleMessages.hasMessage(for: refusal.code, language: .french))
            XCTAssertTrue(PasserelleMessages.hasMessage(for: refusal.code, language: .english))
        }
    }

    func testFrenchAndEnglishDiffer() {
        for error in Self.everyError {
            XCTAssertNotEqual(error.userMessage(in: .french).message, error.userMessage(in: .english).message, error.code)
        }
    }

    func testTheMessagesTheRestaurantMeetsMost() {
        XCTAssertEqual(
            PasserelleError.invalidCredentials.userMessage(in: .french),
            PasserelleUserMessage(
                code: "invalid_credentials", title: "Identifiants incorrects",
                message: "L’e-mail ou le mot de passe est incorrect.",
                nextStep: "Utilisez les mêmes identifiants que pour votre caisse. Mot de passe oublié ? Réinitialisez-le depuis le back-office de votre caisse."))
        XCTAssertEqual(PasserelleError.network(reason: "dns").userMessage(in: .french).title, "Pas de connexion Internet")
        XCTAssertEqual(PasserelleError.accessDenied.userMessage(in: .english).title, "Access refused on HubRise")
        XCTAssertEqual(
            PasserelleError.lockedOut(retryAfterSecs: 90).userMessage(in: .french).nextStep,
            "Attendez 2 min, puis réessayez avec le bon mot de passe.")
        XCTAssertEqual(
            PasserelleError.rateLimited(retryAfterSecs: 20).userMessage(in: .english).nextStep,
            "Nothing to do: Passerelle resumes by itself in 20 s.")
    }

    func testHubrisesRefusalsAreTold() {
        let blocked = PasserelleError.connectionRevoked(reason: "The connection has been blocked")
        XCTAssertEqual(blocked.userMessage(in: .french).code, "connection_revoked.blocked")
        XCTAssertEqual(blocked.userMessage(in: .french).title, "Connexion bloquée")
        XCTAssertEqual(blocked.code, "connection_revoked", "the error code stays the stable one")
        let suspended = PasserelleError.connectionRevoked(
            reason: "The account/location has been suspended for non payment of the subscription")
        XCTAssertEqual(suspended.userMessage(in: .english).title, "HubRise account suspended")
        let revoked = PasserelleError.connectionRevoked(reason: "The access token is invalid or the connection has been revoked")
        XCTAssertEqual(revoked.userMessage(in: .french).title, "Connexion HubRise refusée")
    }

    func testLanguagesFollowTheLocale() {
        XCTAssertEqual(PasserelleLanguage(locale: Locale(identifier: "fr_FR")), .french)
        XCTAssertEqual(PasserelleLanguage(locale: Locale(identifier: "fr_CA")), .french)
        XCTAssertEqual(PasserelleLanguage(locale: Locale(identifier: "en_US")), .english)
        XCTAssertEqual(PasserelleLanguage(locale: Locale(identifier: "it_IT")), .english)
        XCTAssertEqual(
            PasserelleError.sessionExpired.userMessage(locale: Locale(identifier: "fr_BE")).title, "Session expirée")
    }

    func testOtherErrorsGetAMessageToo() {
        XCTAssertEqual(PasserelleUserMessage(error: URLError(.notConnectedToInternet), language: .french).code, "network")
        XCTAssertEqual(PasserelleUserMessage(error: SecretStoreError.unavailable(reason: "locked"), language: .french).code, "secret_store")
        struct Odd: Error {}
        let odd = PasserelleUserMessage(error: Odd(), language: .french)
        XCTAssertEqual(odd.code, "unexpected")
        XCTAssertEqual(odd.title, "Erreur inattendue")
        XCTAssertEqual(PasserelleMessages.message(for: "from_the_future", language: .english).title, "Unexpected error")
    }

    func testLocalizedErrorIsTheRestaurantsText() {
        // What SwiftUI's alert(isPresented:error:) reads: the message, never the case's name.
        for failure in Self.everyError {
            let error: any LocalizedError = failure
            let message = failure.userMessage()
            XCTAssertEqual(error.errorDescription, message.message, failure.code)
            XCTAssertEqual(error.failureReason, message.message, failure.code)
            XCTAssertEqual(error.recoverySuggestion, message.nextStep, failure.code)
        }
        XCTAssertEqual(PasserelleError.cancelled.userMessage(in: .french).title, "Annulé")
        XCTAssertFalse(PasserelleError.cancelled.isRetryable)
    }

    func testMoneyAndStatusesForTheStaff() {
        let total = Money(minorUnits: 3080, currency: "EUR")
        XCTAssertEqual(total.amount, Decimal(string: "30.80"))
        let french = total.formatted(locale: PasserelleLanguage.french.locale)
        XCTAssertTrue(french.hasPrefix("30,80") && french.hasSuffix("€"), french)
        XCTAssertEqual(Money(minorUnits: -5, currency: "EUR").amount, Decimal(string: "-0.05"))
        XCTAssertEqual(OrderStatus.awaitingCollection.displayName(in: .french), "Prête à retirer")
        XCTAssertEqual(OrderStatus.hubriseStatuses.count, 11)
        XCTAssertTrue(OrderStatus.received.awaitsDecision)
        XCTAssertTrue(OrderStatus.cancelled.isFinal)
        for status in OrderStatus.hubriseStatuses + [.unknown] {
            XCTAssertNotEqual(status.displayName(in: .french), status.displayName(in: .english))
        }
    }
}
