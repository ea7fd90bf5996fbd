//! What an order request may carry: field errors collected per request, new elements of the
//! collections (items and their options, discounts, charges, payments), the customer, deals.

use serde_json::{Map, Value, json};

use super::STATUSES;
use crate::errors::{ApiError, FieldError};
use crate::hubrise::model::{HubriseData, PRIVATE_REFS_KEY};
use crate::hubrise::money::{Decimal, Money};
use crate::{ids, timefmt};

/// Collects field errors while validating one request.
pub(super) struct Check<'a> {
    currency: &'a str,
    /// Keep the offsets of times as sent (`times_as_sent`) instead of converting them.
    times_as_sent: bool,
    errors: Vec<FieldError>,
}

/// The JSON object of an order request, or HubRise's 422.
pub(super) fn request_object(input: &Value) -> Result<&Map<String, Value>, ApiError> {
    input.as_object().ok_or_else(|| {
        ApiError::unprocessable(vec![FieldError::new("order", "must be a JSON object")])
    })
}

impl<'a> Check<'a> {
    /// Amounts must be in `currency`, the location's.
    pub(super) fn new(currency: &'a str, times_as_sent: bool) -> Self {
        Self {
            currency,
            times_as_sent,
            errors: Vec::new(),
        }
    }

    pub(super) fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub(super) fn money(
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

    pub(super) fn decimal(
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

    pub(super) fn text(&mut self, obj: &Map<String, Value>, key: &str, path: &str, required: bool) {
        match obj.get(key) {
            None | Some(Value::Null) if required => {
                self.fail(&format!("{path}{key}"), "is required")
            }
            None | Some(Value::Null) | Some(Value::String(_)) => {}
            Some(_) => self.fail(&format!("{path}{key}"), "must be a string"),
        }
    }

    pub(super) fn boolean(&mut self, obj: &Map<String, Value>, key: &str, path: &str) {
        if !matches!(
            obj.get(key),
            None | Some(Value::Null) | Some(Value::Bool(_))
        ) {
            self.fail(&format!("{path}{key}"), "must be a boolean");
        }
    }

    pub(super) fn time(&mut self, obj: &mut Map<String, Value>, key: &str) {
        match obj.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => match timefmt::parse(s) {
                // HubRise converts times to the location's timezone (unless the switch keeps
                // what the client sent, so a client's offset shows).
                Some(_) if self.times_as_sent => {}
                Some(t) => {
                    let formatted = timefmt::format(timefmt::to_paris(t));
                    obj.insert(key.into(), json!(formatted));
                }
                None => self.fail(key, format!("'{s}' is not a valid ISO 8601 time")),
            },
            Some(_) => self.fail(key, "must be an ISO 8601 time string"),
        }
    }

    pub(super) fn status(&mut self, obj: &Map<String, Value>) {
        match obj.get("status") {
            None => {}
            Some(Value::String(s)) if STATUSES.contains(&s.as_str()) => {}
            Some(other) => self.fail("status", format!("{other} is not a valid order status")),
        }
    }

    pub(super) fn private_ref(&mut self, obj: &Map<String, Value>, path: &str) {
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

    pub(super) fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::unprocessable(self.errors))
        }
    }
}

/// Validates and normalises a new element of `collection`; returns it ready to store.
pub(super) fn new_element(
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

/// Validates `customer_id` / guest `customer`, returning the order's `customer` value.
pub(super) fn customer(
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

/// Every `deal_line.deal_key` must name an entry of `deals`.
pub(super) fn check_deal_keys(check: &mut Check<'_>, body: &Map<String, Value>) {
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
