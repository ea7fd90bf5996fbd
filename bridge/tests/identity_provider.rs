//! The vendor's identity provider played by the sandbox, the way production splits it: the
//! sandbox's POS listener is the vendor's gateway, serving sign-in itself (`/oauth/token`, the
//! password grant the till uses) and forwarding everything else to the bridge, which checks the
//! till's tokens at the provider, by RFC 7662 introspection or as RFC 9068 JWT access tokens
//! verified against the provider's JWKS. The core talks to the gateway, unchanged.

use std::sync::Arc;
use std::time::Duration;

use passerelle_bridge::config::IdentityConfig;
use passerelle_bridge::identity::jwt::JwtSettings;
use passerelle_core::{InMemorySecretStore, Passerelle};
use passerelle_sandbox::drivers::back_office;
use passerelle_sandbox::drivers::consent::ConsentChoice;
use passerelle_sandbox::seed::sample_order;
use passerelle_sandbox::{
    Fault, JWKS_PATH, JWT_AUDIENCE, PosAccessTokens, SandboxOptions, ServerKind, sandbox_jwt,
    stranger_jwt,
};
use passerelle_test_support::bridge::{Bridged, checked_at_the_sandbox, start_behind_the_sandbox};
use passerelle_test_support::{EventRecorder, config_for, order_received, seeded};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{self, TestResult, client};

const WAIT: Duration = Duration::from_secs(10);
const HOUR: Duration = Duration::from_secs(3600);

/// How the bridge checks POS tokens in these tests.
enum Checked {
    Introspection,
    /// JWTs; the JWKS is read again at most every `refetch` (an unknown `kid`, a provider
    /// away) and its keys are kept `cache_for`.
    Jwt {
        refetch: Duration,
        cache_for: Duration,
    },
}

/// The sandbox as HubRise, the vendor's gateway and identity provider, with the bridge behind
/// it on SQLite in `dir`.
async fn start(
    dir: &std::path::Path,
    checked: Checked,
) -> Result<Bridged, Box<dyn std::error::Error>> {
    let tokens = match checked {
        Checked::Introspection => PosAccessTokens::Opaque,
        Checked::Jwt { .. } => PosAccessTokens::Jwt,
    };
    let options = SandboxOptions {
        pos_proxy_keeps_identity: true,
        pos_access_tokens: tokens,
        ..SandboxOptions::default()
    };
    let stack =
        start_behind_the_sandbox(options, support::sqlite(dir), support::keys(), |config| {
            // The gateway's URL is the provider's; the back office signs people in there.
            checked_at_the_sandbox(config);
            let provider = config.public_url.clone();
            if let Checked::Jwt { refetch, cache_for } = checked {
                config.identity = IdentityConfig::Jwt(JwtSettings {
                    issuer: provider.clone(),
                    audience: JWT_AUDIENCE.into(),
                    jwks_url: format!("{provider}{JWKS_PATH}"),
                    cache_for,
                    clock_skew: Duration::from_secs(30),
                    refetch_at_most_every: refetch,
                });
            }
        })
        .await
        .map_err(|e| e.to_string())?;
    Ok(stack)
}

/// The till signs in at the provider (through the gateway), connects a location through the
/// bridge's broker, restarts and receives an order: every bridge route it used took the
/// provider's token.
async fn a_till_signs_in_at_the_provider_and_works_through_the_bridge(
    stack: &Bridged,
) -> TestResult {
    let events = Arc::new(EventRecorder::new());
    let app_dir = tempfile::tempdir()?;
    let app = Passerelle::open(
        config_for(stack, app_dir.path()),
        Arc::new(InMemorySecretStore::new()),
        events.clone(),
    )
    .await?;
    let seed = stack.sandbox.seed().clone();
    let account = seeded::sign_in(&app, &seed, 0).await?;
    assert_eq!(account.account_id, seed.pos_account().account_id);
    assert_eq!(account.business_name, seed.pos_account().business_name);
    let choice = seeded::choice(&seed, 0, "3r4s3-1")?;
    seeded::connect(&app, &choice).await?;
    app.restart().await?;
    assert!(
        app.backend_status()?.reachable,
        "{:?}",
        app.backend_status()?
    );
    let order = stack
        .sandbox
        .admin()
        .place_order("3r4s3-1", sample_order("Ada"))
        .await?;
    events
        .wait_for(order_received(&order), WAIT)
        .await
        .map_err(|e| format!("{e:?}"))?;
    app.close().await.ok();
    Ok(())
}

