//! Passive callbacks and their event queues: `GET/POST/DELETE /callback`,
//! `GET /callback/events` (paginated), `GET` and `DELETE /callback/events/:id`, and the event
//! fan-out that every write on a location triggers.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::api::{json_page, page_params};
use super::auth::{Caller, Params};
use super::model::{Callback, Connection, Event, HubriseData, StoredOrder};
use super::orders::{self, Writer};
use crate::errors::{ApiError, FieldError, json_body};
use crate::sandbox::{EventSuppression, SandboxOptions};
use crate::state::Shared;
use crate::timefmt;

/// Resource/event combinations HubRise accepts in `POST /callback`.
const ALLOWED_EVENTS: &[(&str, &str)] = &[
    ("catalog", "create"),
    ("catalog", "delete"),
    ("catalog", "update"),
    ("customer", "create"),
    ("customer", "update"),
    ("delivery", "create"),
    ("delivery", "update"),
    ("inventory", "patch"),
    ("inventory", "update"),
    ("location", "update"),
    ("order", "create"),
    ("order", "update"),
];

fn callback_json(callback: Option<&Callback>) -> Value {
    match callback {
        Some(c) => json!({ "url": c.url, "events": c.events }),
        None => json!({ "url": null, "events": {} }),
    }
}

fn own<'a>(data: &'a mut HubriseData, caller: &Caller) -> Result<&'a mut Connection, ApiError> {
    data.connection_mut(&caller.connection_id)
        .ok_or_else(|| ApiError::unauthorized(super::auth::REVOKED))
}

/// `GET /callback`.
pub(crate) async fn get_callback(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let mut world = shared.world();
    let c = own(&mut world.hubrise, &caller)?;
    Ok(axum::Json(callback_json(c.callback.as_ref())).into_response())
}

/// `POST /callback`: creates or replaces the connection's callback (`url: null` = passive).
pub(crate) async fn post_callback(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input = json_body(&headers, &body)?;
    let callback = parse_callback(&input)?;
    let mut world = shared.world();
    let c = own(&mut world.hubrise, &caller)?;
    c.callback = Some(callback);
    Ok(axum::Json(callback_json(c.callback.as_ref())).into_response())
}

fn parse_callback(input: &Value) -> Result<Callback, ApiError> {
    let mut errors = Vec::new();
    let url = match input.get("url") {
        None | Some(Value::Null) => None,
        Some(Value::String(u)) if u.starts_with("http://") || u.starts_with("https://") => {
            Some(u.clone())
        }
        Some(other) => {
            errors.push(FieldError::new(
                "url",
                format!("{other} is not a valid URL"),
            ));
            None
        }
    };
    let mut callback = Callback {
        url,
        events: Default::default(),
    };
    match input.get("events") {
        Some(Value::Object(map)) => {
            for (resource, types) in map {
                let types: Vec<String> = types
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|t| t.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                for t in &types {
                    if !ALLOWED_EVENTS.contains(&(resource.as_str(), t.as_str())) {
                        errors.push(FieldError::new(
                            format!("events.{resource}"),
                            format!("'{resource}.{t}' is not a valid event"),
                        ));
                    }
                }
                callback.events.insert(resource.clone(), types);
            }
        }
        _ => errors.push(FieldError::new(
            "events",
            "must be a map of resource types to event types",
        )),
    }
    if errors.is_empty() {
        Ok(callback)
    } else {
        Err(ApiError::unprocessable(errors))
    }
}

/// `DELETE /callback`: no more events; pending ones are dropped.
pub(crate) async fn delete_callback(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let mut world = shared.world();
    let c = own(&mut world.hubrise, &caller)?;
    c.callback = None;
    c.events.clear();
    Ok(axum::Json(callback_json(None)).into_response())
}

