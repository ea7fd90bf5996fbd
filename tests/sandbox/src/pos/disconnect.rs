//! The POS backend's Disconnect callback URL: HubRise's notice that a connection was
//! disconnected in its back office.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::signing;
use crate::state::Shared;

/// `POST /hubrise/disconnect-callback`: verifies HubRise's signature, then marks the matching
/// connections (by `app_instance_id`) removed on every POS account that has them.
pub(crate) async fn disconnect_callback(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let signature = headers
        .get("x-hubrise-hmac-sha256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !signing::signature_matches(&shared.seed.client_secret, &body, signature) {
        return ApiError::unauthorized("Invalid or missing X-HubRise-Hmac-SHA256 signature")
            .into_response();
    }
    let Ok(notice) = serde_json::from_slice::<Value>(&body) else {
        return ApiError::bad_request("Invalid JSON").into_response();
    };
    let Some(instance) = notice
        .get("app_instance_id")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return ApiError::bad_request("app_instance_id is missing").into_response();
    };
    let mut world = shared.world();
    let accounts: Vec<String> = world
        .pos
        .connections
        .iter()
        .filter(|c| c.app_instance_id.as_deref() == Some(instance.as_str()))
        .map(|c| c.pos_account_id.clone())
        .collect();
    let mut removed = 0;
    for account in accounts {
        removed += world
            .pos
            .remove_where(&account, |c| {
                c.app_instance_id.as_deref() == Some(instance.as_str())
            })
            .len();
    }
    (StatusCode::OK, axum::Json(json!({ "removed": removed }))).into_response()
}
