//! What one `sync_now` did, for the host (the services compute it from their cycle reports).

/// What `sync_now` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncReport {
    pub orders_received: u32,
    pub orders_updated: u32,
    pub changes_pushed: u32,
}
