//! Reloading the POS backend's HubRise configuration on `open()` and `restart()` (design D1):
//! connections made off the device (the POS vendor's web back office, HubRise's back office)
//! appear as pending until the host confirms them (design D3); removals made off the device
//! become pending removals. An unreachable backend never drops a connection: the last active
//! configuration stays, and the status says why.

use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use crate::clients::hubrise::api::HubriseApi;
use crate::clients::hubrise::token::HubriseTokenResponse;
use crate::clients::pos::backend::{BackendConnection, BackendConnections, PosBackend};
use crate::context::Context;
use crate::context::session_keeper::PosSessionKeeper;
use crate::error::{Error, Result, Service};
use crate::events::{EventBus, PasserelleEvent};
use crate::model::connection::{
    ConnectionNames, ConnectionOrigin, ConnectionState, HubriseConnection,
};
use crate::model::health::BackendStatus;
use crate::secrets::{Secrets, keys};
use crate::store::connections::{self, NewConnection};
use crate::store::{Store, meta, new_id};

/// How long `open()` and `restart()` wait for the POS backend's configuration. A session refresh
/// under way when it runs out still completes and is saved (`PosSessionKeeper` runs it on its own
/// task): the backend has rotated the refresh token by then.
const RELOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The backend status, self by the facade and the reload.
#[derive(Debug, Default)]
pub struct StatusCell(RwLock<BackendStatus>);

impl StatusCell {
    pub fn get(&self) -> BackendStatus {
        self.0.read().map(|s| s.clone()).unwrap_or_default()
    }

    fn set(&self, status: BackendStatus) {
        let mut guard = self.0.write().unwrap_or_else(|p| p.into_inner());
        *guard = status;
    }
}

/// The POS backend's view of the account's connections, merged into the local one.
pub struct OffDevice {
    store: Arc<Store>,
    secrets: Secrets,
    events: EventBus,
    pos: PosBackend,
    hubrise: HubriseApi,
    sessions: Arc<PosSessionKeeper>,
    status: StatusCell,
}

impl OffDevice {
    pub fn new(ctx: &Context) -> Self {
        Self {
            store: ctx.store.clone(),
            secrets: ctx.secrets.clone(),
            events: ctx.events.clone(),
            pos: ctx.pos.clone(),
            hubrise: ctx.hubrise.clone(),
            sessions: ctx.sessions.clone(),
            status: StatusCell::default(),
        }
    }

    /// Whether the POS backend answered at the last reload.
    pub fn status(&self) -> BackendStatus {
        self.status.get()
    }

    /// Reloads the configuration when a POS account is signed in. Failures are recorded in the
    /// status (and announced), never returned: the app opens on its last configuration.
    pub async fn reload(&self) {
        // The till must open even when the backend hangs: after this, the last configuration is used.
        let result = tokio::time::timeout(RELOAD_TIMEOUT, self.fetch_and_merge())
            .await
            .unwrap_or_else(|_| {
                Err(Error::NoAnswerInTime {
                    service: Service::PosBackend,
                })
            });
        let previous = self.status.get();
        match result {
            Ok(()) => self.status.set(BackendStatus {
                reachable: true,
                last_error: None,
                last_reloaded_at: Some(SystemTime::now()),
                sign_in_required: false,
            }),
            Err(Error::NotSignedIn) => {}
            Err(err) => {
                tracing::warn!(target: "passerelle::pos", code = err.code(), "POS backend configuration not reloaded");
                let reason = err.to_public().to_string();
                self.events.emit(PasserelleEvent::BackendUnavailable {
                    reason: reason.clone(),
                });
                self.status.set(BackendStatus {
                    reachable: false,
                    last_error: Some(reason),
                    last_reloaded_at: previous.last_reloaded_at,
                    sign_in_required: err.ends_pos_session(),
                });
            }
        }
    }

    async fn fetch_and_merge(&self) -> Result<()> {
        let account = self.sessions.account()?;
        let etag_key = meta::pos_configuration_etag(&account.account_id);
        let etag = self.store.read(|c| meta::get(c, &etag_key))?;
        let etag = etag.as_deref();
        let answer = self
            .sessions
            .authorized(|access| async move { self.pos.connections(&access, etag).await })
            .await?;
        let Some((listed, etag)) = answer else {
            tracing::debug!(target: "passerelle::pos", "POS backend configuration unchanged");
            return Ok(());
        };
        let changed = self.merge(&account.account_id, &listed)?;
        self.store
            .write(|tx| meta::set(tx, &etag_key, etag.as_deref().unwrap_or_default()))?;
        for connection in changed {
            self.events
                .emit(PasserelleEvent::ConnectionChanged { connection });
        }
        Ok(())
    }

