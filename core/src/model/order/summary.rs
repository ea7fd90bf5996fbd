//! The inbox's row of an order: computed from the JSON when it is stored ([`summary_columns`]),
//! read back without parsing it ([`summarize`]), or made from a decoded order
//! ([`order_summary`]) by the same rule.

use std::time::SystemTime;

use serde_json::Value;

use super::decode::{flag, list, text};
use super::status::OrderStatus;
use super::view::Order;
use crate::model::money::Money;
use crate::time::{parse_iso8601_ms, to_system_time};

/// What a row of the inbox shows, read without decoding the whole order (the full order is
/// `order(id)`, for the detail screen).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OrderSummary {
    pub id: String,
    /// HubRise's `ref`, the reference shown to the customer.
    pub reference: Option<String>,
    pub status: OrderStatus,
    /// A status set at the till that is still on its way to HubRise.
    pub pending_status: Option<OrderStatus>,
    pub service_type: Option<String>,
    /// The customer's first and last name, else the company; `None` when there is none (or
    /// after the personal data was scrubbed).
    pub customer_name: Option<String>,
    pub created_at: SystemTime,
    pub expected_time: Option<SystemTime>,
    pub total: Option<Money>,
    /// Items not deleted.
    pub item_count: u32,
    pub seen: bool,
}

/// What the store keeps beside an order's JSON for its summary, computed when it is written
/// (see [`summary_columns`]), so a page of the inbox never parses JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryColumns {
    pub reference: Option<String>,
    pub customer_name: Option<String>,
    pub expected_time: Option<String>,
    pub item_count: u32,
}

/// The summary columns of an order's JSON, computed when it is stored. Read as leniently as the
/// full order ([`decode`]): a number for the reference is its text, a customer that is not an
/// object has no name, every entry of `items` not marked deleted counts.
pub fn summary_columns(json: &Value) -> SummaryColumns {
    let customer = json.get("customer").unwrap_or(&Value::Null);
    let name = |key| text(customer, key);
    SummaryColumns {
        reference: text(json, "ref"),
        expected_time: text(json, "expected_time"),
        customer_name: display_name(
            name("first_name").as_deref(),
            name("last_name").as_deref(),
            name("company_name").as_deref(),
        ),
        item_count: list(json, "items", |i| flag(i, "deleted"))
            .into_iter()
            .filter(|deleted| !deleted)
            .count()
            .try_into()
            .unwrap_or(u32::MAX),
    }
}

/// The first and last names, else the company; `None` when all are empty.
fn display_name(first: Option<&str>, last: Option<&str>, company: Option<&str>) -> Option<String> {
    let name = [first, last]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !name.is_empty() {
        return Some(name);
    }
    company
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
}

/// A stored order's row, for [`summarize`].
pub struct SummaryRow {
    pub id: String,
    pub status: Option<String>,
    pub service_type: Option<String>,
    pub total: Option<String>,
    pub columns: SummaryColumns,
    pub created_at_ms: i64,
    pub pending_status: Option<OrderStatus>,
    pub seen: bool,
}

/// The summary of a stored order, from its columns alone.
pub fn summarize(row: SummaryRow) -> OrderSummary {
    OrderSummary {
        id: row.id,
        reference: row.columns.reference,
        status: row
            .status
            .map_or(OrderStatus::Unknown, |s| OrderStatus::parse(&s)),
        pending_status: row.pending_status,
        service_type: row.service_type,
        customer_name: row.columns.customer_name,
        created_at: to_system_time(row.created_at_ms),
        expected_time: row
            .columns
            .expected_time
            .as_deref()
            .and_then(parse_iso8601_ms)
            .map(to_system_time),
        total: row.total.as_deref().and_then(|t| Money::parse(t).ok()),
        item_count: row.columns.item_count,
        seen: row.seen,
    }
}

