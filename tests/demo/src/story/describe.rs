//! How the walkthrough shows connections and orders, as the app's screens would.

use passerelle_core::{ConnectionState, HubriseConnection, Order, OrderStatus};

/// `Paris (3r4s3-1)`.
pub(super) fn name_and_id(name: &Option<String>, id: &Option<String>) -> String {
    format!(
        "{} ({})",
        name.as_deref().unwrap_or("?"),
        id.as_deref().unwrap_or("?")
    )
}

/// The names and ids the app shows for a connection, a line each.
pub(super) fn describe_names(c: &HubriseConnection) -> [String; 4] {
    [
        format!(
            "  Account        {}",
            name_and_id(&c.account_name, &c.account_id)
        ),
        format!(
            "  Location       {}",
            name_and_id(&c.location_name, &Some(c.location_id.clone()))
        ),
        format!(
            "  Catalog        {}",
            name_and_id(&c.catalog_name, &c.catalog_id)
        ),
        format!(
            "  Customer list  {}",
            name_and_id(&c.customer_list_name, &c.customer_list_id)
        ),
    ]
}

/// A field of the POS backend's JSON, or `?`.
pub(super) fn field(value: &serde_json::Value, key: &str) -> Option<String> {
    value[key].as_str().map(str::to_owned)
}

pub(super) fn describe_connection(c: &HubriseConnection) -> String {
    let state = match c.state {
        ConnectionState::Pending if c.needs_confirmation => "pending, to confirm or refuse",
        ConnectionState::Pending => "pending (restart to apply)",
        ConnectionState::Active if c.reconnect_needed => "active, reconnect needed",
        ConnectionState::Active => "active",
        ConnectionState::Removing => "removed, restart to apply",
        ConnectionState::Removed => "removed",
    };
    format!(
        "{} ({}) of {}: {state}",
        c.location_name.as_deref().unwrap_or("?"),
        c.location_id,
        c.account_name.as_deref().unwrap_or("?")
    )
}

pub(super) fn status_name(status: OrderStatus) -> &'static str {
    status.as_str().unwrap_or("unknown")
}

/// An instant as RFC 3339 in UTC.
fn clock(at: std::time::SystemTime) -> String {
    time::OffsetDateTime::from(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "?".into())
}

pub(super) fn describe_order_line(order: &Order) -> String {
    let customer = order
        .customer
        .as_ref()
        .and_then(|c| c.first_name.clone())
        .unwrap_or_else(|| "?".into());
    format!(
        "{} {} — {}, {}, {}",
        order.id,
        clock(order.created_at),
        customer,
        order
            .total
            .as_ref()
            .map_or("?".to_owned(), ToString::to_string),
        status_name(order.status)
    )
}

pub(super) fn describe_order(order: &Order) -> Vec<String> {
    let mut lines = Vec::new();
    let customer = order.customer.as_ref().map_or("?".to_owned(), |c| {
        format!(
            "{} {} — {}",
            c.first_name.as_deref().unwrap_or(""),
            c.last_name.as_deref().unwrap_or(""),
            c.city.as_deref().unwrap_or("")
        )
    });
    lines.push(format!(
        "{} for {} · {}",
        order.service_type.as_deref().unwrap_or("order"),
        customer,
        order
            .expected_time
            .map_or("as soon as possible".to_owned(), |t| format!(
                "expected {}",
                clock(t)
            ))
    ));
    for item in &order.items {
        let options: Vec<String> = item.options.iter().map(|o| o.name.clone()).collect();
        let options = if options.is_empty() {
            String::new()
        } else {
            format!(" + {}", options.join(", "))
        };
        lines.push(format!(
            "{} × {}{}{}  {}",
            item.quantity,
            item.product_name,
            item.sku_name
                .as_deref()
                .map_or(String::new(), |s| format!(" ({s})")),
            options,
            item.subtotal
                .as_ref()
                .map_or(String::new(), ToString::to_string)
        ));
    }
    for charge in &order.charges {
        lines.push(format!(
            "{}  {}",
            charge.name,
            charge
                .price
                .as_ref()
                .map_or(String::new(), ToString::to_string)
        ));
    }
    lines.push(format!(
        "Total {} · {}",
        order
            .total
            .as_ref()
            .map_or("?".to_owned(), ToString::to_string),
        order.customer_notes.as_deref().unwrap_or("")
    ));
    lines
}

/// The start and the end of a long URL.
pub(super) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let head: String = text.chars().take(max - 1).collect();
    format!("{head}…")
}
