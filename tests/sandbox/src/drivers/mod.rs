//! The drivers that play a person against the fake servers: the restaurant on HubRise's consent
//! pages (`consent`), in the POS vendor's web back office over HTTP (`back_office`), and a real
//! headless browser for either (`browser`, behind the `browser` feature). They go over HTTP like
//! any client; the servers know nothing of them.

pub mod back_office;
#[cfg(feature = "browser")]
pub mod browser;
pub mod consent;
