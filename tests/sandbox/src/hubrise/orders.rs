//! Orders with HubRise's semantics: validation, computed subtotals and total, per-client private
//! refs, PATCH that sets a few fields and appends to or deletes from collections.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::model::{HubriseData, PRIVATE_REFS_KEY, StoredOrder};
use super::money::{Decimal, Money};
use crate::errors::{ApiError, FieldError};
use crate::{ids, timefmt};

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

/// Collects field errors while validating one request.
struct Check<'a> {
    currency: &'a str,
    errors: Vec<FieldError>,
}

impl Check<'_> {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    fn money(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
        required: bool,
    ) -> Option<Money> {
        let field = format!("{path}{key}");
        match obj.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.fail(&field, "is required");
                }
                None
            }
            Some(Value::String(s)) => match Money::parse(s) {
                Some(m) if m.currency != self.currency => {
                    self.fail(
                        &field,
                        format!(
                            "'{s}' is not in the location's currency ({})",
                            self.currency
                        ),
                    );
                    None
                }
                Some(m) => Some(m),
                None => {
                    self.fail(&field, format!("'{s}' is not a valid monetary amount"));
                    None
                }
            },
            Some(other) => {
                self.fail(&field, format!("'{other}' is not a valid monetary amount"));
                None
            }
        }
    }

    fn decimal(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
        required: bool,
    ) -> Option<Decimal> {
        let field = format!("{path}{key}");
        match obj.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.fail(&field, "is required");
                }
                None
            }
            Some(Value::String(s)) => Decimal::parse(s).or_else(|| {
                self.fail(&field, format!("'{s}' is not a valid decimal value"));
                None
            }),
            Some(other) => {
                self.fail(
                    &field,
                    format!("'{other}' is not a valid decimal value (decimals are strings)"),
                );
                None
            }
        }
    }

    fn text(&mut self, obj: &Map<String, Value>, key: &str, path: &str, required: bool) {
        match obj.get(key) {
            None | Some(Value::Null) if required => {
                self.fail(&format!("{path}{key}"), "is required")
            }
            None | Some(Value::Null) | Some(Value::String(_)) => {}
            Some(_) => self.fail(&format!("{path}{key}"), "must be a string"),
        }
    }

    fn boolean(&mut self, obj: &Map<String, Value>, key: &str, path: &str) {
        if !matches!(
            obj.get(key),
            None | Some(Value::Null) | Some(Value::Bool(_))
        ) {
            self.fail(&format!("{path}{key}"), "must be a boolean");
        }
    }

    fn time(&mut self, obj: &mut Map<String, Value>, key: &str) {
        match obj.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => match timefmt::parse(s) {
                // HubRise converts times to the location's timezone.
                Some(t) => {
                    let formatted = timefmt::format(timefmt::to_paris(t));
                    obj.insert(key.into(), json!(formatted));
                }
                None => self.fail(key, format!("'{s}' is not a valid ISO 8601 time")),
            },
            Some(_) => self.fail(key, "must be an ISO 8601 time string"),
        }
    }

    fn status(&mut self, obj: &Map<String, Value>) {
        match obj.get("status") {
            None => {}
            Some(Value::String(s)) if STATUSES.contains(&s.as_str()) => {}
            Some(other) => self.fail("status", format!("{other} is not a valid order status")),
        }
    }

    fn private_ref(&mut self, obj: &Map<String, Value>, path: &str) {
        self.text(obj, "private_ref", path, false);
        if let Some(Value::String(s)) = obj.get("private_ref")
            && s.chars().count() > 255
        {
            self.fail(
                &format!("{path}private_ref"),
                "is too long (maximum is 255 characters)",
            );
        }
    }

    fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::unprocessable(self.errors))
        }
    }
}

