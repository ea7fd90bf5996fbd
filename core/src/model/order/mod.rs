//! Orders as the POS shows them, decoded from the HubRise JSON kept in the store.
//!
//! The store keeps HubRise's JSON unchanged (times with their offset, money as strings); this
//! typed view is decoded when read ([`decode`](decode/index.html): a field that does not decode
//! is left empty and logged rather than losing the order, the JSON stays exactly as HubRise
//! sent it), and the inbox's rows are summarised from columns computed when it is written
//! (`summary`).

mod decode;
mod summary;

pub use decode::{OrderHead, StoredOrder, decode};
pub use summary::{
    OrderSummary, SummaryColumns, SummaryRow, order_summary, summarize, summary_columns,
};

use std::time::SystemTime;

use crate::model::money::Money;
use crate::model::values::Quantity;

/// HubRise's order statuses (no transition is enforced by HubRise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum OrderStatus {
    New,
    Received,
    Accepted,
    InPreparation,
    AwaitingShipment,
    AwaitingCollection,
    InDelivery,
    Completed,
    Rejected,
    Cancelled,
    DeliveryFailed,
    /// A status this version does not know; the raw JSON keeps it.
    Unknown,
}

const STATUSES: [(OrderStatus, &str); 11] = [
    (OrderStatus::New, "new"),
    (OrderStatus::Received, "received"),
    (OrderStatus::Accepted, "accepted"),
    (OrderStatus::InPreparation, "in_preparation"),
    (OrderStatus::AwaitingShipment, "awaiting_shipment"),
    (OrderStatus::AwaitingCollection, "awaiting_collection"),
    (OrderStatus::InDelivery, "in_delivery"),
    (OrderStatus::Completed, "completed"),
    (OrderStatus::Rejected, "rejected"),
    (OrderStatus::Cancelled, "cancelled"),
    (OrderStatus::DeliveryFailed, "delivery_failed"),
];

impl OrderStatus {
    pub fn parse(raw: &str) -> OrderStatus {
        STATUSES
            .iter()
            .find(|(_, name)| *name == raw)
            .map_or(OrderStatus::Unknown, |(s, _)| *s)
    }

    /// HubRise's name; `None` for `Unknown`, which can never be sent.
    pub fn as_str(self) -> Option<&'static str> {
        STATUSES
            .iter()
            .find(|(s, _)| *s == self)
            .map(|(_, name)| *name)
    }

    /// An anomaly HubRise reports as final: a local change must not overwrite it (design D9).
    pub fn is_terminal_anomaly(self) -> bool {
        matches!(
            self,
            OrderStatus::Rejected | OrderStatus::Cancelled | OrderStatus::DeliveryFailed
        )
    }
}

/// An order in the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Order {
    pub id: String,
    pub connection_id: String,
    pub location_id: String,
    /// The status HubRise last reported.
    pub status: OrderStatus,
    /// A status set at the till that is still on its way to HubRise.
    pub pending_status: Option<OrderStatus>,
    pub service_type: Option<String>,
    pub service_type_ref: Option<String>,
    /// HubRise's `ref`, the reference shown to the customer.
    pub reference: Option<String>,
    pub collection_code: Option<String>,
    /// When it was placed (HubRise's `created_at`; when unreadable, when it was received).
    pub created_at: SystemTime,
    /// When the customer expects it (`None`: as soon as possible).
    pub expected_time: Option<SystemTime>,
    /// When the restaurant said it will be ready.
    pub confirmed_time: Option<SystemTime>,
    pub customer_notes: Option<String>,
    pub seller_notes: Option<String>,
    /// HubRise's total: with deleted elements, totals follow HubRise (design D10).
    pub total: Option<Money>,
    pub items: Vec<OrderItem>,
    pub discounts: Vec<OrderDiscount>,
    pub charges: Vec<OrderCharge>,
    pub payments: Vec<OrderPayment>,
    pub customer: Option<OrderCustomer>,
    pub received_at: SystemTime,
    pub updated_at: SystemTime,
    /// Whether the host marked it seen (`mark_orders_seen`); unseen orders are announced again
    /// after a restart.
    pub seen: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OrderItem {
    pub product_name: String,
    pub sku_name: Option<String>,
    pub sku_ref: Option<String>,
    pub price: Option<Money>,
    /// Exact (`Decimal` in Swift): `1`, `2.5`.
    pub quantity: Quantity,
    pub subtotal: Option<Money>,
    pub customer_notes: Option<String>,
    pub options: Vec<OrderOption>,
    /// Removed after the order was placed; shown struck through, not counted.
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OrderOption {
    pub option_list_name: Option<String>,
    pub name: String,
    pub reference: Option<String>,
    pub price: Option<Money>,
    pub quantity: i64,
    /// A default ingredient the customer removed ("sans oignons").
    pub removed: bool,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OrderDiscount {
    pub name: String,
    pub reference: Option<String>,
    pub price_off: Option<Money>,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OrderCharge {
    pub name: String,
    pub reference: Option<String>,
    pub price: Option<Money>,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OrderPayment {
    pub name: String,
    pub reference: Option<String>,
    pub amount: Option<Money>,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OrderCustomer {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company_name: Option<String>,
    pub address_1: Option<String>,
    pub address_2: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub delivery_notes: Option<String>,
}

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
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_unknown_is_kept_apart() {
        for (status, name) in STATUSES {
            assert_eq!(OrderStatus::parse(name), status);
            assert_eq!(status.as_str(), Some(name));
        }
        assert_eq!(OrderStatus::parse("teleported"), OrderStatus::Unknown);
        assert!(OrderStatus::Unknown.as_str().is_none());
    }
}
