//! Leaving a till (design D24): signing out, which keeps the account's HubRise connections for
//! its return or disconnects them, and erasing an account's data from the device, for a device
//! handed over or a restaurant's request.

use std::sync::Arc;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::account::{ErasureReport, ErasureScope, SignOutMode, SignOutOutcome};
use crate::model::connection::ConnectionState;
use crate::model::connection::DisconnectOutcome;
use crate::secrets::Secrets;
use crate::services::connect::Connect;
use crate::services::health::Health;
use crate::services::restart::RestartToApply;
use crate::services::sign_in::SignIn;
use crate::services::sync::SyncEngine;
use crate::store::erasure::{self, Erased};
use crate::store::{Store, connections};

/// Rows one erasing transaction deletes at most, so the write lock is never held long.
const ERASE_BATCH_ROWS: u32 = 500;

/// Signs out and erases, over the services that own each step.
pub struct AccountLifecycle {
    store: Arc<Store>,
    secrets: Secrets,
    sign_in: SignIn,
    connect: Connect,
    sync: Arc<SyncEngine>,
    restart: Arc<RestartToApply>,
}

impl AccountLifecycle {
    pub fn new(
        ctx: &Context,
        health: Health,
        sync: Arc<SyncEngine>,
        restart: Arc<RestartToApply>,
    ) -> Self {
        Self {
            store: ctx.store.clone(),
            secrets: ctx.secrets.clone(),
            sign_in: SignIn::new(ctx),
            connect: Connect::new(ctx, health),
            sync,
            restart,
        }
    }

    /// Signs out: sync stops, the POS session leaves the secret store, and the connections are
    /// kept or disconnected as `mode` says. Never a connection that looks active without its
    /// token: kept ones keep it, disconnected ones are removed.
    pub async fn sign_out(&self, mode: SignOutMode) -> Result<SignOutOutcome> {
        let disconnected = match mode {
            SignOutMode::KeepConnections => Vec::new(),
            SignOutMode::DisconnectConnections => self.disconnect_all().await?,
        };
        self.sync.stop().await;
        self.sign_in.sign_out().await?;
        // The account changes: what waits (the removals) applies at once.
        self.restart.account_changed().await?;
        Ok(SignOutOutcome { disconnected })
    }

    /// Revokes the current account's live connections while its POS session can still ask the
    /// backend to (broker strategy).
    async fn disconnect_all(&self) -> Result<Vec<DisconnectOutcome>> {
        let Some(account) = self.sign_in.account()? else {
            return Ok(Vec::new());
        };
        let rows = self
            .store
            .read(|conn| connections::list_live(conn, &account.account_id))?;
        let mut outcomes = Vec::new();
        for row in rows {
            if row.public.state == ConnectionState::Removing {
                continue;
            }
            self.sync.stop_connection(&row.public.id).await;
            outcomes.push(self.connect.disconnect(&row.public.id).await?);
        }
        Ok(outcomes)
    }

    /// Erases the data of the accounts `scope` names: orders (customers included), connections,
    /// their queues, and their secrets; the signed-in account is signed out first with its
    /// connections disconnected. Deleted rows are zeroed in the file (`secure_delete`) and the
    /// WAL truncated, so nothing stays readable on disk.
    pub async fn erase(&self, scope: ErasureScope) -> Result<ErasureReport> {
        let signed_in = self.sign_in.account()?;
        let accounts = match (scope, &signed_in) {
            (ErasureScope::SignedInAccount, None) => {
                return Err(Error::NotSignedIn);
            }
            (ErasureScope::SignedInAccount, Some(account)) => vec![account.account_id.clone()],
            (ErasureScope::EveryAccount, _) => self.store.read(erasure::accounts)?,
        };
        let mut report = ErasureReport::default();
        if signed_in.is_some() {
            let outcome = self.sign_out(SignOutMode::DisconnectConnections).await?;
            report.not_revoked = count(outcome.disconnected.iter().filter(|d| !d.revoked));
        }
        for account in &accounts {
            self.erase_account(account, &mut report).await?;
        }
        self.store.checkpoint_truncate()?;
        tracing::info!(target: "passerelle::pos", accounts = report.accounts, orders = report.orders, "account data erased");
        Ok(report)
    }

    async fn erase_account(&self, pos_account_id: &str, report: &mut ErasureReport) -> Result<()> {
        let keys = self
            .store
            .read(|conn| erasure::secret_keys(conn, pos_account_id))?;
        for key in keys {
            if self.secrets.get(&key)?.is_some() {
                self.secrets.delete(&key)?;
                report.secrets += 1;
            }
        }
        loop {
            let erased: Erased = self
                .store
                .write(|tx| erasure::erase_batch(tx, pos_account_id, ERASE_BATCH_ROWS))?;
            if erased.rows == 0 {
                break;
            }
            report.orders += count_of(erased.orders);
            report.connections += count_of(erased.connections);
            // Between batches, a waiting writer goes first.
            tokio::task::yield_now().await;
        }
        report.accounts += 1;
        Ok(())
    }
}

fn count<T>(items: impl Iterator<Item = T>) -> u32 {
    count_of(items.count())
}

fn count_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
