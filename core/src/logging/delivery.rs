//! Handing records to the host's logger: never from inside it (a logger calling the library
//! would recurse), never while this thread holds one of the library's locks (a logger calling
//! the library would meet it), so records logged under a lock wait until the thread holds none.

use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use super::record::{LogLevel, LogRecord, PasserelleLogger};

pub(super) struct Sink {
    pub(super) logger: Arc<dyn PasserelleLogger>,
    pub(super) level: LogLevel,
}

/// The logger records go to; replaced by each `set_logger`. Read by cloning the `Arc` out: the
/// lock is never held while the host's logger runs.
static SINK: RwLock<Option<Arc<Sink>>> = RwLock::new(None);
thread_local! {
    /// Set while this thread runs the host's logger: what the library logs meanwhile (the
    /// logger calling it) is dropped, not handed back to the logger inside itself.
    static IN_HOST_LOGGER: Cell<bool> = const { Cell::new(false) };
    /// How many of the library's locks this thread holds ([`Locked`]).
    static LOCKS_HELD: Cell<usize> = const { Cell::new(0) };
    /// The records logged while it held them, for when it holds none.
    static HELD_BACK: RefCell<Vec<(Arc<Sink>, LogRecord)>> = const { RefCell::new(Vec::new()) };
}

pub(super) fn replace_sink(sink: Option<Sink>) {
    let sink = sink.map(Arc::new);
    *SINK.write().unwrap_or_else(|p| p.into_inner()) = sink;
}

pub(super) fn current_sink() -> Option<Arc<Sink>> {
    SINK.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Whether this thread is inside the host's logger (what it logs then is dropped).
pub(super) fn in_host_logger() -> bool {
    IN_HOST_LOGGER.try_with(Cell::get).unwrap_or(true)
}

/// Delivers `record` now, or when this thread holds none of the library's locks any more.
pub(super) fn hand_over(sink: Arc<Sink>, record: LogRecord) {
    if LOCKS_HELD.try_with(Cell::get).unwrap_or(0) > 0 {
        let _ = HELD_BACK.try_with(|held| held.borrow_mut().push((sink, record)));
    } else {
        deliver(&sink, record);
    }
}

/// Hands `record` to the host's logger, with no lock of the library held on this thread.
fn deliver(sink: &Sink, record: LogRecord) {
    /// Puts the flag back when `log` returns or unwinds.
    struct InHostLogger(bool);
    impl Drop for InHostLogger {
        fn drop(&mut self) {
            let _ = IN_HOST_LOGGER.try_with(|flag| flag.set(self.0));
        }
    }
    let Ok(before) = IN_HOST_LOGGER.try_with(|flag| flag.replace(true)) else {
        return;
    };
    let _in_logger = InHostLogger(before);
    sink.logger.log(record);
}

/// A guard of one of the library's locks (the store's connections, the sync workers' map...)
/// that holds back the records this thread logs while it is held: they reach the host's logger
/// when the thread holds no such lock any more, in order, so that a logger calling the library
/// never finds a lock its own thread holds. Dropped in order: the lock first, then the records
/// go. Not `Send`: a thread's lock, released on that thread.
pub(crate) struct Locked<G> {
    guard: G,
    _held_back: HeldBack,
}

/// Takes a lock with [`Locked`]: `take` locks it.
pub(crate) fn locked<G>(take: impl FnOnce() -> G) -> Locked<G> {
    let counted = LOCKS_HELD.try_with(|held| held.set(held.get() + 1)).is_ok();
    let held_back = HeldBack {
        counted,
        _thread: PhantomData,
    };
    Locked {
        guard: take(),
        _held_back: held_back,
    }
}

/// Locks one of the library's `std` mutexes with [`Locked`]. Nothing panics while the library
/// holds them, so a poisoned one is still consistent and is taken as it is.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> Locked<MutexGuard<'_, T>> {
    locked(|| mutex.lock().unwrap_or_else(PoisonError::into_inner))
}

impl<G: Deref> Deref for Locked<G> {
    type Target = G::Target;

    fn deref(&self) -> &G::Target {
        &self.guard
    }
}

impl<G: DerefMut> DerefMut for Locked<G> {
    fn deref_mut(&mut self) -> &mut G::Target {
        &mut self.guard
    }
}

/// One lock of the library held by this thread; the records held back go when the last ends.
struct HeldBack {
    /// Counted in `LOCKS_HELD` (not while the thread's locals are torn down).
    counted: bool,
    _thread: PhantomData<*const ()>,
}

impl Drop for HeldBack {
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        let held = LOCKS_HELD.try_with(|held| {
            held.set(held.get().saturating_sub(1));
            held.get()
        });
        if held != Ok(0) {
            return;
        }
        let records = HELD_BACK.try_with(RefCell::take).unwrap_or_default();
        for (sink, record) in records {
            deliver(&sink, record);
        }
    }
}
