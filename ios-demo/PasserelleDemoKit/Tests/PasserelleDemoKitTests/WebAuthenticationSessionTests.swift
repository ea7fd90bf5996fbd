import Foundation
import Passerelle
import PasserelleDemoKit
import XCTest

/// ``runWebAuthenticationSession(notStarted:start:)`` resumes its caller once, whatever the
/// session does with its completion handler.
///
/// `@unchecked Sendable`: no stored state; each test runs on the main actor.
final class WebAuthenticationSessionTests: XCTestCase, @unchecked Sendable {
    private struct PresentationContextInvalid: Error {}

    private static let callbackURL = URL(string: "passerelle-demo://oauth/hubrise?code=abc")!

    @MainActor
    func testASessionThatStartsResumesWithItsCallback() async throws {
        let url = try await runWebAuthenticationSession(notStarted: WebAuthenticationUnavailable(.notStarted)) { completion in
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { completion(.success(Self.callbackURL)) }
            return true
        }
        XCTAssertEqual(url, Self.callbackURL)
    }

    /// A session that completes inside `start()` (and started): its callback reaches the caller.
    @MainActor
    func testACompletionDuringAStartThatSucceededIsKept() async throws {
        let url = try await runWebAuthenticationSession(notStarted: WebAuthenticationUnavailable(.notStarted)) { completion in
            completion(.success(Self.callbackURL))
            completion(.failure(PresentationContextInvalid()))  // a second call is dropped
            return true
        }
        XCTAssertEqual(url, Self.callbackURL)
    }

    /// The session refuses to start and still calls its completion handler, at once: the caller
    /// hears "not started" once.
    @MainActor
    func testASessionThatDoesNotStartButCompletesDuringStartResumesOnce() async throws {
        do {
            _ = try await runWebAuthenticationSession(notStarted: WebAuthenticationUnavailable(.notStarted)) { completion in
                completion(.failure(PresentationContextInvalid()))
                return false
            }
            XCTFail("a session that did not start cannot give a callback")
        } catch let error as WebAuthenticationUnavailable {
            XCTAssertEqual(error, WebAuthenticationUnavailable(.notStarted))
        }
    }

    /// The same, with the completion handler called later on another queue.
    @MainActor
    func testASessionThatDoesNotStartButCompletesLaterResumesOnce() async throws {
        let (completions, completed) = AsyncStream.makeStream(of: Void.self)
        do {
            _ = try await runWebAuthenticationSession(notStarted: WebAuthenticationUnavailable(.notStarted)) { completion in
                DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) {
                    completion(.failure(PresentationContextInvalid()))
                    completed.yield()
                    completed.finish()
                }
                return false
            }
            XCTFail("a session that did not start cannot give a callback")
        } catch let error as WebAuthenticationUnavailable {
            XCTAssertEqual(error, WebAuthenticationUnavailable(.notStarted))
        }
        for await _ in completions { break }  // the late completion ran, and nothing crashed
    }

    @MainActor
    func testAnErrorMakingTheSessionReachesTheCaller() async throws {
        do {
            _ = try await runWebAuthenticationSession(notStarted: WebAuthenticationUnavailable(.notStarted)) { _ in
                throw WebAuthenticationUnavailable(.httpsCallbackNeedsNewerSystem)
            }
            XCTFail("expected the error")
        } catch let error as WebAuthenticationUnavailable {
            XCTAssertEqual(error, WebAuthenticationUnavailable(.httpsCallbackNeedsNewerSystem))
        }
    }
}
