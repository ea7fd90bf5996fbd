//! Seeded content: a small pizzeria menu, a few customers, opening hours.

use serde_json::{Value, json};

fn price(amount: &str, currency: &str) -> String {
    format!("{amount} {currency}")
}

fn product(id: &str, category: &str, name: &str, sku_ref: &str, amount: &str, cur: &str) -> Value {
    json!({
        "id": id,
        "category_ref": category,
        "name": name,
        "description": null,
        "skus": [{ "id": format!("{id}s"), "name": null, "ref": sku_ref, "price": price(amount, cur),
                   "option_list_ids": [] }],
    })
}

/// The `data` of a seeded catalog.
pub(crate) fn sample_catalog(currency: &str) -> Value {
    json!({
        "categories": [
            { "id": "c1pzz", "ref": "PIZ", "name": "Pizzas", "parent_ref": null },
            { "id": "c2dst", "ref": "DES", "name": "Desserts", "parent_ref": null },
            { "id": "c3drk", "ref": "DRK", "name": "Drinks", "parent_ref": null },
        ],
        "products": [
            product("p1mar", "PIZ", "Margherita", "MAR", "9.00", currency),
            product("p2reg", "PIZ", "Regina", "REG", "11.50", currency),
            product("p3tir", "DES", "Tiramisu", "TIR", "5.50", currency),
            product("p4cok", "DRK", "Coca-Cola 33cl", "COK", "2.50", currency),
        ],
        "option_lists": [],
        "deals": [],
        "discounts": [],
        "charges": [],
    })
}

/// The customers of a seeded customer list.
pub(crate) fn sample_customers(list_id: &str) -> Value {
    json!([
        {
            "id": format!("{}c1", &list_id[..3.min(list_id.len())]),
            "customer_list_id": list_id,
            "first_name": "Charles",
            "last_name": "Moore",
            "email": "charles.moore@dummy-mail.org",
            "phone": "+33123456789",
            "city": "Paris",
            "country": "FR",
        }
    ])
}

/// Opening hours of every seeded location.
pub(crate) fn opening_hours() -> Value {
    let slots = json!([{ "from": "11:30", "to": "14:30" }, { "from": "18:30", "to": "23:00" }]);
    json!({
        "monday": slots, "tuesday": slots, "wednesday": slots, "thursday": slots,
        "friday": slots, "saturday": slots, "sunday": slots,
    })
}
