//! What Passerelle's end-to-end tests, its walkthrough and its benchmarks share: a configuration
//! pointing at a sandbox ([`config_for`]), the host's event listener with a wait that wakes on
//! each event ([`EventRecorder`]), the restaurant's steps against the seed ([`seeded`]), a
//! file-backed secret store for processes that are killed ([`file_secrets`]) and the
//! sandbox world a test drives ([`World`]), waits for what the engine does by itself ([`wait`]), and passerelle-bridge in front of a sandbox as the POS
//! backend ([`bridge`]), or its binary ([`bridge_binary`]).

pub mod bridge;
pub mod bridge_binary;
pub mod config;
pub mod file_secrets;
pub mod recorder;
pub mod seeded;
pub mod wait;
pub mod world;

use std::time::Duration;

pub use config::{
    POLL_INTERVAL_SECS, SandboxEndpoints, config_for, config_from_json, config_to_json,
};
pub use recorder::{EventRecorder, NotDelivered, order_received};
pub use seeded::SetupError;
pub use wait::{health_shows, wait_until};
pub use world::{POS_BACKEND_ENV, PosBackend, World};

/// How long a test waits for an event the sync engine delivers by itself.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(5);
