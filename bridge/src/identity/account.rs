//! The vocabulary every identity speaks: the account a token belongs to, the demo accounts the
//! built-in identity is configured with, and why asking the provider failed.

use crate::secret::Secret;
use crate::store::StoreError;

/// A POS account, as `GET /me` shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    pub account_id: String,
    pub email: String,
    pub business_name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("identity provider unavailable: {0}")]
    Unavailable(String),
}

/// A demo account of the built-in identity (sandbox, walkthrough, embedded default only).
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoAccount {
    pub account_id: String,
    pub email: String,
    pub password: Secret,
    pub business_name: String,
}
