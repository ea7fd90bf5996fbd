//! The host's event listener with a wait that wakes on each event: the core's
//! (`passerelle_core::testing`, its `testing` feature), re-exported where the tests look for it.

pub use passerelle_core::testing::{EventRecorder, NotDelivered, order_received};
