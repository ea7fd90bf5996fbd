//! The POS account whose credentials the restaurant reuses, and what leaving a till (signing
//! out, erasing its data) answers.

use super::connection::DisconnectOutcome;

/// A POS account signed in on this device. Carries no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PosAccount {
    /// The account's id at the POS backend.
    pub account_id: String,
    pub email: String,
    pub business_name: String,
}

/// What signing out does to the account's HubRise connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum SignOutMode {
    /// The connections stay, their tokens kept in the secret store, and sync again as soon as
    /// the same account signs in (a shift change, a password reset). Nothing syncs meanwhile.
    KeepConnections,
    /// Each connection is disconnected (revoked at HubRise, its token deleted, removed at once):
    /// the till leaves the restaurant's HubRise, and the next sign-in starts with none.
    DisconnectConnections,
}

/// What `sign_out` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SignOutOutcome {
    /// The connections disconnected (`DisconnectConnections` only), with whether HubRise
    /// confirmed each revocation.
    pub disconnected: Vec<DisconnectOutcome>,
}

/// Whose data `erase_account_data` erases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ErasureScope {
    /// The signed-in account's (fails with `NotSignedIn` when nobody is).
    SignedInAccount,
    /// Every account that ever signed in on this device: a device handed over.
    EveryAccount,
}

/// What an erasure removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ErasureReport {
    pub accounts: u32,
    pub orders: u32,
    pub connections: u32,
    /// Entries deleted from the secret store (tokens, sessions, PKCE verifiers).
    pub secrets: u32,
    /// Connections of the signed-in account HubRise did not confirm revoking (their tokens are
    /// deleted all the same). Other accounts' tokens are deleted without a revocation: no POS
    /// session is there to ask the backend with.
    pub not_revoked: u32,
}
