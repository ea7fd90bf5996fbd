//! The running workers, shared by the engine (which starts and stops them) and the stream
//! listener (which wakes them when the POS backend's stream brings something).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

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

pub(super) fn lock<T>(mutex: &Mutex<T>) -> crate::logging::Locked<MutexGuard<'_, T>> {
    // Nothing panics while these maps are held; a poisoned one is still consistent.
    crate::logging::locked(|| mutex.lock().unwrap_or_else(|p| p.into_inner()))
}
