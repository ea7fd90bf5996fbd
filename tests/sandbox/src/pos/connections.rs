//! The POS backend's side of HubRise: the broker exchange for devices, revocation, the
//! account's HubRise configuration, and handing off-device tokens to the account's devices.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::model::{Origin, PosConnection, TokenHandOver};
use super::oauth::PosCaller;
use crate::errors::{ApiError, json_body};
use crate::hubrise::auth::Params;
use crate::hubrise::model::{Callback, Connection, HubriseData};
use crate::hubrise::oauth::{Exchange, exchange_code, revoke_token};
use crate::state::{Shared, World};
use crate::timefmt;

/// Exchanges a HubRise code with the client secret (only the backend has it) and records the
/// connection on `account_id`, with when HubRise made it (`connected_at`). For a connection made
/// off the device (web or HubRise back office), the backend registers the passive order
/// callback at once (decision 19), unless `backend_registers_callback` is off: HubRise then
/// queues the orders placed before a device confirms the connection. Errors are HubRise's own.
pub(crate) fn exchange_and_record(
    shared: &Shared,
    world: &mut World,
    account_id: &str,
    exchange: &Exchange<'_>,
    origin: Origin,
    device_id: Option<String>,
) -> Result<Value, ApiError> {
    let options = shared.options();
    let token = exchange_code(world, &options, exchange)?;
    let mut connection =
        PosConnection::from_token(account_id, &token, origin, device_id, timefmt::now_string());
    let at_hubrise = world
        .hubrise
        .connections
        .iter_mut()
        .find(|c| c.token == connection.token);
    if let Some(c) = at_hubrise {
        connection.connected_at = Some(c.created_at.clone());
        if origin != Origin::Device && options.backend_registers_callback {
            register_order_callback(c);
        }
    }
    world.pos.record(connection);
    Ok(token)
}

/// What a real backend does with `POST /v1/callback {"url": null, "events": {"order": ["create",
/// "update"]}}` and the new token; here in-process (the backend and HubRise share the sandbox),
/// so it is neither in the request log nor subject to faults or the network cut. A callback
/// already there keeps its URL and its other events.
fn register_order_callback(c: &mut Connection) {
    let callback = c.callback.get_or_insert_with(Callback::default);
    let types = callback.events.entry("order".into()).or_default();
    for event_type in ["create", "update"] {
        if !types.iter().any(|t| t == event_type) {
            types.push(event_type.into());
        }
    }
}

