//! HubRise's API resources: location, account, user, catalogs, customer lists and orders.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::{Caller, Params};
use super::callbacks::{create_and_notify, patch_and_notify};
use super::model::{HubriseData, Resource, StoredOrder};
use super::oauth::parse_form;
use super::orders::{self, OrderFilter, Writer};
use crate::errors::{ApiError, json_body};
use crate::state::Shared;

type ApiResult = Result<Response, ApiError>;

fn ok(value: Value) -> ApiResult {
    Ok(axum::Json(value).into_response())
}

/// `count` (1..=100, default 100) and `cursor` of an index endpoint.
pub(crate) fn page_params(query: Option<&str>) -> Result<(usize, Option<String>), ApiError> {
    let params = parse_form(query.unwrap_or_default().as_bytes());
    let count = match params.get("count") {
        None => 100,
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| ApiError::bad_request(format!("Invalid count '{c}' (1 to 100)")))?,
    };
    Ok((count, params.get("cursor").cloned()))
}

/// A JSON array answer, with `X-Cursor-Next` when more results exist.
pub(crate) fn json_page(items: Vec<Value>, next: Option<String>) -> Response {
    let mut response = axum::Json(Value::Array(items)).into_response();
    if let Some(value) = next.and_then(|n| HeaderValue::from_str(&n).ok()) {
        response.headers_mut().insert("x-cursor-next", value);
    }
    response
}

/// `GET /location`, `GET /locations/:location_id`.
pub(crate) async fn get_location(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    params: Params,
) -> ApiResult {
    let world = shared.world();
    let location = caller.location(&world.hubrise, &params)?;
    ok(world.hubrise.location_json(&location))
}

/// `GET /account`, `GET /accounts/:account_id` (the connection's own account).
pub(crate) async fn get_account(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    params: Params,
) -> ApiResult {
    let world = shared.world();
    let own = caller.account_id.clone().unwrap_or_default();
    let id = params.get("account_id").map_or(own.clone(), str::to_owned);
    if world.hubrise.account(&id).is_none() {
        return Err(ApiError::not_found(format!("Account '{id}' not found")));
    }
    if id != own {
        return Err(ApiError::forbidden(format!(
            "This connection cannot access account '{id}'"
        )));
    }
    ok(world.hubrise.account_json(&id))
}

/// `GET /user` (scope `profile` or `profile_with_email`).
pub(crate) async fn get_user(State(shared): State<Arc<Shared>>, caller: Caller) -> ApiResult {
    if !caller.scope.profile && !caller.scope.profile_with_email {
        return Err(ApiError::forbidden(
            "The connection's scope does not include profile",
        ));
    }
    let world = shared.world();
    let user = world
        .hubrise
        .user(&caller.user_id)
        .ok_or_else(|| ApiError::not_found("User not found"))?;
    let mut json = json!({
        "id": user.id, "first_name": user.first_name, "last_name": user.last_name,
        "timezone": { "name": "Europe/Paris" }, "locales": ["fr-FR", "en-GB"],
    });
    if caller.scope.profile_with_email {
        json["email"] = json!(user.email);
    }
    ok(json)
}

/// Which catalogs (`catalogs = true`) or customer lists the caller may read.
fn readable<'a>(
    caller: &Caller,
    pool: &'a [Resource],
    catalogs: bool,
    id: &str,
) -> Result<&'a Resource, ApiError> {
    let (single, all, chosen) = if catalogs {
        ("catalog", "all_catalogs", caller.catalog_id.as_deref())
    } else {
        (
            "customer_list",
            "all_customer_lists",
            caller.customer_list_id.as_deref(),
        )
    };
    let resource = pool
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| ApiError::not_found(format!("'{id}' not found")))?;
    let same_account = caller.account_id.as_deref() == Some(resource.account_id.as_str());
    let allowed = same_account
        && (caller.scope.allows(all, false)
            || (caller.scope.allows(single, false) && chosen == Some(id)));
    if allowed {
        Ok(resource)
    } else {
        Err(ApiError::forbidden(format!(
            "This connection cannot access {single} '{id}'"
        )))
    }
}

fn resource_json(r: &Resource, with_content: bool, content_key: &str) -> Value {
    let mut json = json!({ "id": r.id, "account_id": r.account_id, "location_id": r.location_id, "name": r.name, "created_at": r.created_at });
    if with_content {
        json[content_key] = r.content.clone();
    }
    json
}

fn list_resources(
    data: &HubriseData,
    caller: &Caller,
    location_id: &str,
    catalogs: bool,
) -> Vec<Value> {
    let pool = if catalogs {
        &data.catalogs
    } else {
        &data.customer_lists
    };
    let account_id = caller.account_id.clone().unwrap_or_default();
    HubriseData::selectable(pool, &account_id, Some(location_id))
        .into_iter()
        .filter(|r| readable(caller, pool, catalogs, &r.id).is_ok())
        .map(|r| resource_json(r, false, ""))
        .collect()
}

/// `GET /location/catalogs`, `GET /locations/:location_id/catalogs`.
pub(crate) async fn list_catalogs(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    params: Params,
) -> ApiResult {
    let world = shared.world();
    let location = caller.location(&world.hubrise, &params)?;
    ok(Value::Array(list_resources(
        &world.hubrise,
        &caller,
        &location.id,
        true,
    )))
}

/// `GET /catalogs/:catalog_id` (`hide_data=true` for the name only). A heavy query.
pub(crate) async fn get_catalog(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    params: Params,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let hide = parse_form(query.unwrap_or_default().as_bytes())
        .get("hide_data")
        .is_some_and(|v| v == "true");
    let world = shared.world();
    let catalog = readable(
        &caller,
        &world.hubrise.catalogs,
        true,
        params.get("catalog_id").unwrap_or_default(),
    )?;
    ok(resource_json(catalog, !hide, "data"))
}

