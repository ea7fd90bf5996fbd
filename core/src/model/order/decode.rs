//! The typed view of a stored order's JSON. Read leniently: a field that does not decode is left
//! empty and logged rather than losing the order (design D20).

use std::time::SystemTime;

use serde_json::Value;

use super::status::OrderStatus;
use super::view::OrderPayment;
use super::view::{Order, OrderCharge, OrderCustomer, OrderDiscount, OrderItem, OrderOption};
use crate::model::money::Money;
use crate::model::values::Quantity;
use crate::time::{parse_iso8601_ms, to_system_time};

/// The fields sync needs from an order. Only a usable id is required: an order whose status is
/// `null`, a number or unknown, or that has no creation time, is still stored as HubRise sent it
/// (and shown), never dropped (design D20).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderHead {
    pub id: String,
    pub status: String,
    pub created_at: String,
    pub service_type: Option<String>,
    pub total: Option<String>,
}

impl OrderHead {
    /// `None` only when nothing identifies the order (no `id`, or an empty one).
    pub fn decode(json: &Value) -> Option<OrderHead> {
        let id = text(json, "id").filter(|id| !id.trim().is_empty())?;
        Some(OrderHead {
            id,
            status: text(json, "status").unwrap_or_default(),
            created_at: text(json, "created_at").unwrap_or_default(),
            service_type: text(json, "service_type"),
            total: text(json, "total"),
        })
    }
}

/// Where an order row came from, for [`decode`].
pub struct StoredOrder<'a> {
    pub connection_id: &'a str,
    pub location_id: &'a str,
    pub json: &'a Value,
    pub pending_status: Option<OrderStatus>,
    pub received_at: SystemTime,
    pub updated_at: SystemTime,
    pub seen: bool,
}

/// The typed view of a stored order.
pub fn decode(stored: &StoredOrder<'_>) -> Order {
    let j = stored.json;
    Order {
        id: text(j, "id").unwrap_or_default(),
        connection_id: stored.connection_id.to_owned(),
        location_id: stored.location_id.to_owned(),
        status: text(j, "status").map_or(OrderStatus::Unknown, |s| OrderStatus::parse(&s)),
        pending_status: stored.pending_status,
        service_type: text(j, "service_type"),
        service_type_ref: text(j, "service_type_ref"),
        reference: text(j, "ref"),
        collection_code: text(j, "collection_code"),
        created_at: time(j, "created_at").unwrap_or(stored.received_at),
        expected_time: time(j, "expected_time"),
        confirmed_time: time(j, "confirmed_time"),
        customer_notes: text(j, "customer_notes"),
        seller_notes: text(j, "seller_notes"),
        total: money(j, "total"),
        items: list(j, "items", item),
        discounts: list(j, "discounts", |d| OrderDiscount {
            name: text(d, "name").unwrap_or_default(),
            reference: text(d, "ref"),
            price_off: money(d, "price_off"),
            deleted: flag(d, "deleted"),
        }),
        charges: list(j, "charges", |c| OrderCharge {
            name: text(c, "name").unwrap_or_default(),
            reference: text(c, "ref"),
            price: money(c, "price"),
            deleted: flag(c, "deleted"),
        }),
        payments: list(j, "payments", |p| OrderPayment {
            name: text(p, "name").unwrap_or_default(),
            reference: text(p, "ref"),
            amount: money(p, "amount"),
            deleted: flag(p, "deleted"),
        }),
        customer: j.get("customer").filter(|c| c.is_object()).map(customer),
        received_at: stored.received_at,
        updated_at: stored.updated_at,
        seen: stored.seen,
    }
}

fn item(i: &Value) -> OrderItem {
    OrderItem {
        product_name: text(i, "product_name").unwrap_or_default(),
        sku_name: text(i, "sku_name"),
        sku_ref: text(i, "sku_ref"),
        price: money(i, "price"),
        quantity: quantity(i),
        subtotal: money(i, "subtotal"),
        customer_notes: text(i, "customer_notes"),
        options: list(i, "options", |o| OrderOption {
            option_list_name: text(o, "option_list_name"),
            name: text(o, "name").unwrap_or_default(),
            reference: text(o, "ref"),
            price: money(o, "price"),
            quantity: o.get("quantity").and_then(Value::as_i64).unwrap_or(1),
            removed: flag(o, "removed"),
            deleted: flag(o, "deleted"),
        }),
        deleted: flag(i, "deleted"),
    }
}

