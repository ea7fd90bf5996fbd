//! A database recovery keeps the device's HubRise identity (issue 18, design D24): the same
//! `device_id` from the secret store, the lost database's secrets deleted, the host told, and
//! the first catch-up of a connection made again reaching back 24 hours.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use passerelle_core::{
    DATABASE_FILE, DatabaseRecovery, InMemorySecretStore, Passerelle, PasserelleError,
    PasserelleEvent, SecretStore,
};
use passerelle_test_support::{EventRecorder, World, order_received};
use std::sync::Arc;

/// Overwrites the header's magic string: SQLite no longer recognises the file.
fn corrupt(dir: &std::path::Path) {
    let db = dir.join(DATABASE_FILE);
    let mut bytes = std::fs::read(&db).unwrap();
    bytes[..16].copy_from_slice(b"CORRUPTED HEADER");
    std::fs::write(&db, &bytes).unwrap();
}

/// Corrupts the closed database, sees the first open fail with `CorruptDatabase` (the file
/// moved aside) and the second start again: returns it and what it announced.
async fn corrupt_and_reopen(world: &World) -> (Passerelle, Arc<EventRecorder>, DatabaseRecovery) {
    corrupt(world.dir.path());
    let err = Passerelle::open(
        world.config(),
        world.secrets.clone(),
        Arc::new(EventRecorder::new()),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, PasserelleError::CorruptDatabase { .. }),
        "{err:?}"
    );
    let (app, events) = world.open().await;
    let recovered = events
        .wait_for(
            |e| matches!(e, PasserelleEvent::DatabaseRecovered { .. }),
            Duration::from_secs(5),
        )
        .await
        .expect("the host is told");
    let PasserelleEvent::DatabaseRecovered { recovery } = recovered else {
        unreachable!()
    };
    (app, events, recovery)
}

#[tokio::test]
async fn a_recovered_database_keeps_the_identity_cleans_orphans_and_catches_up_a_day() {
    let world = World::start().await;
    let (app, _events) = world.open_signed_in().await;
    let location = world.location_ids()[0].clone();
    world.connect_active(&app, &location).await;
    let device_id = app.device_id().unwrap();
    let lost_secrets = world.account_secrets();
    assert!(!lost_secrets.is_empty());
    app.close().await.unwrap();
    drop(app);

    // While the till is away: HubRise's connection ends (its queue with it) and an order is
    // placed three hours before the till comes back. Only a catch-up can find it.
    let admin = world.sandbox.admin();
    admin.disconnect_connection(&location).await.unwrap();
    let missed = world.place_order(&location, "Honorine").await;
    admin
        .backdate_order(&missed, Duration::from_secs(3 * 3600))
        .await
        .unwrap();
    let (app, events, recovery) = corrupt_and_reopen(&world).await;
    assert_eq!(app.device_id().unwrap(), device_id, "same HubRise identity");
    assert_eq!(
        recovery.orphaned_secrets_deleted as usize,
        lost_secrets.len()
    );
    assert!(recovery.kept_aside_at.is_some());
    assert_eq!(
        recovery.unsent_change_orders, None,
        "a file SQLite cannot read tells nothing"
    );
    assert!(
        world.account_secrets().is_empty(),
        "{:?}",
        world.account_secrets()
    );

    world.sign_in(&app).await;
    world.connect_active(&app, &location).await;
    let connections = admin.connections().await;
    assert!(
        connections
            .iter()
            .all(|c| c.device_id.as_deref() == Some(device_id.as_str())),
        "HubRise sees one device"
    );
    events
        .wait_for(order_received(&missed), Duration::from_secs(10))
        .await
        .expect("the order placed 3 h before comes by the first catch-up");
}

#[tokio::test]
async fn secrets_written_before_the_upgrade_are_cleaned_by_a_later_recovery() {
    let world = World::start().await;
    let (app, _events) = world.open_signed_in().await;
    let location = world.location_ids()[0].clone();
    world.connect_active(&app, &location).await;
    app.close().await.unwrap();
    drop(app);
    // As an older version left them: no identity in the secret store, no list of keys, and
    // no mark in the database that the secret store had the identity.
    for key in world.secrets.keys() {
        if key.starts_with("passerelle/") {
            world.secrets.delete(key).unwrap();
        }
    }
    rusqlite::Connection::open(world.dir.path().join(DATABASE_FILE))
        .unwrap()
        .execute(
            "DELETE FROM meta WHERE key = 'device_id_in_secret_store'",
            [],
        )
        .unwrap();
    let written = world.account_secrets();
    assert!(!written.is_empty());
    let (upgraded, _events) = world.open().await;
    upgraded.close().await.unwrap();
    drop(upgraded);

    let (_app, _events, recovery) = corrupt_and_reopen(&world).await;
    assert_eq!(recovery.orphaned_secrets_deleted as usize, written.len());
    assert!(
        world.account_secrets().is_empty(),
        "{:?}",
        world.account_secrets()
    );
}

/// An iPad restored from another iPad's backup holds that iPad's database, not its secret store
/// (the identity and the tokens are `ThisDeviceOnly` Keychain items). Speaking to HubRise with
/// the other's `device_id` would get the other's token and event queue (design D5), and the two
/// tills would take each other's orders: the restored one takes a new identity.
#[tokio::test]
async fn a_database_restored_on_another_ipad_takes_a_new_identity() {
    let world = World::start().await;
    let (app, _events) = world.open_signed_in().await;
    let location = world.location_ids()[0].clone();
    world.connect_active(&app, &location).await;
    let original = app.device_id().unwrap();

    let restored_dir = tempfile::tempdir().unwrap();
    app.close().await.unwrap();
    for entry in std::fs::read_dir(world.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, restored_dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let mut config = world.config();
    config.data_dir = restored_dir.path().display().to_string();
    let restored = Passerelle::open(
        config,
        Arc::new(InMemorySecretStore::new()),
        Arc::new(EventRecorder::new()),
    )
    .await
    .unwrap();
    let new_identity = restored.device_id().unwrap();
    assert_ne!(
        new_identity, original,
        "the restored iPad speaks as the other"
    );

    // Both tills connected to the location: HubRise sees two devices, two queues.
    world.sign_in(&restored).await;
    world.connect_active(&restored, &location).await;
    let devices: std::collections::BTreeSet<_> = world
        .sandbox
        .admin()
        .connections()
        .await
        .into_iter()
        .filter_map(|c| c.device_id)
        .collect();
    assert!(
        devices.contains(&original) && devices.contains(&new_identity),
        "{devices:?}"
    );
    // The original iPad keeps its own.
    drop(app);
    let (again, _events) = world.open().await;
    assert_eq!(again.device_id().unwrap(), original);
}