    /// Applies the backend's view to the local connections; returns the ones that changed.
    fn merge(
        &self,
        pos_account_id: &str,
        listed: &BackendConnections,
    ) -> Result<Vec<HubriseConnection>> {
        let mut changed_ids = Vec::new();
        for entry in &listed.connections {
            let local = self.store.read(|c| {
                connections::find_live_by_location(c, pos_account_id, &entry.names.location_id)
            })?;
            let active = entry.state == "active";
            // Another entry may still be active for the location (another device, a reconnect).
            let location_active = listed
                .connections
                .iter()
                .any(|e| e.names.location_id == entry.names.location_id && e.state == "active");
            match (local, active) {
                (None, true) => {
                    if let Some(id) = self.add_off_device(pos_account_id, entry)? {
                        changed_ids.push(id);
                    }
                }
                (Some(row), true) => {
                    self.store
                        .write(|tx| connections::update_names(tx, &row.public.id, &entry.names))?;
                }
                (Some(row), false) if !location_active => {
                    self.remove_off_device(&row)?;
                    changed_ids.push(row.public.id);
                }
                _ => {}
            }
        }
        changed_ids
            .iter()
            .map(|id| {
                self.store
                    .read(|c| connections::get(c, id))
                    .map(|row| row.public)
            })
            .collect()
    }

    /// A connection made in a back office: listed as pending, needing the host's confirmation. Its
    /// token is fetched only when confirmed. Connections made by a device (another iPad) are that
    /// device's: this one makes its own.
    fn add_off_device(
        &self,
        pos_account_id: &str,
        entry: &BackendConnection,
    ) -> Result<Option<String>> {
        let origin = match entry.origin.as_str() {
            "web" => ConnectionOrigin::PosBackOffice,
            "hubrise_back_office" => ConnectionOrigin::HubriseBackOffice,
            _ => return Ok(None),
        };
        let id = new_id();
        let secret_key = keys::hubrise_token(&id);
        let names = entry.names.clone();
        let new = NewConnection {
            id: &id,
            pos_account_id,
            names: &names,
            origin,
            state: ConnectionState::Pending,
            needs_confirmation: true,
            secret_key: &secret_key,
        };
        self.store.write(|tx| {
            connections::insert(tx, &new)?;
            match entry.connected_at_ms() {
                Some(at) => connections::set_connected_at(tx, &id, at),
                None => Ok(()),
            }
        })?;
        tracing::info!(target: "passerelle::pos", location = %entry.names.location_id, "connection made off the device, waiting for confirmation");
        Ok(Some(id))
    }

    /// Disconnected off the device: a never-confirmed connection goes at once; an active one
    /// becomes a pending removal, its token deleted (HubRise has blocked it already).
    fn remove_off_device(&self, row: &connections::ConnectionRow) -> Result<()> {
        self.secrets.delete(&row.secret_key)?;
        let state = if row.public.needs_confirmation {
            ConnectionState::Removed
        } else {
            ConnectionState::Removing
        };
        self.store
            .write(|tx| connections::set_state(tx, &row.public.id, state))?;
        tracing::info!(target: "passerelle::pos", connection = %row.public.id, "disconnected off the device");
        Ok(())
    }

    /// The host confirmed an off-device connection: fetch its token from the backend, ask
    /// HubRise which location and account it is bound to and check they are the ones shown, and
    /// ask for one catch-up from when HubRise made the connection, so orders placed before the
    /// device saw it arrive (design D19). Returns the connection, ready to go active.
    pub async fn confirm(&self, connection_id: &str) -> Result<connections::ConnectionRow> {
        let row = self.awaiting_confirmation(connection_id)?;
        let location = row.public.location_id.as_str();
        let token = self
            .sessions
            .authorized(|access| async move { self.pos.off_device_token(&access, location).await })
            .await?;
        let names = self.token_names(&token, &row.public).await?;
        check_same_connection(&row.public, &names)?;
        self.secrets.set(&row.secret_key, &token.secret())?;
        self.store.write(|tx| {
            connections::update_names(tx, connection_id, &names)?;
            if let Some(at) = connections::connected_at(tx, connection_id)? {
                connections::request_catch_up(tx, connection_id, at)?;
            }
            connections::set_confirmed(tx, connection_id)
        })?;
        self.store.read(|c| connections::get(c, connection_id))
    }

