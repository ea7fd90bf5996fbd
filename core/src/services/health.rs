//! What happened to each connection, recorded on its row, kept as a readable health state, and
//! told to the host (design D21): a refusal by HubRise (reconnect needed), a failure that may
//! pass (delayed: why, since when, next attempt), items set aside (needs attention), and any
//! other change of a connection. Shared by connect (a live check), sync (its cycles) and
//! restart-to-apply (a confirmation).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::context::{ActiveConfiguration, Context};
use crate::error::{Error, Result, Service};
use crate::events::{EventBus, PasserelleEvent};
use crate::model::connection::{ConnectionState, HubriseConnection};
use crate::model::health::{
    ConnectionHealth, DelayReason, FailedChange, QuarantinedItem, SyncHealth, SyncState,
};
use crate::store::connections::{self, ConnectionRow};
use crate::store::{Store, outbox, quarantine};
use crate::time::to_system_time;

/// What the last attempts of a connection said (kept in memory: it describes this run).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Attempts {
    succeeded_at: Option<SystemTime>,
    failing_since: Option<SystemTime>,
    reason: Option<DelayReason>,
    code: Option<String>,
    capped: bool,
    next_attempt_at: Option<SystemTime>,
    /// Sync goes on, slowed down (a long wait for HubRise's rate window, the read-back out of
    /// its budget): why, and since when. Shown as delayed while no failure is.
    slowed: Vec<(DelayReason, SystemTime)>,
}

#[derive(Clone)]
pub struct Health {
    store: Arc<Store>,
    events: EventBus,
    active: Arc<ActiveConfiguration>,
    board: Arc<Board>,
}

/// Keeps a connection shown as slowed down while held ([`Health::slowed_while`]).
pub struct SlowedWhile {
    health: Health,
    connection_id: String,
    reason: DelayReason,
}

impl Drop for SlowedWhile {
    fn drop(&mut self) {
        self.health
            .set_slowed(&self.connection_id, self.reason, false);
    }
}

#[derive(Default)]
struct Board {
    attempts: Mutex<HashMap<String, Attempts>>,
    paused: AtomicBool,
    /// The last health announced, so only changes are announced.
    announced: Mutex<Option<SyncHealth>>,
}

impl Health {
    pub fn new(ctx: &Context) -> Self {
        Self {
            store: ctx.store.clone(),
            events: ctx.events.clone(),
            active: ctx.active.clone(),
            board: Arc::default(),
        }
    }

    /// HubRise refused the token: keep everything, remember why, ask for "Reconnect HubRise".
    pub fn record_refusal(&self, row: &ConnectionRow, reason: &str) -> Result<ConnectionRow> {
        self.store
            .write(|tx| connections::record_failure(tx, &row.public.id, reason, true))?;
        tracing::warn!(target: "passerelle::connect", connection = %row.public.id, "reconnect needed");
        self.events.emit(PasserelleEvent::ReconnectNeeded {
            connection_id: row.public.id.clone(),
            reason: reason.to_owned(),
        });
        self.changed();
        self.store.read(|c| connections::get(c, &row.public.id))
    }

    /// A failure that may pass by itself (network, server error): remembered on the row.
    pub fn record_failure(&self, connection_id: &str, reason: &str) -> Result<()> {
        self.store
            .write(|tx| connections::record_failure(tx, connection_id, reason, false))
    }

    /// Tells the host a connection changed, and returns it as it is now.
    pub fn announce(&self, connection_id: &str) -> Result<HubriseConnection> {
        let connection = self
            .store
            .read(|c| connections::get(c, connection_id))?
            .public;
        self.events.emit(PasserelleEvent::ConnectionChanged {
            connection: connection.clone(),
        });
        Ok(connection)
    }

    /// A sync attempt of the connection went through.
    pub fn attempt_succeeded(&self, connection_id: &str) {
        self.update(connection_id, |a| {
            *a = Attempts {
                succeeded_at: Some(SystemTime::now()),
                slowed: std::mem::take(&mut a.slowed),
                ..Attempts::default()
            };
        });
    }

    /// A sync attempt failed; the next one is planned after `wait`.
    pub fn attempt_failed(&self, connection_id: &str, err: &Error, wait: Duration) {
        let now = SystemTime::now();
        self.update(connection_id, |a| {
            a.failing_since.get_or_insert(now);
            a.reason = Some(delay_reason(err));
            a.code = Some(err.code().to_owned());
            a.capped = matches!(err, Error::RateLimited { capped: true, .. });
            a.next_attempt_at = Some(now + wait);
        });
    }

    /// Sync of the connection goes on slowed down for `reason` (`true`), or no longer is
    /// (`false`); only a change is announced.
    pub fn set_slowed(&self, connection_id: &str, reason: DelayReason, slowed: bool) {
        let mut attempts = self.attempts();
        let entry = attempts.entry(connection_id.to_owned()).or_default();
        let was = entry.slowed.iter().any(|(r, _)| *r == reason);
        if was == slowed {
            return;
        }
        if slowed {
            entry.slowed.push((reason, SystemTime::now()));
        } else {
            entry.slowed.retain(|(r, _)| *r != reason);
        }
        drop(attempts);
        self.changed();
    }

    /// Shows the connection slowed down for `reason` until the returned guard is dropped (the
    /// wait ended, or the task waiting was cancelled).
    pub fn slowed_while(&self, connection_id: &str, reason: DelayReason) -> SlowedWhile {
        self.set_slowed(connection_id, reason, true);
        SlowedWhile {
            health: self.clone(),
            connection_id: connection_id.to_owned(),
            reason,
        }
    }

