//! Waiting for what the engine does by itself: a condition polled until it holds, and the
//! health state a test expects.

use std::future::Future;
use std::time::{Duration, Instant};

use passerelle_core::{DelayReason, Passerelle, SyncState};

/// How often a condition is looked at again.
const LOOK_AGAIN_EVERY: Duration = Duration::from_millis(50);

/// Polls `check` until it holds or `within` has passed, and looks once more at the deadline.
pub async fn wait_until<F, Fut>(within: Duration, check: F) -> bool
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(LOOK_AGAIN_EVERY).await;
    }
    check().await
}

/// Whether the first connection's health shows `Delayed` for `reason` (`None`: `Flowing`)
/// within `within`.
pub async fn health_shows(app: &Passerelle, reason: Option<DelayReason>, within: Duration) -> bool {
    wait_until(within, || async {
        let Ok(health) = app.sync_health() else {
            return false;
        };
        let Some(connection) = health.connections.first() else {
            return false;
        };
        match reason {
            None => connection.state == SyncState::Flowing,
            Some(reason) => {
                connection.state == SyncState::Delayed && connection.delay_reason == Some(reason)
            }
        }
    })
    .await
}
