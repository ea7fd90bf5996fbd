//! Active callbacks: each event POSTed to the callback's URL, signed; an acknowledgement deletes
//! it; anything else is retried on the (compressed) schedule while the event stays readable with
//! `GET /callback/events`, and given up after the retries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use passerelle_sandbox::{ActiveCallbacks, CallbackAck, Sandbox, SandboxOptions};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::common::*;

/// What the app's callback URL received, and the statuses it answers in turn (then 200).
#[derive(Clone, Default)]
struct Receiver {
    hits: Arc<Mutex<Vec<(HeaderMap, Bytes, Instant)>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    /// Serves on a free loopback port; the URL to register.
    async fn start(answers: &[u16]) -> (Receiver, String) {
        let receiver = Receiver::default();
        receiver.answers.lock().unwrap().extend(answers);
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(record))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    fn count(&self) -> usize {
        self.hits.lock().unwrap().len()
    }

    fn bodies(&self) -> Vec<Value> {
        let hits = self.hits.lock().unwrap();
        hits.iter()
            .map(|(_, b, _)| serde_json::from_slice(b).unwrap())
            .collect()
    }

    /// Waits until `n` attempts arrived (at most 10 s).
    async fn wait_for(&self, n: usize) {
        let started = Instant::now();
        while self.count() < n {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{} attempts of {n}",
                self.count()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn record(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    r.hits.lock().unwrap().push((headers, body, Instant::now()));
    let status = r.answers.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

fn compressed(ack: CallbackAck, retries: u32) -> SandboxOptions {
    SandboxOptions {
        active_callbacks: ActiveCallbacks {
            ack,
            retry_unit: Duration::from_millis(40),
            retries,
            ..ActiveCallbacks::default()
        },
        ..SandboxOptions::default()
    }
}

/// Passerelle's connection to Paris with an active callback to `url`; its token.
async fn active_connection(sb: &Sandbox, url: &str) -> String {
    let token = token_of(&connect(sb, "3r4s3-1", None).await);
    let body = json!({ "url": url, "events": { "order": ["create", "update"] } });
    let r = api_send(sb, &token, reqwest::Method::POST, "/callback", &body).await;
    assert_eq!(r.status(), 200);
    token
}

async fn pending(sb: &Sandbox, token: &str) -> Vec<Value> {
    api_get(sb, token, "/callback/events")
        .await
        .json()
        .await
        .unwrap()
}

fn hex_hmac(key: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Waits until the connection's queue holds `n` events (at most 10 s).
async fn wait_pending(sb: &Sandbox, token: &str, n: usize) {
    let started = Instant::now();
    while pending(sb, token).await.len() != n {
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn each_event_is_posted_signed_with_its_states_and_a_200_deletes_it() {
    let sb = Sandbox::start(compressed(CallbackAck::Below500, 6))
        .await
        .unwrap();
    let (receiver, url) = Receiver::start(&[]).await;
    let token = active_connection(&sb, &url).await;
    let order_id = sb
        .admin()
        .place_order("3r4s3-1", sample_order())
        .await
        .unwrap();
    receiver.wait_for(1).await;
    let (headers, body, _) = receiver.hits.lock().unwrap()[0].clone();
    let signature = headers
        .get("x-hubrise-hmac-sha256")
        .and_then(|v| v.to_str().ok())
        .unwrap()
        .to_owned();
    assert_eq!(signature, hex_hmac(&sb.seed().client_secret, &body));
    assert_ne!(signature, hex_hmac("another secret", &body));
    assert_eq!(
        headers.get("content-type").unwrap().to_str().unwrap(),
        "application/json"
    );
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["resource_type"], "order");
    assert_eq!(event["event_type"], "create");
    assert_eq!(event["order_id"], order_id.as_str());
    assert_eq!(event["location_id"], "3r4s3-1");
    assert_eq!(event["new_state"]["id"], order_id.as_str());
    // The same JSON as GET /callback/events/:id (read before the acknowledgement lands would
    // race; the body is checked against the order instead).
    wait_pending(&sb, &token, 0).await;

    sb.admin()
        .update_order_as_other_app("3r4s3-1", &order_id, json!({"status": "cancelled"}))
        .await
        .unwrap();
    receiver.wait_for(2).await;
    let update = &receiver.bodies()[1];
    assert_eq!(update["event_type"], "update");
    assert_eq!(update["previous_state"]["status"], "new");
    assert_eq!(update["new_state"]["status"], "cancelled");
    wait_pending(&sb, &token, 0).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        receiver.count(),
        2,
        "an acknowledged event is never sent again"
    );
}

#[tokio::test]
async fn a_failed_delivery_is_retried_on_a_doubling_schedule_and_stays_readable_meanwhile() {
    let sb = Sandbox::start(compressed(CallbackAck::Below500, 6))
        .await
        .unwrap();
    let (receiver, url) = Receiver::start(&[500, 503, 500]).await;
    let token = active_connection(&sb, &url).await;
    sb.admin()
        .place_order("3r4s3-1", sample_order())
        .await
        .unwrap();
    receiver.wait_for(1).await;
    let listed = pending(&sb, &token).await;
    assert_eq!(listed.len(), 1, "unacknowledged: still readable");
    receiver.wait_for(4).await;
    wait_pending(&sb, &token, 0).await;
    let hits = receiver.hits.lock().unwrap().clone();
    let ids: Vec<Value> = receiver.bodies().iter().map(|b| b["id"].clone()).collect();
    assert!(
        ids.iter().all(|id| *id == listed[0]["id"]),
        "the same event each time"
    );
    // Waits of 40, 80, 160 ms: each at least the unit doubled, never sooner.
    for (i, pair) in hits.windows(2).enumerate() {
        let waited = pair[1].2 - pair[0].2;
        let expected = Duration::from_millis(40 << i);
        assert!(
            waited >= expected,
            "retry {i} after {waited:?}, expected {expected:?}"
        );
    }
}

#[tokio::test]
async fn after_its_retries_the_event_is_deleted() {
    let sb = Sandbox::start(compressed(CallbackAck::Below500, 2))
        .await
        .unwrap();
    let (receiver, url) = Receiver::start(&[500; 10]).await;
    let token = active_connection(&sb, &url).await;
    sb.admin()
        .place_order("3r4s3-1", sample_order())
        .await
        .unwrap();
    receiver.wait_for(3).await;
    wait_pending(&sb, &token, 0).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.count(), 3, "one attempt and two retries");
}

#[tokio::test]
async fn which_answers_acknowledge_is_a_switch_hubrise_documents_200_to_499() {
    for (ack, acknowledged) in [(CallbackAck::Below500, true), (CallbackAck::Only200, false)] {
        let sb = Sandbox::start(compressed(ack, 6)).await.unwrap();
        let (receiver, url) = Receiver::start(&[404]).await;
        let token = active_connection(&sb, &url).await;
        sb.admin()
            .place_order("3r4s3-1", sample_order())
            .await
            .unwrap();
        receiver.wait_for(1).await;
        if acknowledged {
            wait_pending(&sb, &token, 0).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            assert_eq!(receiver.count(), 1, "{ack:?}: a 404 acknowledges");
        } else {
            receiver.wait_for(2).await;
            wait_pending(&sb, &token, 0).await;
        }
    }
    assert_eq!(
        SandboxOptions::default().active_callbacks.ack,
        CallbackAck::Below500
    );
}

#[tokio::test]
async fn passive_callbacks_and_events_queued_before_the_url_are_never_posted() {
    let sb = Sandbox::start(compressed(CallbackAck::Below500, 6))
        .await
        .unwrap();
    let (receiver, url) = Receiver::start(&[]).await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    register_callback(&sb, &token).await;
    sb.admin()
        .place_order("3r4s3-1", sample_order())
        .await
        .unwrap();
    let body = json!({ "url": url, "events": { "order": ["create", "update"] } });
    api_send(&sb, &token, reqwest::Method::POST, "/callback", &body).await;
    let second = sb
        .admin()
        .place_order("3r4s3-1", sample_order())
        .await
        .unwrap();
    receiver.wait_for(1).await;
    wait_pending(&sb, &token, 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.count(), 1);
    assert_eq!(receiver.bodies()[0]["order_id"], second.as_str());
    let options: Value = json_of(
        http()
            .patch(format!("{}/options", sb.admin_url()))
            .json(&json!({"callback_ack": "200", "callback_delay_ms": 250})),
    )
    .await;
    assert_eq!(options["callback_ack"], "200");
    assert_eq!(options["callback_delay_ms"], 250);
}

#[tokio::test]
async fn the_delivery_delay_holds_the_first_attempt_back() {
    let mut options = compressed(CallbackAck::Below500, 6);
    options.active_callbacks.delay = Duration::from_millis(300);
    let sb = Sandbox::start(options).await.unwrap();
    let (receiver, url) = Receiver::start(&[]).await;
    active_connection(&sb, &url).await;
    let placed = Instant::now();
    sb.admin()
        .place_order("3r4s3-1", sample_order())
        .await
        .unwrap();
    receiver.wait_for(1).await;
    let at = receiver.hits.lock().unwrap()[0].2;
    assert!(at - placed >= Duration::from_millis(300));
}
