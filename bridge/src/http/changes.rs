//! `POST /hubrise/changes`: a till reports a change it made at HubRise (HubRise accepted it),
//! and the bridge relays it on the stream to the location's other tills as a `till.change`
//! event. HubRise never tells a client of its own changes, and every till of a restaurant is
//! the same client, so without this a sibling learns of an accept only by reading the order
//! again. Authenticated with the till's POS token and scoped to its account's locations; a
//! change is kept once by its id, in the location's events, numbered and pruned like HubRise's.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{ApiError, App, Caller, json_body, text_field};
use crate::events::{Incoming, hub};

/// The stream's name for a relayed change.
pub const TILL_CHANGE: &str = "till.change";
/// The longest id, status or name a report may carry.
const MAX_FIELD: usize = 200;

pub(super) struct ChangeReport {
    change_id: String,
    device_id: String,
    location_id: String,
    order_id: String,
    status: String,
}

impl ChangeReport {
    /// The report in a JSON body: 415 for another content type, 400 for broken JSON or a field
    /// missing, of another type, empty or over-long (the contract's typed refusals).
    fn read(headers: &HeaderMap, body: &[u8]) -> Result<Self, ApiError> {
        let input = json_body(headers, body)?;
        let field = |name: &str| -> Result<String, ApiError> {
            let value = text_field(&input, name)?.unwrap_or_default();
            if value.trim().is_empty() || value.len() > MAX_FIELD {
                return Err(ApiError::bad_request(format!(
                    "{name} must be 1 to {MAX_FIELD} characters"
                )));
            }
            Ok(value)
        };
        Ok(ChangeReport {
            change_id: field("change_id")?,
            device_id: field("device_id")?,
            location_id: field("location_id")?,
            order_id: field("order_id")?,
            status: field("status")?,
        })
    }
}

pub(super) async fn report(
    State(app): State<Arc<App>>,
    Caller(account): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let change = ChangeReport::read(&headers, &body)?;
    let connected = app
        .store
        .connections(&account.account_id)
        .await?
        .into_iter()
        .any(|c| !c.removed && c.names.location_id.as_deref() == Some(&change.location_id));
    if !connected {
        // Not a 404: a till reads 404 as "this backend relays no changes" and stops reporting.
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_location",
            "This account has no connection to that location",
        ));
    }
    let event = Incoming {
        id: format!("till-change:{}", change.change_id),
        location_id: change.location_id.clone(),
        kind: TILL_CHANGE.to_owned(),
        body: json!({
            "order_id": change.order_id,
            "status": change.status,
            "device_id": change.device_id,
        })
        .to_string(),
        // Its id, made of the till's change id, already files a change once.
        change_key: None,
    };
    let stored = app.events.store(&event).await?;
    if stored.is_some() {
        hub::announce(&app.hub, app.store.database(), &event.location_id).await;
    }
    tracing::info!(
        location = event.location_id,
        replay = stored.is_none(),
        "till change relayed"
    );
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "stored": stored.is_some() })),
    )
        .into_response())
}
