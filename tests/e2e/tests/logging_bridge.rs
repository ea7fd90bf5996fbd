//! The logging bridge: the library's logs reach a host-implemented logger, filtered by level and
//! redacted, and no customer data reaches it at any level. (Each test in its own process: the
//! bridge is the process's one `tracing` subscriber.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use passerelle_core::{LogLevel, LogRecord, PasserelleLogger, SecretStore, set_logger};
use passerelle_e2e::alone::in_own_process;
use passerelle_sandbox::Fault;
use passerelle_test_support::{EVENT_TIMEOUT, World, order_received};

#[derive(Default)]
struct Collecting(Mutex<Vec<LogRecord>>);

impl PasserelleLogger for Collecting {
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

/// What identifies the customer in the orders below: none of it may reach a log record.
const CUSTOMER_DATA: [&str; 11] = [
    "Zéphyrine",
    "Quennevilliers",
    "zephyrine.quennevilliers@example.org",
    "+33 6 12 34 56 78",
    "17 impasse des Grillons",
    "Montbrison-sur-Lez",
    "42Z99",
    "Grillons & Fils",
    "Digicode 4B21",
    "Allergie aux arachides",
    "Sans oignons pour Mme Q",
];

/// An order full of customer data: customer, notes of the order and of an item.
fn order_with_customer_data() -> serde_json::Value {
    let mut order = passerelle_sandbox::seed::sample_order("Zéphyrine");
    order["customer"] = serde_json::json!({
        "first_name": "Zéphyrine", "last_name": "Quennevilliers",
        "email": "zephyrine.quennevilliers@example.org", "phone": "+33 6 12 34 56 78",
        "company_name": "Grillons & Fils", "address_1": "17 impasse des Grillons",
        "postal_code": "42Z99", "city": "Montbrison-sur-Lez", "delivery_notes": "Digicode 4B21",
    });
    order["customer_notes"] = "Allergie aux arachides".into();
    order["items"][0]["customer_notes"] = "Sans oignons pour Mme Q".into();
    order
}

/// Issue 14, point 10: orders full of customer data go through every path of the sync (a
/// well-formed order, one with nulls and wrong types, one HubRise answers without its id, one
/// whose answer is an HTML page that echoes the customer, a customer cancellation, an accept and
/// a reject with a reason) with the host's logger at TRACE; no record carries any of it.
#[tokio::test]
async fn no_customer_data_reaches_the_host_logger_at_trace_level() {
    if !in_own_process(concat!(
        module_path!(),
        "::no_customer_data_reaches_the_host_logger_at_trace_level"
    )) {
        return;
    }
    let logger = Arc::new(Collecting::default());
    set_logger(logger.clone(), LogLevel::Trace).unwrap();
    let world = World::start().await;
    let (app, events) = world.open_signed_in().await;
    let location = world.location_ids()[0].clone();
    world.connect(&app, &location).await;
    app.restart().await.unwrap();
    let admin = world.sandbox.admin();

    let accepted = admin
        .place_order(&location, order_with_customer_data())
        .await
        .unwrap();
    let rejected = admin
        .place_order(&location, order_with_customer_data())
        .await
        .unwrap();
    for id in [&accepted, &rejected] {
        events
            .wait_for(order_received(id), EVENT_TIMEOUT)
            .await
            .unwrap();
    }
    app.accept(&accepted, None).await.unwrap();
    app.reject(&rejected, Some("Zéphyrine Quennevilliers a appelé".into()))
        .await
        .unwrap();
    admin
        .update_order_as_other_app(
            &location,
            &accepted,
            serde_json::json!({"status": "cancelled"}),
        )
        .await
        .unwrap();

    // Odd answers, which end in error paths: those are where data would slip into a log.
    admin
        .place_order_with_raw_fields(
            &location,
            order_with_customer_data(),
            serde_json::json!({
                "status": null, "total": "Zéphyrine Quennevilliers", "customer_notes": 33,
                "expected_time": "Digicode 4B21",
                "customer": {"first_name": 12, "last_name": ["Quennevilliers"],
                             "email": "zephyrine.quennevilliers@example.org"},
            }),
        )
        .await
        .unwrap();
    let anonymous = admin
        .place_order(&location, order_with_customer_data())
        .await
        .unwrap();
    admin
        .inject_fault(
            Fault::rewrite_json(
                &format!("/v1/location/orders/{anonymous}"),
                serde_json::json!({"id": {"first_name": "Zéphyrine"}}),
                &[],
                1,
            )
            .times(None),
        )
        .await;
    let echoed = admin
        .place_order(&location, order_with_customer_data())
        .await
        .unwrap();
    admin
        .inject_fault(
            Fault::body(
                &format!("/v1/location/orders/{echoed}"),
                200,
                "text/html",
                "<html>Commande de Zéphyrine Quennevilliers, +33 6 12 34 56 78</html>",
                1,
            )
            .times(None),
        )
        .await;
    for _ in 0..3 {
        // Errors are expected here: the scan is what matters.
        let _ = app.sync_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    admin.clear_faults().await;
    let _ = app.sync_now().await;
    app.stop_sync().await.unwrap();

    let records = logger.0.lock().unwrap().clone();
    assert!(
        records
            .iter()
            .any(|r| r.level == LogLevel::Trace || r.level == LogLevel::Debug)
            && records.iter().any(|r| r.message.contains(&accepted)),
        "the sync logged at trace level, order ids included: {records:#?}"
    );
    for record in &records {
        assert!(
            record.target == "passerelle" || record.target.starts_with("passerelle::"),
            "{record:?}"
        );
        let text = format!("{} {}", record.target, record.message);
        for data in CUSTOMER_DATA {
            assert!(
                !text.contains(data),
                "customer data ({data}) in a log record: {record:?}"
            );
        }
    }
}
