//! The logging bridge: the library's logs reach a host-implemented logger, filtered by level and
//! redacted. (In its own process: the bridge is the process's one `tracing` subscriber.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use passerelle_core::{LogLevel, LogRecord, Logger, SecretStore, set_logger};
use passerelle_e2e::alone::in_own_process;
use passerelle_test_support::World;

#[derive(Default)]
struct Collecting(Mutex<Vec<LogRecord>>);

impl Logger for Collecting {
    fn log(&self, record: LogRecord) {
        self.0.lock().unwrap().push(record);
    }
}

#[tokio::test]
async fn logs_reach_the_host_logger_filtered_and_without_secrets() {
    if !in_own_process(concat!(
        module_path!(),
        "::logs_reach_the_host_logger_filtered_and_without_secrets"
    )) {
        return;
    }
    let logger = Arc::new(Collecting::default());
    set_logger(logger.clone(), LogLevel::Info).unwrap();
    let world = World::start().await;
    let (app, _) = world.open_signed_in().await;
    let connection = world.connect(&app, &world.location_ids()[0]).await;
    app.restart().await.unwrap();

    let records = logger.0.lock().unwrap().clone();
    assert!(
        records
            .iter()
            .any(|r| r.target == "passerelle::connect" && r.message.contains("connected")),
        "{records:?}"
    );
    assert!(
        records.iter().all(|r| r.level >= LogLevel::Info),
        "below the level: filtered"
    );

    let token = world
        .secrets
        .get(format!("hubrise/connection/{}/access_token", connection.id))
        .unwrap()
        .unwrap();
    let password = world.sandbox.seed().pos_account().password.clone();
    for record in &records {
        assert!(!record.message.contains(&token) && !record.message.contains(&password));
    }

    // A second call changes the level (and could change the logger).
    set_logger(logger.clone(), LogLevel::Debug).unwrap();
    app.check_connection(&connection.id).await.unwrap();
    assert!(
        logger
            .0
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.level == LogLevel::Debug)
    );
}
