//! `PATCH /location/orders/:id`: sets a few fields, appends to or deletes from collections, and
//! sets the writer's private refs.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::totals::compute_total;
use super::validation::{Check, new_element, request_object};
use super::{COLLECTIONS, PATCHABLE, Writer};
use crate::errors::ApiError;
use crate::hubrise::model::{HubriseData, PRIVATE_REFS_KEY};

/// All element ids of an order (so new ones never collide).
fn element_ids(body: &Value) -> Vec<String> {
    COLLECTIONS
        .iter()
        .filter_map(|c| body.get(*c).and_then(Value::as_array))
        .flatten()
        .filter_map(|e| e.get("id").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// `PATCH /location/orders/:id` with HubRise's semantics. Returns nothing: callers render.
pub(crate) fn patch(
    data: &mut HubriseData,
    location_id: &str,
    order_id: &str,
    writer: &Writer,
    input: &Value,
    times_as_sent: bool,
) -> Result<(), ApiError> {
    let currency = data.currency_of(location_id);
    let order = data
        .order_mut(location_id, order_id)
        .ok_or_else(|| ApiError::not_found(format!("Order '{order_id}' not found")))?;
    let input = request_object(input)?;
    let mut check = Check::new(&currency, times_as_sent);
    let mut updated = order.body.clone();
    let mut private_refs = order.private_refs.clone();
    for (key, value) in input {
        if COLLECTIONS.contains(&key.as_str()) {
            patch_collection(&mut check, &mut updated, key, value, &writer.client_id);
        } else if PATCHABLE.contains(&key.as_str()) {
            patch_field(
                &mut check,
                &mut updated,
                &mut private_refs,
                key,
                value,
                &writer.client_id,
            );
        } else {
            check.fail(key, "cannot be updated");
        }
    }
    check.finish()?;
    updated["total"] = json!(compute_total(&updated, &currency).to_string());
    order.body = updated;
    order.private_refs = private_refs;
    Ok(())
}

fn patch_field(
    check: &mut Check<'_>,
    body: &mut Value,
    private_refs: &mut BTreeMap<String, String>,
    key: &str,
    value: &Value,
    client_id: &str,
) {
    let mut single = Map::new();
    single.insert(key.into(), value.clone());
    match key {
        "status" => check.status(&single),
        "confirmed_time" => check.time(&mut single, key),
        "private_ref" => check.private_ref(&single, ""),
        "custom_fields" if !matches!(value, Value::Object(_) | Value::Null) => {
            check.fail(key, "must be an object")
        }
        "custom_fields" => {}
        _ => check.text(&single, key, "", false),
    }
    if key == "private_ref" {
        match value.as_str() {
            Some(r) => private_refs.insert(client_id.into(), r.into()),
            None => private_refs.remove(client_id),
        };
    } else if let Some(v) = single.remove(key) {
        body[key] = v;
    }
}

/// Appends new elements; `{"id", "deleted": true}` deletes one; `{"id", "private_ref"}` sets
/// the writer's private ref on one.
fn patch_collection(
    check: &mut Check<'_>,
    body: &mut Value,
    collection: &str,
    value: &Value,
    client_id: &str,
) {
    let Some(list) = value.as_array() else {
        check.fail(collection, "must be an array");
        return;
    };
    let mut taken = element_ids(body);
    for (i, element) in list.iter().enumerate() {
        match element.get("id").and_then(Value::as_str) {
            Some(id) => change_element(check, body, collection, i, id, element, client_id),
            None => {
                let new = new_element(check, collection, i, element, client_id, &mut taken);
                if let Some(existing) = body[collection].as_array_mut() {
                    existing.push(new);
                } else {
                    body[collection] = json!([new]);
                }
            }
        }
    }
}

fn change_element(
    check: &mut Check<'_>,
    body: &mut Value,
    collection: &str,
    index: usize,
    id: &str,
    change: &Value,
    client_id: &str,
) {
    let field = format!("{collection}[{index}]");
    let extra = change
        .as_object()
        .map(|o| {
            o.keys()
                .any(|k| k != "id" && k != "deleted" && k != "private_ref")
        })
        .unwrap_or(true);
    if extra {
        check.fail(
            &field,
            "an element with an id can only be deleted or given a private_ref",
        );
        return;
    }
    let Some(target) = body[collection]
        .as_array_mut()
        .and_then(|list| list.iter_mut().find(|e| e["id"] == json!(id)))
    else {
        check.fail(&format!("{field}.id"), format!("'{id}' not found"));
        return;
    };
    match change.get("deleted") {
        Some(Value::Bool(true)) => target["deleted"] = json!(true),
        Some(Value::Bool(false)) if target["deleted"] == json!(true) => check.fail(
            &format!("{field}.deleted"),
            "a deleted element cannot be restored",
        ),
        None | Some(Value::Bool(false)) => {}
        Some(_) => check.fail(&format!("{field}.deleted"), "must be a boolean"),
    }
    if let Some(r) = change.get("private_ref") {
        if !target[PRIVATE_REFS_KEY].is_object() {
            target[PRIVATE_REFS_KEY] = json!({});
        }
        target[PRIVATE_REFS_KEY][client_id] = r.clone();
    }
}
