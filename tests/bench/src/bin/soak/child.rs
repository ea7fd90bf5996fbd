//! `soak --child CONFIG.json SECRETS.json`: opens Passerelle on the soak's data directory and
//! plays the till. Stdout: one JSON line per fact (`ready`, `order`, `health`, `quarantined`,
//! `change_failed`, `conflict`, answers to commands). Stdin: one command per line (`hint`,
//! `health N`, `accept ID`, `clock MS` (the wall clock as the library reads it, `MS` from the
//! machine's: `testing::set_wall_clock_by`), `slow NAME SECS` (the secret store's `get` takes
//! 2 s for location NAME's connection for SECS seconds), `report`, `close`); end of file ends the
//! process.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use passerelle_bench::fixture;
use passerelle_bench::{BenchError, Result};
use passerelle_core::{
    EventListener, Order, OrderFilter, OrderStatus, Passerelle, PasserelleEvent, SecretStore,
    SecretStoreError, SyncHealth,
};
use passerelle_test_support::config_from_json;
use passerelle_test_support::file_secrets::FileSecretStore;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::options::now_us;

/// Hands each event, with the time it arrived, to the child's main loop.
struct Forward(tokio::sync::mpsc::UnboundedSender<(u64, PasserelleEvent)>);

impl EventListener for Forward {
    fn on_event(&self, event: PasserelleEvent) {
        let _ = self.0.send((now_us(), event));
    }
}

/// How long the secret store's `get` takes for the slowed connection's keys (issue 27,
/// scenario 9: a Keychain behind a prompt, a device under I/O pressure).
const SLOW_GET: Duration = Duration::from_secs(2);

/// The file-backed secret store, slow for one connection's keys while the soak asks.
struct SlowStore {
    inner: FileSecretStore,
    /// The connection id whose keys are slow, and until when.
    slow: Mutex<Option<(String, Instant)>>,
}

impl SecretStore for SlowStore {
    fn get(&self, key: String) -> std::result::Result<Option<String>, SecretStoreError> {
        let slow = self.slow.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some((connection, until)) = slow
            && Instant::now() < until
            && key.contains(&connection)
        {
            std::thread::sleep(SLOW_GET);
        }
        self.inner.get(key)
    }

    fn set(&self, key: String, value: String) -> std::result::Result<(), SecretStoreError> {
        self.inner.set(key, value)
    }

    fn delete(&self, key: String) -> std::result::Result<(), SecretStoreError> {
        self.inner.delete(key)
    }
}

