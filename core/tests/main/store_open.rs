//! Opening the data directory: bad directories, files that are not SQLite, corrupt and newer
//! databases each get a typed error, and no user data is ever deleted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::sync::Arc;

use passerelle_core::testing::EventRecorder;
use passerelle_core::{
    DATABASE_FILE, InMemorySecretStore, Passerelle, PasserelleError, SCHEMA_VERSION,
};

async fn open_err(config: passerelle_core::PasserelleConfig) -> PasserelleError {
    let events = Arc::new(EventRecorder::new());
    Passerelle::open(config, Arc::new(InMemorySecretStore::new()), events)
        .await
        .unwrap_err()
}

#[tokio::test]
async fn missing_data_directory_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("Application Support/Passerelle");
    let (app, _) = common::open(common::offline_config(&data_dir)).await;
    assert!(data_dir.join(DATABASE_FILE).is_file());
    assert_eq!(app.configuration_version().unwrap(), 1);
}

#[tokio::test]
async fn data_directory_that_is_a_file_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = open_err(common::offline_config(&file.join("sub"))).await;
    assert!(
        matches!(err, PasserelleError::DataDirectory { .. }),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"x", "the file is untouched");
}

#[tokio::test]
async fn a_file_that_is_not_sqlite_is_kept_aside_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DATABASE_FILE);
    let garbage = b"this is a restaurant's menu, not a database".repeat(200);
    std::fs::write(&db, &garbage).unwrap();

    let err = open_err(common::offline_config(dir.path())).await;
    let PasserelleError::CorruptDatabase { moved_to } = err else {
        panic!("{err:?}")
    };
    assert_eq!(std::fs::read(&moved_to).unwrap(), garbage, "nothing lost");
    assert_eq!(err_code(&moved_to), "corrupt_database");

    // The next open starts afresh beside the kept file.
    let (app, _) = common::open(common::offline_config(dir.path())).await;
    assert_eq!(app.configuration_version().unwrap(), 1);
    assert!(std::path::Path::new(&moved_to).exists());
}

fn err_code(moved_to: &str) -> &'static str {
    PasserelleError::CorruptDatabase {
        moved_to: moved_to.into(),
    }
    .code()
}

#[tokio::test]
async fn a_corrupt_database_is_kept_aside() {
    let dir = tempfile::tempdir().unwrap();
    drop(common::open(common::offline_config(dir.path())).await);
    let db = dir.path().join(DATABASE_FILE);
    assert!(
        !dir.path().join(format!("{DATABASE_FILE}-wal")).exists(),
        "a clean close checkpoints the WAL"
    );
    // Overwrite the header's magic string: SQLite no longer recognises the file.
    let mut bytes = std::fs::read(&db).unwrap();
    bytes[..16].copy_from_slice(b"CORRUPTED HEADER");
    std::fs::write(&db, &bytes).unwrap();

    let err = open_err(common::offline_config(dir.path())).await;
    let PasserelleError::CorruptDatabase { moved_to } = err else {
        panic!("{err:?}")
    };
    assert_eq!(std::fs::read(moved_to).unwrap(), bytes);
}

#[tokio::test]
async fn a_newer_schema_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DATABASE_FILE);
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
            .unwrap();
    }
    let before = std::fs::read(&db).unwrap();

    let err = open_err(common::offline_config(dir.path())).await;
    assert_eq!(
        err,
        PasserelleError::NewerSchema {
            found: 99,
            supported: SCHEMA_VERSION
        }
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the newer database was not modified"
    );
    assert!(!dir.path().join(format!("{DATABASE_FILE}-wal")).exists());
}

#[tokio::test]
async fn schema_is_current_with_wal_and_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    drop(common::open(common::offline_config(dir.path())).await);
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn malformed_configuration_is_refused_before_touching_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::offline_config(&dir.path().join("data"));
    config.client_id = String::new();
    let err = open_err(config).await;
    assert!(matches!(&err, PasserelleError::InvalidConfig { field, .. } if field == "client_id"));
    assert!(!dir.path().join("data").exists());
}
