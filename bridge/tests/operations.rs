//! Operating the bridge: metrics, graceful shutdown, the built-in identity's lockout and refresh
//! rotation, RFC 7662 introspection against a real HTTP identity provider, and `check` as a
//! command.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::routing::post;
use passerelle_bridge::config::IdentityConfig;
use passerelle_bridge::secret::Secret;
use passerelle_sandbox::{Fault, Sandbox, SandboxOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{self, TestResult, client};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_routes_hubrise_calls_and_failed_verifications() -> TestResult {
    let dir = tempfile::tempdir()?;
    let stack = support::start(support::sqlite(dir.path()), support::keys()).await?;
    let report =
        passerelle_bridge::check::run(support::target(&stack.pos_url, &stack.sandbox)).await;
    assert!(report.passed(), "{}", report.table());
    let text = client()
        .get(format!("{}/metrics", stack.pos_url))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        text.contains("route=\"/hubrise/connections/{location_id}/token\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("route=\"/hubrise/configuration\",status=\"304\"}"),
        "{text}"
    );
    assert!(
        text.contains("bridge_hubrise_call_seconds_count{operation=\"exchange\",outcome=\"ok\"} 2"),
        "{text}"
    );
    assert!(
        text.contains(
            "bridge_hubrise_call_seconds_count{operation=\"exchange\",outcome=\"refused\"}"
        ),
        "{text}"
    );
    // Without `active_callback`, only the connection made off the device (decision 19).
    assert!(
        text.contains("bridge_hubrise_call_seconds_count{operation=\"callback\",outcome=\"ok\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("bridge_callback_verifications_failed_total 1"),
        "{text}"
    );
    assert!(!text.contains("3r4s3"), "no ids in labels");
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}

/// Stopping the bridge lets a request in flight finish (HubRise answers it slowly here), then
/// refuses new connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_finishes_the_requests_in_flight() -> TestResult {
    let dir = tempfile::tempdir()?;
    let stack = support::start(support::sqlite(dir.path()), support::keys()).await?;
    let pos = stack.sandbox.seed().pos_account().clone();
    let token = support::sign_in(&stack.pos_url, &pos.email, &pos.password).await?;
    stack
        .sandbox
        .admin()
        .inject_fault(Fault::delay("/oauth2/v1/token", Duration::from_millis(800)))
        .await;
    let url = stack.pos_url.clone();
    let in_flight = tokio::spawn(async move {
        client()
            .post(format!("{url}/hubrise/broker/token"))
            .bearer_auth(token)
            .json(&json!({"code": "slow"}))
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    stack.bridge.stop().await?;
    let answer = in_flight.await??;
    // HubRise's answer (an unknown code) made it through the stop.
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(
        client()
            .get(format!("{}/healthz", stack.pos_url))
            .send()
            .await
            .is_err(),
        "still accepting"
    );
    stack.sandbox.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_in_identity_locks_out_and_rotates_refresh_tokens() -> TestResult {
    let dir = tempfile::tempdir()?;
    let stack = support::start(support::sqlite(dir.path()), support::keys()).await?;
    let pos = stack.sandbox.seed().pos_account().clone();
    let url = &stack.pos_url;
    let grant = |password: &str| {
        let form = [
            ("client_id", "passerelle-ios"),
            ("grant_type", "password"),
            ("username", pos.email.as_str()),
            ("password", password),
        ];
        client()
            .post(format!("{url}/oauth/token"))
            .form(&form)
            .send()
    };
    let pair: Value = grant(&pos.password).await?.json().await?;
    let refresh = |token: String| {
        let form = [
            ("client_id", "passerelle-ios".to_owned()),
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", token),
        ];
        client()
            .post(format!("{url}/oauth/token"))
            .form(&form)
            .send()
    };
    let first = pair["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let renewed = refresh(first.clone()).await?;
    assert_eq!(renewed.status(), StatusCode::OK);
    assert_eq!(
        refresh(first).await?.status(),
        StatusCode::BAD_REQUEST,
        "a refresh token works once"
    );
    for _ in 0..5 {
        assert_eq!(grant("wrong").await?.status(), StatusCode::BAD_REQUEST);
    }
    let locked = grant(&pos.password).await?;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.headers().contains_key("retry-after"));
    let body: Value = locked.json().await?;
    assert_eq!(body["error"], "temporarily_unavailable");
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}

/// A vendor's identity provider answering RFC 7662: token `good` is active for pos-1001.
async fn identity_provider(
    calls: Arc<AtomicUsize>,
) -> Result<(String, tokio::task::JoinHandle<()>), std::io::Error> {
    let app = axum::Router::new().route(
        "/introspect",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let calls = calls.clone();
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                let authorised = headers.get("authorization").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("Basic "));
                if !authorised {
                    return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "invalid_client"})));
                }
                let answer = if body.contains("token=good") {
                    json!({"active": true, "sub": "pos-1001", "email": "chef@bellapizza.fr", "name": "Bella Pizza", "exp": 4_102_444_800_i64})
                } else {
                    json!({"active": false})
                };
                (StatusCode::OK, axum::Json(answer))
            }
        }),
    );
    let (listener, url) = support::listener().await?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((format!("{url}/introspect"), task))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_checks_tokens_at_the_identity_provider_and_caches_answers() -> TestResult {
    let calls = Arc::new(AtomicUsize::new(0));
    let (introspect_url, provider) = identity_provider(calls.clone()).await?;
    let dir = tempfile::tempdir()?;
    let (listener, url) = support::listener().await?;
    let sandbox = Sandbox::start(SandboxOptions {
        pos_backend_url: Some(url.clone()),
        ..Default::default()
    })
    .await?;
    let mut config = support::config(&sandbox, &url, support::sqlite(dir.path()), support::keys());
    config.identity = IdentityConfig::Introspection {
        url: introspect_url,
        client_id: "bridge".into(),
        client_secret: Secret::new("bridge-secret"),
        cache: Duration::from_secs(60),
    };
    let bridge = passerelle_bridge::start_on(listener, config).await?;
    let me = |token: &'static str| client().get(format!("{url}/me")).bearer_auth(token).send();
    let answer = me("good").await?;
    assert_eq!(answer.status(), StatusCode::OK);
    let account: Value = answer.json().await?;
    assert_eq!(
        account,
        json!({"account_id": "pos-1001", "email": "chef@bellapizza.fr", "business_name": "Bella Pizza"})
    );
    assert_eq!(me("good").await?.status(), StatusCode::OK);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the second request used the cached answer"
    );
    assert_eq!(me("bad").await?.status(), StatusCode::UNAUTHORIZED);
    // The bridge issues no tokens then: the till signs in at the identity provider.
    let token = client()
        .post(format!("{url}/oauth/token"))
        .form(&[("client_id", "passerelle-ios")])
        .send()
        .await?;
    assert_eq!(token.status(), StatusCode::NOT_FOUND);
    // The provider gone: a typed 503 for a token it never answered for, never a 500.
    provider.abort();
    let _ = provider.await;
    assert_eq!(
        me("unseen").await?.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    bridge.stop().await?;
    sandbox.stop().await;
    Ok(())
}

/// `passerelle-bridge check` as a command: the table on stdout, exit 0 on the sandbox's fake, 1
/// on something that is no POS backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_command_prints_the_table_and_exits_non_zero_on_failure() -> TestResult {
    let sandbox = Sandbox::start(SandboxOptions::default()).await?;
    let run = |url: String| {
        let admin = sandbox.admin_url();
        tokio::process::Command::new(env!("CARGO_BIN_EXE_passerelle-bridge"))
            .args(["check", "--url", &url, "--sandbox-admin", &admin])
            .output()
    };
    let passing = run(sandbox.pos_url()).await?;
    let table = String::from_utf8_lossy(&passing.stdout);
    assert!(passing.status.success(), "{table}");
    assert!(
        table.contains("PASS") && table.contains(" passed, 0 failed"),
        "{table}"
    );
    let failing = run(sandbox.admin_url()).await?;
    assert_eq!(failing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&failing.stdout).contains("FAIL"));
    sandbox.stop().await;
    Ok(())
}
