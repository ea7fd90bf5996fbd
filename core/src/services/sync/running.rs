//! The running workers, shared by the engine (which starts and stops them) and the stream
//! listener (which wakes them when the POS backend's stream brings something).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, watch};

use super::worker::Wake;

/// A connection's two lanes: intake (the worker) and the till's changes (the pusher).
pub(super) struct Worker {
    pub wake: Arc<Wake>,
    pub push: Arc<Notify>,
    pub stop: watch::Sender<bool>,
    pub task: tokio::task::JoinHandle<()>,
    pub pusher: tokio::task::JoinHandle<()>,
}

/// The running workers, by connection id.
pub(super) type Workers = Arc<Mutex<HashMap<String, Worker>>>;