/// `POST /hubrise/broker/token`: `{"code", "redirect_uri"?, "code_verifier"?, "device_id"?}` →
/// HubRise's token JSON, unchanged, to this device only.
pub(crate) async fn broker_token(
    State(shared): State<Arc<Shared>>,
    caller: PosCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input = json_body(&headers, &body)?;
    let text = |key: &str| input.get(key).and_then(Value::as_str).map(str::to_owned);
    let code =
        text("code").ok_or_else(|| ApiError::bad_request("The code parameter is missing"))?;
    let redirect_uri = text("redirect_uri");
    let verifier = text("code_verifier");
    let exchange = Exchange {
        client_id: &shared.seed.client_id,
        code: &code,
        code_verifier: verifier.as_deref(),
        redirect_uri: redirect_uri.as_deref(),
    };
    let mut world = shared.world();
    let token = exchange_and_record(
        &shared,
        &mut world,
        &caller.account_id,
        &exchange,
        Origin::Device,
        text("device_id"),
    )?;
    let mut response = axum::Json(token).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Revokes the tokens at HubRise (as the client would, in-process).
pub(crate) fn revoke_at_hubrise(data: &mut HubriseData, client_id: &str, tokens: &[String]) {
    for token in tokens {
        // A token the client does not own cannot be recorded here; nothing else can fail.
        let _ = revoke_token(data, client_id, token);
    }
}

/// `POST /hubrise/connections/:location_id/revoke` (optional JSON `{"device_id"}` to revoke one
/// device's connection only).
pub(crate) async fn revoke_connection(
    State(shared): State<Arc<Shared>>,
    caller: PosCaller,
    params: Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    let location_id = params.get("location_id").unwrap_or_default().to_owned();
    let device_id = serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
        v.get("device_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let mut world = shared.world();
    let tokens = world.pos.remove_where(&caller.account_id, |c| {
        c.location_id.as_deref() == Some(location_id.as_str())
            && device_id
                .as_ref()
                .is_none_or(|d| c.device_id.as_ref() == Some(d))
    });
    if tokens.is_empty() {
        return Err(ApiError::not_found(format!(
            "No active HubRise connection for location '{location_id}'"
        )));
    }
    revoke_at_hubrise(&mut world.hubrise, &shared.seed.client_id, &tokens);
    Ok(axum::Json(json!({ "revoked": tokens.len() })).into_response())
}

/// `GET /hubrise/configuration`: the account's connections with a version and an ETag;
/// `If-None-Match` with the current ETag → 304.
pub(crate) async fn configuration(
    State(shared): State<Arc<Shared>>,
    caller: PosCaller,
    headers: HeaderMap,
) -> Response {
    let world = shared.world();
    let version = world.pos.version(&caller.account_id);
    let etag = format!("\"config-{}-{version}\"", caller.account_id);
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let etag_value = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\""));
    if unchanged {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response();
    }
    let connections: Vec<Value> = world
        .pos
        .connections
        .iter()
        .filter(|c| c.pos_account_id == caller.account_id)
        .map(PosConnection::to_json)
        .collect();
    let mut response =
        axum::Json(json!({ "version": version, "connections": connections })).into_response();
    response.headers_mut().insert(header::ETAG, etag_value);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// `GET /hubrise/connections/:location_id/token`: the HubRise token of a connection made off the
/// device, for an authenticated device of the same account only: HubRise's token response
/// (`access_token`, `token_type`, the location and account it is bound to, the names) with the
/// configuration entry's `origin`, `state`, `created_at` and `connected_at`.
pub(crate) async fn connection_token(
    State(shared): State<Arc<Shared>>,
    caller: PosCaller,
    params: Params,
) -> Result<Response, ApiError> {
    let location_id = params.get("location_id").unwrap_or_default();
    let world = shared.world();
    let connection = world
        .pos
        .connections
        .iter()
        .rev()
        .find(|c| {
            c.pos_account_id == caller.account_id
                && !c.removed
                && c.origin != Origin::Device
                && c.location_id.as_deref() == Some(location_id)
        })
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "No off-device HubRise connection for location '{location_id}'"
            ))
        })?;
    let mut json = connection.to_json();
    json["access_token"] = json!(connection.token);
    json["token_type"] = json!("Bearer");
    if let Some(hand_over) = world.pos_live.token_hand_overs.get(location_id) {
        apply_hand_over(&world, &caller.account_id, hand_over, &mut json)?;
    }
    let mut response = axum::Json(json).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The token answer as a backend that does less than it should gives it (the admin switch
/// `TokenHandOver`): another location's token, and/or no `location_id` and names.
fn apply_hand_over(
    world: &World,
    pos_account_id: &str,
    hand_over: &TokenHandOver,
    json: &mut serde_json::Value,
) -> Result<(), ApiError> {
    if let Some(other) = &hand_over.token_of_location {
        let token = world
            .pos
            .connections
            .iter()
            .rev()
            .find(|c| {
                c.pos_account_id == pos_account_id
                    && !c.removed
                    && c.location_id.as_deref() == Some(other.as_str())
            })
            .map(|c| c.token.clone())
            .ok_or_else(|| ApiError::not_found(format!("No HubRise connection for '{other}'")))?;
        json["access_token"] = json!(token);
    }
    if let (true, Some(fields)) = (hand_over.omit_location_id, json.as_object_mut()) {
        for key in ["location_id", "location_name", "account_id", "account_name"] {
            fields.remove(key);
        }
    }
    Ok(())
}
