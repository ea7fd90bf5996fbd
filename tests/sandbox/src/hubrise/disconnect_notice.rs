//! What HubRise's back office sends to an app: the Disconnect callback.

use serde_json::json;

use super::model::Connection;
use crate::state::Shared;
use crate::{http_client, signing, timefmt};

/// POSTs HubRise's disconnect notice to the app's Disconnect callback URL, signed like HubRise's
/// callbacks (`X-HubRise-Hmac-SHA256`: hex HMAC-SHA256 of the body, keyed by the client secret).
/// Failures are logged and dropped, as a notice is best effort.
pub(crate) async fn notify_disconnect(shared: &Shared, connection: &Connection) {
    let client = {
        let world = shared.world();
        world.hubrise.client(&connection.client_id).cloned()
    };
    let Some(client) = client else { return };
    let Some(url) = client.disconnect_callback_url else {
        return;
    };
    let body = json!({
        "event": "disconnect",
        "client_id": connection.client_id,
        "account_id": connection.account_id,
        "location_id": connection.location_id,
        "app_instance_id": connection.app_instance_id,
        "disconnected_at": timefmt::now_string(),
    })
    .to_string();
    let signature = signing::hmac_hex(&client.secret, body.as_bytes());
    let sent = match http_client::client() {
        Ok(http) => http
            .post(&url)
            .header("content-type", "application/json")
            .header("x-hubrise-hmac-sha256", signature)
            .body(body)
            .send()
            .await
            .map(|r| r.status()),
        Err(e) => Err(e),
    };
    if let Err(e) = sent {
        tracing::warn!("disconnect callback to {url} failed: {e}");
    }
}