/// The restaurant signs in to the bridge's web back office with its POS password, which the
/// bridge takes to the provider (the password grant) without keeping it, and connects a
/// location there; a wrong password is refused.
async fn the_back_office_signs_in_at_the_provider(stack: &Bridged) -> TestResult {
    let seed = stack.sandbox.seed().clone();
    let pos = seed.pos_account().clone();
    let choice = ConsentChoice::for_user(seed.user()).location("3r4s3-2");
    let wrong =
        back_office::connect_on_the_web(&stack.pos_url, &pos.email, "not the password", &choice)
            .await;
    assert!(wrong.is_err(), "a wrong password signed in");
    let grants_before = requests_to(stack, "POST", "/oauth/token").await;
    back_office::connect_on_the_web(&stack.pos_url, &pos.email, &pos.password, &choice).await?;
    assert!(requests_to(stack, "POST", "/oauth/token").await > grants_before);
    let token = support::sign_in(&stack.pos_url, &pos.email, &pos.password).await?;
    let config: Value = client()
        .get(format!("{}/hubrise/configuration", stack.pos_url))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let web: Vec<&str> = config["connections"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["origin"] == "web")
        .filter_map(|c| c["location_id"].as_str())
        .collect();
    assert_eq!(web, ["3r4s3-2"]);
    Ok(())
}

/// `GET /hubrise/configuration` at the bridge (through the gateway) with `token`: the status
/// and the refusal's `error_description`.
async fn configuration(
    stack: &Bridged,
    token: &str,
) -> Result<(StatusCode, String), Box<dyn std::error::Error>> {
    let answer = client()
        .get(format!("{}/hubrise/configuration", stack.pos_url))
        .bearer_auth(token)
        .send()
        .await?;
    let status = answer.status();
    let body: Value = answer.json().await.unwrap_or(Value::Null);
    Ok((
        status,
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    ))
}

