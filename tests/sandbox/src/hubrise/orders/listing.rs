//! Reading orders: each client sees its own private refs only, and `GET /location/orders` filters.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::COLLECTIONS;
use crate::errors::{ApiError, FieldError};
use crate::hubrise::model::{PRIVATE_REFS_KEY, StoredOrder};
use crate::timefmt;

/// The order as `client_id` sees it: its own private refs only.
pub(crate) fn render(order: &StoredOrder, client_id: &str) -> Value {
    let mut body = order.body.clone();
    body["private_ref"] = order
        .private_refs
        .get(client_id)
        .map_or(Value::Null, |r| json!(r));
    for collection in COLLECTIONS {
        if let Some(list) = body.get_mut(*collection).and_then(Value::as_array_mut) {
            for element in list {
                render_element(element, client_id);
            }
        }
    }
    body
}

fn render_element(element: &mut Value, client_id: &str) {
    if let Some(obj) = element.as_object_mut() {
        let refs = obj.remove(PRIVATE_REFS_KEY);
        let own = refs
            .as_ref()
            .and_then(|r| r.get(client_id))
            .cloned()
            .unwrap_or(Value::Null);
        obj.insert("private_ref".into(), own);
    }
}

/// Filters of `GET /location/orders`.
#[derive(Debug, Default)]
pub(crate) struct OrderFilter {
    pub private_ref: Option<String>,
    pub status: Option<String>,
    pub created_by: Option<String>,
    pub after: Option<i64>,
    pub before: Option<i64>,
    pub customer_id: Option<String>,
}

impl OrderFilter {
    /// Reads the filters from query parameters; bad times are a 422.
    pub fn from_query(query: &BTreeMap<String, String>) -> Result<OrderFilter, ApiError> {
        let time = |key: &str| -> Result<Option<i64>, ApiError> {
            match query.get(key) {
                None => Ok(None),
                Some(s) => timefmt::parse(s)
                    .map(|t| Some(t.unix_timestamp()))
                    .ok_or_else(|| {
                        ApiError::unprocessable(vec![FieldError::new(
                            key,
                            format!("'{s}' is not a valid time"),
                        )])
                    }),
            }
        };
        Ok(OrderFilter {
            private_ref: query.get("private_ref").cloned(),
            status: query.get("status").cloned(),
            created_by: query.get("created_by").cloned(),
            after: time("after")?,
            before: time("before")?,
            customer_id: query.get("customer_id").cloned(),
        })
    }

    pub fn matches(&self, order: &StoredOrder, client_id: &str) -> bool {
        let body = &order.body;
        let text = |key: &str| {
            body.get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        self.private_ref
            .as_ref()
            .is_none_or(|r| order.private_refs.get(client_id) == Some(r))
            && self.status.as_ref().is_none_or(|s| text("status") == *s)
            && self
                .created_by
                .as_ref()
                .is_none_or(|c| text("created_by").eq_ignore_ascii_case(c))
            && self.after.is_none_or(|t| order.created_unix >= t)
            && self.before.is_none_or(|t| order.created_unix < t)
            && self
                .customer_id
                .as_ref()
                .is_none_or(|c| body.pointer("/customer/id") == Some(&json!(c)))
    }
}
