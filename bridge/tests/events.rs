//! HubRise's events through the bridge (issue 24): the active callback registered on the
//! connections it brokers, the HMAC checked, each event stored once before the 200.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{self, TestResult, client, eventually, hubrise_signature};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_placed_at_hubrise_reaches_the_bridge_by_its_active_callback() -> TestResult {
    let dir = tempfile::tempdir()?;
    let stack = support::start_with(
        support::compressed_callbacks(),
        support::sqlite(dir.path()),
        support::keys(),
    )
    .await?;
    let (_, hubrise_token) =
        support::connect_off_device(&stack.sandbox, &stack.pos_url, "3r4s3-1").await?;
    let callback: Value = client()
        .get(format!("{}/callback", stack.sandbox.hubrise_api_url()))
        .header("X-Access-Token", &hubrise_token)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(
        callback,
        json!({"url": format!("{}/hubrise/callback", stack.pos_url),
               "events": {"order": ["create", "update"]}})
    );
    let events = stack.bridge.app().events.clone();
    let order_id = stack
        .sandbox
        .admin()
        .place_order("3r4s3-1", json!({"status": "new", "items": []}))
        .await?;
    assert!(
        eventually(Duration::from_secs(5), || async {
            events.count().await.unwrap_or(0) == 1
        })
        .await,
        "the event never arrived"
    );
    let stored = events.after("3r4s3-1", 0, 10).await?;
    let body: Value = serde_json::from_str(stored[0].body.as_ref().ok_or("no body")?.expose())?;
    assert_eq!(body["order_id"], order_id.as_str());
    assert_eq!(body["new_state"]["status"], "new");
    assert_eq!(stored[0].kind, "order.create");
    // Acknowledged: HubRise no longer holds it.
    let pending = stack.sandbox.admin().connections().await;
    assert!(pending.iter().all(|c| c.pending_events == 0), "{pending:?}");
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}

/// An event as HubRise signs it.
fn event(id: &str) -> Vec<u8> {
    json!({"id": id, "resource_type": "order", "event_type": "create", "location_id": "3r4s3-1",
           "order_id": "o1", "created_at": "2026-06-24T19:30:00+02:00",
           "new_state": {"id": "o1", "status": "new"}})
    .to_string()
    .into_bytes()
}

async fn post_event(
    url: &str,
    body: &[u8],
    signature: Option<&str>,
) -> reqwest::Result<StatusCode> {
    let mut request = client()
        .post(format!("{url}/hubrise/callback"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("X-HubRise-Hmac-SHA256", signature);
    }
    Ok(request.send().await?.status())
}

#[tokio::test]
async fn a_wrong_missing_or_misplaced_signature_is_401_and_nothing_is_stored() -> TestResult {
    let dir = tempfile::tempdir()?;
    let stack = support::start_with(
        support::compressed_callbacks(),
        support::sqlite(dir.path()),
        support::keys(),
    )
    .await?;
    let (url, secret) = (&stack.pos_url, stack.sandbox.seed().client_secret.clone());
    let events = stack.bridge.app().events.clone();
    let body = event("ev1");
    let right = hubrise_signature(&secret, &body);
    let refused = [
        Some(hubrise_signature("not the client secret", &body)),
        None,
        // The signature of another body.
        Some(hubrise_signature(&secret, &event("ev2"))),
        Some(right[..62].to_owned()),
    ];
    for signature in &refused {
        assert_eq!(
            post_event(url, &body, signature.as_deref()).await?,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(events.count().await?, 0);
    // The right one is stored; a replay is stored once, and still a 200 (HubRise stops).
    assert_eq!(post_event(url, &body, Some(&right)).await?, StatusCode::OK);
    assert_eq!(
        post_event(url, &body, Some(&right.to_uppercase())).await?,
        StatusCode::OK
    );
    assert_eq!(events.count().await?, 1);
    // Signed but without an id: nothing could file it.
    let anonymous = br#"{"resource_type":"order","location_id":"3r4s3-1"}"#;
    let signature = hubrise_signature(&secret, anonymous);
    assert_eq!(
        post_event(url, anonymous, Some(&signature)).await?,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(events.count().await?, 1);
    let metrics = client()
        .get(format!("{url}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        metrics.contains("bridge_callback_verifications_failed_total 4"),
        "{metrics}"
    );
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_order_event_fits() -> TestResult {
    let dir = tempfile::tempdir()?;
    let stack = support::start_with(
        support::compressed_callbacks(),
        support::sqlite(dir.path()),
        support::keys(),
    )
    .await?;
    let notes = "x".repeat(200 * 1024);
    let body = json!({"id": "big", "resource_type": "order", "event_type": "update",
                      "location_id": "3r4s3-1", "new_state": {"customer_notes": notes}})
    .to_string()
    .into_bytes();
    let signature = hubrise_signature(&stack.sandbox.seed().client_secret, &body);
    assert_eq!(
        post_event(&stack.pos_url, &body, Some(&signature)).await?,
        StatusCode::OK
    );
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}
