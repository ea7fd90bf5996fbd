//! The use cases, each a small type built once by the facade from the parts it uses
//! (`crate::context::Context`). A service may use a service listed before it, never one after:
//! `retention`, `health`, `inbox`, `sign_in`, `connect`, `off_device`, `push` (background
//! wakes), `sync`, `restart`, which orchestrates restart-to-apply over sync and the off-device
//! configuration, then `account` (sign-out and erasure over all of them).

pub mod account;
pub mod connect;
pub mod health;
pub mod inbox;
pub mod off_device;
pub mod push;
pub mod restart;
pub mod retention;
pub mod sign_in;
pub mod sync;
