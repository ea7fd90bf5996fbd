//! Protocol clients: they speak HTTP to HubRise and to the POS backend and know nothing of the
//! use cases above them. Their errors keep what the server said (`crate::error::Error`).

pub mod hubrise;
pub mod pos;
