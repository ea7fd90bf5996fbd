//! Injected faults and the request log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use passerelle_sandbox::{Fault, ServerKind};
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn a_5xx_burst_then_recovery() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    sb.admin()
        .inject_fault(Fault::status("/v1/callback/events", 503, 2))
        .await;
    for _ in 0..2 {
        let r = api_get(&sb, &token, "/callback/events").await;
        assert_eq!(r.status(), 503);
        assert_eq!(
            r.json::<Value>().await.unwrap()["error_type"],
            "internal_error"
        );
    }
    assert_eq!(api_get(&sb, &token, "/callback/events").await.status(), 200);
    // Other paths were never affected.
    assert!(sb.admin().faults().await.is_empty());
}

#[tokio::test]
async fn dropped_connections_are_transport_errors() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    sb.admin()
        .inject_fault(Fault::drop_connection("/v1/location", 1).for_method("GET"))
        .await;
    let dropped = http()
        .get(format!("{}/location", sb.hubrise_api_url()))
        .header("X-Access-Token", &token)
        .send()
        .await;
    let outcome = match dropped {
        Err(e) => Err(e),
        Ok(r) => r.bytes().await.map(|_| ()),
    };
    assert!(outcome.is_err(), "the client sees a transport error");
    assert_eq!(api_get(&sb, &token, "/location").await.status(), 200);
    let log = sb.admin().requests().await;
    assert!(
        log.iter()
            .any(|r| r.status == 0 && r.path == "/v1/location")
    );
}

#[tokio::test]
async fn delays_and_forced_429s() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    sb.admin()
        .inject_fault(Fault::delay("/v1/location", Duration::from_millis(400)))
        .await;
    let started = Instant::now();
    assert_eq!(api_get(&sb, &token, "/location").await.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(400));
    sb.admin().clear_faults().await;

    sb.admin()
        .inject_fault(Fault::too_many_requests("/v1/", 1, Some(7)))
        .await;
    sb.admin()
        .inject_fault(Fault::too_many_requests("/v1/", 1, None))
        .await;
    let first = api_get(&sb, &token, "/location").await;
    assert_eq!(first.status(), 429);
    assert_eq!(first.headers()["retry-after"], "7");
    let second = api_get(&sb, &token, "/location").await;
    assert_eq!(second.status(), 429);
    assert!(second.headers().get("retry-after").is_none());
    assert_eq!(api_get(&sb, &token, "/location").await.status(), 200);

    // Faults can target one server: the POS backend answers in its own format.
    sb.admin()
        .inject_fault(Fault::status("/", 500, 1).on_server(ServerKind::Pos))
        .await;
    let r = http()
        .get(format!("{}/me", sb.pos_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "server_error");
}

#[tokio::test]
async fn the_request_log_counts_requests_and_holds_no_secrets() {
    let sb = sandbox().await;
    let pos = sb.seed().pos_account().clone();
    let token_json = connect(&sb, "3r4s3-1", Some("ipad-A")).await;
    let token = token_of(&token_json);
    register_callback(&sb, &token).await;
    sb.admin()
        .place_order("3r4s3-1", sample_order())
        .await
        .unwrap();
    for _ in 0..3 {
        api_get(&sb, &token, "/callback/events").await;
    }
    api_send(
        &sb,
        &token,
        Method::POST,
        "/location/orders",
        &json!({ "status": "accepted" }),
    )
    .await;
    let pos_tokens: Value = http()
        .post(format!("{}/oauth/token", sb.pos_url()))
        .form(&[
            ("grant_type", "password"),
            ("username", pos.email.as_str()),
            ("password", &pos.password),
            ("client_id", "passerelle-ios"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // A code in a query string (the Connect URL) must be redacted too.
    let _ = http()
        .get(format!(
            "{}/hubrise/connect?code=secretcode123",
            sb.pos_url()
        ))
        .send()
        .await;

    let admin = sb.admin();
    assert_eq!(admin.count_requests("GET", "/v1/callback/events").await, 3);
    assert_eq!(admin.count_requests("POST", "/v1/location/orders").await, 1);
    assert_eq!(admin.count_requests("", "/oauth2/v1/token").await, 1);
    let log = admin.requests().await;
    let events_call = log
        .iter()
        .find(|r| r.path == "/v1/callback/events")
        .unwrap();
    assert_eq!(events_call.server, ServerKind::Api);
    let tag = events_call.connection.as_ref().unwrap();
    assert_eq!(tag.location_id.as_deref(), Some("3r4s3-1"));
    assert_eq!(tag.device_id.as_deref(), Some("ipad-A"));

    let dump = serde_json::to_string(&log).unwrap();
    let seed = sb.seed();
    for secret in [
        token.as_str(),
        seed.client_secret.as_str(),
        seed.user().password.as_str(),
        pos.password.as_str(),
        pos_tokens["access_token"].as_str().unwrap(),
        pos_tokens["refresh_token"].as_str().unwrap(),
        "secretcode123",
    ] {
        assert!(!dump.contains(secret), "the log leaks {secret}");
    }
    admin.reset_requests().await;
    assert!(admin.requests().await.is_empty());
}
