//! passerelle-bridge: the POS backend's HubRise half as a service a POS vendor runs next to its
//! own backend. It holds the HubRise client secret (the broker), the Connect URL and the web
//! back office, HubRise's Disconnect callback, the device flows of the https redirect, and each
//! account's HubRise configuration, which the till reloads at restart. The contract it serves is
//! `docs/pos-backend-contract.md`; `check` drives any POS backend through it.

pub mod check;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod events;
pub mod http;
pub mod hubrise;
pub mod identity;
pub mod metrics;
pub mod push;
pub mod secret;
pub mod server;
pub mod store;

pub use config::{Config, ConfigError, Sources};
pub use server::{Running, StartError, start, start_on};
