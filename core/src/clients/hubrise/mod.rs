//! HubRise: its API (`api`), its OAuth for a native app (`oauth`), its token and error bodies
//! (`token`), the rate windows every request of a connection goes through (`rate_limiter`), and
//! the read of a connection's names over them (`names`).

pub mod api;
pub mod names;
pub mod oauth;
pub mod rate_limiter;
pub mod token;
