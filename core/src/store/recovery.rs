//! What a database recovery can still learn from the file kept aside, and when it happened
//! (design D24). An unreadable database is never deleted (`open.rs` moves it aside); when the
//! new one starts, the changes the old one had not pushed are read from it when SQLite still
//! can, so the host can tell the staff which orders to check.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::DATABASE_FILE;

/// How many orders a report names at most.
const REPORTED_ORDERS: u32 = 100;

/// The newest database file kept aside in `dir` (`<file>.unreadable-<ms>`).
pub fn newest_aside(dir: &Path) -> Option<PathBuf> {
    let prefix = format!("{DATABASE_FILE}.unreadable-");
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let stamp: u64 = name.strip_prefix(&prefix)?.parse().ok()?;
            Some((stamp, entry.path()))
        })
        .max_by_key(|(stamp, _)| *stamp)
        .map(|(_, path)| path)
}

/// The orders whose changes the file at `path` had not pushed yet, when SQLite can still read
/// that much of it; `None` when it cannot (then nobody knows: the report says so).
pub fn unsent_changes(path: &Path) -> Option<Vec<String>> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ok()?;
    let mut statement = conn
        .prepare(
            "SELECT DISTINCT order_id FROM outbox WHERE finished_at IS NULL AND kind = 'till'
             ORDER BY order_id LIMIT ?1",
        )
        .ok()?;
    let rows = statement
        .query_map([REPORTED_ORDERS], |row| row.get(0))
        .ok()?;
    rows.collect::<rusqlite::Result<Vec<String>>>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unsent_changes_of_a_file_kept_aside_are_read_when_sqlite_can() {
        let dir = tempfile::tempdir().unwrap();
        let aside = dir
            .path()
            .join(format!("{DATABASE_FILE}.unreadable-1700000000000"));
        let older = dir
            .path()
            .join(format!("{DATABASE_FILE}.unreadable-1600000000000"));
        std::fs::write(&older, b"not a database").unwrap();
        let conn = Connection::open(&aside).unwrap();
        conn.execute_batch(
            "CREATE TABLE outbox (order_id TEXT, kind TEXT, finished_at INTEGER);
             INSERT INTO outbox VALUES ('o2', 'till', NULL), ('o1', 'till', NULL),
                 ('o1', 'till', NULL), ('o3', 'till', 5), ('o4', 'received', NULL);",
        )
        .unwrap();
        drop(conn);

        assert_eq!(newest_aside(dir.path()), Some(aside.clone()));
        assert_eq!(
            unsent_changes(&aside),
            Some(vec!["o1".to_owned(), "o2".to_owned()])
        );
        assert_eq!(unsent_changes(&older), None, "unreadable: nobody knows");
    }
}
