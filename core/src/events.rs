//! Events announced to the host, delivered in order on a dedicated thread so that a slow
//! listener never holds a lock of the library or stalls the sync.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::model::connection::HubriseConnection;
use crate::model::health::{DatabaseRecovery, FailedChange, QuarantinedItem, SyncHealth};
use crate::model::order::Order;
use crate::model::snapshot::ConfigChange;

/// Something the host may want to show or sound.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum PasserelleEvent {
    /// Changes wait for `restart()`; show the "Restart to apply" banner.
    RestartRequired { changes: Vec<ConfigChange> },
    /// A restart (or open) applied the configuration with this version.
    ConfigurationApplied { version: u64 },
    /// A connection's state, names or failure changed.
    ConnectionChanged { connection: HubriseConnection },
    /// HubRise refused a connection's token: offer "Reconnect HubRise".
    ReconnectNeeded {
        connection_id: String,
        reason: String,
    },
    /// The POS backend could not be reached at open or restart: the last active configuration
    /// stays in use. Retried at the next restart or `sync_now`.
    BackendUnavailable { reason: String },
    /// The POS session is over (the POS backend refused it and its refresh): show "sign in
    /// again". HubRise orders keep flowing meanwhile; only what needs the POS backend waits.
    SessionExpired,
    /// The database was unreadable and started again with the same HubRise identity: tell the
    /// staff which orders to check; connections are made again (sign in, reconnect), and their
    /// first catch-up reaches back 24 hours.
    DatabaseRecovered { recovery: DatabaseRecovery },
    /// A new order arrived: show it and sound the alert.
    OrderReceived { order: Order },
    /// An order changed (a customer cancellation, a status pushed from the till).
    OrderUpdated { order: Order },
    /// A connection's sync health changed (orders flowing, delayed, reconnect needed, items
    /// needing attention): update the banner.
    SyncHealthChanged { health: SyncHealth },
    /// An event or an order was set aside after failing past its budget; the rest goes on.
    ItemQuarantined { item: QuarantinedItem },
    /// A change from the till could not be pushed within its budget; it can be retried.
    ChangeFailed { change: FailedChange },
    /// A change made at the till was not applied because HubRise's state wins (design D9), or
    /// HubRise refused it.
    OrderConflict { order_id: String, reason: String },
}

/// Implemented by the host. Called on a library thread, one event at a time, in order; keep it
/// quick (hand the event to the main actor or an `AsyncStream`). It may call the library (read
/// the order it was told about): no lock of the library is held while it runs, and nothing in
/// the library waits for it, not even `close()` or the instance's drop (docs/locks.md).
#[cfg_attr(feature = "uniffi", uniffi::export(with_foreign))]
pub trait EventListener: Send + Sync {
    fn on_event(&self, event: PasserelleEvent);
}

/// What the listener thread takes from its queue: an event to hand over, or a barrier to answer
/// once every event queued before it was handed over.
enum Message {
    Event(Box<PasserelleEvent>),
    Barrier(oneshot::Sender<()>),
}

/// Queues events for the listener thread. Dropping the last sender ends the thread.
#[derive(Clone)]
pub struct EventBus {
    sender: mpsc::Sender<Message>,
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventBus")
    }
}

impl EventBus {
    pub fn start(listener: Arc<dyn EventListener>) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::channel::<Message>();
        std::thread::Builder::new()
            .name("passerelle-events".into())
            .spawn(move || {
                for message in receiver {
                    let event = match message {
                        Message::Event(event) => *event,
                        Message::Barrier(reached) => {
                            // Nobody waiting any more (its wait timed out) is fine.
                            let _ = reached.send(());
                            continue;
                        }
                    };
                    let listener = &listener;
                    // A panicking Rust listener must not take the queue down with it.
                    let delivered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        listener.on_event(event)
                    }));
                    if delivered.is_err() {
                        tracing::error!(target: "passerelle::events", "event listener panicked");
                    }
                }
            })?;
        Ok(Self { sender })
    }

    pub fn emit(&self, event: PasserelleEvent) {
        // Fails only when the listener thread is gone, i.e. while shutting down.
        let _ = self.sender.send(Message::Event(Box::new(event)));
    }

    /// Waits until the listener has been handed every event emitted before this call, or `limit`
    /// passed (then `false`). Only a host that asks waits (`Passerelle::events_delivered`, which
    /// the Swift package calls after `open`); the library itself never waits for its listener.
    pub async fn delivered(&self, limit: Duration) -> bool {
        let (reached, wait) = oneshot::channel();
        if self.sender.send(Message::Barrier(reached)).is_err() {
            return true; // the listener thread is gone: nothing is left to hand over
        }
        tokio::time::timeout(limit, wait).await.is_ok()
    }
}
