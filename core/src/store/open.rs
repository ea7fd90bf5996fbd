//! Opening the database safely: a bad directory, a file that is not SQLite, a corrupt file or one
//! written by a newer Passerelle each get their own typed error, and no user data is ever deleted.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::{Error, Result};
use crate::time::now_ms;

/// The schema version this build writes; `PRAGMA user_version` of an up-to-date database.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Migrations in order; the n-th brings the schema from version n to n + 1.
pub(super) const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_service_grade.sql"),
    include_str!("migrations/0003_connection_reads.sql"),
    include_str!("migrations/0004_retention.sql"),
    include_str!("migrations/0005_summaries.sql"),
    include_str!("migrations/0006_quarantine_retry.sql"),
    include_str!("migrations/0007_read_back_names.sql"),
    include_str!("migrations/0008_outbox_next.sql"),
];

/// File name of the lock that keeps a data directory to one instance at a time.
const LOCK_FILE: &str = "passerelle.lock";

/// How long a statement waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Creates the data directory when missing and checks it can be written.
pub(super) fn prepare_data_dir(dir: &Path) -> Result<PathBuf> {
    let fail = |reason: String| Error::DataDirectory {
        path: dir.display().to_string(),
        reason,
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create it: {e}")))?;
    if !dir.is_dir() {
        return Err(fail("is not a directory".into()));
    }
    // Permissions alone do not tell (root, sandbox rules): try to write.
    let probe = dir.join(".passerelle-write-probe");
    std::fs::write(&probe, b"").map_err(|e| fail(format!("cannot write in it: {e}")))?;
    let _ = std::fs::remove_file(&probe);
    Ok(dir.to_path_buf())
}

/// Takes the directory's lock (an advisory file lock, released when the file is closed, by the
/// system if the process dies): a second instance, in this process or another, is refused.
pub(super) fn lock_data_dir(dir: &Path) -> Result<std::fs::File> {
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::DataDirectoryInUse {
            path: dir.display().to_string(),
        }),
        Err(std::fs::TryLockError::Error(err)) => Err(err.into()),
    }
}

/// Opens the writer connection, refusing newer schemas and moving unreadable files aside.
pub(super) fn open_and_migrate(path: &Path) -> Result<Connection> {
    // The system's SQLite on Apple platforms: refuse one too old for the store's SQL at once.
    super::sqlite_version::check(rusqlite::version_number())?;
    match open_checked(path) {
        Err(OpenError::Unreadable) => Err(move_aside(path)),
        Err(OpenError::Other(err)) => Err(err),
        Ok(conn) => Ok(conn),
    }
}

/// Opens the reader connection on an already migrated database.
pub(super) fn open_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

enum OpenError {
    /// Not a database, or corrupt: the file must be kept aside.
    Unreadable,
    Other(Error),
}

impl From<rusqlite::Error> for OpenError {
    fn from(err: rusqlite::Error) -> Self {
        match err.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => OpenError::Unreadable,
            _ => OpenError::Other(err.into()),
        }
    }
}

fn open_checked(path: &Path) -> std::result::Result<Connection, OpenError> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Reading the header is the first access: a file that is not SQLite fails here, before
    // anything has been written to it.
    let found: u32 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(OpenError::Other(Error::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
        }));
    }
    // FULL: a commit is on disk before we tell HubRise to delete the event it came from.
    // secure_delete: a deleted or overwritten row is zeroed, so personal data scrubbed or pruned
    // leaves no copy in the file's free space (design D24).
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;",
    )?;
    migrate(&mut conn, found)?;
    Ok(conn)
}

/// Applies the missing migrations and the new `user_version` in one transaction.
fn migrate(conn: &mut Connection, from: u32) -> rusqlite::Result<()> {
    if from == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        tracing::info!(target: "passerelle::store", to = index + 1, "applying schema migration");
        tx.execute_batch(sql)?;
        backfill(&tx, index + 1)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()
}

/// What a migration's SQL cannot compute as the library does, run in its transaction after it.
fn backfill(tx: &Connection, version: usize) -> rusqlite::Result<()> {
    match version {
        5 => super::orders::backfill_summary_columns(tx),
        _ => Ok(()),
    }
}

/// Renames the database and its WAL/SHM files to `*.unreadable-<ms>`; never deletes them.
fn move_aside(path: &Path) -> Error {
    let suffix = format!("unreadable-{}", now_ms());
    let target = with_suffix(path, &suffix);
    for companion in ["-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{companion}", path.display()));
        if from.exists() {
            let _ = std::fs::rename(&from, format!("{}{companion}", target.display()));
        }
    }
    match std::fs::rename(path, &target) {
        Ok(()) => {
            tracing::warn!(target: "passerelle::store", moved_to = %target.display(), "unreadable database kept aside");
            Error::CorruptDatabase {
                moved_to: target.display().to_string(),
            }
        }
        Err(err) => Error::storage(format!(
            "database unreadable and could not be moved aside: {err}"
        )),
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}.{suffix}", path.display()))
}
