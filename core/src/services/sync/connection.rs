//! One sync cycle of one connection, shared by its worker and `sync_now`: under the
//! connection's cycle lock, the steps in order: the callback and the pending events
//! (`pull.rs`), the outbox (`push.rs`), the catch-up (`pull.rs`), then the read-back
//! (`refresh.rs`).

use std::sync::Arc;

use tokio::sync::Mutex;

use super::cycle::{Cycle, CycleReport, SyncParts};
use super::refresh;
use crate::error::{Error, Result, Service};
use crate::model::connection::ConnectionState;
use crate::store::connections;

/// What a cycle does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Callback, events, outbox, catch-up.
    Full,
    /// The outbox only: a change from the till goes out at once without polling events sooner
    /// than the interval.
    OutboxOnly,
}

/// Sync of one connection, shared by its worker and `sync_now`.
pub struct ConnectionSync {
    pub connection_id: String,
    /// Held for the whole cycle (see `SyncParts::cycle_locks`).
    cycle_lock: Arc<Mutex<()>>,
}

impl ConnectionSync {
    pub fn new(parts: &SyncParts, connection_id: &str) -> Self {
        Self {
            connection_id: connection_id.to_owned(),
            cycle_lock: parts.cycle_lock(connection_id),
        }
    }

    /// Runs one cycle; `None` when the connection no longer syncs (disconnected, removed, waiting
    /// for a reconnect), checked under the cycle lock. Errors stop the cycle where it is;
    /// everything done so far is kept.
    pub async fn run(&self, parts: &SyncParts, scope: Scope) -> Result<Option<CycleReport>> {
        let _cycle = self.cycle_lock.lock().await;
        let row = parts
            .store
            .read(|c| connections::get(c, &self.connection_id))?;
        if row.public.state != ConnectionState::Active || row.public.reconnect_needed {
            return Ok(None);
        }
        let token = parts
            .secrets
            .get(&row.secret_key)?
            .ok_or_else(|| Error::Unauthorized {
                service: Service::HubriseApi,
                reason: "no token on this device".into(),
            })?;
        let cx = Cycle {
            parts,
            row: &row,
            token: &token,
        };
        let mut report = CycleReport::default();
        if scope == Scope::Full {
            cx.ensure_callback().await?;
            cx.drain_events(&mut report).await?;
        }
        cx.push_outbox(&mut report).await?;
        if scope == Scope::Full {
            // Last: a heavy query that must not hold up the events and the outbox if it fails.
            cx.catch_up(&mut report).await?;
            // Read back what no event brings (design D22 of issue 15): the open orders' status
            // (sibling tills, changes missed while refused) and the names, within the budget.
            refresh::run(parts, &row, &token, &mut report).await?;
        }
        parts
            .store
            .write(|tx| connections::record_success(tx, &self.connection_id))?;
        Ok(Some(report))
    }
}
