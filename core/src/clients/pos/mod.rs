//! The POS backend: its HTTP API (`backend`: sign-in grants, `/me`, the broker and the account's
//! HubRise configuration), the stream of HubRise's events it may relay (`event_stream`) and the
//! session its grants answer (`session`). Keeping the session
//! (the secret store, refreshes one at a time, its end) is the context's
//! (`crate::context::session_keeper`).

pub mod backend;
pub mod event_stream;
pub mod session;