/// `GET /location/customer_lists`, `GET /locations/:location_id/customer_lists`.
pub(crate) async fn list_customer_lists(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    params: Params,
) -> ApiResult {
    let world = shared.world();
    let location = caller.location(&world.hubrise, &params)?;
    ok(Value::Array(list_resources(
        &world.hubrise,
        &caller,
        &location.id,
        false,
    )))
}

/// `GET /customer_lists/:customer_list_id`.
pub(crate) async fn get_customer_list(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    params: Params,
) -> ApiResult {
    let world = shared.world();
    let list = readable(
        &caller,
        &world.hubrise.customer_lists,
        false,
        params.get("customer_list_id").unwrap_or_default(),
    )?;
    ok(resource_json(list, false, ""))
}

/// `GET /customer_lists/:customer_list_id/customers`. A heavy query.
pub(crate) async fn list_customers(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    params: Params,
) -> ApiResult {
    let world = shared.world();
    let list = readable(
        &caller,
        &world.hubrise.customer_lists,
        false,
        params.get("customer_list_id").unwrap_or_default(),
    )?;
    ok(list.content.clone())
}

fn writer(caller: &Caller) -> Writer {
    Writer {
        client_id: caller.client_id.clone(),
        client_name: caller.client_name.clone(),
        connection_id: Some(caller.connection_id.clone()),
    }
}

/// `POST /location/orders`, `POST /locations/:location_id/orders`.
pub(crate) async fn create_order(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let options = shared.options();
    let mut world = shared.world();
    let location = caller.location(&world.hubrise, &params)?;
    caller.require("orders", true)?;
    let input = json_body(&headers, &body)?;
    let writer = writer(&caller);
    let id = create_and_notify(&mut world.hubrise, &options, &location.id, &writer, &input)?;
    render_order(&world.hubrise, &location.id, &id, &caller.client_id)
}

fn render_order(
    data: &HubriseData,
    location_id: &str,
    order_id: &str,
    client_id: &str,
) -> ApiResult {
    let order = data
        .orders
        .iter()
        .find(|o| o.id == order_id && o.location_id == location_id)
        .ok_or_else(|| ApiError::not_found(format!("Order '{order_id}' not found")))?;
    ok(orders::render(order, client_id))
}

/// `GET /location/orders/:order_id`, `GET /locations/:location_id/orders/:order_id`.
pub(crate) async fn get_order(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    params: Params,
) -> ApiResult {
    let world = shared.world();
    let location = caller.location(&world.hubrise, &params)?;
    caller.require("orders", false)?;
    render_order(
        &world.hubrise,
        &location.id,
        params.get("order_id").unwrap_or_default(),
        &caller.client_id,
    )
}

/// `PATCH /location/orders/:order_id`, `PATCH /locations/:location_id/orders/:order_id`.
pub(crate) async fn patch_order(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let options = shared.options();
    let mut world = shared.world();
    let location = caller.location(&world.hubrise, &params)?;
    caller.require("orders", true)?;
    let input = json_body(&headers, &body)?;
    let order_id = params.get("order_id").unwrap_or_default();
    let writer = writer(&caller);
    patch_and_notify(
        &mut world.hubrise,
        &options,
        &location.id,
        order_id,
        &writer,
        &input,
    )?;
    render_order(&world.hubrise, &location.id, order_id, &caller.client_id)
}

/// `GET /location/orders`: filtered, newest first, paginated. A heavy query.
pub(crate) async fn list_orders(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    params: Params,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let (count, cursor) = page_params(query.as_deref())?;
    let filters: BTreeMap<String, String> = parse_form(query.unwrap_or_default().as_bytes());
    let filter = OrderFilter::from_query(&filters)?;
    let in_full = shared.options().order_lists_in_full;
    let world = shared.world();
    let location = caller.location(&world.hubrise, &params)?;
    caller.require("orders", false)?;
    // The cursor is the position (in creation order) of the last order of the previous page.
    let before: usize = match cursor {
        Some(c) => c
            .parse()
            .map_err(|_| ApiError::bad_request(format!("Invalid cursor '{c}'")))?,
        None => usize::MAX,
    };
    // One more than a page tells whether another page exists; only the page is rendered.
    let matching: Vec<(usize, &StoredOrder)> = world
        .hubrise
        .orders
        .iter()
        .enumerate()
        .rev()
        .filter(|(pos, o)| {
            *pos < before && o.location_id == location.id && filter.matches(o, &caller.client_id)
        })
        .take(count + 1)
        .collect();
    let next = (matching.len() > count)
        .then(|| matching.get(count - 1).map(|(pos, _)| pos.to_string()))
        .flatten();
    let page = matching
        .into_iter()
        .take(count)
        .map(|(_, o)| orders::render(o, &caller.client_id))
        .map(|order| if in_full { order } else { list_entry(order) })
        .collect();
    Ok(json_page(page, next))
}

/// What a list entry holds under the stricter reading: what identifies the order, not its items,
/// customer or payments (see `SandboxOptions::order_lists_in_full`).
fn list_entry(order: Value) -> Value {
    const KEPT: [&str; 6] = [
        "id",
        "location_id",
        "status",
        "created_at",
        "ref",
        "private_ref",
    ];
    match order {
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .filter(|(key, _)| KEPT.contains(&key.as_str()))
                .collect(),
        ),
        other => other,
    }
}