fn emit(line: &Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn emit_error(what: &str, err: &dyn std::fmt::Display) {
    emit(&json!({"t": "error", "at": now_us(), "what": what, "error": err.to_string()}));
}

pub fn main(args: &[String]) -> Result<()> {
    let [config, secrets] = args else {
        return Err(BenchError(
            "usage: soak --child CONFIG.json SECRETS.json".into(),
        ));
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = passerelle_bench::runtime()?;
    runtime.block_on(run(config, secrets))
}

/// A till accepts what it is shown, except the orders the soak keeps for itself (their
/// customer is "Hold …": the soak accepts them once their PATCH is poisoned; "Sibling …":
/// another till accepts them while this one's automatic `received` fails).
fn is_held(order: &Order) -> bool {
    order
        .customer
        .as_ref()
        .and_then(|c| c.first_name.as_deref())
        .is_some_and(|name| name.starts_with("Hold") || name.starts_with("Sibling"))
}

/// Accepts the order unless it is already accepted or a change of it is waiting (read again
/// from the store: the event may be older than the last accept).
async fn maybe_accept(app: &Passerelle, order_id: &str, held_too: bool) -> bool {
    let order = match app.order(order_id) {
        Ok(Some(order)) => order,
        Ok(None) => return false,
        Err(err) => {
            emit_error("order", &err);
            return false;
        }
    };
    let open = matches!(order.status, OrderStatus::New | OrderStatus::Received);
    if !open || order.pending_status.is_some() || (!held_too && is_held(&order)) {
        return false;
    }
    let ready_at = SystemTime::now() + Duration::from_secs(20 * 60);
    match app.accept(order_id, Some(ready_at)).await {
        Ok(()) => true,
        Err(err) => {
            emit_error("accept", &err);
            false
        }
    }
}

fn signed_ms(t: SystemTime, now: SystemTime) -> i64 {
    match t.duration_since(now) {
        Ok(ahead) => i64::try_from(ahead.as_millis()).unwrap_or(i64::MAX),
        Err(behind) => -i64::try_from(behind.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

fn health_line(health: &SyncHealth, at: u64, query: Option<u64>) -> Value {
    let now = SystemTime::now();
    let connections: Vec<Value> = health
        .connections
        .iter()
        .map(|c| {
            json!({
                "id": c.connection_id,
                "name": c.location_name,
                "state": format!("{:?}", c.state),
                "reason": c.delay_reason.map(|r| format!("{r:?}")),
                "next_in_ms": c.next_attempt_at.map(|t| signed_ms(t, now)),
                "since_ms": c.delayed_since.map(|t| signed_ms(t, now)),
                "quarantined": c.quarantined,
                "failed": c.failed_changes,
                "code": c.error_code,
            })
        })
        .collect();
    json!({
        "t": "health",
        "at": at,
        "pid": std::process::id(),
        "q": query,
        "state": format!("{:?}", health.state),
        "attention": health.needs_attention,
        "conns": connections,
    })
}

async fn run(config: &str, secrets: &str) -> Result<()> {
    let json: Value = serde_json::from_str(&std::fs::read_to_string(config)?)?;
    let mut config = config_from_json(&json).map_err(BenchError)?;
    config.rate_limits = fixture::unlimited_client_limits();
    let (sender, mut events) = tokio::sync::mpsc::unbounded_channel();
    let store = Arc::new(SlowStore {
        inner: FileSecretStore::new(secrets),
        slow: Mutex::new(None),
    });
    let app = Passerelle::open(config, store.clone(), Arc::new(Forward(sender))).await?;
    let pid = std::process::id();
    emit(&json!({"t": "ready", "at": now_us(), "pid": pid}));
    // A kill between storing an order and accepting it: the till accepts it now.
    for status in [OrderStatus::New, OrderStatus::Received] {
        let waiting = OrderFilter {
            status: Some(status),
            limit: 1_000_000,
            ..Default::default()
        };
        for order in app.orders(waiting)? {
            maybe_accept(&app, &order.id, false).await;
        }
    }
    let mut commands = BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some((at, event)) => on_event(&app, pid, at, event).await,
                None => break,
            },
            line = commands.next_line() => match line {
                Ok(Some(command)) => {
                    if !on_command(&app, &store, command.trim()).await {
                        break;
                    }
                }
                // The soak is gone.
                Ok(None) | Err(_) => break,
            },
        }
    }
    Ok(())
}

async fn on_event(app: &Passerelle, pid: u32, at: u64, event: PasserelleEvent) {
    match event {
        PasserelleEvent::OrderReceived { order } => {
            emit(&json!({
                "t": "order", "at": at, "pid": pid, "id": order.id,
                "location": order.location_id, "seen": order.seen,
            }));
            // Reported (shown to the staff): seen, so not announced again after a restart.
            if let Err(err) = app.mark_orders_seen(vec![order.id.clone()]) {
                emit_error("mark_orders_seen", &err);
            }
            maybe_accept(app, &order.id, false).await;
        }
        PasserelleEvent::SyncHealthChanged { health } => {
            emit(&health_line(&health, at, None));
        }
        PasserelleEvent::ItemQuarantined { item } => emit(&json!({
            "t": "quarantined", "at": at, "order_id": item.order_id,
            "is_event": item.is_event, "attempts": item.attempts, "reason": item.reason,
        })),
        PasserelleEvent::ChangeFailed { change } => emit(&json!({
            "t": "change_failed", "at": at, "order_id": change.order_id,
            "status": change.status, "attempts": change.attempts, "reason": change.reason,
        })),
        PasserelleEvent::OrderConflict { order_id, reason } => emit(&json!({
            "t": "conflict", "at": at, "order_id": order_id, "reason": reason,
        })),
        PasserelleEvent::ReconnectNeeded {
            connection_id,
            reason,
        } => emit(&json!({
            "t": "reconnect_needed", "at": at, "connection": connection_id, "reason": reason,
        })),
        _ => {}
    }
}

/// Runs one command; `false` when the child should end.
async fn on_command(app: &Passerelle, store: &SlowStore, command: &str) -> bool {
    let (verb, rest) = command.split_once(' ').unwrap_or((command, ""));
    match verb {
        "hint" => {
            if let Err(err) = app.network_available() {
                emit_error("network_available", &err);
            }
            emit(&json!({"t": "hint", "at": now_us()}));
        }
        "clock" => {
            let by_ms: i64 = rest.parse().unwrap_or(0);
            passerelle_core::testing::set_wall_clock_by(by_ms);
            emit(&json!({"t": "clock", "at": now_us(), "by_ms": by_ms}));
        }
        "slow" => {
            let (name, secs) = rest.rsplit_once(' ').unwrap_or((rest, "0"));
            let secs: u64 = secs.parse().unwrap_or(0);
            let connection = app.sync_health().ok().and_then(|h| {
                h.connections
                    .into_iter()
                    .find(|c| c.location_name.as_deref() == Some(name))
                    .map(|c| c.connection_id)
            });
            match connection {
                Some(id) => {
                    *store.slow.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some((id, Instant::now() + Duration::from_secs(secs)));
                    emit(&json!({"t": "slow", "at": now_us(), "name": name, "secs": secs}));
                }
                None => emit_error("slow", &format!("no connection for {name:?}")),
            }
        }
        "health" => match app.sync_health() {
            Ok(health) => emit(&health_line(&health, now_us(), rest.parse().ok())),
            Err(err) => emit_error("sync_health", &err),
        },
        "accept" => {
            let done = maybe_accept(app, rest, true).await;
            emit(&json!({"t": "accepted", "at": now_us(), "id": rest, "done": done}));
        }
        "report" => {
            let quarantined = app.quarantined_items().map(|items| {
                items
                    .iter()
                    .map(|i| json!({"order_id": i.order_id, "is_event": i.is_event, "attempts": i.attempts, "reason": i.reason}))
                    .collect::<Vec<_>>()
            });
            let failed = app.failed_changes().map(|changes| {
                changes
                    .iter()
                    .map(|c| json!({"order_id": c.order_id, "status": c.status, "attempts": c.attempts, "reason": c.reason}))
                    .collect::<Vec<_>>()
            });
            let unseen = app.unseen_orders().map(|o| o.len());
            match (quarantined, failed, unseen, app.sync_health()) {
                (Ok(quarantined), Ok(failed), Ok(unseen), Ok(health)) => emit(&json!({
                    "t": "report", "at": now_us(), "quarantined": quarantined,
                    "failed": failed, "unseen": unseen,
                    "health": health_line(&health, now_us(), None),
                })),
                _ => emit_error("report", &"a query failed"),
            }
        }
        "close" => {
            if let Err(err) = app.close().await {
                emit_error("close", &err);
            }
            emit(&json!({"t": "closed", "at": now_us()}));
            return false;
        }
        other => emit_error("command", &format!("unknown command {other:?}")),
    }
    true
}
