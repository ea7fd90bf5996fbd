//! HubRise's events through the bridge (issue 24): received by the active callback, kept per
//! location in order, and pushed to the tills over Server-Sent Events.

pub mod hub;
pub mod store;

pub use hub::Hub;
pub use store::{Events, Incoming, Stored};
