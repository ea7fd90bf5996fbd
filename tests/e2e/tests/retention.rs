//! Retention and erasure (issue 18, design D24) against the sandbox and real SQLite files:
//! customers' personal data leaves the database, its WAL and its shared-memory file after the
//! scrub delay; finished orders, processed event ids, finished outbox rows and removed
//! connections are pruned; open orders stay.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use passerelle_core::{
    DATABASE_FILE, ErasureScope, OrderFilter, OrderStatus, PasserelleEvent, Retention,
    UNFINISHED_GRACE, UNSEEN_ANNOUNCED_FOR,
};
use passerelle_sandbox::seed::sample_order;
use passerelle_test_support::{EVENT_TIMEOUT, World, order_received};

/// What the customer of the test order gave, each unique enough to find in raw bytes.
const PERSONAL: [&str; 5] = [
    "Zephyrine",
    "Quintessa-Dupont",
    "zephyrine.q@example.org",
    "+33699887766",
    "Sonnez chez Zephyrine",
];

fn private_order() -> serde_json::Value {
    let mut order = sample_order(PERSONAL[0]);
    order["customer"]["last_name"] = PERSONAL[1].into();
    order["customer"]["email"] = PERSONAL[2].into();
    order["customer"]["phone"] = PERSONAL[3].into();
    order["customer_notes"] = PERSONAL[4].into();
    order
}

/// Connects the first location, places the order with personal data and syncs it: its id.
async fn receive_private_order(world: &World, app: &passerelle_core::Passerelle) -> String {
    let location = world.location_ids()[0].clone();
    world.connect_active(app, &location).await;
    let order_id = world
        .sandbox
        .admin()
        .place_order(&location, private_order())
        .await
        .unwrap();
    app.sync_now().await.unwrap();
    order_id
}

/// Places a pre-order due long after any retention period of these tests: its id.
async fn place_pre_order(world: &World, location_id: &str) -> String {
    let mut order = sample_order("Louise");
    order["expected_time"] = "2099-06-01T20:30:00+02:00".into();
    world
        .sandbox
        .admin()
        .place_order(location_id, order)
        .await
        .unwrap()
}

/// The personal strings found in the database file, its WAL and its shared-memory file.
fn personal_data_on_disk(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let path = dir.join(format!("{DATABASE_FILE}{suffix}"));
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        for needle in PERSONAL {
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(format!("{needle} in {}", path.display()));
            }
        }
    }
    found
}