/// `GET /callback/events`: undeleted events, oldest first, without states, paginated.
pub(crate) async fn list_events(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (count, cursor) = page_params(query.as_deref())?;
    let after: u64 = match cursor {
        Some(c) => c
            .parse()
            .map_err(|_| ApiError::bad_request(format!("Invalid cursor '{c}'")))?,
        None => 0,
    };
    let legacy = shared.options().legacy_event_resource_id;
    let mut world = shared.world();
    let c = own(&mut world.hubrise, &caller)?;
    let remaining: Vec<&Event> = c.events.iter().filter(|e| e.seq > after).collect();
    let page: Vec<Value> = remaining
        .iter()
        .take(count)
        .map(|e| e.to_json(false, legacy))
        .collect();
    let next = (remaining.len() > count)
        .then(|| remaining.get(count - 1).map(|e| e.seq.to_string()))
        .flatten();
    Ok(json_page(page, next))
}

/// `GET /callback/events/:event_id`: one event with its states.
pub(crate) async fn get_event(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    params: Params,
) -> Result<Response, ApiError> {
    let legacy = shared.options().legacy_event_resource_id;
    let id = params.get("event_id").unwrap_or_default().to_owned();
    let mut world = shared.world();
    let c = own(&mut world.hubrise, &caller)?;
    let event = c
        .events
        .iter()
        .find(|e| e.id == id)
        .ok_or_else(|| ApiError::not_found(format!("Event '{id}' not found")))?;
    Ok(axum::Json(event.to_json(true, legacy)).into_response())
}

/// `DELETE /callback/events/:event_id`: acknowledges the event.
pub(crate) async fn delete_event(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    params: Params,
) -> Result<Response, ApiError> {
    let legacy = shared.options().legacy_event_resource_id;
    let id = params.get("event_id").unwrap_or_default().to_owned();
    let mut world = shared.world();
    let c = own(&mut world.hubrise, &caller)?;
    let index = c
        .events
        .iter()
        .position(|e| e.id == id)
        .ok_or_else(|| ApiError::not_found(format!("Event '{id}' not found")))?;
    let event = c.events.remove(index);
    Ok(axum::Json(event.to_json(false, legacy)).into_response())
}

/// An event id: two random characters and the base-36 sequence number, so ids never collide
/// even in queues of thousands of events.
fn event_id(seq: u64) -> String {
    let mut digits = Vec::new();
    let mut n = seq;
    loop {
        digits.push(char::from(
            b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize],
        ));
        n /= 36;
        if n == 0 {
            break;
        }
    }
    while digits.len() < 3 {
        digits.push('0');
    }
    let suffix: String = digits.into_iter().rev().collect();
    format!("{}{suffix}", &crate::ids::short_id()[..2])
}

