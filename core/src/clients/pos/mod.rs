//! The POS backend: its HTTP API (`backend`: sign-in grants, `/me`, the HubRise broker and the
//! account's HubRise configuration) and the POS session kept in the secret store (`session`).

pub mod backend;
pub mod session;
