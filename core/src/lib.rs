//! Passerelle's core: connects an iPad point of sale to HubRise.
//!
//! The host opens a [`Passerelle`] over a data directory with its secret store (Keychain) and an
//! event listener; everything else is a method of it. This crate knows nothing of FFI: the
//! `uniffi` feature only derives UniFFI's traits on the public types, and `passerelle-ffi`
//! exports them.

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("passerelle_core");

mod account;
mod config;
mod configuration;
mod connection;
mod error;
mod events;
mod failpoint;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod http;
mod hubrise;
mod inbox;
mod logging;
mod money;
mod order;
mod passerelle;
mod pos;
mod secrets;
mod store;
mod sync;

pub use account::PosAccount;
pub use config::{
    ApplyMode, DEFAULT_SCOPE, MIN_PRODUCTION_POLL_INTERVAL_SECS, OUT_OF_BAND_REDIRECT_URI,
    PasserelleConfig, RateLimits, Settings, TokenExchange,
};
pub use configuration::{ConfigChange, ConfigurationSnapshot};
pub use connection::{ConnectionOrigin, ConnectionState, HubriseConnection};
pub use error::{PasserelleError, Result};
pub use events::{EventListener, PasserelleEvent};
pub use hubrise::connect::{DisconnectOutcome, FLOW_LIFETIME_MS, OpenUrlOutcome};
pub use hubrise::oauth::{HubriseAuthorization, HubriseConnectionOptions};
pub use logging::{LogLevel, LogRecord, Logger, set_logger};
pub use money::{Money, MoneyError};
pub use order::{
    Order, OrderCharge, OrderCustomer, OrderDiscount, OrderFilter, OrderItem, OrderOption,
    OrderPayment, OrderStatus,
};
pub use passerelle::{Passerelle, SyncReport};
pub use pos::configuration::BackendStatus;
pub use secrets::{InMemorySecretStore, SecretStore, SecretStoreError};
pub use store::{DATABASE_FILE, SCHEMA_VERSION};