/// Validates and normalises a new element of `collection`; returns it ready to store.
fn new_element(
    check: &mut Check<'_>,
    collection: &str,
    index: usize,
    value: &Value,
    client_id: &str,
    taken_ids: &mut Vec<String>,
) -> Value {
    let path = format!("{collection}[{index}].");
    let Some(obj) = value.as_object() else {
        check.fail(&format!("{collection}[{index}]"), "must be an object");
        return Value::Null;
    };
    let mut element = obj.clone();
    match collection {
        "items" => item(check, &mut element, &path),
        "discounts" => {
            check.text(obj, "name", &path, true);
            check.money(obj, "price_off", &path, true);
        }
        "charges" => {
            check.text(obj, "name", &path, true);
            check.money(obj, "price", &path, true);
            check.decimal(obj, "tax_rate", &path, false);
        }
        _ => {
            check.money(obj, "amount", &path, true);
            if !matches!(
                obj.get("info"),
                None | Some(Value::Null) | Some(Value::Object(_))
            ) {
                check.fail(&format!("{path}info"), "must be an object");
            }
        }
    }
    check.text(obj, "ref", &path, false);
    check.private_ref(obj, &path);
    check.boolean(obj, "deleted", &path);
    let id = ids::fresh_short_id(|id| taken_ids.iter().any(|t| t == id));
    taken_ids.push(id.clone());
    element.insert("id".into(), json!(id));
    let mut refs = Map::new();
    if let Some(Value::String(r)) = element.remove("private_ref") {
        refs.insert(client_id.into(), json!(r));
    }
    element.insert(PRIVATE_REFS_KEY.into(), Value::Object(refs));
    let deleted = element
        .get("deleted")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    element.insert("deleted".into(), json!(deleted));
    Value::Object(element)
}

/// Validates an item and stores its computed subtotal.
fn item(check: &mut Check<'_>, element: &mut Map<String, Value>, path: &str) {
    let obj = element.clone();
    check.text(&obj, "product_name", path, true);
    for key in ["sku_name", "sku_ref", "customer_notes"] {
        check.text(&obj, key, path, false);
    }
    for key in ["tax_rate", "points_earned", "points_used"] {
        check.decimal(&obj, key, path, false);
    }
    let price = check.money(&obj, "price", path, true);
    let quantity = check.decimal(&obj, "quantity", path, true);
    let options_total = options(check, element, path);
    if let (Some(price), Some(quantity), Some(options_total)) = (price, quantity, options_total) {
        let subtotal = price.plus(&options_total).times(&quantity);
        element.insert("subtotal".into(), json!(subtotal.to_string()));
    }
    element.entry("options").or_insert_with(|| json!([]));
}

/// Validates an item's options and returns the price of one unit's options.
fn options(check: &mut Check<'_>, element: &mut Map<String, Value>, path: &str) -> Option<Money> {
    let mut total = Some(Money::zero(check.currency));
    let Some(list) = element.get_mut("options") else {
        return total;
    };
    let Some(list) = list.as_array_mut() else {
        check.fail(&format!("{path}options"), "must be an array");
        return None;
    };
    for (i, option) in list.iter_mut().enumerate() {
        let opath = format!("{path}options[{i}].");
        let Some(obj) = option.as_object_mut() else {
            check.fail(&format!("{path}options[{i}]"), "must be an object");
            total = None;
            continue;
        };
        check.text(obj, "option_list_name", &opath, true);
        check.text(obj, "name", &opath, true);
        check.text(obj, "ref", &opath, false);
        check.boolean(obj, "removed", &opath);
        let quantity = match obj.get("quantity") {
            None | Some(Value::Null) => 1,
            Some(Value::Number(n)) if n.as_i64().is_some_and(|q| q >= 0) => n.as_i64().unwrap_or(1),
            Some(other) => {
                check.fail(
                    &format!("{opath}quantity"),
                    format!("'{other}' is not a valid integer"),
                );
                total = None;
                continue;
            }
        };
        obj.insert("quantity".into(), json!(quantity));
        let removed = obj.get("removed").and_then(Value::as_bool).unwrap_or(false);
        obj.insert("removed".into(), json!(removed));
        let price = check.money(obj, "price", &opath, false);
        if obj.get("price").is_some_and(|p| !p.is_null()) && price.is_none() {
            total = None;
        }
        if let (Some(t), Some(p)) = (total.as_ref(), price) {
            total = Some(t.plus(&p.times(&Decimal::from_int(quantity))));
        }
    }
    total
}

