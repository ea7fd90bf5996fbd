//! The https redirect for connections made on a device: HubRise sends the browser to
//! `/hubrise/device-callback`, the bridge keeps the code (sealed) for the state a device
//! registered (by its digest), and hands it to that device's account once, when it claims it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::pages::{self, Lang};
use super::{
    ApiError, App, Caller, FLOW_LIFETIME_MS, Json200, form, json_body, no_store, text_field,
    with_query,
};
use crate::clock::now_ms;
use crate::secret::{Secret, digest};
use crate::store::{Claim, FlowOutcome};

/// `POST /hubrise/device-flows` (Bearer): `{"state_digest": "<64 hex>"}` → 201 `{"expires_in"}`;
/// 409 for a state another account registered (a flow is never taken over).
pub(super) async fn register(
    State(app): State<Arc<App>>,
    Caller(account): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input = json_body(&headers, &body)?;
    let digest = text_field(&input, "state_digest")?
        .filter(|d| d.len() == 64 && d.chars().all(|c| c.is_ascii_hexdigit()))
        .ok_or_else(|| ApiError::bad_request("state_digest: the hex SHA-256 of the state"))?
        .to_ascii_lowercase();
    app.store.purge_expired(FLOW_LIFETIME_MS).await?;
    if !app
        .store
        .register_flow(&digest, &account.account_id)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "This state is another account's device flow",
        ));
    }
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "expires_in": FLOW_LIFETIME_MS / 1000 })),
    )
        .into_response())
}

/// `GET /hubrise/device-callback?code=&state=` (or `?error=&state=`): HubRise's redirect. Kept for
/// the device whose live state it is, then 303 to `/hubrise/device-return?state=`; otherwise a
/// 400 page and nothing kept.
pub(super) async fn callback(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let lang = Lang::of(&headers, None);
    let params = form(query.unwrap_or_default().as_bytes());
    let Some(state) = params.get("state").filter(|s| !s.is_empty()) else {
        return pages::connect_failed(lang, pages::Msg::NoState);
    };
    let outcome = match (params.get("code"), params.get("error")) {
        (Some(code), None) if !code.is_empty() => FlowOutcome::Code(Secret::new(code.clone())),
        (None, Some(error)) => FlowOutcome::Error(error.chars().take(40).collect()),
        _ => return pages::connect_failed(lang, pages::Msg::UnexpectedAnswer),
    };
    match app
        .store
        .settle_flow(&digest(state), &outcome, now_ms() - FLOW_LIFETIME_MS)
        .await
    {
        Ok(true) => {
            let back = with_query(
                &format!("{}/hubrise/device-return", app.config.public_url),
                &[("state", state)],
            );
            no_store((StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response())
        }
        Ok(false) => pages::connect_failed(lang, pages::Msg::NoDeviceWaiting),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `GET /hubrise/device-return?state=`: the app's universal link; in a browser, a page sends the
/// person back to the till.
pub(super) async fn device_return(headers: HeaderMap) -> Response {
    no_store(pages::back_to_till(Lang::of(&headers, None)))
}

/// `POST /hubrise/device-flows/claim` (Bearer): `{"state"}` → once the code or the refusal;
/// 202 pending; 404 for an unknown, expired, claimed or another account's state.
pub(super) async fn claim(
    State(app): State<Arc<App>>,
    Caller(account): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input = json_body(&headers, &body)?;
    let state = text_field(&input, "state")?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("The state parameter is missing"))?;
    let claim = app
        .store
        .claim_flow(
            &digest(&state),
            &account.account_id,
            now_ms() - FLOW_LIFETIME_MS,
        )
        .await?;
    match claim {
        Claim::Unknown => Err(ApiError::not_found("No device flow for this state")),
        Claim::Pending => Ok(no_store(
            (
                StatusCode::ACCEPTED,
                axum::Json(json!({ "status": "pending" })),
            )
                .into_response(),
        )),
        Claim::Done(FlowOutcome::Code(code)) => {
            Ok(Json200(json!({ "status": "authorized", "code": code.expose() })).into_response())
        }
        Claim::Done(FlowOutcome::Error(error)) => {
            Ok(Json200(json!({ "status": "denied", "error": error })).into_response())
        }
    }
}
