//! Which orders a list asks for, and where its next page starts.

use std::time::SystemTime;

use super::status::OrderStatus;

/// Which orders `orders()` returns, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OrderFilter {
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub status: Option<OrderStatus>,
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub connection_id: Option<String>,
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub created_after: Option<SystemTime>,
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub created_before: Option<SystemTime>,
    /// At most this many (100 when 0).
    #[cfg_attr(feature = "uniffi", uniffi(default = 0))]
    pub limit: u32,
    #[cfg_attr(feature = "uniffi", uniffi(default = 0))]
    pub offset: u32,
    /// Only the orders after this one in the list's order (newest first): the next page of a
    /// list, whatever arrived at its top meanwhile (paging by key, where `offset` would shift).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub after: Option<OrderCursor>,
}

/// A row's place in a list of orders (newest first, then by id): the last row of a page, to
/// ask for the next one (`OrderFilter::after`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OrderCursor {
    /// The row's `created_at`.
    pub created_at: SystemTime,
    /// The row's order id.
    pub id: String,
}
