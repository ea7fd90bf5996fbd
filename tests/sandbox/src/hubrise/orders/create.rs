//! `POST /location/orders`: a new order, validated and stored with HubRise's defaults.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::totals::compute_total;
use super::validation::{Check, check_deal_keys, customer, new_element, request_object};
use super::{COLLECTIONS, SERVICE_TYPES, TEXT_FIELDS, Writer};
use crate::errors::ApiError;
use crate::hubrise::model::{HubriseData, StoredOrder};
use crate::{ids, timefmt};

/// `POST /location/orders`: validates, stores, and returns the stored order's id.
pub(crate) fn create(
    data: &mut HubriseData,
    location_id: &str,
    writer: &Writer,
    input: &Value,
    times_as_sent: bool,
) -> Result<String, ApiError> {
    let currency = data.currency_of(location_id);
    let account_id = data
        .location(location_id)
        .map(|l| l.account_id.clone())
        .unwrap_or_default();
    let input = request_object(input)?;
    let mut check = Check::new(&currency, times_as_sent);
    let mut body = input.clone();
    check.status(input);
    for key in TEXT_FIELDS {
        check.text(input, key, "", false);
    }
    check.private_ref(input, "");
    match input.get("service_type") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if SERVICE_TYPES.contains(&s.as_str()) => {}
        Some(other) => check.fail(
            "service_type",
            format!("{other} is not a valid service type"),
        ),
    }
    check.time(&mut body, "expected_time");
    check.time(&mut body, "confirmed_time");
    let customer = customer(&mut check, data, &account_id, input);
    let mut taken = Vec::new();
    for collection in COLLECTIONS {
        let elements = match input.get(*collection) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    new_element(&mut check, collection, i, e, &writer.client_id, &mut taken)
                })
                .collect(),
            Some(_) => {
                check.fail(collection, "must be an array");
                Vec::new()
            }
        };
        body.insert((*collection).into(), Value::Array(elements));
    }
    check_deal_keys(&mut check, &body);
    check.finish()?;

    let private_ref = match body.remove("private_ref") {
        Some(Value::String(r)) => Some(r),
        _ => None,
    };
    let id = ids::fresh_short_id(|id| data.orders.iter().any(|o| o.id == id));
    let now = timefmt::now_paris();
    let defaults = [
        ("status", json!("new")),
        ("service_type", Value::Null),
        ("service_type_ref", Value::Null),
        ("ref", Value::Null),
        ("expected_time", Value::Null),
        ("confirmed_time", Value::Null),
        ("customer_notes", Value::Null),
        ("seller_notes", Value::Null),
        ("collection_code", Value::Null),
        ("coupon_codes", json!([])),
        ("deals", json!({})),
        ("loyalty_operations", json!([])),
        ("custom_fields", json!({})),
    ];
    for (key, value) in defaults {
        body.entry(key).or_insert(value);
    }
    body.remove("customer_id");
    body.insert("customer".into(), customer);
    body.insert("id".into(), json!(id));
    body.insert("location_id".into(), json!(location_id));
    body.insert("created_at".into(), json!(timefmt::format(now)));
    body.insert("created_by".into(), json!(writer.client_name));
    let mut body = Value::Object(body);
    body["total"] = json!(compute_total(&body, &currency).to_string());

    let mut private_refs = BTreeMap::new();
    if let Some(r) = private_ref {
        private_refs.insert(writer.client_id.clone(), r);
    }
    data.orders.push(StoredOrder {
        id: id.clone(),
        location_id: location_id.into(),
        created_by_client: writer.client_id.clone(),
        created_unix: now.unix_timestamp(),
        body,
        private_refs,
    });
    Ok(id)
}
