import Foundation
@testable import Passerelle
import XCTest

/// What `KeychainSecretStore` does with the Keychain's answers, against a scripted Keychain: the
/// logic is platform-neutral, only the `SecItem` calls are Apple's.
final class KeychainTests: XCTestCase {
    /// A Keychain that answers the statuses it is given, in order, and records the calls.
    private final class ScriptedKeychain: KeychainAPI, @unchecked Sendable {
        // Guarded by `lock`.
        private let lock = NSLock()
        private var answers: [Int32]
        private let stored: [String: Data]
        private var calls: [String] = []

        /// `answers` are the statuses of the next calls; once they run out, every call succeeds.
        init(answers: [Int32] = [], stored: [String: Data] = [:]) {
            self.answers = answers
            self.stored = stored
        }

        private func answer(_ call: String) -> Int32 {
            lock.withLock {
                calls.append(call)
                return answers.isEmpty ? KeychainStatus.success : answers.removeFirst()
            }
        }

        var recordedCalls: [String] { lock.withLock { calls } }

        func copy(account: String) -> (status: Int32, data: Data?) {
            let status = answer("copy")
            return (status, stored[account])
        }

        func add(account: String, data: Data) -> Int32 { answer("add") }
        func update(account: String, data: Data) -> Int32 { answer("update") }
        func delete(account: String?) -> Int32 { answer("delete") }
        func message(for status: Int32) -> String? { nil }
    }

    private static let errSecInteractionNotAllowed: Int32 = -25308

    func testAnAddLosingARaceUpdatesTheItemTheOtherWriterAdded() throws {
        // Update finds no item; another writer adds it before our add, which is refused as a
        // duplicate; the retried update replaces the value.
        let keychain = ScriptedKeychain(answers: [KeychainStatus.itemNotFound, KeychainStatus.duplicateItem])
        try KeychainItems(api: keychain).set("token-2", for: "pos.session")
        XCTAssertEqual(keychain.recordedCalls, ["update", "add", "update"])
    }

    func testAFirstWriteAddsTheItem() throws {
        let keychain = ScriptedKeychain(answers: [KeychainStatus.itemNotFound])
        try KeychainItems(api: keychain).set("token", for: "pos.session")
        XCTAssertEqual(keychain.recordedCalls, ["update", "add"])
    }

    func testTheRetriesAreBounded() {
        let race = Array(repeating: [KeychainStatus.itemNotFound, KeychainStatus.duplicateItem], count: 10).flatMap { $0 }
        let keychain = ScriptedKeychain(answers: race)
        XCTAssertThrowsError(try KeychainItems(api: keychain).set("secret-value", for: "pos.session")) { error in
            XCTAssertEqual(error as? SecretStoreError, .unavailable(reason: "Keychain add failed: -25299 (unknown)"))
        }
        XCTAssertEqual(keychain.recordedCalls.count, 2 * KeychainItems.writeRounds)
    }

    func testAFailureThrowsTheStatusAndNeverTheSecret() {
        let keychain = ScriptedKeychain(answers: Array(repeating: Self.errSecInteractionNotAllowed, count: 10))
        let items = KeychainItems(api: keychain)
        XCTAssertThrowsError(try items.set("secret-value", for: "pos.session")) { error in
            guard case .unavailable(let reason) = error as? SecretStoreError else {
                return XCTFail("expected SecretStoreError.unavailable, got \(error)")
            }
            XCTAssertTrue(reason.contains("-25308"), reason)
            XCTAssertFalse(reason.contains("secret-value"), reason)
            XCTAssertFalse(String(reflecting: error).contains("secret-value"))
        }
        XCTAssertEqual(keychain.recordedCalls, ["update"], "a locked Keychain is not retried")
        XCTAssertThrowsError(try items.value(for: "pos.session"))
        XCTAssertThrowsError(try items.delete("pos.session"))
    }

    func testMissingItemsAreNilAndNothingToDelete() throws {
        let keychain = ScriptedKeychain(answers: [KeychainStatus.itemNotFound, KeychainStatus.itemNotFound])
        let items = KeychainItems(api: keychain)
        XCTAssertNil(try items.value(for: "pos.session"))
        XCTAssertNoThrow(try items.delete(nil))
    }

    func testAStoredValueIsRead() throws {
        let keychain = ScriptedKeychain(stored: ["pos.session": Data("token".utf8)])
        XCTAssertEqual(try KeychainItems(api: keychain).value(for: "pos.session"), "token")
        let garbled = ScriptedKeychain(stored: ["pos.session": Data([0xFF, 0xFE])])
        XCTAssertThrowsError(try KeychainItems(api: garbled).value(for: "pos.session"))
    }
}