    /// What the handed-over token is bound to, as HubRise says (`GET /location`). The backend's
    /// answer may leave `location_id` out, or name the location shown while the token is bound
    /// to another; the names shown to the host came from the backend too, so checking its
    /// answer against them would prove nothing (design D19). One request per confirmation.
    async fn token_names(
        &self,
        token: &HubriseTokenResponse,
        shown: &HubriseConnection,
    ) -> Result<ConnectionNames> {
        let bound = self.hubrise.location(&token.secret()).await?.names();
        // The location and account are HubRise's; the catalog, customer list and app instance
        // stay as the backend said (or listed them), HubRise's `/location` not naming them.
        let listed = token
            .names()
            .unwrap_or_else(|| ConnectionNames::from(shown));
        Ok(ConnectionNames {
            location_id: bound.location_id,
            location_name: bound.location_name.or(listed.location_name),
            account_id: bound.account_id.or(listed.account_id),
            account_name: bound.account_name.or(listed.account_name),
            ..listed
        })
    }

    /// The host refused an off-device connection: the backend revokes it; it never routes orders.
    pub async fn refuse(&self, connection_id: &str) -> Result<HubriseConnection> {
        let row = self.awaiting_confirmation(connection_id)?;
        let location = row.public.location_id.as_str();
        let revoked = self
            .sessions
            .authorized(
                |access| async move { self.pos.broker_revoke(&access, location, None).await },
            )
            .await;
        if let Err(err) = revoked {
            tracing::warn!(target: "passerelle::pos", code = err.code(), "refused connection not revoked at the backend");
        }
        self.store
            .write(|tx| connections::set_state(tx, connection_id, ConnectionState::Removed))?;
        let mut connection = row.public;
        connection.state = ConnectionState::Removed;
        Ok(connection)
    }

    fn awaiting_confirmation(&self, connection_id: &str) -> Result<connections::ConnectionRow> {
        let row = self.store.read(|c| connections::get(c, connection_id))?;
        if !row.public.needs_confirmation || row.public.state != ConnectionState::Pending {
            return Err(Error::InvalidState {
                reason: "this connection is not waiting for a confirmation".into(),
            });
        }
        Ok(row)
    }
}

/// The token handed over must be for the location (and HubRise account) the host confirmed: a
/// mismatch routes nothing.
fn check_same_connection(shown: &HubriseConnection, token: &ConnectionNames) -> Result<()> {
    let location_differs = token.location_id != shown.location_id;
    let account_differs = matches!(
        (&token.account_id, &shown.account_id),
        (Some(token), Some(shown)) if token != shown
    );
    if location_differs || account_differs {
        tracing::error!(target: "passerelle::pos", connection = %shown.id, "handed-over token is for another location");
        return Err(Error::ConnectionMismatch {
            reason: format!(
                "the token is for location {}, not {}",
                token.location_id, shown.location_id
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::connection::{ConnectionOrigin, ConnectionState};

    fn shown() -> HubriseConnection {
        HubriseConnection {
            id: "c1".into(),
            location_id: "3r4s3-1".into(),
            location_name: Some("Paris".into()),
            account_id: Some("3r4s3".into()),
            account_name: None,
            catalog_id: None,
            catalog_name: None,
            customer_list_id: None,
            customer_list_name: None,
            app_instance_id: None,
            origin: ConnectionOrigin::PosBackOffice,
            state: ConnectionState::Pending,
            needs_confirmation: true,
            reconnect_needed: false,
            last_failed_at: None,
            last_failed_reason: None,
            created_at: std::time::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_token_for_another_location_or_account_routes_nothing() {
        let same = ConnectionNames::from(&shown());
        assert!(check_same_connection(&shown(), &same).is_ok());
        let other_location = ConnectionNames {
            location_id: "3r4s3-2".into(),
            ..same.clone()
        };
        let err = check_same_connection(&shown(), &other_location).unwrap_err();
        assert_eq!(err.code(), "connection_mismatch");
        let other_account = ConnectionNames {
            account_id: Some("zz999".into()),
            ..same
        };
        assert!(check_same_connection(&shown(), &other_account).is_err());
    }
}
