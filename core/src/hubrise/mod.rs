//! Everything that speaks to HubRise: OAuth, the API and their typed payloads.

pub mod api;
pub mod connect;
pub mod oauth;
pub mod token;
