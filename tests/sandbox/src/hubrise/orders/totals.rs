//! HubRise computes an order's total; clients never send it.

use serde_json::{Value, json};

use crate::hubrise::money::Money;

/// HubRise's total: live items' subtotals plus live charges minus live discounts.
pub(super) fn compute_total(body: &Value, currency: &str) -> Money {
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