/// HubRise's total: live items' subtotals plus live charges minus live discounts.
fn compute_total(body: &Value, currency: &str) -> Money {
    let live = |name: &str| -> Vec<&Value> {
        body.get(name)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter(|e| e["deleted"] != json!(true)).collect())
            .unwrap_or_default()
    };
    let amount = |e: &Value, key: &str| {
        e.get(key)
            .and_then(Value::as_str)
            .and_then(Money::parse)
            .unwrap_or_else(|| Money::zero(currency))
    };
    let mut total = Money::zero(currency);
    for item in live("items") {
        total = total.plus(&amount(item, "subtotal"));
    }
    for charge in live("charges") {
        total = total.plus(&amount(charge, "price"));
    }
    for discount in live("discounts") {
        total = total.minus(&amount(discount, "price_off"));
    }
    total
}

/// All element ids of an order (so new ones never collide).
fn element_ids(body: &Value) -> Vec<String> {
    COLLECTIONS
        .iter()
        .filter_map(|c| body.get(*c).and_then(Value::as_array))
        .flatten()
        .filter_map(|e| e.get("id").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// Validates `customer_id` / guest `customer`, returning the order's `customer` value.
fn customer(
    check: &mut Check<'_>,
    data: &HubriseData,
    account_id: &str,
    input: &Map<String, Value>,
) -> Value {
    if let Some(Value::String(id)) = input.get("customer_id") {
        let found = data
            .customer_lists
            .iter()
            .filter(|l| l.account_id == account_id)
            .filter_map(|l| l.content.as_array())
            .flatten()
            .find(|c| c["id"] == json!(id));
        return match found {
            Some(c) => c.clone(),
            None => {
                check.fail("customer_id", format!("customer '{id}' not found"));
                Value::Null
            }
        };
    }
    match input.get("customer") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::Object(guest)) => {
            let mut c = guest.clone();
            c.insert("id".into(), Value::Null);
            Value::Object(c)
        }
        Some(_) => {
            check.fail("customer", "must be an object");
            Value::Null
        }
    }
}

/// `POST /location/orders`: validates, stores, and returns the stored order's id.
pub(crate) fn create(
    data: &mut HubriseData,
    location_id: &str,
    writer: &Writer,
    input: &Value,
) -> Result<String, ApiError> {
    let currency = data.currency_of(location_id);
    let account_id = data
        .location(location_id)
        .map(|l| l.account_id.clone())
        .unwrap_or_default();
    let Some(input) = input.as_object() else {
        return Err(ApiError::unprocessable(vec![FieldError::new(
            "order",
            "must be a JSON object",
        )]));
    };
    let mut check = Check {
        currency: &currency,
        errors: Vec::new(),
    };
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

/// Every `deal_line.deal_key` must name an entry of `deals`.
fn check_deal_keys(check: &mut Check<'_>, body: &Map<String, Value>) {
    let deals = body.get("deals").and_then(Value::as_object);
    let items = body
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, item) in items.iter().enumerate() {
        if let Some(key) = item.pointer("/deal_line/deal_key").and_then(Value::as_str)
            && !deals.is_some_and(|d| d.contains_key(key))
        {
            check.fail(
                &format!("items[{i}].deal_line.deal_key"),
                format!("'{key}' is not a key of deals"),
            );
        }
    }
}

/// `PATCH /location/orders/:id` with HubRise's semantics. Returns nothing: callers render.
pub(crate) fn patch(
    data: &mut HubriseData,
    location_id: &str,
    order_id: &str,
    writer: &Writer,
    input: &Value,
) -> Result<(), ApiError> {
    let currency = data.currency_of(location_id);
    let order = data
        .order_mut(location_id, order_id)
        .ok_or_else(|| ApiError::not_found(format!("Order '{order_id}' not found")))?;
    let Some(input) = input.as_object() else {
        return Err(ApiError::unprocessable(vec![FieldError::new(
            "order",
            "must be a JSON object",
        )]));
    };
    let mut check = Check {
        currency: &currency,
        errors: Vec::new(),
    };
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
