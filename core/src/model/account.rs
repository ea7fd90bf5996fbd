//! The POS account whose credentials the restaurant reuses.

/// A POS account signed in on this device. Carries no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PosAccount {
    /// The account's id at the POS backend.
    pub account_id: String,
    pub email: String,
    pub business_name: String,
}
