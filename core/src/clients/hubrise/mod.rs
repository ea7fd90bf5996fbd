//! HubRise: its API (`api`), its OAuth for a native app (`oauth`), its token and error bodies
//! (`token`), and the rate windows every request of a connection goes through (`rate_limiter`).

pub mod api;
pub mod oauth;
pub mod rate_limiter;
pub mod token;
