//! The typed view of an order the host reads (see `decode.rs` for how it is read).

use std::time::SystemTime;

use super::status::OrderStatus;
use crate::model::money::Money;
use crate::model::values::Quantity;

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
