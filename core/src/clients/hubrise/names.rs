//! What HubRise calls a connection's location, account, catalog and customer list now (HubRise's
//! integration guide: the names an app shows must stay true), read within the connection's rate
//! windows. Used by the live check (connect) and the read-back of a sync cycle; keeping what was
//! read is the store's (`store::connections::keep_names`).

use super::api::HubriseApi;
use super::rate_limiter::RateLimiters;
use crate::error::{Error, Result};
use crate::model::connection::{ConnectionNames, HubriseConnection};
use crate::secrets::Secret;

/// How a read of a connection's names spends its rate windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// Waits for room in HubRise's windows (a check the restaurant asked for).
    Wait,
    /// Spends the read-back budget and stops where it has no room (a background read).
    ReadBackBudget,
}

/// What HubRise calls a connection's location, account, catalog and customer list now, and the
/// location's timezone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamesRead {
    pub names: ConnectionNames,
    pub timezone: Option<String>,
    /// False when the read-back budget stopped the read before the catalog or customer list.
    pub complete: bool,
}

/// Reads the names HubRise shows for a connection (HubRise's integration guide: the account,
/// location, catalog and customer list names an app shows must stay true): `GET /location`,
/// `GET /catalogs/:id?hide_data=true` (heavy), `GET /customer_lists/:id`. At most three requests.
/// A catalog or customer list HubRise no longer shows (404, 403) keeps its last name.
pub async fn read(
    hubrise: &HubriseApi,
    limits: &RateLimiters,
    connection: &HubriseConnection,
    token: &Secret,
    spend: Spend,
) -> Result<NamesRead> {
    let id = connection.id.as_str();
    let room = |heavy: bool| async move {
        match spend {
            Spend::Wait => {
                limits.acquire(id, heavy).await;
                true
            }
            Spend::ReadBackBudget => limits.try_acquire_read_back(id, heavy),
        }
    };
    let mut read = NamesRead::default();
    if !room(false).await {
        return Ok(read);
    }
    let location = hubrise.location(token).await?;
    read.names = location.names();
    read.timezone = location.timezone_name().map(str::to_owned);
    if let Some(catalog_id) = &connection.catalog_id {
        if !room(true).await {
            return Ok(read);
        }
        if let Some(catalog) = still_shown(hubrise.catalog(token, catalog_id).await)? {
            read.names.catalog_id = Some(catalog.id);
            read.names.catalog_name = catalog.name;
        }
    }
    if let Some(list_id) = &connection.customer_list_id {
        if !room(false).await {
            return Ok(read);
        }
        if let Some(list) = still_shown(hubrise.customer_list(token, list_id).await)? {
            read.names.customer_list_id = Some(list.id);
            read.names.customer_list_name = list.name;
        }
    }
    read.complete = true;
    Ok(read)
}

/// A resource HubRise answers for, `None` when it no longer shows it to this connection.
fn still_shown<T>(answer: Result<T>) -> Result<Option<T>> {
    match answer {
        Ok(value) => Ok(Some(value)),
        Err(Error::Server {
            status: 403 | 404, ..
        }) => Ok(None),
        Err(err) => Err(err),
    }
}
