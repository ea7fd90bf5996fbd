import Foundation
@testable import Passerelle
import XCTest

/// The String Catalog is the one source of the texts, complete in French and English, and
/// Foundation shows `PasserelleError` in the app's language with a stable domain and code.
final class LocalizationTests: XCTestCase {
    /// The catalog as written, read from the sources: SwiftPM on Linux copies it into the bundle
    /// as is, but Xcode compiles it, so the file itself is what every platform is checked against.
    private static func sourceCatalog() throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/Passerelle/Resources/Localizable.xcstrings")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        let strings = (json as? [String: Any])?["strings"] as? [String: Any]
        return try XCTUnwrap(strings, "no \"strings\" in \(url.path)")
    }

    private static let parts = ["title", "message", "next_step"]

    /// Every code a message is chosen by: the errors', HubRise's refusals' and "unexpected".
    private static var messageCodes: Set<String> {
        Set(MessageTests.everyError.map(\.code) + HubriseRefusal.allCases.map(\.code) + [PasserelleMessages.unexpectedCode])
    }

    /// The keys of the words shown outside messages: the order statuses and the health banner.
    private static var displayKeys: Set<String> {
        let statuses = (OrderStatus.hubriseStatuses + [.unknown]).map { "order_status.\($0.catalogKey)" }
        let reasons = [DelayReason.offline, .hubriseUnavailable, .rateLimited, .deviceStorage, .budget, .pushChannelDown, .other]
            .map { "health.delay_reason.\($0.catalogKey)" }
        let banner = [
            "health.delayed.less_than_a_minute", "health.delayed.minutes", "health.delayed.because", "health.reconnect",
            "health.reconnect.location", "health.attention.one", "health.attention.other",
        ]
        return Set(statuses + reasons + banner)
    }

    func testTheCatalogHasTheStatusesAndTheBannersWordsInFrenchAndEnglish() throws {
        let strings = try Self.sourceCatalog()
        for key in Self.displayKeys {
            let localizations = (strings[key] as? [String: Any])?["localizations"] as? [String: Any]
            var values: [String] = []
            for language in ["fr", "en"] {
                let unit = (localizations?[language] as? [String: Any])?["stringUnit"] as? [String: Any]
                let value = unit?["value"] as? String ?? ""
                XCTAssertFalse(value.trimmingCharacters(in: .whitespaces).isEmpty, "\(key) has no \(language) text")
                XCTAssertEqual(unit?["state"] as? String, "translated", "\(key) in \(language)")
                values.append(value)
            }
            // The same placeholders in both languages.
            let placeholders = values.map { $0.matches(of: /%(\d\$)?(@|lld)/).map { String($0.output.0) }.sorted() }
            XCTAssertEqual(placeholders[0], placeholders[1], key)
        }
        // What the package shows is what the catalog says, in each language.
        for language in PasserelleLanguage.allCases {
            for status in OrderStatus.hubriseStatuses + [.unknown] {
                XCTAssertEqual(
                    status.displayName(in: language), MessageCatalog.shared.string("order_status.\(status.catalogKey)", in: language))
                XCTAssertFalse(status.displayName(in: language).hasPrefix("order_status."), "\(status) in \(language)")
            }
        }
    }

    /// The words come from the catalog, not from the code: another catalog, other words.
    func testStatusesAndTheHealthBannerReadTheCatalog() {
        let catalog = MessageCatalog(texts: [
            .french: [
                "order_status.accepted": "Prise en compte", "health.delayed.minutes": "Retard de %lld min",
                "health.delayed.because": "%1$@ (%2$@)", "health.delay_reason.offline": "hors ligne",
                "health.reconnect.location": "Reconnecter %@", "health.attention.other": "%lld à revoir",
            ]
        ])
        XCTAssertEqual(OrderStatus.accepted.displayName(in: .french, catalog: catalog), "Prise en compte")
        XCTAssertEqual(OrderStatus.accepted.displayName(in: .english, catalog: catalog), "order_status.accepted", "a gap shows")
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        func health(_ state: SyncState, quarantined: UInt32 = 0) -> SyncHealth {
            let connection = ConnectionHealth(
                connectionId: "c1", locationName: "Lyon", state: state, lastSuccessAt: nil,
                delayReason: state == .delayed ? .offline : nil,
                delayedSince: state == .delayed ? now.addingTimeInterval(-180) : nil, nextAttemptAt: nil, errorCode: nil,
                retryAfterCapped: false, quarantined: quarantined, failedChanges: 0)
            return SyncHealth(state: state, needsAttention: quarantined > 0, connections: [connection])
        }
        XCTAssertEqual(health(.delayed).banner(in: .french, now: now, catalog: catalog), "Retard de 3 min (hors ligne)")
        XCTAssertEqual(health(.reconnectNeeded).banner(in: .french, now: now, catalog: catalog), "Reconnecter Lyon")
        XCTAssertEqual(health(.flowing, quarantined: 4).banner(in: .french, now: now, catalog: catalog), "4 à revoir")
    }

    func testTheCatalogHasEveryCodeInFrenchAndEnglish() throws {
        let strings = try Self.sourceCatalog()
        for code in Self.messageCodes {
            for part in Self.parts {
                let key = "\(code).\(part)"
                let localizations = (strings[key] as? [String: Any])?["localizations"] as? [String: Any]
                for language in ["fr", "en"] {
                    let unit = (localizations?[language] as? [String: Any])?["stringUnit"] as? [String: Any]
                    let value = unit?["value"] as? String ?? ""
                    XCTAssertFalse(value.trimmingCharacters(in: .whitespaces).isEmpty, "\(key) has no \(language) text")
                    XCTAssertEqual(unit?["state"] as? String, "translated", "\(key) in \(language)")
                }
            }
        }
        let expectedKeys = Set(Self.messageCodes.flatMap { code in Self.parts.map { "\(code).\($0)" } })
        XCTAssertEqual(Set(strings.keys).subtracting(expectedKeys).subtracting(Self.displayKeys), [], "keys of nothing shown")
    }

    func testTheRuntimeReadsTheCatalogOfTheBundle() throws {
        // Everything the sources' catalog holds is what the package's bundle gives at run time
        // (here on Linux: the copied catalog's JSON; on Apple platforms: the compiled tables).
        let messageKeys = try Self.sourceCatalog().keys.filter { !Self.displayKeys.contains($0) }
        let codes = Set(messageKeys.map { key in
            String(key[..<(key.range(of: ".", options: .backwards)?.lowerBound ?? key.endIndex)])
        })
        XCTAssertEqual(Set(PasserelleMessages.codes), codes)
        XCTAssertEqual(MessageCatalog.shared.text(.title, of: "connection_revoked.blocked", in: .french), "Connexion bloquée")
        XCTAssertEqual(MessageCatalog.shared.text(.nextStep, of: "closed", in: .english), "Restart the app to receive orders again.")
    }

    func testLocalizedDescriptionIsInTheAppsLanguage() {
        let error: any Error = PasserelleError.invalidCredentials
        PasserelleLanguage.$localizationOverride.withValue(.french) {
            XCTAssertEqual(error.localizedDescription, "L’e-mail ou le mot de passe est incorrect.")
            XCTAssertEqual((error as? LocalizedError)?.errorDescription, "L’e-mail ou le mot de passe est incorrect.")
            XCTAssertEqual(
                (error as NSError).localizedRecoverySuggestion,
                "Utilisez les mêmes identifiants que pour votre caisse. Mot de passe oublié ? Réinitialisez-le depuis le back-office de votre caisse.")
            XCTAssertEqual((error as? LocalizedError)?.failureReason, "L’e-mail ou le mot de passe est incorrect.")
        }
        PasserelleLanguage.$localizationOverride.withValue(.english) {
            XCTAssertEqual(error.localizedDescription, "The e-mail or the password is wrong.")
            XCTAssertEqual(
                PasserelleError.rateLimited(retryAfterSecs: 20).localizedDescription,
                "HubRise is limiting the number of requests for a while.")
            XCTAssertEqual(
                (PasserelleError.rateLimited(retryAfterSecs: 20) as NSError).localizedRecoverySuggestion,
                "Nothing to do: Passerelle resumes by itself in 20 s.")
        }
        for failure in MessageTests.everyError {
            XCTAssertFalse(failure.localizedDescription.contains("PasserelleError"), failure.localizedDescription)
        }
    }

    func testTheLanguageIsTheFirstOfTheAppsLocalizationsPasserelleHas() {
        XCTAssertEqual(PasserelleLanguage.first(in: ["fr"]), .french)
        XCTAssertEqual(PasserelleLanguage.first(in: ["fr-CA", "en"]), .french)
        XCTAssertEqual(PasserelleLanguage.first(in: ["de", "en-GB", "fr"]), .english)
        XCTAssertEqual(PasserelleLanguage.first(in: ["de", "fr_BE"]), .french)
        XCTAssertEqual(PasserelleLanguage.first(in: ["frr", "Base"]), .english, "North Frisian is not French")
        XCTAssertEqual(PasserelleLanguage.first(in: []), .english)
        XCTAssertEqual(PasserelleLanguage.preferred, PasserelleLanguage.first(in: Bundle.main.preferredLocalizations))
    }

    func testNSErrorGivesTheDomainAndAStableCode() {
        let error = PasserelleError.invalidCredentials as NSError
        XCTAssertEqual(error.domain, "com.passerelle.error")
        XCTAssertEqual(error.code, 8)
        XCTAssertEqual(error.userInfo[PasserelleError.codeUserInfoKey] as? String, "invalid_credentials")

        // The numbers hosts may have stored: a change here breaks them.
        let published = [
            "invalid_config": 1, "data_directory": 2, "corrupt_database": 3, "newer_schema": 4, "storage": 5,
            "secret_store": 6, "not_signed_in": 7, "invalid_credentials": 8, "locked_out": 9,
            "session_expired": 10, "network": 11, "unexpected_response": 12, "redirect_mismatch": 13,
            "state_missing": 14, "state_unknown": 15, "state_replayed": 16, "state_mismatch": 17,
            "flow_expired": 18, "access_denied": 19, "code_missing": 20, "invalid_grant": 21,
            "invalid_client": 22, "connection_revoked": 23, "rate_limited": 24, "hubrise_api": 25,
            "not_found": 26, "invalid_state": 27, "internal": 28, "data_directory_in_use": 29, "closed": 30,
            "response_too_large": 31, "connection_mismatch": 32, "cancelled": 33,
        ]
        for failure in MessageTests.everyError {
            let bridged = failure as NSError
            XCTAssertEqual(bridged.domain, PasserelleError.errorDomain)
            XCTAssertEqual(bridged.code, published[failure.code], failure.code)
            XCTAssertEqual(bridged.userInfo[PasserelleError.codeUserInfoKey] as? String, failure.code)
        }
        XCTAssertEqual(Set(MessageTests.everyError.map(\.errorCode)).count, MessageTests.everyError.count, "one number per code")
    }
}
