//! Orders with HubRise's semantics: validation, computed subtotals and total, per-client private
//! refs, PATCH that sets a few fields and appends to or deletes from collections.
//!
//! - `validation`: what a request may carry, field by field (money, decimals, times, elements)
//! - `totals`: the order's total, computed as HubRise does
//! - `create`: `POST /location/orders`
//! - `update`: `PATCH /location/orders/:id`
//! - `listing`: what a client sees of an order, and the filters of `GET /location/orders`

mod create;
mod listing;
mod totals;
mod update;
mod validation;

pub(crate) use create::create;
pub(crate) use listing::{OrderFilter, render};
pub(crate) use update::patch;

pub(crate) const STATUSES: &[&str] = &[
    "new",
    "received",
    "accepted",
    "in_preparation",
    "awaiting_shipment",
    "awaiting_collection",
    "in_delivery",
    "completed",
    "rejected",
    "cancelled",
    "delivery_failed",
];
const SERVICE_TYPES: &[&str] = &["delivery", "collection", "eat_in"];
const COLLECTIONS: &[&str] = &["items", "discounts", "charges", "payments"];
/// Plain string fields of an order creation request.
const TEXT_FIELDS: &[&str] = &[
    "ref",
    "service_type_ref",
    "customer_notes",
    "seller_notes",
    "collection_code",
];
/// What `PATCH` may set (besides the collections).
const PATCHABLE: &[&str] = &[
    "status",
    "confirmed_time",
    "seller_notes",
    "collection_code",
    "private_ref",
    "custom_fields",
];

/// Who writes: a client, through one of its connections (none for admin writes).
#[derive(Clone, Debug)]
pub(crate) struct Writer {
    pub client_id: String,
    pub client_name: String,
    pub connection_id: Option<String>,
}
