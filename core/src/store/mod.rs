//! The one SQLite database: opened, checked and migrated here and nowhere else.
//!
//! A writer connection serialises every change in one transaction at a time; a separate reader
//! connection serves the host's queries, so a query from the UI never waits behind a sync (WAL).

mod open;
pub mod sqlite_version;

pub mod accounts;
pub mod connection_reads;
pub mod connections;
pub mod erasure;
pub mod flows;
pub mod meta;
pub mod orders;
pub mod outbox;
pub mod quarantine;
pub mod recovery;
pub mod retention;
pub mod snapshots;
pub mod timers;

pub use open::SCHEMA_VERSION;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::blocking::blocking;
use crate::error::{Error, Result};
use crate::logging::{Locked, locked};

/// File name of the database inside the host's data directory.
pub const DATABASE_FILE: &str = "passerelle.sqlite3";

/// The database, with one writer and one reader connection, and the data directory's lock.
pub struct Store {
    // Dropped (or closed) in this order: the reader first, so that the writer, closing last,
    // checkpoints the WAL into the database file and removes it (a read-only connection
    // cannot); the lock last.
    reader: Mutex<Option<Connection>>,
    writer: Mutex<Option<Connection>>,
    lock: Mutex<Option<std::fs::File>>,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating when needed) and migrates the database in `data_dir`.
    /// Refused with `DataDirectoryInUse` while another instance, in this process or another,
    /// holds the directory.
    pub fn open(data_dir: &Path) -> Result<Self> {
        let dir = open::prepare_data_dir(data_dir)?;
        let lock = open::lock_data_dir(&dir)?;
        let path = dir.join(DATABASE_FILE);
        let writer = open::open_and_migrate(&path)?;
        let reader = open::open_reader(&path)?;
        Ok(Self {
            writer: Mutex::new(Some(writer)),
            reader: Mutex::new(Some(reader)),
            lock: Mutex::new(Some(lock)),
            path,
        })
    }

    /// Closes both connections (checkpointing the WAL) and releases the directory's lock. Every
    /// later read or write fails with `Closed`.
    pub fn close(&self) {
        lock(&self.reader).take();
        lock(&self.writer).take();
        lock(&self.lock).take();
    }

    /// Runs `f` in one IMMEDIATE transaction, committed (durably: `synchronous=FULL`) only if
    /// `f` succeeds.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        self.write_timed(f).map(|(value, _)| value)
    }

    /// As `write`, and how long SQLite's write lock was held (from `BEGIN IMMEDIATE` to the
    /// commit; waiting for it is not counted).
    pub fn write_timed<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<(T, std::time::Duration)> {
        blocking(|| {
            let mut guard = lock(&self.writer);
            let conn = guard.as_mut().ok_or(Error::Closed)?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // SQLite's write lock is held from here (BEGIN IMMEDIATE) to the commit.
            let started = std::time::Instant::now();
            let value = f(&tx)?;
            tx.commit()?;
            Ok((value, started.elapsed()))
        })
    }

    /// Copies the WAL into the database and truncates it to zero bytes, so rows deleted or
    /// scrubbed (zeroed in the database by `secure_delete`) leave no copy in the WAL. Best
    /// effort: `false` when a reader kept it from completing (the next pass tries again).
    pub fn checkpoint_truncate(&self) -> Result<bool> {
        let mut guard = lock(&self.writer);
        let conn = guard.as_mut().ok_or(Error::Closed)?;
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
        Ok(busy == 0)
    }

    /// Copies what the WAL holds into the database without waiting for readers (PASSIVE), so
    /// SQLite's automatic checkpoint (at 1,000 WAL pages) never runs inside the commit of a
    /// transaction that must stay short. Best effort.
    pub fn checkpoint_passive(&self) -> Result<()> {
        let mut guard = lock(&self.writer);
        let conn = guard.as_mut().ok_or(Error::Closed)?;
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Runs read-only `f` on the reader connection, in one read transaction (a consistent view).
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        blocking(|| {
            let mut guard = lock(&self.reader);
            let conn = guard.as_mut().ok_or(Error::Closed)?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let value = f(&tx)?;
            tx.finish()?;
            Ok(value)
        })
    }
}

/// Locks a connection. What is logged while it is held (a row read with a field left empty,
/// say) reaches the host's logger once it is released: a logger that reads the library from
/// `log` never finds this thread holding it (docs/locks.md).
fn lock<T>(mutex: &Mutex<T>) -> Locked<MutexGuard<'_, T>> {
    // A poisoned lock means a panic happened while a transaction was open; SQLite rolled it back
    // when the transaction was dropped, so the connection itself is still sound.
    locked(|| {
        mutex
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    })
}

/// A random identifier for local rows (128 bits, hex).
pub fn new_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
