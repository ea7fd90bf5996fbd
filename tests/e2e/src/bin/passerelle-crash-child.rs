//! The process the kill tests start and kill: it opens Passerelle on a data directory (which
//! applies any pending configuration) and, with `sync`, syncs and accepts orders until killed or
//! done. `PASSERELLE_FAILPOINT` names a point where it aborts itself. With `sync`, it prints
//! [`SYNCING`] on stdout as its first cycle starts, so the test kills it mid-sync, not before.
//!
//! Usage: passerelle-crash-child <open|sync> <config.json> <secrets.json> [rounds]

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use passerelle_core::{
    EventListener, OrderFilter, OrderStatus, Passerelle, PasserelleConfig, PasserelleEvent,
};
use passerelle_e2e::CRASH_CHILD_SYNCING as SYNCING;
use passerelle_test_support::config_from_json;
use passerelle_test_support::file_secrets::FileSecretStore;

struct Quiet;

impl EventListener for Quiet {
    fn on_event(&self, _event: PasserelleEvent) {}
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(config), Some(secrets)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!(
            "usage: passerelle-crash-child <open|sync> <config.json> <secrets.json> [rounds]"
        );
        return ExitCode::from(2);
    };
    let rounds: u32 = args.get(4).and_then(|r| r.parse().ok()).unwrap_or(3);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(mode, config, secrets, rounds)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("crash child: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(mode: &str, config: &str, secrets: &str, rounds: u32) -> Result<(), String> {
    let json = std::fs::read_to_string(config).map_err(|e| e.to_string())?;
    let config: PasserelleConfig =
        config_from_json(&serde_json::from_str(&json).map_err(|e| e.to_string())?)?;
    let app = Passerelle::open(
        config,
        Arc::new(FileSecretStore::new(secrets)),
        Arc::new(Quiet),
    )
    .await
    .map_err(|e| e.to_string())?;
    if mode != "sync" {
        return Ok(());
    }
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{SYNCING}").map_err(|e| e.to_string())?;
    stdout.flush().map_err(|e| e.to_string())?;
    for _ in 0..rounds {
        // Errors are expected under faults; the next round retries.
        let _ = app.sync_now().await;
        let received = OrderFilter {
            status: Some(OrderStatus::Received),
            limit: 1000,
            ..Default::default()
        };
        for order in app.orders(received).map_err(|e| e.to_string())? {
            if order.pending_status.is_none() {
                app.accept(
                    &order.id,
                    Some(SystemTime::now() + Duration::from_secs(1200)),
                )
                .await
                .map_err(|e| e.to_string())?;
            }
        }
        let _ = app.sync_now().await;
    }
    app.stop_sync().await.map_err(|e| e.to_string())
}
