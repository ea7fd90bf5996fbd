//! Test helpers of the library (the event recorder, the freeze watchdog), for its own tests and for its hosts' (the test-support crate, the
//! end-to-end tests, the walkthrough, the benchmarks): compiled in the core's unit tests and
//! behind the `testing` feature, as matrix-rust-sdk does, so that nothing outside the core
//! restates them. Never part of the library a host ships.

mod recorder;
pub mod watchdog;

pub use recorder::{EventRecorder, NotDelivered, order_received};

/// Sets this process's wall clock (as the library reads it) `by_ms` from the device's: what a
/// restaurant changing the iPad's time, or NTP stepping it, does. Process-wide: a test that
/// uses it runs in a process of its own.
pub fn set_wall_clock_by(by_ms: i64) {
    crate::time::WALL_CLOCK_SET_BY.store(by_ms, std::sync::atomic::Ordering::SeqCst);
}
