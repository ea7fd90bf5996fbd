//! Being woken in the background (issue 24, part 5, design D37). In the background the event
//! stream is closed and nothing polls; the POS backend may wake the app with a background
//! notification when an order arrives for one of its locations while it has no stream open.
//!
//! - `register`: the device's APNs token goes to the backend (`PUT /hubrise/push-token`), with
//!   the device id the stream uses. A backend without the route (404) is no error: `false`.
//! - `prepare_wake`: before the one cycle a notification runs, every active connection asks for
//!   a catch-up from HubRise's order list since its last successful cycle. The backend
//!   acknowledged the event at HubRise (its active callback), so it is no longer in the queue a
//!   cycle polls; the list still has the order. The stream, reopened back in front, may bring it
//!   again: it is stored and announced once (by order id).

use std::sync::Arc;

use crate::clients::pos::backend::PosBackend;
use crate::context::session_keeper::PosSessionKeeper;
use crate::context::{ActiveConfiguration, Context};
use crate::error::{Error, Result};
use crate::store::{Store, connections};
use crate::time::now_ms;

/// A catch-up for a connection that never had a successful cycle starts this far back.
const FIRST_CATCH_UP_MS: i64 = 3_600_000;
/// APNs device tokens are 32 bytes; anything longer than this is not one.
const MAX_TOKEN_BYTES: usize = 256;

pub struct PushNotifications {
    store: Arc<Store>,
    pos: PosBackend,
    sessions: Arc<PosSessionKeeper>,
    device_id: Arc<str>,
    active: Arc<ActiveConfiguration>,
}

impl PushNotifications {
    pub fn new(ctx: &Context) -> Self {
        Self {
            store: ctx.store.clone(),
            pos: ctx.pos.clone(),
            sessions: ctx.sessions.clone(),
            device_id: ctx.device_id.clone(),
            active: ctx.active.clone(),
        }
    }

    /// Sends the device's push token (the bytes iOS gives) to the POS backend: `true` when the
    /// backend keeps it, `false` when it has no such route.
    pub async fn register(&self, token: &[u8]) -> Result<bool> {
        if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
            return Err(Error::InvalidState {
                reason: format!("a push token is 1 to {MAX_TOKEN_BYTES} bytes"),
            });
        }
        let hex: String = token.iter().map(|b| format!("{b:02x}")).collect();
        let (pos, device_id, hex) = (&self.pos, &self.device_id, hex.as_str());
        self.sessions
            .authorized(
                |access| async move { pos.register_push_token(&access, device_id, hex).await },
            )
            .await
    }

    /// Every active connection asks for a catch-up since its last successful cycle (the next
    /// cycle runs it).
    pub fn prepare_wake(&self) -> Result<()> {
        let ids = self.active.get().connection_ids;
        let now = now_ms();
        self.store.write(|tx| {
            for id in &ids {
                let row = connections::get(tx, id)?;
                let since = row.last_succeeded_at.unwrap_or(now - FIRST_CATCH_UP_MS);
                connections::request_catch_up(tx, id, since)?;
            }
            Ok(())
        })
    }
}
