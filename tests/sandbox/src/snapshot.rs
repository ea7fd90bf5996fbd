//! The optional JSON snapshot (`--state`): loaded at start, saved while running and at stop, so
//! a restarted sandbox keeps its connections, orders, events and POS configuration.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::hubrise::model::HubriseData;
use crate::pos::model::PosData;
use crate::sandbox::SandboxError;
use crate::seed::Seed;
use crate::state::{Shared, World};

const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Snapshot {
    format: u32,
    client_secret: String,
    other_client_secret: String,
    hubrise: HubriseData,
    pos: PosData,
}

/// Loads `path` if it exists. Secrets come from the snapshot; URLs (which depend on this run's
/// ports) from the fresh seed.
pub(crate) fn restore(path: &Path, seed: &mut Seed, world: &mut World) -> Result<(), SandboxError> {
    if !path.exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(path)?;
    let snapshot: Snapshot =
        serde_json::from_str(&text).map_err(|e| SandboxError::State(e.to_string()))?;
    if snapshot.format != FORMAT {
        return Err(SandboxError::State(format!(
            "unsupported format {}",
            snapshot.format
        )));
    }
    seed.client_secret = snapshot.client_secret;
    seed.other_client.secret = snapshot.other_client_secret;
    let fresh = [seed.client(), seed.other_client.clone()];
    world.hubrise = snapshot.hubrise;
    for client in &mut world.hubrise.clients {
        if let Some(current) = fresh.iter().find(|f| f.id == client.id) {
            *client = current.clone();
        }
    }
    world.pos = snapshot.pos;
    Ok(())
}

fn serialize(shared: &Shared) -> Result<String, serde_json::Error> {
    let world = shared.world();
    let snapshot = Snapshot {
        format: FORMAT,
        client_secret: shared.seed.client_secret.clone(),
        other_client_secret: shared.seed.other_client.secret.clone(),
        hubrise: world.hubrise.clone(),
        pos: world.pos.clone(),
    };
    serde_json::to_string_pretty(&snapshot)
}

/// Writes atomically: a temporary file renamed over the old one.
fn write(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// Saves every second when something changed, and once more at shutdown.
pub(crate) fn spawn_saver(
    shared: Arc<Shared>,
    path: PathBuf,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut last = String::new();
        loop {
            let stopping = tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => false,
                _ = shutdown.wait_for(|stop| *stop) => true,
            };
            match serialize(&shared) {
                Ok(text) if text != last => match write(&path, &text) {
                    Ok(()) => last = text,
                    Err(e) => {
                        tracing::warn!("cannot save sandbox state to {}: {e}", path.display())
                    }
                },
                Ok(_) => {}
                Err(e) => tracing::warn!("cannot serialize sandbox state: {e}"),
            }
            if stopping {
                break;
            }
        }
    })
}
