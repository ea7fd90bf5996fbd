//! Faults: the sandbox's fault list (the persistent poison faults, then at most one other), and
//! one module an episode: `transient` (5xx bursts, resets, slow answers, 429s, drawn at random),
//! `cut` (a network cut of every API path), `kill` (SIGKILL and restart of the child), `poison`
//! (a poison order, and a poison change on a held order), and issue 27's: `outage` (the orders
//! route down for 5 minutes), `rate_zero` (`429 Retry-After: 0` windows), `sibling` (another
//! till's accept racing a failed automatic `received`), `clock` (the till's wall clock set
//! forward and back an hour), `slow_store` (the secret store slow for one location's token).
//! Each episode checks the health state during and after it and records its row of the report.

mod clock;
mod cut;
mod kill;
mod outage;
mod poison;
mod rate_zero;
mod sibling;
mod slow_store;
pub(crate) mod transient;

use passerelle_sandbox::{Admin, Fault, FaultKind, ServerKind};

/// The sandbox's fault list: the persistent poison faults first (the first matching fault
/// applies), then at most one other. Every method completes without yielding (the sandbox's
/// admin calls are synchronous under their async signatures, and this runtime has one thread),
/// so a clear followed by the persistent faults put back is atomic for the servers.
pub(crate) struct Faults {
    pub(crate) admin: Admin,
    pub(crate) persistent: Vec<Fault>,
}

impl Faults {
    pub(crate) async fn add_persistent(&mut self, fault: Fault) {
        self.persistent.push(fault.clone());
        self.admin.inject_fault(fault).await;
    }

    pub(crate) async fn inject(&self, fault: Fault) {
        self.admin.inject_fault(fault).await;
    }

    /// Clears every fault but the persistent ones; `first` goes before them (a network cut
    /// takes every request, the poisoned ones too).
    pub(crate) async fn reset(&self, first: Option<Fault>) {
        self.admin.clear_faults().await;
        if let Some(fault) = first {
            self.admin.inject_fault(fault).await;
        }
        for fault in &self.persistent {
            self.admin.inject_fault(fault.clone()).await;
        }
    }

    /// Whether the last transient fault was used up.
    pub(crate) async fn transient_gone(&self) -> bool {
        self.admin.faults().await.len() <= self.persistent.len()
    }
}

pub(crate) fn api_fault(
    prefix: &str,
    method: Option<&str>,
    times: Option<u32>,
    kind: FaultKind,
) -> Fault {
    Fault {
        path_prefix: prefix.into(),
        server: Some(ServerKind::Api),
        method: method.map(str::to_owned),
        times,
        kind,
    }
}