async fn requests_to(stack: &Bridged, method: &str, path: &str) -> usize {
    stack
        .sandbox
        .admin()
        .requests()
        .await
        .iter()
        .filter(|r| r.server == ServerKind::Pos && r.method == method && r.path == path)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_at_the_sandbox_checks_the_tills_tokens() -> TestResult {
    let dir = tempfile::tempdir()?;
    let stack = start(dir.path(), Checked::Introspection).await?;
    a_till_signs_in_at_the_provider_and_works_through_the_bridge(&stack).await?;
    the_back_office_signs_in_at_the_provider(&stack).await?;
    // The provider issued the till's tokens and the bridge asked it about them.
    assert!(requests_to(&stack, "POST", "/oauth/token").await >= 1);
    assert!(requests_to(&stack, "POST", "/oauth/introspect").await >= 1);
    // A token the provider never issued: refused, typed.
    let (status, why) = configuration(&stack, "not-a-token-of-the-provider").await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(why.contains("unknown, expired or revoked"), "{why}");
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_access_tokens_are_verified_against_the_sandboxs_jwks() -> TestResult {
    let dir = tempfile::tempdir()?;
    let stack = start(
        dir.path(),
        Checked::Jwt {
            refetch: Duration::from_secs(10),
            cache_for: HOUR,
        },
    )
    .await?;
    a_till_signs_in_at_the_provider_and_works_through_the_bridge(&stack).await?;
    the_back_office_signs_in_at_the_provider(&stack).await?;
    // Many requests, one read of the keys, and no call to the provider per token.
    assert_eq!(requests_to(&stack, "GET", JWKS_PATH).await, 1);
    assert_eq!(requests_to(&stack, "POST", "/oauth/introspect").await, 0);
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}

/// RFC 9068 claims for the seed's account, issued by `issuer`, expiring `exp_in` seconds from
/// now (negative: in the past).
fn claims(issuer: &str, exp_in: i64) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    json!({
        "iss": issuer, "aud": JWT_AUDIENCE, "sub": "pos-1001", "client_id": "passerelle-ios",
        "iat": now - 5, "exp": now + exp_in, "jti": "t1",
        "email": "chef@bellapizza.fr", "business_name": "Bella Pizza",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_refusals_are_typed_and_an_unknown_kid_reads_the_keys_again() -> TestResult {
    let dir = tempfile::tempdir()?;
    let refetch = Duration::from_secs(2);
    let stack = start(
        dir.path(),
        Checked::Jwt {
            refetch,
            cache_for: HOUR,
        },
    )
    .await?;
    let issuer = stack.pos_url.clone();
    let signed = |claims: &Value| sandbox_jwt(claims, "sandbox-pos-1").ok_or("signing");

    // Valid; and expired 10 s ago, inside the 30 s clock skew.
    assert_eq!(
        configuration(&stack, &signed(&claims(&issuer, 300))?)
            .await?
            .0,
        StatusCode::OK
    );
    assert_eq!(
        configuration(&stack, &signed(&claims(&issuer, -10))?)
            .await?
            .0,
        StatusCode::OK
    );

    let mut wrong_audience = claims(&issuer, 300);
    wrong_audience["aud"] = json!("another-api");
    let mut no_subject = claims(&issuer, 300);
    no_subject.as_object_mut().ok_or("claims")?.remove("sub");
    let mut tampered = signed(&claims(&issuer, 300))?;
    // Another payload under the first one's signature.
    let other_payload = signed(&claims(&issuer, 99_999))?;
    let parts: Vec<&str> = other_payload.split('.').collect();
    let original: Vec<&str> = tampered.split('.').collect();
    tampered = format!("{}.{}.{}", original[0], parts[1], original[2]);
    // HS256 under a published RSA key's kid (the algorithm confusion attack).
    let hs256 = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64
            .encode(json!({"alg": "HS256", "typ": "at+jwt", "kid": "sandbox-pos-1"}).to_string());
        let payload = b64.encode(claims(&issuer, 300).to_string());
        format!("{header}.{payload}.c2lnbmF0dXJl")
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "wrong audience",
            signed(&wrong_audience)?,
            "another audience",
        ),
        (
            "wrong issuer",
            signed(&claims("https://idp.example", 300))?,
            "another issuer",
        ),
        (
            "expired beyond the skew",
            signed(&claims(&issuer, -120))?,
            "expired",
        ),
        (
            "unknown kid",
            stranger_jwt(&claims(&issuer, 300), None).ok_or("signing")?,
            "signing key is unknown",
        ),
        (
            "bad signature",
            stranger_jwt(&claims(&issuer, 300), Some("sandbox-pos-1")).ok_or("signing")?,
            "signature is invalid",
        ),
        ("tampered payload", tampered, "signature is invalid"),
        ("HS256", hs256, "algorithm is not accepted"),
        ("no sub", signed(&no_subject)?, "sub"),
        ("not a JWT", "opaque-token".to_owned(), "not a JWT"),
    ];
    // The first request read the keys; the unknown kid below may read them again.
    tokio::time::sleep(refetch + Duration::from_millis(100)).await;
    for (case, token, why) in &cases {
        let (status, description) = configuration(&stack, token).await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}");
        assert!(description.contains(why), "{case}: {description}");
    }
    // Counted by reason for the operator.
    let metrics = client()
        .get(format!("http://{}/metrics", stack.bridge.addr))
        .send()
        .await?
        .text()
        .await?;
    for reason in [
        "wrong_audience",
        "wrong_issuer",
        "expired",
        "unknown_key",
        "bad_signature",
    ] {
        assert!(
            metrics.contains(&format!(
                "bridge_token_refusals_total{{reason=\"{reason}\"}}"
            )),
            "{reason}: {metrics}"
        );
    }
    assert!(
        metrics.contains("bridge_token_refusals_total{reason=\"bad_signature\"} 2"),
        "{metrics}"
    );
    // One read at the first token, one for the unknown kid; the rest used the cache.
    assert_eq!(requests_to(&stack, "GET", JWKS_PATH).await, 2);

    // The provider rotates its key: the first token signed with the new one reads the JWKS
    // again and is accepted.
    tokio::time::sleep(refetch + Duration::from_millis(100)).await;
    let kid = stack.sandbox.admin().rotate_pos_signing_key().await;
    let rotated = sandbox_jwt(&claims(&issuer, 300), kid).ok_or("signing")?;
    assert_eq!(configuration(&stack, &rotated).await?.0, StatusCode::OK);
    assert_eq!(requests_to(&stack, "GET", JWKS_PATH).await, 3);
    // A flood of made-up kids right after: refused without reaching the provider each time.
    for _ in 0..5 {
        let forged = stranger_jwt(&claims(&issuer, 300), None).ok_or("signing")?;
        assert_eq!(
            configuration(&stack, &forged).await?.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(requests_to(&stack, "GET", JWKS_PATH).await, 3);
    // Tokens of the previous key still hold while the JWKS publishes it.
    assert_eq!(
        configuration(&stack, &signed(&claims(&issuer, 300))?)
            .await?
            .0,
        StatusCode::OK
    );
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_out_of_reach_keeps_the_cached_keys_and_without_any_is_a_typed_503() -> TestResult {
    let dir = tempfile::tempdir()?;
    // Keys never fresh: every request would read the JWKS again, but for the interval.
    let refetch = Duration::from_millis(500);
    let checked = Checked::Jwt {
        refetch,
        cache_for: Duration::ZERO,
    };
    let stack = start(dir.path(), checked).await?;
    let token = sandbox_jwt(&claims(&stack.pos_url, 300), "sandbox-pos-1").ok_or("signing")?;
    let direct = |token: String| {
        client()
            .get(format!(
                "http://{}/hubrise/configuration",
                stack.bridge.addr
            ))
            .bearer_auth(token)
            .send()
    };
    let admin = stack.sandbox.admin();
    // The provider answers its JWKS with 503s (each attempt is in the request log).
    let down = || Fault::status(JWKS_PATH, 503, 100).on_server(ServerKind::Pos);
    admin.inject_fault(down()).await;
    let answer = direct(token.clone()).await?;
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(answer.headers().contains_key("retry-after"));
    // Inside the interval the failure is remembered, not tried again: a 503 still.
    assert_eq!(
        direct(token.clone()).await?.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(requests_to(&stack, "GET", JWKS_PATH).await, 1);

    admin.clear_faults().await;
    tokio::time::sleep(refetch + Duration::from_millis(100)).await;
    assert_eq!(direct(token.clone()).await?.status(), StatusCode::OK);
    assert_eq!(requests_to(&stack, "GET", JWKS_PATH).await, 2);
    // The provider away again, the keys stale: the cached ones keep working, and the provider
    // is asked once an interval, not once a request.
    admin.inject_fault(down()).await;
    tokio::time::sleep(refetch + Duration::from_millis(100)).await;
    for _ in 0..4 {
        assert_eq!(direct(token.clone()).await?.status(), StatusCode::OK);
    }
    assert_eq!(requests_to(&stack, "GET", JWKS_PATH).await, 3);
    admin.clear_faults().await;
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}
