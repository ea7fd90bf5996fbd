//! The admin API over HTTP, under `{manager}/_sandbox/...`: the twin of [`crate::Admin`] for
//! Swift tests and people. Never logged, never faulted. Documented in README.md.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::admin::Admin;
use crate::faults::Fault;
use crate::hubrise::oauth::parse_form;
use crate::pages::{self, esc};
use crate::rate_limit::RateLimits;
use crate::request_log::ServerKind;
use crate::sandbox::{CallbackAck, EventSuppression, SandboxError, TokenErrorBody};
use crate::state::Shared;

type AdminResult = Result<Response, AdminError>;

/// An admin error: `{"error": "..."}` with a fitting status.
pub(crate) struct AdminError(StatusCode, Value);

impl From<SandboxError> for AdminError {
    fn from(e: SandboxError) -> Self {
        match e {
            SandboxError::NotFound(what) => AdminError(
                StatusCode::NOT_FOUND,
                json!({ "error": format!("not found: {what}") }),
            ),
            SandboxError::Rejected { status, body } => AdminError(
                StatusCode::from_u16(status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
                body,
            ),
            other => AdminError(
                StatusCode::BAD_REQUEST,
                json!({ "error": other.to_string() }),
            ),
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(self.1)).into_response()
    }
}

fn bad_request(message: impl Into<String>) -> AdminError {
    AdminError(StatusCode::BAD_REQUEST, json!({ "error": message.into() }))
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, AdminError> {
    serde_json::from_slice(body).map_err(|e| bad_request(format!("invalid JSON: {e}")))
}

fn ok(value: Value) -> AdminResult {
    Ok(axum::Json(value).into_response())
}

fn admin(shared: &Arc<Shared>) -> Admin {
    Admin::new(shared.clone())
}

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sandbox", get(index))
        .route("/_sandbox/seed", get(seed))
        .route("/_sandbox/landing", get(landing))
        .route(
            "/_sandbox/locations/{location_id}/orders",
            get(list_orders).post(place_order),
        )
        .route(
            "/_sandbox/locations/{location_id}/orders/{order_id}",
            get(get_order).patch(update_order),
        )
        .route(
            "/_sandbox/locations/{location_id}/raw-orders",
            post(place_raw_order),
        )
        .route("/_sandbox/locations/{location_id}/suspend", post(suspend))
        .route(
            "/_sandbox/locations/{location_id}/unsuspend",
            post(unsuspend),
        )
        .route("/_sandbox/connections", get(connections))
        .route("/_sandbox/connections/{key}/block", post(block))
        .route("/_sandbox/connections/{key}/unblock", post(unblock))
        .route("/_sandbox/connections/{key}/disconnect", post(disconnect))
        .route("/_sandbox/connections/{key}/open-url", get(open_url))
        .route("/_sandbox/connections/{key}/events", post(inject_event))
        .route(
            "/_sandbox/locations/{location_id}",
            axum::routing::patch(rename_location),
        )
        .route(
            "/_sandbox/catalogs/{id}",
            axum::routing::patch(rename_catalog),
        )
        .route(
            "/_sandbox/customer_lists/{id}",
            axum::routing::patch(rename_customer_list),
        )
        .route("/_sandbox/back-office/connect", post(back_office_connect))
        .route(
            "/_sandbox/back-office/authorize-url",
            get(back_office_authorize_url),
        )
        .route(
            "/_sandbox/faults",
            get(faults).post(inject_fault).delete(clear_faults),
        )
        .route("/_sandbox/network", get(network))
        .route("/_sandbox/network/cut", post(cut_network))
        .route("/_sandbox/network/restore", post(restore_network))
        .route("/_sandbox/requests", get(requests).delete(reset_requests))
        .route("/_sandbox/requests/count", get(count_requests))
        .route("/_sandbox/limits", get(limits).put(set_limits))
        .route("/_sandbox/options", get(options).patch(update_options))
        .route("/_sandbox/codes/age", post(age_codes))
        .route(
            "/_sandbox/pos/expire-access-tokens",
            post(expire_pos_tokens),
        )
        .route("/_sandbox/pos/lock-reset", post(pos_lock_reset))
        .route(
            "/_sandbox/pos/accounts/{account_id}/connections",
            get(pos_connections),
        )
}

async fn index(State(shared): State<Arc<Shared>>) -> Html<String> {
    let body = format!(
        "<p>This is the Passerelle sandbox's admin API. See tests/sandbox/README.md.</p>\
<p>Seed: <a id=\"seed\" href=\"{0}/seed\">{0}/seed</a></p>\
<p>Connections: <a id=\"connections\" href=\"{0}/connections\">{0}/connections</a></p>\
<p>Requests: <a id=\"requests\" href=\"{0}/requests\">{0}/requests</a></p>",
        esc(&shared.urls.admin())
    );
    Html(pages::layout("Passerelle sandbox", "Admin", &body))
}

async fn seed(State(shared): State<Arc<Shared>>) -> AdminResult {
    ok(json!({
        "hubrise_oauth_url": shared.urls.oauth(),
        "hubrise_api_url": shared.urls.api_v1(),
        "pos_url": shared.urls.pos,
        "admin_url": shared.urls.admin(),
        "seed": shared.seed,
    }))
}

/// A tiny page for http redirect URIs of tests: shows what the redirect carried.
async fn landing(RawQuery(query): RawQuery) -> Html<String> {
    let params = parse_form(query.unwrap_or_default().as_bytes());
    let field = |id: &str| {
        params
            .get(id)
            .map(|v| format!("<p>{id}: <code id=\"{id}\">{}</code></p>", esc(v)))
            .unwrap_or_default()
    };
    let body = format!("{}{}{}", field("code"), field("state"), field("error"));
    Html(pages::layout(
        "Passerelle sandbox",
        "Redirect received",
        &body,
    ))
}

async fn place_order(
    State(shared): State<Arc<Shared>>,
    Path(location_id): Path<String>,
    body: Bytes,
) -> AdminResult {
    let order: Value = parse(&body)?;
    let id = admin(&shared).place_order(&location_id, order).await?;
    let order = admin(&shared).order(&location_id, &id).await;
    ok(json!({ "id": id, "order": order }))
}

/// `{"order"?: {...}, "raw": {...}}`: `order` defaults to the seed's sample order.
#[derive(Deserialize)]
struct RawOrder {
    order: Option<Value>,
    raw: Value,
}

async fn place_raw_order(
    State(shared): State<Arc<Shared>>,
    Path(location_id): Path<String>,
    body: Bytes,
) -> AdminResult {
    let req: RawOrder = parse(&body)?;
    if !req.raw.is_object() {
        return Err(bad_request("raw: a JSON object of the fields to set"));
    }
    let order = req
        .order
        .unwrap_or_else(|| crate::seed::sample_order("Camille"));
    let id = admin(&shared)
        .place_order_with_raw_fields(&location_id, order, req.raw)
        .await?;
    let order = admin(&shared).order(&location_id, &id).await;
    ok(json!({ "id": id, "order": order }))
}

async fn update_order(
    State(shared): State<Arc<Shared>>,
    Path((location_id, order_id)): Path<(String, String)>,
    body: Bytes,
) -> AdminResult {
    let patch: Value = parse(&body)?;
    ok(admin(&shared)
        .update_order_as_other_app(&location_id, &order_id, patch)
        .await?)
}

async fn get_order(
    State(shared): State<Arc<Shared>>,
    Path((location_id, order_id)): Path<(String, String)>,
) -> AdminResult {
    let order = admin(&shared).order(&location_id, &order_id).await;
    order.map_or_else(
        || Err(SandboxError::NotFound(format!("order {order_id}")).into()),
        ok,
    )
}

async fn list_orders(
    State(shared): State<Arc<Shared>>,
    Path(location_id): Path<String>,
) -> AdminResult {
    ok(Value::Array(admin(&shared).orders(&location_id).await))
}

async fn suspend(
    State(shared): State<Arc<Shared>>,
    Path(location_id): Path<String>,
) -> AdminResult {
    admin(&shared).suspend_location(&location_id, true).await?;
    ok(json!({ "suspended": true }))
}

async fn unsuspend(
    State(shared): State<Arc<Shared>>,
    Path(location_id): Path<String>,
) -> AdminResult {
    admin(&shared).suspend_location(&location_id, false).await?;
    ok(json!({ "suspended": false }))
}

async fn connections(State(shared): State<Arc<Shared>>) -> AdminResult {
    ok(json!(admin(&shared).connections().await))
}

async fn block(State(shared): State<Arc<Shared>>, Path(key): Path<String>) -> AdminResult {
    ok(json!({ "blocked": admin(&shared).block_connection(&key).await? }))
}

async fn unblock(State(shared): State<Arc<Shared>>, Path(key): Path<String>) -> AdminResult {
    ok(json!({ "unblocked": admin(&shared).unblock_connection(&key).await? }))
}

async fn disconnect(State(shared): State<Arc<Shared>>, Path(key): Path<String>) -> AdminResult {
    ok(json!({ "disconnected": admin(&shared).disconnect_connection(&key).await? }))
}

async fn open_url(State(shared): State<Arc<Shared>>, Path(key): Path<String>) -> AdminResult {
    ok(json!({ "url": admin(&shared).open_url(&key).await? }))
}

#[derive(Deserialize)]
struct BackOfficeConnect {
    client_id: Option<String>,
    location_id: String,
    email: Option<String>,
}

async fn back_office_connect(State(shared): State<Arc<Shared>>, body: Bytes) -> AdminResult {
    let req: BackOfficeConnect = parse(&body)?;
    let client_id = req
        .client_id
        .unwrap_or_else(|| shared.seed.client_id.clone());
    let email = req
        .email
        .unwrap_or_else(|| shared.seed.user().email.clone());
    ok(
        json!({ "url": admin(&shared).back_office_connect(&client_id, &req.location_id, &email).await? }),
    )
}

async fn back_office_authorize_url(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> AdminResult {
    let params = parse_form(query.unwrap_or_default().as_bytes());
    let client_id = params
        .get("client_id")
        .cloned()
        .unwrap_or_else(|| shared.seed.client_id.clone());
    ok(json!({ "url": admin(&shared).back_office_authorize_url(&client_id).await? }))
}

async fn inject_event(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
    body: Bytes,
) -> AdminResult {
    let event: Value = parse(&body)?;
    let queued = admin(&shared).inject_event(&key, event).await?;
    ok(json!({ "queued": queued }))
}

#[derive(Deserialize)]
struct NewName {
    name: String,
}

async fn rename(shared: &Arc<Shared>, kind: &str, id: &str, body: &[u8]) -> AdminResult {
    let new: NewName = parse(body)?;
    admin(shared).rename(kind, id, &new.name).await?;
    ok(json!({ "id": id, "name": new.name }))
}

async fn rename_location(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> AdminResult {
    rename(&shared, "location", &id, &body).await
}

async fn rename_catalog(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> AdminResult {
    rename(&shared, "catalog", &id, &body).await
}

async fn rename_customer_list(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> AdminResult {
    rename(&shared, "customer_list", &id, &body).await
}

async fn faults(State(shared): State<Arc<Shared>>) -> AdminResult {
    ok(json!(admin(&shared).faults().await))
}

async fn inject_fault(State(shared): State<Arc<Shared>>, body: Bytes) -> AdminResult {
    let fault: Fault = parse(&body)?;
    admin(&shared).inject_fault(fault.clone()).await;
    ok(json!(fault))
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> AdminResult {
    admin(&shared).clear_faults().await;
    ok(json!({ "cleared": true }))
}

async fn network(State(shared): State<Arc<Shared>>) -> AdminResult {
    ok(json!({ "cut": admin(&shared).network_cut().await }))
}

async fn cut_network(State(shared): State<Arc<Shared>>) -> AdminResult {
    admin(&shared).cut_network().await;
    ok(json!({ "cut": true }))
}

async fn restore_network(State(shared): State<Arc<Shared>>) -> AdminResult {
    admin(&shared).restore_network().await;
    ok(json!({ "cut": false }))
}

/// Filters shared by the request log routes.
struct LogFilter {
    server: Option<ServerKind>,
    method: String,
    path_prefix: String,
}

fn log_filter(query: Option<String>) -> Result<LogFilter, AdminError> {
    let params: BTreeMap<String, String> = parse_form(query.unwrap_or_default().as_bytes());
    let server = match params.get("server") {
        None => None,
        Some(s) => Some(
            serde_json::from_value(json!(s))
                .map_err(|_| bad_request("server: manager, api or pos"))?,
        ),
    };
    Ok(LogFilter {
        server,
        method: params.get("method").cloned().unwrap_or_default(),
        path_prefix: params.get("path_prefix").cloned().unwrap_or_default(),
    })
}

async fn requests(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> AdminResult {
    let filter = log_filter(query)?;
    let records: Vec<_> = admin(&shared)
        .requests()
        .await
        .into_iter()
        .filter(|r| filter.server.is_none_or(|s| s == r.server))
        .filter(|r| filter.method.is_empty() || r.method.eq_ignore_ascii_case(&filter.method))
        .filter(|r| r.path.starts_with(&filter.path_prefix))
        .collect();
    ok(json!(records))
}

async fn count_requests(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> AdminResult {
    let filter = log_filter(query)?;
    let count = admin(&shared)
        .requests()
        .await
        .iter()
        .filter(|r| filter.server.is_none_or(|s| s == r.server))
        .filter(|r| filter.method.is_empty() || r.method.eq_ignore_ascii_case(&filter.method))
        .filter(|r| r.path.starts_with(&filter.path_prefix))
        .count();
    ok(json!({ "count": count }))
}

async fn reset_requests(State(shared): State<Arc<Shared>>) -> AdminResult {
    admin(&shared).reset_requests().await;
    ok(json!({ "cleared": true }))
}

async fn limits(State(shared): State<Arc<Shared>>) -> AdminResult {
    ok(json!(admin(&shared).options().await.limits))
}

async fn set_limits(State(shared): State<Arc<Shared>>, body: Bytes) -> AdminResult {
    let limits: RateLimits = parse(&body)?;
    admin(&shared).set_limits(limits).await;
    ok(json!(limits))
}

fn options_json(o: &crate::sandbox::SandboxOptions) -> Value {
    json!({
        "limits": o.limits,
        "retry_after_header": o.retry_after_header,
        "omit_token_type": o.omit_token_type,
        "window_scale_ms": o.window_scale.map(|d| d.as_millis() as u64),
        "pos_access_token_ttl_secs": o.pos_access_token_ttl.as_secs(),
        "lockout_after": o.lockout_after,
        "lockout_for_secs": o.lockout_for.as_secs(),
        "event_suppression": o.event_suppression,
        "invalid_code_status": o.invalid_code_status,
        "legacy_blocked_status": o.legacy_blocked_status,
        "legacy_event_resource_id": o.legacy_event_resource_id,
        "backend_registers_callback": o.backend_registers_callback,
        "token_content_type": o.token_content_type,
        "token_error_body": o.token_error_body,
        "https_redirects_only": o.https_redirects_only,
        "times_as_sent": o.times_as_sent,
        "callback_ack": o.active_callbacks.ack,
        "callback_delay_ms": o.active_callbacks.delay.as_millis() as u64,
        "callback_timeout_ms": o.active_callbacks.timeout.as_millis() as u64,
        "callback_retry_unit_ms": o.active_callbacks.retry_unit.as_millis() as u64,
        "callback_retries": o.active_callbacks.retries,
    })
}

async fn options(State(shared): State<Arc<Shared>>) -> AdminResult {
    ok(options_json(&admin(&shared).options().await))
}

/// Partial update: only the fields present change.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionsPatch {
    limits: Option<RateLimits>,
    retry_after_header: Option<bool>,
    omit_token_type: Option<bool>,
    window_scale_ms: Option<Option<u64>>,
    pos_access_token_ttl_secs: Option<u64>,
    lockout_after: Option<u32>,
    lockout_for_secs: Option<u64>,
    event_suppression: Option<EventSuppression>,
    invalid_code_status: Option<u16>,
    legacy_blocked_status: Option<bool>,
    legacy_event_resource_id: Option<bool>,
    backend_registers_callback: Option<bool>,
    token_content_type: Option<Option<String>>,
    token_error_body: Option<TokenErrorBody>,
    https_redirects_only: Option<bool>,
    times_as_sent: Option<bool>,
    callback_ack: Option<CallbackAck>,
    callback_delay_ms: Option<u64>,
    callback_timeout_ms: Option<u64>,
    callback_retry_unit_ms: Option<u64>,
    callback_retries: Option<u32>,
}

async fn update_options(State(shared): State<Arc<Shared>>, body: Bytes) -> AdminResult {
    let p: OptionsPatch = parse(&body)?;
    let admin = admin(&shared);
    if let Some(limits) = p.limits {
        admin.set_limits(limits).await;
    }
    admin
        .update_options(|o| {
            macro_rules! set {
                ($field:ident) => {
                    if let Some(v) = p.$field {
                        o.$field = v;
                    }
                };
            }
            set!(retry_after_header);
            set!(omit_token_type);
            set!(lockout_after);
            set!(event_suppression);
            set!(invalid_code_status);
            set!(legacy_blocked_status);
            set!(legacy_event_resource_id);
            set!(backend_registers_callback);
            set!(token_content_type);
            set!(token_error_body);
            set!(https_redirects_only);
            set!(times_as_sent);
            if let Some(ms) = p.window_scale_ms {
                o.window_scale = ms.map(Duration::from_millis);
            }
            if let Some(s) = p.pos_access_token_ttl_secs {
                o.pos_access_token_ttl = Duration::from_secs(s);
            }
            if let Some(s) = p.lockout_for_secs {
                o.lockout_for = Duration::from_secs(s);
            }
            let callbacks = &mut o.active_callbacks;
            if let Some(ack) = p.callback_ack {
                callbacks.ack = ack;
            }
            if let Some(n) = p.callback_retries {
                callbacks.retries = n;
            }
            for (value, field) in [
                (p.callback_delay_ms, &mut callbacks.delay),
                (p.callback_timeout_ms, &mut callbacks.timeout),
                (p.callback_retry_unit_ms, &mut callbacks.retry_unit),
            ] {
                if let Some(ms) = value {
                    *field = Duration::from_millis(ms);
                }
            }
        })
        .await;
    ok(options_json(&admin.options().await))
}

#[derive(Deserialize)]
struct Age {
    seconds: u64,
}

async fn age_codes(State(shared): State<Arc<Shared>>, body: Bytes) -> AdminResult {
    let age: Age = parse(&body)?;
    admin(&shared)
        .age_codes(Duration::from_secs(age.seconds))
        .await;
    ok(json!({ "aged_by_seconds": age.seconds }))
}

async fn expire_pos_tokens(State(shared): State<Arc<Shared>>) -> AdminResult {
    admin(&shared).expire_pos_access_tokens().await;
    ok(json!({ "expired": true }))
}

#[derive(Deserialize)]
struct Email {
    email: String,
}

async fn pos_lock_reset(State(shared): State<Arc<Shared>>, body: Bytes) -> AdminResult {
    let req: Email = parse(&body)?;
    admin(&shared).pos_lock_reset(&req.email).await;
    ok(json!({ "reset": req.email }))
}

async fn pos_connections(
    State(shared): State<Arc<Shared>>,
    Path(account_id): Path<String>,
) -> AdminResult {
    ok(Value::Array(
        admin(&shared).pos_connections(&account_id).await,
    ))
}
