//! Reports the changes this till made at HubRise to the POS backend, which relays them on the
//! stream to the location's other tills (issue 24). Runs beside the stream listener, off the
//! outbox's path: a slow or absent backend never holds back a change to HubRise. A report that
//! fails is not tried again: the siblings' read-back reads the order from HubRise anyway.

use std::sync::Arc;

use super::cycle::SyncParts;
use super::stream_listener::StreamLink;

/// Relays until the backend says it does not relay changes (404), or the task is aborted.
pub(super) async fn run(parts: Arc<SyncParts>, link: Arc<StreamLink>) {
    loop {
        let change = parts.push_channel.next_made().await;
        let link = &link;
        let change = &change;
        let reported = link
            .sessions
            .authorized(|token| async move {
                link.pos
                    .report_change(&token, &link.device_id, change)
                    .await
            })
            .await;
        match reported {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(target: "passerelle::sync", "the POS backend relays no changes: siblings read them from HubRise");
                return;
            }
            Err(err) => {
                tracing::warn!(target: "passerelle::sync", code = err.code(), "change not relayed; siblings read it from HubRise");
            }
        }
    }
}
