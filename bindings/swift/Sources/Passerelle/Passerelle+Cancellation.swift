import Foundation

/// Every call that goes to the network, as Swift expects it: cancelling the calling task stops
/// the call and throws `CancellationError`.
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

    /// Signs out, keeping the account's HubRise connections or disconnecting them; cancellable
    /// while it disconnects (the connections already revoked stay so, the others keep syncing).
    public func signOut(mode: SignOutMode) async throws -> SignOutOutcome {
        try await Self.cancellable { try await self.signOut(mode: mode, cancellation: $0) }
    }

    /// Applies the pending configuration; cancellable while it reloads the POS backend's
    /// configuration (then nothing is applied and sync starts again).
    public func restart() async throws {
        try await Self.cancellable { try await self.restart(cancellation: $0) }
    }

    /// Asks HubRise now whether the connection works; cancellable.
    public func checkConnection(connectionId: String) async throws -> HubriseConnection {
        try await Self.cancellable { try await self.checkConnection(connectionId: connectionId, cancellation: $0) }
    }

    /// Confirms a connection made off the device (its token comes from the POS backend); cancellable.
    public func confirmConnection(connectionId: String) async throws -> HubriseConnection {
        try await Self.cancellable { try await self.confirmConnection(connectionId: connectionId, cancellation: $0) }
    }

    /// Refuses a connection made off the device (revoked through the POS backend); cancellable.
    public func refuseConnection(connectionId: String) async throws -> HubriseConnection {
        try await Self.cancellable { try await self.refuseConnection(connectionId: connectionId, cancellation: $0) }
    }

    /// Disconnects now; cancelled, the connection stays as it was and keeps syncing.
    public func disconnect(connectionId: String) async throws -> DisconnectOutcome {
        try await Self.cancellable { try await self.disconnect(connectionId: connectionId, cancellation: $0) }
    }

    /// Routes a URL the app was opened with (`onOpenURL`): HubRise's redirect after its consent
    /// page, or HubRise's Open URL naming a connection; cancellable.
    public func handleOpenURL(_ url: URL) async throws -> OpenUrlOutcome {
        try await Self.cancellable { try await self.handleOpenUrl(url: url, cancellation: $0) }
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