/// Queues `raw` as is in a connection's event queue (the admin API's odd entries). Its `id`,
/// when it has one, is the id `GET`/`DELETE /callback/events/:id` know it by.
pub(crate) fn queue_raw_event(
    data: &mut HubriseData,
    connection_index: usize,
    raw: Value,
) -> String {
    let seq = data.next_event_seq;
    data.next_event_seq += 1;
    let text = |key: &str| {
        raw.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let id = text("id");
    let event = Event {
        seq,
        id: id.clone(),
        resource_type: text("resource_type"),
        event_type: text("event_type"),
        created_at: text("created_at"),
        order_id: text("order_id"),
        location_id: text("location_id"),
        previous_state: None,
        new_state: None,
        raw: Some(raw),
        // Odd entries are for polling clients; HubRise would not send them anywhere.
        delivery: None,
    };
    data.connections[connection_index].events.push(event);
    id
}

/// Creates an order as `writer` (through the API or as the other app) and queues its
/// `order.create` events. Returns the order's id.
pub(crate) fn create_and_notify(
    data: &mut HubriseData,
    options: &SandboxOptions,
    location_id: &str,
    writer: &Writer,
    input: &Value,
) -> Result<String, ApiError> {
    let id = orders::create(data, location_id, writer, input, options.times_as_sent)?;
    emit_order_event(data, options, writer, "create", &id, None);
    Ok(id)
}

/// Creates a valid order from `input`, then sets the top-level fields of `raw` in its JSON as
/// they are (`null`, a number where HubRise writes a string, no `id`…), and queues its
/// `order.create` events: an order HubRise could send but its own validation would never
/// produce. The sandbox keeps finding it by its id even when its JSON has none.
pub(crate) fn create_raw_and_notify(
    data: &mut HubriseData,
    options: &SandboxOptions,
    location_id: &str,
    writer: &Writer,
    input: &Value,
    raw: &serde_json::Map<String, Value>,
) -> Result<String, ApiError> {
    let id = orders::create(data, location_id, writer, input, options.times_as_sent)?;
    if let Some(order) = data.orders.iter_mut().find(|o| o.id == id)
        && let Some(body) = order.body.as_object_mut()
    {
        for (key, value) in raw {
            body.insert(key.clone(), value.clone());
        }
    }
    emit_order_event(data, options, writer, "create", &id, None);
    Ok(id)
}

/// Patches an order as `writer` and queues its `order.update` events, with its previous state.
pub(crate) fn patch_and_notify(
    data: &mut HubriseData,
    options: &SandboxOptions,
    location_id: &str,
    order_id: &str,
    writer: &Writer,
    input: &Value,
) -> Result<(), ApiError> {
    let previous = data
        .orders
        .iter()
        .find(|o| o.id == order_id && o.location_id == location_id)
        .cloned();
    orders::patch(
        data,
        location_id,
        order_id,
        writer,
        input,
        options.times_as_sent,
    )?;
    emit_order_event(data, options, writer, "update", order_id, previous.as_ref());
    Ok(())
}

/// Queues an `order.<event_type>` event for every other live connection on the order's location
/// whose callback listens to it. The writer's own connection (or client, per the switch) gets none.
fn emit_order_event(
    data: &mut HubriseData,
    options: &SandboxOptions,
    writer: &Writer,
    event_type: &str,
    order_id: &str,
    previous: Option<&StoredOrder>,
) {
    let Some(order) = data.orders.iter().find(|o| o.id == order_id).cloned() else {
        return;
    };
    let Some(location) = data.location(&order.location_id).cloned() else {
        return;
    };
    let created_at = timefmt::now_string();
    let first_attempt_ms =
        super::active_callbacks::now_ms() + options.active_callbacks.delay.as_millis() as u64;
    let mut seq = data.next_event_seq;
    for c in data.connections.iter_mut() {
        let suppressed = match options.event_suppression {
            EventSuppression::Connection => writer.connection_id.as_deref() == Some(c.id.as_str()),
            EventSuppression::Client => c.client_id == writer.client_id,
        };
        let listening = c
            .callback
            .as_ref()
            .is_some_and(|cb| cb.listens_to("order", event_type));
        if suppressed
            || !listening
            || c.state != super::model::ConnectionState::Active
            || !c.covers(&location)
        {
            continue;
        }
        c.events.push(Event {
            seq,
            id: event_id(seq),
            resource_type: "order".into(),
            event_type: event_type.into(),
            created_at: created_at.clone(),
            order_id: order.id.clone(),
            location_id: order.location_id.clone(),
            previous_state: previous.map(|p| orders::render(p, &c.client_id)),
            new_state: Some(orders::render(&order, &c.client_id)),
            raw: None,
            delivery: c.callback.as_ref().and_then(|cb| cb.url.as_ref()).map(|_| {
                super::model::Delivery {
                    due_ms: first_attempt_ms,
                    ..Default::default()
                }
            }),
        });
        seq += 1;
    }
    if seq != data.next_event_seq {
        data.deliveries.notify_one();
    }
    data.next_event_seq = seq;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_unique() {
        let ids: std::collections::HashSet<String> =
            (0..5000).map(|s| event_id(s)[2..].to_owned()).collect();
        assert_eq!(ids.len(), 5000);
        assert_eq!(event_id(1).len(), 5);
    }
}
