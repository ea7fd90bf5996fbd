//! The public types the host reads and passes: the POS account, connections, orders and their
//! money, the options and answer of a connection attempt, the configuration snapshots.

pub mod account;
pub mod authorization;
pub mod connection;
pub mod health;
pub mod money;
pub mod order;
pub mod snapshot;
pub mod values;
