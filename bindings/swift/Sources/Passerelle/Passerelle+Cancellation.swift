import Foundation

/// The long calls as Swift expects them: cancelling the calling task stops the call and throws
/// `CancellationError`.
///
/// Each creates a ``Cancellation``, passes it to the generated call and cancels it from
/// `withTaskCancellationHandler`; the Rust task is then aborted (a request in flight is dropped)
/// and its ``PasserelleError/Cancelled`` becomes `CancellationError()`, as `URLSession` or
/// `Task.sleep` do:
///
/// ```swift
/// let signingIn = Task { try await app.signIn(email: email, password: password) }
/// ...
/// signingIn.cancel()   // the person tapped "Cancel": the task throws CancellationError
/// ```
///
/// A task already cancelled when the call starts throws at once.
extension Passerelle {
    /// Signs in with the POS account's e-mail and password (never stored); cancellable.
    public func signIn(email: String, password: String) async throws -> PosAccount {
        try await Self.cancellable { try await self.signIn(email: email, password: password, cancellation: $0) }
    }

    /// Adopts the POS session of a host app that is already signed in; cancellable.
    public func signInWithPosSession(accessToken: String) async throws -> PosAccount {
        try await Self.cancellable { try await self.signInWithPosSession(accessToken: accessToken, cancellation: $0) }
    }

    /// Completes a connection from the URL HubRise redirected to (what
    /// `ASWebAuthenticationSession` returns); it waits for a restart to go active. Cancellable.
    public func completeHubriseConnection(callbackURL: URL) async throws -> HubriseConnection {
        try await Self.cancellable { try await self.completeHubriseConnection(callbackUrl: callbackURL, cancellation: $0) }
    }

    /// Completes an out-of-band attempt with the code the restaurant copied from HubRise's page
    /// (spaces and line breaks around it are ignored); cancellable.
    public func completeHubriseConnection(code: String, state: String) async throws -> HubriseConnection {
        try await Self.cancellable {
            try await self.completeHubriseConnectionWithCode(code: code, state: state, cancellation: $0)
        }
    }

    /// Asks the POS backend for HubRise's answer to an attempt begun with
    /// ``beginHubriseConnectionViaPosBackend(options:)``: `nil` while the restaurant is still on
    /// HubRise's page, else the connection. Cancellable.
    public func completeHubriseConnectionViaPosBackend(state: String) async throws -> HubriseConnection? {
        try await Self.cancellable { try await self.completeHubriseConnectionViaPosBackend(state: state, cancellation: $0) }
    }

    /// Syncs every active connection now (pull to refresh, the app back in the foreground);
    /// cancellable.
    @discardableResult
    public func syncNow() async throws -> SyncReport {
        try await Self.cancellable { try await self.syncNow(cancellation: $0) }
    }

    /// Runs `call` with a ``Cancellation`` the current task's cancellation triggers, and throws
    /// `CancellationError` for the ``PasserelleError/Cancelled`` that follows.
    static func cancellable<Value>(_ call: (Cancellation) async throws -> Value) async throws -> Value {
        let cancellation = Cancellation()
        do {
            return try await withTaskCancellationHandler {
                try await call(cancellation)
            } onCancel: {
                cancellation.cancel()
            }
        } catch PasserelleError.Cancelled {
            throw CancellationError()
        }
    }
}
