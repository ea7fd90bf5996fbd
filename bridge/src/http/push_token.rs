//! `PUT /hubrise/push-token` and `DELETE /hubrise/push-token?device_id=…`: a till's APNs device
//! token, so the bridge can wake it in the background when an order arrives for one of its
//! locations (issue 24, part 5). Authenticated with the till's POS token like the event stream
//! and scoped the same way: the token is the account's device's, and notifications go to it for
//! the locations of the account's active connections, as the stream's events do.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{ApiError, App, Caller, Json200, json_body, text_field};
use crate::push::normalize_token;

/// The route, below the public URL.
pub const PATH: &str = "/hubrise/push-token";

fn device_id(value: Option<String>) -> Result<String, ApiError> {
    value
        .filter(|d| !d.is_empty() && d.len() <= 200)
        .ok_or_else(|| ApiError::bad_request("device_id is required (at most 200 characters)"))
}

/// Body `{"device_id", "token"}`: the token in hex, as iOS gives it (any case).
pub(super) async fn register(
    State(app): State<Arc<App>>,
    Caller(account): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_body(&headers, &body)?;
    let device_id = device_id(text_field(&body, "device_id")?)?;
    let token = text_field(&body, "token")?
        .as_deref()
        .and_then(normalize_token)
        .ok_or_else(|| ApiError::bad_request("token must be the device token in hex"))?;
    app.push
        .register(&account.account_id, &device_id, &token)
        .await?;
    tracing::info!(device = device_id, "push token registered");
    Ok(Json200(json!({
        "registered": true,
        // Whether this bridge sends notifications at all (APNs configured).
        "notifications": app.push.enabled(),
    }))
    .into_response())
}

#[derive(serde::Deserialize)]
pub(super) struct DeviceQuery {
    device_id: Option<String>,
}

pub(super) async fn unregister(
    State(app): State<Arc<App>>,
    Caller(account): Caller,
    Query(query): Query<DeviceQuery>,
) -> Result<Response, ApiError> {
    let device_id = device_id(query.device_id)?;
    let removed = app.push.unregister(&account.account_id, &device_id).await?;
    Ok(Json200(json!({ "removed": removed })).into_response())
}
