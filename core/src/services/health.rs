//! What happened to a connection, recorded on its row and told to the host: a refusal by HubRise
//! (reconnect needed), a failure that may pass, or any other change. Shared by connect (a live
//! check), sync (a cycle) and restart-to-apply (a confirmation).

use std::sync::Arc;

use crate::context::Context;
use crate::error::Result;
use crate::events::{EventBus, PasserelleEvent};
use crate::model::connection::HubriseConnection;
use crate::store::Store;
use crate::store::connections::{self, ConnectionRow};

#[derive(Clone)]
pub struct Health {
    store: Arc<Store>,
    events: EventBus,
}

impl Health {
    pub fn new(ctx: &Context) -> Self {
        Self {
            store: ctx.store.clone(),
            events: ctx.events.clone(),
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
        self.store.read(|c| connections::get(c, &row.public.id))
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

    /// A failure that may pass by itself (network, server error): remembered on the row.
    pub fn record_failure(&self, connection_id: &str, reason: &str) -> Result<()> {
        self.store
            .write(|tx| connections::record_failure(tx, connection_id, reason, false))
    }
}