#[tokio::test]
async fn personal_data_leaves_the_database_wal_and_shm_after_the_scrub_delay() {
    let world = World::start().await;
    let mut config = world.config();
    // Seconds instead of days: allowed against the sandbox on loopback only.
    config.retention = Some(Retention {
        finished_orders_secs: 3_600,
        personal_data_secs: 2,
        processed_events_secs: 3_600,
        interval_secs: 1,
        first_pass_delay_secs: 1,
    });
    let (app, _events) = world.open_with(config).await;
    world.sign_in(&app).await;
    let order_id = receive_private_order(&world, &app).await;
    let order = app.order(&order_id).unwrap().expect("stored");
    assert_eq!(order.customer.unwrap().email.as_deref(), Some(PERSONAL[2]));
    // The scan sees what is there (else it would prove nothing).
    assert!(
        !personal_data_on_disk(world.dir.path()).is_empty(),
        "the order's personal data should be on disk before the delay"
    );

    // The retention task of the instance (no call from the test) scrubs it after 2 s.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let order = app.order(&order_id).unwrap().expect("still stored");
        let customer = order.customer.clone();
        if customer
            .as_ref()
            .is_none_or(|c| c.first_name.is_none() && c.email.is_none())
        {
            break;
        }
        assert!(Instant::now() < deadline, "not scrubbed: {customer:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The pass that scrubbed it truncates the WAL when it ends: give it that moment.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let left = personal_data_on_disk(world.dir.path());
    assert!(left.is_empty(), "personal data left while open: {left:?}");

    // Ids, totals and items stay for the restaurant's reports.
    let order = app.order(&order_id).unwrap().unwrap();
    assert_eq!(order.id, order_id);
    assert_eq!(order.items.len(), 2);
    assert!(order.total.is_some());
    assert_eq!(order.items[0].product_name, "Margherita");

    app.close().await.unwrap();
    let left = personal_data_on_disk(world.dir.path());
    assert!(left.is_empty(), "personal data left after close: {left:?}");
}

#[tokio::test]
async fn finished_orders_event_ids_outbox_rows_and_removed_connections_are_pruned() {
    let world = World::start().await;
    let (app, _events) = world.open_signed_in().await;
    let locations = world.location_ids();
    world.connect_active(&app, &locations[0]).await;
    let removed = world.connect_active(&app, &locations[1]).await;
    let done = world.place_order(&locations[0], "Marie").await;
    let refused = world.place_order(&locations[0], "Paul").await;
    let open = place_pre_order(&world, &locations[0]).await;
    let on_removed = world.place_order(&locations[1], "Jean").await;
    app.sync_now().await.unwrap();
    app.update_status(&done, OrderStatus::Completed)
        .await
        .unwrap();
    app.reject(&refused, None).await.unwrap();
    app.accept(&open, None).await.unwrap();
    app.sync_now().await.unwrap();
    app.disconnect(&removed).await.unwrap();
    app.restart().await.unwrap();

    let db = rusqlite::Connection::open(world.dir.path().join(DATABASE_FILE)).unwrap();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |row| row.get(0)).unwrap() };
    assert!(count("SELECT count(*) FROM processed_events") >= 4);
    assert!(count("SELECT count(*) FROM outbox WHERE finished_at IS NOT NULL") >= 3);

    // Nothing is old yet: a pass now prunes nothing of the orders.
    let report = app.apply_retention().await.unwrap();
    assert_eq!(report.orders_pruned, 0);
    assert_eq!(app.orders(OrderFilter::default()).unwrap().len(), 4);

    // A pass as of 100 days later, with the default retention.
    let later = SystemTime::now() + Duration::from_secs(100 * 86_400);
    let report = app.apply_retention_as_of(later).await.unwrap();
    assert_eq!(
        report.orders_pruned, 3,
        "completed, rejected, and the removed connection's: {report:?}"
    );
    assert!(report.events_pruned + report.removed_connection_rows >= 4);
    assert!(report.outbox_pruned >= 3, "{report:?}");
    assert!(report.longest_batch_micros < 1_000_000);
    let left: Vec<String> = app
        .orders(OrderFilter::default())
        .unwrap()
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(
        left,
        vec![open.clone()],
        "the accepted pre-order, not due, stays"
    );
    assert!(app.order(&on_removed).unwrap().is_none());
    assert_eq!(count("SELECT count(*) FROM processed_events"), 0);
    assert_eq!(
        count("SELECT count(*) FROM outbox WHERE finished_at IS NOT NULL"),
        0
    );
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM connections WHERE id = '{removed}'"
        )),
        0,
        "the removed connection's row is cleaned"
    );
    // The open order was scrubbed but kept.
    let kept = app.order(&open).unwrap().unwrap();
    assert!(kept.customer.is_none_or(|c| c.first_name.is_none()));
}

