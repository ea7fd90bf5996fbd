//! Passerelle's core: connects an iPad point of sale to HubRise.
//!
//! The host opens a [`Passerelle`] over a data directory with its secret store (Keychain) and an
//! event listener; everything else is a method of it. This crate knows nothing of FFI: the
//! `uniffi` feature only derives UniFFI's traits on the public types, and `passerelle-ffi`
//! exports them.
//!
//! Layers, each importing only from the ones below it (`tools/check-layers` keeps it so):
//!
//! - [`Passerelle`] (`passerelle.rs`), the facade: builds the services in `open()` and delegates;
//! - `services/`: the use cases (sign-in, connect, off-device configuration, restart-to-apply,
//!   sync, inbox), each a small type holding only the parts it uses;
//! - `context/`: the parts built once at `open()` and shared by the services, the POS session
//!   kept among them;
//! - `clients/`: the protocol clients (HubRise API, OAuth and tokens; the POS backend);
//! - foundations: `model/` (public types), `config.rs`, `store/` (SQLite), `secrets.rs`,
//!   `http.rs`, `events.rs`, `logging/`, `time.rs`, `blocking.rs`, `error/`.
//!
//! The design decisions the code relies on are written down in `docs/design.md`.

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("passerelle_core");

mod blocking;
mod clients;
mod config;
mod context;
mod error;
mod events;
mod failpoint;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod http;
#[cfg(test)]
mod hubrise_examples;
mod logging;
mod model;
mod passerelle;
mod secrets;
mod services;
mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod time;

pub use config::{
    ApplyMode, DEFAULT_SCOPE, MIN_PRODUCTION_POLL_INTERVAL_SECS, OUT_OF_BAND_REDIRECT_URI,
    PasserelleConfig, RateLimits, Retention, Settings, TokenExchange,
};
pub use error::{PasserelleError, PublicResult as Result};
pub use events::{EventListener, PasserelleEvent};
pub use logging::{LogField, LogLevel, LogRecord, PasserelleLogger, set_logger};
pub use model::account::{ErasureReport, ErasureScope, PosAccount, SignOutMode, SignOutOutcome};
pub use model::authorization::{HubriseAuthorization, HubriseConnectionOptions};
pub use model::connection::{
    ConnectionOrigin, ConnectionState, DisconnectOutcome, HubriseConnection, OpenUrlOutcome,
};
pub use model::health::{
    BackendStatus, ConnectionHealth, DatabaseRecovery, DelayReason, FailedChange, QuarantinedItem,
    SyncHealth, SyncState,
};
pub use model::money::{Money, MoneyError, currency_exponent};
pub use model::order::{
    Order, OrderCharge, OrderCursor, OrderCustomer, OrderDiscount, OrderFilter, OrderItem,
    OrderOption, OrderPayment, OrderStatus, OrderSummary, order_summary,
};
pub use model::retention::RetentionReport;
pub use model::snapshot::{ConfigChange, ConfigurationSnapshot};
pub use model::sync_report::SyncReport;
pub use model::values::{Quantity, WebUrl};
pub use passerelle::Passerelle;
pub use secrets::{InMemorySecretStore, SecretStore, SecretStoreError};
pub use services::connect::FLOW_LIFETIME_MS;
pub use services::inbox::UNSEEN_ANNOUNCED_FOR;
pub use services::retention::UNFINISHED_GRACE;
pub use store::{DATABASE_FILE, SCHEMA_VERSION};
