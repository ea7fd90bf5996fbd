//! Issue 27, scenario 5: budgets are spent where they matter, and health says when they bind.
//! A wait for HubRise's rate window longer than one poll interval shows as delayed
//! (rate-limited), not "flowing"; the read-back out of its share shows as delayed (budget) while
//! orders keep arriving within one poll interval. The windows are scaled down (a "minute" of a
//! few seconds), as the sandbox on loopback allows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::service_grade::connected;
use passerelle_core::{DelayReason, Passerelle, RateLimits};
use passerelle_test_support::{
    EVENT_TIMEOUT, EventRecorder, POLL_INTERVAL_SECS, World, health_shows, order_received,
};

/// Closes the connected app and opens it again on the same data with `limits`.
async fn reopened_with(
    world: &World,
    app: Passerelle,
    limits: RateLimits,
) -> (Passerelle, Arc<EventRecorder>) {
    app.close().await.unwrap();
    drop(app);
    let mut config = world.config();
    config.rate_limits = limits;
    world.open_with(config).await
}

#[tokio::test]
async fn a_wait_for_the_rate_window_longer_than_a_poll_interval_shows_in_health() {
    let (world, app, _, _) = connected().await;
    // 8 requests per 20 s: polls once a second spend it in a few seconds, then wait ~15 s.
    let limits = RateLimits {
        per_minute: 8,
        per_hour: 10_000,
        per_day: 100_000,
        heavy_per_minute: 10,
        minute_ms: 20_000,
    };
    let (app, _) = reopened_with(&world, app, limits).await;
    assert!(
        health_shows(
            &app,
            Some(DelayReason::RateLimited),
            Duration::from_secs(30)
        )
        .await,
        "a long wait for the rate window read as {:?}",
        app.sync_health().unwrap().connections[0].state
    );
}

#[tokio::test]
async fn a_read_back_out_of_its_budget_shows_in_health_and_orders_still_arrive() {
    let (world, app, events, location) = connected().await;
    // Two open orders: the read-back lists them (one heavy query a poll interval).
    for customer in ["Open 1", "Open 2"] {
        let order = world.place_order(&location, customer).await;
        events
            .wait_for(order_received(&order), EVENT_TIMEOUT)
            .await
            .unwrap();
    }
    // Two heavy queries per 6 s window: the read-back's share (half) is spent by the first.
    let limits = RateLimits {
        per_minute: 100,
        per_hour: 10_000,
        per_day: 100_000,
        heavy_per_minute: 2,
        minute_ms: 6_000,
    };
    let (app, events) = reopened_with(&world, app, limits).await;
    assert!(
        health_shows(&app, Some(DelayReason::Budget), Duration::from_secs(20)).await,
        "the read-back ran out of its budget silently: {:?}",
        app.sync_health().unwrap().connections[0]
    );
    // Intake does not wait behind the read-back: a new order arrives within a poll interval.
    let bound = Duration::from_secs(u64::from(POLL_INTERVAL_SECS)) + Duration::from_secs(1);
    let placed = Instant::now();
    let order = world.place_order(&location, "While budget-bound").await;
    events
        .wait_for(order_received(&order), EVENT_TIMEOUT)
        .await
        .unwrap();
    assert!(
        placed.elapsed() <= bound,
        "an order waited {:?} while the read-back was out of budget",
        placed.elapsed()
    );
}