#[tokio::test]
async fn erasing_an_account_leaves_none_of_its_data_or_secrets() {
    let world = World::start().await;
    let (app, _events) = world.open_signed_in().await;
    let order_id = receive_private_order(&world, &app).await;
    app.accept(&order_id, None).await.unwrap();
    assert!(!personal_data_on_disk(world.dir.path()).is_empty());
    assert!(!world.account_secrets().is_empty());

    let report = app
        .erase_account_data(ErasureScope::SignedInAccount)
        .await
        .unwrap();

    assert_eq!(report.accounts, 1, "{report:?}");
    assert_eq!(report.orders, 1, "{report:?}");
    assert_eq!(report.connections, 1, "{report:?}");
    assert_eq!(report.not_revoked, 0, "{report:?}");
    assert!(app.account().unwrap().is_none());
    let left = personal_data_on_disk(world.dir.path());
    assert!(
        left.is_empty(),
        "personal data left after erasure: {left:?}"
    );
    assert!(
        world.account_secrets().is_empty(),
        "{:?}",
        world.account_secrets()
    );
    let db = rusqlite::Connection::open(world.dir.path().join(DATABASE_FILE)).unwrap();
    for table in [
        "pos_accounts",
        "connections",
        "orders",
        "outbox",
        "processed_events",
    ] {
        let rows: i64 = db
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 0, "{table} still has rows");
    }
    // Signing in again starts from nothing.
    world.sign_in(&app).await;
    assert!(app.connections().unwrap().is_empty());
    assert!(app.orders(OrderFilter::default()).unwrap().is_empty());
}

/// Issue 27, scenario 10: many tills stop at `accepted`. An order with no final status is closed
/// locally once `UNFINISHED_GRACE` has passed since its expected time, and then pruned like a
/// finished one; a pre-order not yet due stays.
#[tokio::test]
async fn an_order_never_finished_is_pruned_like_a_finished_one_once_past_its_expected_time() {
    let world = World::start().await;
    let (app, _events) = world.open_signed_in().await;
    let location = world.location_ids()[0].clone();
    world.connect_active(&app, &location).await;
    let accepted = world.place_order(&location, "Marie").await;
    let pre_order = place_pre_order(&world, &location).await;
    app.sync_now().await.unwrap();
    for order_id in [&accepted, &pre_order] {
        app.accept(order_id, None).await.unwrap();
    }
    app.sync_now().await.unwrap();
    assert_eq!(world.hubrise_status(&location, &accepted).await, "accepted");

    // Past the finished orders' retention (60 days by default) and the grace after the
    // expected time (the sample order's is in November 2026).
    let past = Duration::from_secs(61 * 86_400).max(UNFINISHED_GRACE * 2);
    let report = app
        .apply_retention_as_of(SystemTime::now() + past)
        .await
        .unwrap();
    assert_eq!(report.orders_pruned, 1, "{report:?}");
    assert!(app.order(&accepted).unwrap().is_none(), "closed and pruned");
    assert!(app.order(&pre_order).unwrap().is_some(), "not due yet");
}

/// Issue 27, scenario 10: an order left unseen rings again at open for `UNSEEN_ANNOUNCED_FOR`
/// only; after that it is kept and listed as unseen, but not announced again.
#[tokio::test]
async fn an_order_left_unseen_is_announced_at_open_for_a_bounded_time_then_kept_unseen() {
    let world = World::start().await;
    let (app, events) = world.open_signed_in().await;
    let location = world.location_ids()[0].clone();
    world.connect_active(&app, &location).await;
    let order_id = world.place_order(&location, "Marie").await;
    events
        .wait_for(order_received(&order_id), EVENT_TIMEOUT)
        .await
        .unwrap();
    app.close().await.unwrap();
    drop(app);

    // Received longer ago than the bound, as after a till left unattended.
    let db = rusqlite::Connection::open(world.dir.path().join(DATABASE_FILE)).unwrap();
    let age =
        i64::try_from((UNSEEN_ANNOUNCED_FOR + Duration::from_secs(3_600)).as_millis()).unwrap();
    db.execute("UPDATE orders SET received_at = received_at - ?1", [age])
        .unwrap();
    drop(db);

    let (app, events) = world.open().await;
    // Events arrive in order: once this later one is in, an announcement at open would be too.
    let mut settings = app.settings().unwrap();
    settings.poll_interval_secs += 1;
    app.update_settings(settings).await.unwrap();
    events
        .wait_for(
            |e| matches!(e, PasserelleEvent::RestartRequired { .. }),
            EVENT_TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(events.count(order_received(&order_id)), 0, "not rung again");
    let unseen: Vec<String> = app
        .unseen_orders()
        .unwrap()
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(unseen, vec![order_id.clone()], "kept, shown as unseen");
}
