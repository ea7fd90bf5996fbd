import Foundation
import Passerelle
import PasserelleSandbox
import XCTest

/// Cancelling the task of a long call stops it: the call throws `CancellationError` while the
/// server is still holding the request, and the instance stays usable.
final class CancellationTests: SandboxTestCase {
    /// How long the sandbox holds the delayed request: far longer than any deadline below, so a
    /// call that returns within its deadline returned before the server answered.
    private let serverDelay = 60.0

    /// Waits until the delayed request reached the sandbox (its one-shot fault is used up).
    private func waitForTheDelayedRequest() async throws {
        let admin = sandbox.admin
        try await eventually(10, "the request reaches the slow server") { try await admin.pendingFaultCount() == 0 }
    }

    func testCancellingSignInThrowsCancellationErrorBeforeTheServerAnswers() async throws {
        let app = try await openApp()
        try await sandbox.admin.injectFault(
            SandboxFault(pathPrefix: "/oauth/token", server: "pos", kind: .delay(seconds: serverDelay)))
        let pos = sandbox.info.posAccount
        let signingIn = Task { try await app.signIn(email: pos.email, password: pos.password) }
        try await waitForTheDelayedRequest()

        signingIn.cancel()
        let outcome = try await withDeadline(10, "the cancelled sign-in returns") { await signingIn.result }
        XCTAssertThrowsError(try outcome.get()) { error in
            XCTAssertTrue(error is CancellationError, "got \(error)")
        }
        let account = try await app.account()
        XCTAssertNil(account, "not signed in")

        // The instance is fine: the next sign-in, with the server quick again, goes through.
        let signedIn = try await withDeadline(10, "sign in") { try await app.signIn(email: pos.email, password: pos.password) }
        XCTAssertEqual(signedIn.email, pos.email)
    }

    func testCancellingSyncNowThrowsCancellationError() async throws {
        let app = try await openApp()
        try await signIn(app)
        _ = try await connectActive(app, sandbox.info.locations[0])
        // Every request to HubRise's API waits: the sync started below cannot finish by itself.
        try await sandbox.admin.injectFault(
            SandboxFault(pathPrefix: "/v1/", server: "api", times: nil, kind: .delay(seconds: serverDelay)))
        let syncing = Task { try await app.syncNow() }
        // Lets the sync reach the slow server (a call cancelled before it starts is the last test's).
        try await Task.sleep(nanoseconds: 300_000_000)

        syncing.cancel()
        let outcome = try await withDeadline(10, "the cancelled sync returns") { await syncing.result }
        XCTAssertThrowsError(try outcome.get()) { error in
            XCTAssertTrue(error is CancellationError, "got \(error)")
        }
        try await sandbox.admin.clearFaults()
    }

    func testACallInATaskAlreadyCancelledThrowsAtOnceAndSendsNothing() async throws {
        let app = try await openApp()
        let pos = sandbox.info.posAccount
        try await sandbox.admin.injectFault(
            SandboxFault(pathPrefix: "/oauth/token", server: "pos", kind: .delay(seconds: serverDelay)))
        let signingIn = Task {
            // Starts the call only once the task is cancelled.
            while !Task.isCancelled { await Task.yield() }
            return try await app.signIn(email: pos.email, password: pos.password)
        }
        signingIn.cancel()
        let outcome = try await withDeadline(10, "the sign-in returns") { await signingIn.result }
        XCTAssertThrowsError(try outcome.get()) { error in
            XCTAssertTrue(error is CancellationError, "got \(error)")
        }
        let unused = try await sandbox.admin.pendingFaultCount()
        XCTAssertEqual(unused, 1, "no request reached the server")
    }
}
