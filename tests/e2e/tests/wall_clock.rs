//! Issue 27, scenario 6: no wall clock in a timer. The till's clock is set forward an hour, then
//! back an hour, while it runs; the quarantine's retries, the outbox's retries and the read-back
//! keep their intervals. The wall clock is moved as the library reads it
//! (`testing::set_wall_clock_by`), which is process-wide: the test runs in a process of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crate::service_grade::connected;
use passerelle_core::PasserelleEvent;
use passerelle_core::testing::set_wall_clock_by;
use passerelle_e2e::alone::in_own_process;
use passerelle_sandbox::{Fault, FaultKind, ServerKind};
use passerelle_test_support::{EVENT_TIMEOUT, POLL_INTERVAL_SECS, order_received};

const HOUR_MS: i64 = 3_600_000;

fn fault(method: &str, path_prefix: String, status: u16) -> Fault {
    Fault {
        path_prefix,
        server: Some(ServerKind::Api),
        method: Some(method.into()),
        times: None,
        kind: FaultKind::Status { status },
    }
}

#[tokio::test]
async fn timers_keep_their_intervals_when_the_wall_clock_is_set_forward_and_back() {
    if !in_own_process(concat!(
        module_path!(),
        "::timers_keep_their_intervals_when_the_wall_clock_is_set_forward_and_back"
    )) {
        return;
    }
    let (world, _app, events, location) = connected().await;
    let admin = world.sandbox.admin();
    let interval = Duration::from_secs(u64::from(POLL_INTERVAL_SECS));

    // An order HubRise refuses to give (422): set aside, its first retry four intervals later.
    let unreadable = world.place_order(&location, "Set aside").await;
    let unreadable_route = format!("/v1/location/orders/{unreadable}");
    admin
        .inject_fault(fault("GET", unreadable_route.clone(), 422))
        .await;
    let quarantined = events
        .wait_for(
            |e| matches!(e, PasserelleEvent::ItemQuarantined { item } if item.order_id.as_deref() == Some(unreadable.as_str())),
            Duration::from_secs(60),
        )
        .await;
    assert!(quarantined.is_ok(), "the order was never set aside");
    let set_aside = Instant::now();

    // Forward an hour: the retry is not due any sooner.
    set_wall_clock_by(HOUR_MS);
    admin.reset_requests().await;
    tokio::time::sleep(interval * 2).await;
    assert_eq!(
        admin.count_requests("GET", &unreadable_route).await,
        0,
        "the clock set forward made the quarantine's retry due early"
    );
    tokio::time::sleep((interval * 8).saturating_sub(set_aside.elapsed())).await;
    assert!(
        admin.count_requests("GET", &unreadable_route).await >= 1,
        "the quarantine's retry never came"
    );

    // A change the till cannot push yet (PATCH answers 503): it waits in the outbox.
    let order = world.place_order(&location, "Outbox").await;
    let order_route = format!("/v1/location/orders/{order}");
    admin
        .inject_fault(fault("PATCH", order_route.clone(), 503))
        .await;
    events
        .wait_for(order_received(&order), EVENT_TIMEOUT)
        .await
        .unwrap();
    let tried = async {
        while admin.count_requests("PATCH", &order_route).await == 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(EVENT_TIMEOUT, tried)
        .await
        .expect("the automatic received was never tried");

    // Back an hour: nothing waits an hour more.
    set_wall_clock_by(0);
    admin.clear_faults().await;
    let pushed = async {
        while world.hubrise_status(&location, &order).await != "received" {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    assert!(
        tokio::time::timeout(Duration::from_secs(20), pushed)
            .await
            .is_ok(),
        "the outbox's retry waited for the hour the clock went back"
    );
    let recovered = events
        .wait_for(order_received(&unreadable), Duration::from_secs(40))
        .await;
    assert!(
        recovered.is_ok(),
        "the quarantine's retry waited for the hour the clock went back"
    );

    // Both orders are open at the till: the read-back reads them (one by one or listed) once an
    // interval, as before.
    admin.reset_requests().await;
    tokio::time::sleep(interval * 4).await;
    let read_back = admin.count_requests("GET", "/v1/location/orders").await;
    assert!(
        read_back >= 2,
        "the read-back of an open order stopped after the clock was set back ({read_back} reads)"
    );
}
