//! A faithful fake HubRise (OAuth server + API) and a fake POS backend, as real HTTP servers
//! on loopback, for Passerelle's tests, its Swift tests and app developers.
//!
//! ```no_run
//! # async fn demo() -> Result<(), passerelle_sandbox::SandboxError> {
//! use passerelle_sandbox::{Sandbox, SandboxOptions};
//! let sandbox = Sandbox::start(SandboxOptions::default()).await?;
//! let authorize = format!("{}/authorize", sandbox.hubrise_oauth_url());
//! # Ok(()) }
//! ```
//!
//! The servers (`hubrise`, `pos`, the admin API) know nothing of the [`drivers`], which play a
//! person against them over HTTP: the consent page, the web back office, a real browser.
//!
//! See README.md for the HTTP contract, the consent form sequence and the admin API.

mod admin;
mod admin_http;
pub mod drivers;
mod errors;
pub mod exposure;
mod faults;
mod http_client;
mod hubrise;
mod ids;
mod network;
mod pages;
mod pos;
mod rate_limit;
mod request_log;
mod sandbox;
pub mod seed;
pub mod serve;
mod signing;
mod snapshot;
mod state;
mod timefmt;

pub use admin::{Admin, ConnectionInfo};
pub use exposure::Exposure;
pub use faults::{Fault, FaultKind};
pub use hubrise::model::ConnectionState;
pub use pos::identity_provider::{
    INTROSPECTION_CLIENT_ID, INTROSPECTION_CLIENT_SECRET, JWKS_PATH, JWT_AUDIENCE, PosAccessTokens,
    sandbox_jwt, stranger_jwt,
};
pub use pos::model::{Origin, TokenHandOver};
pub use rate_limit::RateLimits;
pub use request_log::{ConnectionTag, RequestRecord, ServerKind};
pub use sandbox::{
    ActiveCallbacks, CallbackAck, EventSuppression, Ports, Sandbox, SandboxError, SandboxOptions,
    TokenErrorBody,
};
pub use seed::{
    Seed, SeedAccount, SeedClient, SeedLocation, SeedPosAccount, SeedResource, SeedUser,
};