    /// The app went to the background or sync was stopped (or both ended).
    pub fn set_paused(&self, paused: bool) {
        self.board.paused.store(paused, Ordering::SeqCst);
        self.changed();
    }

    /// Items were set aside or failed changes retried: the counts changed.
    pub fn changed(&self) {
        match self.snapshot() {
            Ok(health) => self.announce_if_new(health),
            Err(err) => {
                tracing::warn!(target: "passerelle::health", code = err.code(), "health not read");
            }
        }
    }

    /// What sync set aside for the active connections, newest first.
    pub fn quarantined_items(&self) -> Result<Vec<QuarantinedItem>> {
        let ids = self.active.get().connection_ids;
        self.store.read(|conn| {
            let mut all = Vec::new();
            for id in &ids {
                all.extend(quarantine::list(conn, id)?);
            }
            all.sort_by_key(|item| std::cmp::Reverse(item.id));
            Ok(all)
        })
    }

    /// Changes from the till that failed past their budget, for the active connections.
    pub fn failed_changes(&self) -> Result<Vec<FailedChange>> {
        let ids = self.active.get().connection_ids;
        self.store.read(|conn| {
            let mut all = Vec::new();
            for id in &ids {
                all.extend(outbox::failed(conn, id)?);
            }
            Ok(all)
        })
    }

    /// Puts an order's failed changes back in line with a fresh budget; returns how many.
    pub fn retry_failed_changes(&self, order_id: &str) -> Result<u32> {
        let retried = self.store.write(|tx| outbox::retry_failed(tx, order_id))?;
        self.changed();
        Ok(u32::try_from(retried).unwrap_or(u32::MAX))
    }

    /// Every active connection's health.
    pub fn snapshot(&self) -> Result<SyncHealth> {
        let attempts = self.attempts().clone();
        let paused = self.board.paused.load(Ordering::SeqCst);
        let ids = self.active.get().connection_ids;
        let connections = self.store.read(|conn| {
            let mut all = Vec::with_capacity(ids.len());
            for id in &ids {
                let row = connections::get(conn, id)?;
                if row.public.state != ConnectionState::Active {
                    continue;
                }
                let counts = (
                    quarantine::count(conn, id)?,
                    outbox::count_failed(conn, id)?,
                );
                all.push(connection_health(&row, attempts.get(id), paused, counts));
            }
            Ok(all)
        })?;
        Ok(SyncHealth::new(connections))
    }

    fn update(&self, connection_id: &str, change: impl FnOnce(&mut Attempts)) {
        change(self.attempts().entry(connection_id.to_owned()).or_default());
        self.changed();
    }

    fn attempts(&self) -> std::sync::MutexGuard<'_, HashMap<String, Attempts>> {
        self.board
            .attempts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Announces `health` unless it says what the last announcement said (the time of the last
    /// success moves at every cycle: it alone is no news).
    fn announce_if_new(&self, health: SyncHealth) {
        let mut announced = self
            .board
            .announced
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if announced.as_ref().map(without_success_times) == Some(without_success_times(&health)) {
            return;
        }
        *announced = Some(health.clone());
        drop(announced);
        self.events
            .emit(PasserelleEvent::SyncHealthChanged { health });
    }
}

fn without_success_times(health: &SyncHealth) -> SyncHealth {
    let mut copy = health.clone();
    for connection in &mut copy.connections {
        connection.last_success_at = None;
    }
    copy
}

fn connection_health(
    row: &ConnectionRow,
    attempts: Option<&Attempts>,
    paused: bool,
    (quarantined, failed_changes): (u32, u32),
) -> ConnectionHealth {
    let attempts = attempts.cloned().unwrap_or_default();
    let last_success_at = attempts
        .succeeded_at
        .or(row.last_succeeded_at.map(to_system_time));
    let state = if row.public.reconnect_needed {
        SyncState::ReconnectNeeded
    } else if attempts.failing_since.is_some() || !attempts.slowed.is_empty() {
        SyncState::Delayed
    } else if paused {
        SyncState::Paused
    } else if attempts.succeeded_at.is_some() {
        SyncState::Flowing
    } else {
        SyncState::Starting
    };
    let delayed = state == SyncState::Delayed;
    // A failure says more than a slowdown; the first slowdown says more than a later one.
    let (reason, since) = match (attempts.failing_since, attempts.slowed.first()) {
        (Some(since), _) => (attempts.reason, Some(since)),
        (None, Some(&(reason, since))) => (Some(reason), Some(since)),
        (None, None) => (None, None),
    };
    ConnectionHealth {
        connection_id: row.public.id.clone(),
        location_name: row.public.location_name.clone(),
        state,
        last_success_at,
        delay_reason: reason.filter(|_| delayed),
        delayed_since: since.filter(|_| delayed),
        next_attempt_at: attempts.next_attempt_at.filter(|_| delayed),
        error_code: attempts.code.filter(|_| delayed),
        retry_after_capped: attempts.capped && delayed,
        quarantined,
        failed_changes,
    }
}

/// Why an error delays orders, in the restaurant's terms.
fn delay_reason(err: &Error) -> DelayReason {
    match err {
        Error::Transport { .. } => DelayReason::Offline,
        Error::RateLimited { .. } => DelayReason::RateLimited,
        Error::Server {
            service: Service::HubriseApi | Service::HubriseOAuth,
            ..
        } => DelayReason::HubriseUnavailable,
        Error::Sqlite(_) | Error::Io(_) | Error::SecretStore(_) => DelayReason::DeviceStorage,
        _ => DelayReason::Other,
    }
}
