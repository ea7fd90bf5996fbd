//! The POS account: sign-in with its credentials and its backend (identity, broker).

pub mod auth;
pub mod client;
pub mod configuration;
pub mod session;
