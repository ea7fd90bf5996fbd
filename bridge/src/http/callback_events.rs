//! `POST /hubrise/callback`: HubRise's active callback. The signature is checked first (401,
//! nothing stored); the event is committed before the 200, so an acknowledged event is never
//! lost; a replay (HubRise retries, or a 200 that never reached it) is stored once. While the
//! database is away the answer is 503: HubRise retries a 5xx, and counts any 200–499 as
//! acknowledged, so nothing the bridge failed to keep gets a 4xx.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::api::verify_hubrise_signature;
use super::{ApiError, App, Json200};
use crate::events::{Incoming, hub};

/// The route, below the public URL.
pub const PATH: &str = "/hubrise/callback";

pub(super) async fn receive(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    verify_hubrise_signature(&app, &headers, &body, "event callback")?;
    // Signed but unreadable: nothing could ever file it, so it is acknowledged (4xx) and logged.
    let event = Incoming::parse(&body).map_err(|why| {
        tracing::warn!(why, "signed event that cannot be filed");
        ApiError::bad_request(why)
    })?;
    let stored = app.events.store(&event).await?;
    if stored.is_some() {
        hub::announce(&app.hub, app.store.database(), &event.location_id).await;
        // Tills of the location not streaming are woken, in a task of their own: the 200 never
        // waits for the push service.
        if event.kind.starts_with("order.") {
            app.push.order_event(&event.location_id);
        }
    }
    tracing::info!(
        kind = event.kind,
        location = event.location_id,
        replay = stored.is_none(),
        "event received"
    );
    Ok(Json200(json!({ "stored": stored.is_some() })).into_response())
}
