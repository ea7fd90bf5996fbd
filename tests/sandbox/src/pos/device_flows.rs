//! The https redirect through the POS backend for connections made on a device: HubRise
//! redirects the browser to the backend (`/hubrise/device-callback`, an https URL HubRise
//! documents), which keeps the code for the state a device registered and hands it to that
//! device only, when it asks (`/hubrise/device-flows/claim`) after a universal link
//! (`/hubrise/device-return`) brought it back, or by itself (a consent finished on a phone).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::model::{DeviceFlow, DeviceFlowOutcome};
use super::oauth::PosCaller;
use super::web_back_office_pages as pages;
use crate::errors::{ApiError, json_body};
use crate::hubrise::oauth::{parse_form, with_query};
use crate::state::Shared;

/// A device flow lives as long as HubRise's code would.
pub(crate) const DEVICE_FLOW_LIFETIME: Duration = Duration::from_secs(600);

/// Hex SHA-256 of a state: what devices register (the state itself stays on the device).
pub(crate) fn state_digest(state: &str) -> String {
    Sha256::digest(state.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /hubrise/device-flows` (Bearer): `{"state_digest": "<64 hex>"}` registers a flow
/// this device started. 201 `{"expires_in": 600}`.
pub(crate) async fn register(
    State(shared): State<Arc<Shared>>,
    caller: PosCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input = json_body(&headers, &body)?;
    let digest = input
        .get("state_digest")
        .and_then(Value::as_str)
        .filter(|d| d.len() == 64 && d.chars().all(|c| c.is_ascii_hexdigit()))
        .ok_or_else(|| ApiError::bad_request("state_digest: the hex SHA-256 of the state"))?
        .to_ascii_lowercase();
    let mut world = shared.world();
    world
        .pos_live
        .device_flows
        .retain(|_, f| f.created.elapsed() <= DEVICE_FLOW_LIFETIME);
    world.pos_live.device_flows.insert(
        digest,
        DeviceFlow {
            account_id: caller.account_id,
            created: Instant::now(),
            outcome: None,
        },
    );
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "expires_in": DEVICE_FLOW_LIFETIME.as_secs() })),
    )
        .into_response())
}

/// `GET /hubrise/device-callback?code=&state=` (or `?error=access_denied&state=`): HubRise's
/// redirect. The code is kept for the device whose registered state this is; the browser goes on
/// to `/hubrise/device-return?state=` (the app's universal link). A state no device registered:
/// a 400 page, nothing kept.
pub(crate) async fn callback(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = parse_form(query.unwrap_or_default().as_bytes());
    let Some(state) = params.get("state").filter(|s| !s.is_empty()) else {
        return pages::connect_failed("This HubRise answer carries no state.");
    };
    let outcome = match (params.get("code"), params.get("error")) {
        (Some(code), None) if !code.is_empty() => DeviceFlowOutcome::Code(code.clone()),
        (None, Some(error)) => DeviceFlowOutcome::Error(error.chars().take(40).collect()),
        _ => return pages::connect_failed("This HubRise answer is not one this backend expects."),
    };
    let digest = state_digest(state);
    let mut world = shared.world();
    let Some(flow) = world
        .pos_live
        .device_flows
        .get_mut(&digest)
        .filter(|f| f.created.elapsed() <= DEVICE_FLOW_LIFETIME && f.outcome.is_none())
    else {
        return pages::connect_failed(
            "No device is waiting for this HubRise authorisation. Start again from the till.",
        );
    };
    flow.outcome = Some(outcome);
    let back = with_query(
        &format!("{}/hubrise/device-return", shared.urls.pos),
        &[],
        Some(state),
    );
    no_store((StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response())
}

/// `GET /hubrise/device-return?state=`: the app's universal link. Where no app takes it (a phone
/// that opened a QR code), a page sends the person back to the till, which finishes by itself.
pub(crate) async fn device_return() -> Response {
    let body = "<p id=\"done\">HubRise answered. Go back to the till: it finishes the connection \
by itself.</p>";
    no_store(pages::page(StatusCode::OK, "Back to the till", body))
}

/// `POST /hubrise/device-flows/claim` (Bearer): `{"state": "..."}` → once, the code
/// (`{"status": "authorized", "code"}`) or HubRise's refusal (`{"status": "denied", "error"}`);
/// 202 `{"status": "pending"}` while HubRise has not answered; 404 for an unknown or expired
/// state, another account's, or one already claimed.
pub(crate) async fn claim(
    State(shared): State<Arc<Shared>>,
    caller: PosCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input = json_body(&headers, &body)?;
    let state = input
        .get("state")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("The state parameter is missing"))?;
    let digest = state_digest(state);
    let mut world = shared.world();
    let flows = &mut world.pos_live.device_flows;
    let live = flows.get(&digest).is_some_and(|f| {
        f.account_id == caller.account_id && f.created.elapsed() <= DEVICE_FLOW_LIFETIME
    });
    if !live {
        return Err(ApiError::not_found("No device flow for this state"));
    }
    let answer = match flows.get(&digest).and_then(|f| f.outcome.clone()) {
        None => {
            return Ok(no_store(
                (
                    StatusCode::ACCEPTED,
                    axum::Json(json!({ "status": "pending" })),
                )
                    .into_response(),
            ));
        }
        Some(DeviceFlowOutcome::Code(code)) => json!({ "status": "authorized", "code": code }),
        Some(DeviceFlowOutcome::Error(error)) => json!({ "status": "denied", "error": error }),
    };
    flows.remove(&digest);
    Ok(no_store(axum::Json(answer).into_response()))
}
