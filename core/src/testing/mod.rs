//! Test helpers of the library (the event recorder, the freeze watchdog), for its own tests and for its hosts' (the test-support crate, the
//! end-to-end tests, the walkthrough, the benchmarks): compiled in the core's unit tests and
//! behind the `testing` feature, as matrix-rust-sdk does, so that nothing outside the core
//! restates them. Never part of the library a host ships.

mod recorder;
pub mod watchdog;

pub use recorder::{EventRecorder, NotDelivered, order_received};