fn customer(c: &Value) -> OrderCustomer {
    OrderCustomer {
        first_name: text(c, "first_name"),
        last_name: text(c, "last_name"),
        email: text(c, "email"),
        phone: text(c, "phone"),
        company_name: text(c, "company_name"),
        address_1: text(c, "address_1"),
        address_2: text(c, "address_2"),
        postal_code: text(c, "postal_code"),
        city: text(c, "city"),
        delivery_notes: text(c, "delivery_notes"),
    }
}

pub(super) fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A HubRise time (RFC 3339 with the location's offset) as an instant; an unreadable one is
/// logged and left empty (the JSON keeps it as sent).
fn time(v: &Value, key: &str) -> Option<SystemTime> {
    let raw = v.get(key)?.as_str()?;
    let parsed = parse_iso8601_ms(raw).map(to_system_time);
    if parsed.is_none() {
        tracing::warn!(target: "passerelle::orders", field = key, "time left empty");
    }
    parsed
}

/// An item's quantity: HubRise sends a decimal string; a number is read as its text; anything
/// else is logged and read as 1.
fn quantity(item: &Value) -> Quantity {
    let parsed = text(item, "quantity").map(|t| Quantity::parse(&t));
    match parsed {
        None => Quantity::one(),
        Some(Some(q)) => q,
        Some(None) => {
            tracing::warn!(target: "passerelle::orders", field = "quantity", "quantity read as 1");
            Quantity::one()
        }
    }
}

pub(super) fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn money(v: &Value, key: &str) -> Option<Money> {
    let raw = v.get(key)?.as_str()?;
    match Money::parse(raw) {
        Ok(m) => Some(m),
        Err(err) => {
            tracing::warn!(target: "passerelle::orders", field = key, %err, "amount left empty");
            None
        }
    }
}

pub(super) fn list<T>(v: &Value, key: &str, f: impl Fn(&Value) -> T) -> Vec<T> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|items| items.iter().map(f).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_items_options_deleted_elements_and_money() {
        let json = serde_json::json!({
            "id": "5zr2m", "status": "new", "created_at": "2026-11-23T12:30:00+01:00", "ref": "042",
            "service_type": "delivery", "total": "21.80 EUR",
            "items": [
                {"product_name": "Margherita", "sku_name": "Grande", "price": "10.90 EUR", "quantity": "2",
                 "subtotal": "21.80 EUR", "options": [{"option_list_name": "Sauce", "name": "Piquante",
                 "price": "0.00 EUR", "quantity": 1, "removed": false}]},
                {"product_name": "Tiramisu", "price": "5.50 EUR", "quantity": "1", "deleted": true}
            ],
            "charges": [{"name": "Livraison", "price": "2.00 EUR", "deleted": true}],
            "payments": [{"name": "Carte", "amount": "21.80 EUR"}],
            "customer": {"first_name": "Marie", "city": "Paris"}
        });
        let order = decode(&StoredOrder {
            connection_id: "c1",
            location_id: "3r4s3-1",
            json: &json,
            pending_status: Some(OrderStatus::Accepted),
            received_at: SystemTime::UNIX_EPOCH,
            updated_at: SystemTime::UNIX_EPOCH,
            seen: false,
        });
        assert_eq!(order.status, OrderStatus::New);
        // 12:30 in Paris (+01:00) is 11:30 UTC.
        assert_eq!(
            order.created_at,
            to_system_time(1_795_433_400_000),
            "the instant, offset applied"
        );
        assert_eq!(order.total.as_ref().unwrap().minor_units, 2180);
        assert_eq!(order.items[0].options[0].name, "Piquante");
        assert!(order.items[1].deleted && order.charges[0].deleted);
        assert_eq!(order.customer.unwrap().first_name.as_deref(), Some("Marie"));
    }

    #[test]
    fn a_head_needs_only_an_id_and_survives_nulls_and_numbers() {
        let odd =
            serde_json::json!({"id": "5zr2m", "status": null, "created_at": 12, "total": 21.8});
        let head = OrderHead::decode(&odd).unwrap();
        assert_eq!(head.id, "5zr2m");
        assert_eq!(head.status, "");
        assert_eq!(head.created_at, "12");
        assert_eq!(head.total.as_deref(), Some("21.8"));
        assert!(OrderHead::decode(&serde_json::json!({"status": "new"})).is_none());
        assert!(OrderHead::decode(&serde_json::json!({"id": " "})).is_none());
        assert!(OrderHead::decode(&serde_json::json!({"id": null})).is_none());
    }

    mod hubrise_examples {
        //! HubRise's published order examples (see `crate::hubrise_examples` for their pages).
        use super::*;
        use crate::hubrise_examples as ex;

        fn parse(text: &str) -> Value {
            serde_json::from_str(text).unwrap()
        }

        fn decoded(json: &Value) -> Order {
            assert!(
                OrderHead::decode(json).is_some(),
                "the store keeps it: {json}"
            );
            decode(&StoredOrder {
                connection_id: "c1",
                location_id: "3r4s3-1",
                json,
                pending_status: None,
                received_at: SystemTime::UNIX_EPOCH,
                updated_at: SystemTime::UNIX_EPOCH,
                seen: false,
            })
        }

        fn eur(minor_units: i64) -> Option<Money> {
            Some(Money::new(minor_units, "EUR"))
        }

        #[test]
        fn the_retrieve_order_example_decodes_whole() {
            let order = decoded(&parse(ex::ORDER_GET));
            assert_eq!(order.id, "5dpm9");
            assert_eq!(order.status, OrderStatus::InDelivery);
            assert_eq!(order.reference.as_deref(), Some("17654321"));
            assert_eq!(order.service_type.as_deref(), Some("delivery"));
            // 2021-06-24T17:07:53+02:00 and 19:07:52+02:00.
            assert_eq!(order.created_at, to_system_time(1_624_547_273_000));
            assert_eq!(order.expected_time, Some(to_system_time(1_624_554_472_000)));
            assert_eq!(order.confirmed_time, None);
            assert_eq!(order.total, eur(1890));

            let [carbonara, pesto] = order.items.as_slice() else {
                panic!("two items: {:?}", order.items);
            };
            assert_eq!(carbonara.product_name, "Carbonara");
            assert_eq!(carbonara.sku_name.as_deref(), Some("Large"));
            assert_eq!(carbonara.sku_ref.as_deref(), Some("3"));
            assert_eq!(carbonara.quantity, "1.0", "decimals stay HubRise's strings");
            assert_eq!(
                (carbonara.price.clone(), carbonara.subtotal.clone()),
                (eur(1190), eur(1190))
            );
            assert!(carbonara.options.is_empty() && !carbonara.deleted);
            assert_eq!(pesto.quantity, "2.0");
            assert_eq!(pesto.subtotal, eur(700));
            let bbq = &pesto.options[0];
            assert_eq!(bbq.option_list_name.as_deref(), Some("Sauce"));
            assert_eq!(
                (bbq.name.as_str(), bbq.reference.as_deref()),
                ("BBQ", Some("31"))
            );
            assert_eq!((bbq.price.clone(), bbq.quantity), (eur(50), 1));

            let discount = &order.discounts[0];
            assert_eq!(
                (discount.name.as_str(), discount.reference.as_deref()),
                ("2€ off", Some("45"))
            );
            assert_eq!(discount.price_off, eur(200));
            let charge = &order.charges[0];
            assert_eq!(
                (charge.name.as_str(), charge.price.clone()),
                ("Courier Service", eur(200))
            );
            let payment = &order.payments[0];
            assert_eq!(payment.name, "Payment by cash");
            assert_eq!(
                (payment.reference.as_deref(), payment.amount.clone()),
                (Some("CSH"), eur(1890))
            );

            let customer = order.customer.unwrap();
            assert_eq!(customer.first_name.as_deref(), Some("Charles"));
            assert_eq!(customer.last_name.as_deref(), Some("Moore"));
            assert_eq!(
                customer.email.as_deref(),
                Some("charles.moore@dummy-mail.org")
            );
            assert_eq!(customer.company_name.as_deref(), Some("HubRise"));
            assert_eq!(customer.phone.as_deref(), Some("+33123456789"));
            assert_eq!(
                customer.address_1.as_deref(),
                Some("1 avenue des Champs Elysées")
            );
            assert_eq!(
                (customer.postal_code.as_deref(), customer.city.as_deref()),
                (Some("75001"), Some("Paris"))
            );

            // HubRise's total is what its elements add up to: 11.90 + 7.00 + 2.00 − 2.00.
            let items: i64 = order
                .items
                .iter()
                .filter_map(|i| i.subtotal.as_ref())
                .map(|m| m.minor_units)
                .sum();
            assert_eq!(items + 200 - 200, 1890);
        }

        #[test]
        fn the_element_examples_decode_inside_an_order() {
            let order = decoded(&serde_json::json!({
                "id": "x1",
                "items": [parse(ex::ORDER_ITEM), parse(ex::ORDER_ITEM_IN_DEAL)],
                "deals": parse(ex::ORDER_DEALS),
                "discounts": parse(ex::ORDER_DISCOUNTS),
                "charges": parse(ex::ORDER_CHARGES),
                "payments": parse(ex::ORDER_PAYMENTS),
            }));
            let margarita = &order.items[0];
            assert_eq!(margarita.product_name, "Margarita");
            assert_eq!(margarita.sku_ref.as_deref(), Some("MAR-SM"));
            assert_eq!(
                (&*margarita.quantity, margarita.price.clone()),
                ("2", eur(900))
            );
            assert_eq!(margarita.customer_notes.as_deref(), Some("Well cooked"));
            assert_eq!(margarita.options[0].name, "Barbecue");
            assert_eq!(margarita.options[0].reference.as_deref(), Some("BBQ"));
            let in_deal = &order.items[1];
            assert_eq!(
                in_deal.options[0].quantity, 1,
                "an option's quantity defaults to 1"
            );
            assert_eq!(
                in_deal.subtotal, None,
                "no subtotal in a request: left empty"
            );
            assert_eq!(
                order
                    .discounts
                    .iter()
                    .map(|d| d.price_off.clone())
                    .collect::<Vec<_>>(),
                vec![eur(500), eur(765)]
            );
            assert_eq!(order.charges[0].name, "Delivery < 15 km");
            assert_eq!(order.charges[0].price, eur(150));
            assert_eq!(
                order
                    .payments
                    .iter()
                    .map(|p| (p.name.clone(), p.amount.clone()))
                    .collect::<Vec<_>>(),
                vec![
                    ("PayPal".to_owned(), eur(1500)),
                    ("Freebies4me".to_owned(), eur(450))
                ]
            );

            let option = decoded(&serde_json::json!({
                "id": "x2", "items": [{"product_name": "P", "options": [parse(ex::ORDER_OPTION)]}]
            }));
            let option = &option.items[0].options[0];
            assert_eq!(
                (option.option_list_name.as_deref(), option.price.clone()),
                (Some("Sauce"), eur(100))
            );
        }

        #[test]
        fn updates_listings_and_the_2019_shapes_decode() {
            let deleted = decoded(&parse(ex::ORDER_DELETE_ITEM_RESPONSE));
            assert!(deleted.items[0].deleted, "a deleted item stays, marked");
            let paid = decoded(&parse(ex::ORDER_ADD_PAYMENTS_RESPONSE));
            assert_eq!(paid.payments.len(), 2);
            assert_eq!(paid.payments[1].amount, eur(1120));
            let listed = parse(ex::ORDER_LIST);
            let first = decoded(&listed.as_array().unwrap()[0]);
            assert_eq!(
                (first.id.as_str(), first.status),
                ("5dpm9", OrderStatus::New)
            );
            assert!(first.items.is_empty());

            // 2019: quantities were JSON numbers.
            let old = decoded(&parse(ex::ORDER_GET_2019));
            assert_eq!(old.items[0].quantity, "2.0");
            assert_eq!(old.items[0].subtotal, eur(1560));
            let mut request = parse(ex::ORDER_CREATE_REQUEST_2019);
            request["id"] = "x3".into();
            let old = decoded(&request);
            assert_eq!(
                old.items
                    .iter()
                    .map(|i| i.quantity.clone())
                    .collect::<Vec<_>>(),
                vec!["2", "1", "1", "1"]
            );
            assert_eq!(old.total, eur(2350));
            assert_eq!(old.payments[0].amount, eur(2350));
        }
    }
}
