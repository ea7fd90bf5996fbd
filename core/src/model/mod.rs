//! The public types the host reads and passes: the POS account, connections, orders and their
//! money, the options and answer of a connection attempt, the configuration snapshots, and what
//! the operations answer (sign-out, erasure, disconnect, an opened URL, the backend's status,
//! a retention pass).

pub mod account;
pub mod authorization;
pub mod connection;
pub mod health;
pub mod money;
pub mod order;
pub mod retention;
pub mod snapshot;
pub mod sync_report;
pub mod values;
