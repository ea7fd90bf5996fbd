//! Per-connection rate limits on aligned windows, with and without Retry-After.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use passerelle_sandbox::{RateLimits, Sandbox, SandboxOptions};
use serde_json::Value;

use crate::common::*;

const WINDOW_MS: u64 = 2_000;

fn scaled(limits: RateLimits, retry_after: bool) -> SandboxOptions {
    SandboxOptions {
        limits,
        retry_after_header: retry_after,
        window_scale: Some(Duration::from_millis(WINDOW_MS)),
        ..Default::default()
    }
}

/// Sleeps until just after a window boundary, so a test's burst fits in one window.
async fn align_to_window() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    tokio::time::sleep(Duration::from_millis(WINDOW_MS - now % WINDOW_MS + 20)).await;
}

#[tokio::test]
async fn the_minute_limit_answers_429_until_the_next_window() {
    let limits = RateLimits {
        per_minute: 5,
        ..RateLimits::default()
    };
    let sb = Sandbox::start(scaled(limits, true)).await.unwrap();
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    let other = token_of(&connect(&sb, "3r4s3-2", None).await);
    align_to_window().await;
    for _ in 0..5 {
        assert_eq!(api_get(&sb, &token, "/location").await.status(), 200);
    }
    let limited = api_get(&sb, &token, "/location").await;
    assert_eq!(limited.status(), 429);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "retry after {retry}s");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error_type"], "too_many_requests");
    // Limits are per connection.
    assert_eq!(api_get(&sb, &other, "/location").await.status(), 200);

    tokio::time::sleep(Duration::from_secs(retry)).await;
    assert_eq!(api_get(&sb, &token, "/location").await.status(), 200);
}

#[tokio::test]
async fn heavy_queries_have_their_own_limit() {
    let limits = RateLimits {
        heavy_per_minute: 2,
        ..RateLimits::default()
    };
    let sb = Sandbox::start(scaled(limits, false)).await.unwrap();
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    align_to_window().await;
    assert_eq!(api_get(&sb, &token, "/location/orders").await.status(), 200);
    assert_eq!(api_get(&sb, &token, "/catalogs/psmlf").await.status(), 200);
    let limited = api_get(&sb, &token, "/location/orders").await;
    assert_eq!(limited.status(), 429);
    assert!(
        limited.headers().get("retry-after").is_none(),
        "switched off"
    );
    // Light requests still go through.
    assert_eq!(api_get(&sb, &token, "/callback/events").await.status(), 200);
}

#[tokio::test]
async fn the_hour_limit_outlasts_the_minute() {
    let limits = RateLimits {
        per_minute: 100,
        per_hour: 3,
        ..RateLimits::default()
    };
    let sb = Sandbox::start(scaled(limits, true)).await.unwrap();
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    align_to_window().await;
    for _ in 0..3 {
        assert_eq!(api_get(&sb, &token, "/location").await.status(), 200);
    }
    let limited = api_get(&sb, &token, "/location").await;
    assert_eq!(limited.status(), 429);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // A scaled hour is 60 × 2 s = 120 s, aligned on multiples of 120 s: the wait is until the
    // next multiple, not the next (2 s) minute.
    let hour_ms = 60 * WINDOW_MS;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let expected = (hour_ms - now % hour_ms).div_ceil(1000);
    assert!(
        retry.abs_diff(expected) <= 1,
        "retry after {retry}s, expected about {expected}s"
    );
}

#[tokio::test]
async fn limits_can_change_at_run_time() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    sb.admin()
        .set_limits(RateLimits {
            per_minute: 1,
            ..RateLimits::default()
        })
        .await;
    assert_eq!(api_get(&sb, &token, "/location").await.status(), 200);
    assert_eq!(api_get(&sb, &token, "/location").await.status(), 429);
    sb.admin().set_limits(RateLimits::unlimited()).await;
    for _ in 0..20 {
        assert_eq!(api_get(&sb, &token, "/location").await.status(), 200);
    }
}
