//! What a retention pass answers.

/// What a retention pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RetentionReport {
    pub orders_pruned: u32,
    pub orders_scrubbed: u32,
    pub quarantine_scrubbed: u32,
    pub quarantine_pruned: u32,
    pub events_pruned: u32,
    pub outbox_pruned: u32,
    /// Rows of removed connections (their event ids, failures, the connection itself).
    pub removed_connection_rows: u32,
    /// Transactions the pass ran.
    pub batches: u32,
    /// The longest time one of them held the write lock, in microseconds.
    pub longest_batch_micros: u64,
}