/// The inbox's row of an order already decoded (what a preview or a test holds), by the rule
/// the store applies to the JSON ([`summary_columns`]): the customer's name, else the company;
/// the items not deleted. Exported, so that Swift's preview shows what the library would.
#[cfg_attr(feature = "uniffi", uniffi::export)]
pub fn order_summary(order: Order) -> OrderSummary {
    let customer = order.customer.as_ref();
    OrderSummary {
        customer_name: customer.and_then(|c| {
            display_name(
                c.first_name.as_deref(),
                c.last_name.as_deref(),
                c.company_name.as_deref(),
            )
        }),
        item_count: order
            .items
            .iter()
            .filter(|item| !item.deleted)
            .count()
            .try_into()
            .unwrap_or(u32::MAX),
        id: order.id,
        reference: order.reference,
        status: order.status,
        pending_status: order.pending_status,
        service_type: order.service_type,
        created_at: order.created_at,
        expected_time: order.expected_time,
        total: order.total,
        seen: order.seen,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::order::decode::{StoredOrder, decode};

    #[test]
    fn summary_columns_read_what_a_row_shows() {
        let json = serde_json::json!({"id": "o1", "ref": "A-17",
            "created_at": "2026-11-23T12:30:00+01:00", "expected_time": "2026-11-23T13:00:00+01:00",
            "customer": {"first_name": "Marie", "last_name": "Curie", "email": "m@x.fr"},
            "items": [{"product_name": "A", "deleted": false}, {"product_name": "B", "deleted": true},
                      {"product_name": "C"}]});
        let columns = summary_columns(&json);
        assert_eq!(columns.reference.as_deref(), Some("A-17"));
        assert_eq!(columns.customer_name.as_deref(), Some("Marie Curie"));
        assert_eq!(columns.item_count, 2, "the deleted item is not counted");

        let row = summarize(SummaryRow {
            id: "o1".into(),
            status: Some("new".into()),
            service_type: Some("delivery".into()),
            total: Some("21.80 EUR".into()),
            columns,
            created_at_ms: 1_795_433_400_000,
            pending_status: None,
            seen: false,
        });
        assert_eq!(row.created_at, at_ms(1_795_433_400_000));
        assert_eq!(row.expected_time, Some(at_ms(1_795_435_200_000)));
        assert_eq!(row.total.as_ref().map(|m| m.minor_units), Some(2180));
        assert_eq!(row.status, OrderStatus::New);
    }

    #[test]
    fn a_decoded_order_is_summarised_as_its_stored_row() {
        let json = serde_json::json!({"id": "o2", "ref": 42, "status": "accepted",
            "service_type": "collection", "total": "9.50 EUR",
            "created_at": "2026-11-23T12:30:00+01:00", "expected_time": "2026-11-23T13:00:00+01:00",
            "customer": {"first_name": "  ", "last_name": null, "company_name": " Bella SARL "},
            "items": [{"product_name": "A", "deleted": true}, {"product_name": "C"}]});
        let order = decode(&StoredOrder {
            connection_id: "c",
            location_id: "l",
            json: &json,
            pending_status: Some(OrderStatus::Completed),
            received_at: at_ms(1_795_433_401_000),
            updated_at: at_ms(1_795_433_401_000),
            seen: true,
        });
        let stored = summarize(SummaryRow {
            id: "o2".into(),
            status: Some("accepted".into()),
            service_type: Some("collection".into()),
            total: Some("9.50 EUR".into()),
            columns: summary_columns(&json),
            created_at_ms: 1_795_433_400_000,
            pending_status: Some(OrderStatus::Completed),
            seen: true,
        });
        assert_eq!(order_summary(order), stored);
        assert_eq!(stored.customer_name.as_deref(), Some("Bella SARL"));
    }

    #[test]
    fn an_order_of_another_shape_is_still_summarised() {
        // A number for the reference, a string for the customer, a string for `deleted`.
        let odd = summary_columns(&serde_json::json!(
            {"id": "o1", "ref": 1234, "customer": "Marie", "items": [{"deleted": "no"}, {}]}
        ));
        assert_eq!(odd.reference.as_deref(), Some("1234"));
        assert_eq!(odd.customer_name, None);
        assert_eq!(odd.item_count, 2);
        // A scrubbed order has no name; a company is a name.
        let company = summary_columns(
            &serde_json::json!({"customer": {"id": "c9", "company_name": " Acme "}}),
        );
        assert_eq!(company.customer_name.as_deref(), Some("Acme"));
        let scrubbed = summary_columns(&serde_json::json!({"customer": {"id": "c9"}}));
        assert_eq!(scrubbed.customer_name, None);
    }

    fn at_ms(ms: i64) -> SystemTime {
        crate::time::to_system_time(ms)
    }
}
