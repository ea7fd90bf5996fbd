//! Who is calling HubRise's API: the `X-Access-Token` check, the documented 401 bodies, the
//! per-connection rate limits, and which locations the connection may touch.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::model::{Connection, ConnectionState, HubriseData, Location};
use super::scope::Scope;
use crate::errors::ApiError;
use crate::rate_limit::{Windows, is_heavy};
use crate::request_log::{ConnectionTag, TagSlot};
use crate::sandbox::SandboxOptions;
use crate::state::Shared;

pub(crate) const REVOKED: &str = "The access token is invalid or the connection has been revoked";
pub(crate) const BLOCKED: &str = "The connection has been blocked";
pub(crate) const SUSPENDED: &str =
    "The account/location has been suspended for non payment of the subscription";

/// An authenticated API caller (a live connection that passed the rate limits).
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub connection_id: String,
    pub client_id: String,
    pub client_name: String,
    pub account_id: Option<String>,
    pub location_id: Option<String>,
    pub catalog_id: Option<String>,
    pub customer_list_id: Option<String>,
    pub user_id: String,
    pub scope: Scope,
}

impl FromRequestParts<Arc<Shared>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, shared: &Arc<Shared>) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get("x-access-token")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("An access token is required (X-Access-Token header)")
            })?
            .to_owned();
        let options = shared.options();
        let mut world = shared.world();
        // A connection's event queue can be long: copy what the caller needs, not the queue.
        let connection = world
            .hubrise
            .connection_by_token(&token)
            .map(Connection::without_events)
            .ok_or_else(|| ApiError::unauthorized(REVOKED))?;
        if let Some(slot) = parts.extensions.get::<TagSlot>() {
            slot.set(tag(&connection));
        }
        check_alive(&world.hubrise, &connection, &options)?;
        let heavy = is_heavy(parts.method.as_str(), parts.uri.path());
        let windows = Windows::new(options.window_scale);
        let usage = world.usage.entry(connection.id.clone()).or_default();
        if let Err(wait) = usage.try_acquire(&options.limits, windows, heavy) {
            return Err(ApiError::too_many_requests(
                options.retry_after_header.then_some(wait),
            ));
        }
        let client_name = world
            .hubrise
            .client(&connection.client_id)
            .map(|c| c.name.clone())
            .unwrap_or_default();
        Ok(Caller {
            connection_id: connection.id,
            client_id: connection.client_id,
            client_name,
            account_id: connection.account_id,
            location_id: connection.location_id,
            catalog_id: connection.catalog_id,
            customer_list_id: connection.customer_list_id,
            user_id: connection.user_id,
            scope: connection.scope,
        })
    }
}

fn tag(c: &Connection) -> ConnectionTag {
    ConnectionTag {
        connection_id: c.id.clone(),
        client_id: Some(c.client_id.clone()),
        location_id: c.location_id.clone(),
        device_id: c.device_id.clone(),
    }
}

/// The documented 401s (or 429s, as an older page said, behind a switch).
fn check_alive(
    data: &HubriseData,
    c: &Connection,
    options: &SandboxOptions,
) -> Result<(), ApiError> {
    let message = match c.state {
        ConnectionState::Active => {
            let suspended = c
                .location_id
                .as_deref()
                .and_then(|id| data.location(id))
                .is_some_and(|l| l.suspended);
            if !suspended {
                return Ok(());
            }
            SUSPENDED
        }
        ConnectionState::Blocked => BLOCKED,
        ConnectionState::Disconnected | ConnectionState::Revoked => REVOKED,
    };
    let error = ApiError::unauthorized(message);
    if options.legacy_blocked_status && c.state != ConnectionState::Active {
        return Err(error.with_status(StatusCode::TOO_MANY_REQUESTS));
    }
    Err(error)
}

impl Caller {
    /// The location a request is about: its `:location_id`, or the connection's own for the
    /// `/location/...` shorthand. 404 when unknown, 403 when not this connection's.
    pub fn location(&self, data: &HubriseData, params: &Params) -> Result<Location, ApiError> {
        let id = match params.get("location_id") {
            Some(id) => id.to_owned(),
            None => self.location_id.clone().ok_or_else(|| {
                ApiError::forbidden("The /location shorthand needs a location-level connection")
            })?,
        };
        let location = data
            .location(&id)
            .ok_or_else(|| ApiError::not_found(format!("Location '{id}' not found")))?;
        let allowed = match &self.location_id {
            Some(own) => *own == location.id,
            None => self.account_id.as_deref() == Some(location.account_id.as_str()),
        };
        if !allowed {
            return Err(ApiError::forbidden(format!(
                "This connection cannot access location '{id}'"
            )));
        }
        Ok(location.clone())
    }

    /// 403 unless the scope grants `resource` (with write access when `write`).
    pub fn require(&self, resource: &str, write: bool) -> Result<(), ApiError> {
        if self.scope.allows(resource, write) {
            Ok(())
        } else {
            let right = if write { "write" } else { "read" };
            Err(ApiError::forbidden(format!(
                "The connection's scope does not allow {resource}.{right}"
            )))
        }
    }
}

/// Path parameters by name (empty for routes without any).
#[derive(Clone, Debug, Default)]
pub(crate) struct Params(BTreeMap<String, String>);

impl Params {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match RawPathParams::from_request_parts(parts, state).await {
            Ok(raw) => Ok(Params(
                raw.iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            )),
            Err(_) => Ok(Params::default()),
        }
    }
}
