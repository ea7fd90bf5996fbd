//! The one SQLite database: opened, checked and migrated here and nowhere else.
//!
//! A writer connection serialises every change in one transaction at a time; a separate reader
//! connection serves the host's queries, so a query from the UI never waits behind a sync (WAL).

mod open;

pub mod accounts;
pub mod connection_reads;
pub mod connections;
pub mod flows;
pub mod meta;
pub mod orders;
pub mod outbox;
pub mod snapshots;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::Result;

/// The schema version this build writes; `PRAGMA user_version` of an up-to-date database.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Migrations in order; the n-th brings the schema from version n to n + 1.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    // 0002 is issue 14's (merged separately); 0003 is issue 15's connection reads.
    include_str!("migrations/0003_connection_reads.sql"),
];

/// File name of the database inside the host's data directory.
pub const DATABASE_FILE: &str = "passerelle.sqlite3";

/// The database, with one writer and one reader connection.
pub struct Store {
    // Dropped in this order: the reader first, so that the writer, closing last, checkpoints the
    // WAL into the database file and removes it (a read-only connection cannot).
    reader: Mutex<Connection>,
    writer: Mutex<Connection>,
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
    pub fn open(data_dir: &Path) -> Result<Self> {
        let path = open::prepare_data_dir(data_dir)?.join(DATABASE_FILE);
        let writer = open::open_and_migrate(&path)?;
        let reader = open::open_reader(&path)?;
        Ok(Self {
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            path,
        })
    }

    /// Runs `f` in one IMMEDIATE transaction, committed (durably: `synchronous=FULL`) only if
    /// `f` succeeds.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = lock(&self.writer)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs read-only `f` on the reader connection, in one read transaction (a consistent view).
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let mut conn = lock(&self.reader)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let value = f(&tx)?;
        tx.finish()?;
        Ok(value)
    }
}

fn lock(mutex: &Mutex<Connection>) -> Result<MutexGuard<'_, Connection>> {
    // A poisoned lock means a panic happened while a transaction was open; SQLite rolled it back
    // when the transaction was dropped, so the connection itself is still sound.
    Ok(mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()))
}

/// A random identifier for local rows (128 bits, hex).
pub fn new_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
