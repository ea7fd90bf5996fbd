//! The POS backend: password and refresh grants, lockout, /me, the broker, the configuration.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use passerelle_sandbox::{Sandbox, SandboxOptions};
use reqwest::Response;
use serde_json::{Value, json};

use crate::common::*;

async fn password(sb: &Sandbox, email: &str, pass: &str) -> Response {
    http()
        .post(format!("{}/oauth/token", sb.pos_url()))
        .form(&[
            ("grant_type", "password"),
            ("username", email),
            ("password", pass),
            ("client_id", "passerelle-ios"),
        ])
        .send()
        .await
        .unwrap()
}

async fn refresh(sb: &Sandbox, token: &str) -> Response {
    http()
        .post(format!("{}/oauth/token", sb.pos_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("client_id", "passerelle-ios"),
        ])
        .send()
        .await
        .unwrap()
}

async fn me(sb: &Sandbox, token: &str) -> Response {
    http()
        .get(format!("{}/me", sb.pos_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn sign_in(sb: &Sandbox) -> Value {
    let pos = sb.seed().pos_account().clone();
    let r = password(sb, &pos.email, &pos.password).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn password_grant_me_and_refresh_rotation() {
    let sb = Sandbox::start(SandboxOptions {
        pos_access_token_ttl: Duration::from_secs(120),
        ..Default::default()
    })
    .await
    .unwrap();
    let tokens = sign_in(&sb).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 120);
    let access = tokens["access_token"].as_str().unwrap();
    let profile: Value = me(&sb, access).await.json().await.unwrap();
    assert_eq!(
        profile,
        json!({ "account_id": "pos-1001", "email": "chef@bellapizza.fr", "business_name": "Bella Pizza" })
    );

    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let renewed: Value = refresh(&sb, refresh_token).await.json().await.unwrap();
    assert_ne!(
        renewed["refresh_token"], tokens["refresh_token"],
        "refresh tokens rotate"
    );
    assert_eq!(
        me(&sb, renewed["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
    let replay = refresh(&sb, refresh_token).await;
    assert_eq!(replay.status(), 400);
    assert_eq!(
        replay.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );

    sb.admin().expire_pos_access_tokens().await;
    let expired = me(&sb, renewed["access_token"].as_str().unwrap()).await;
    assert_eq!(expired.status(), 401);
    assert_eq!(
        expired.json::<Value>().await.unwrap(),
        json!({ "error": "invalid_token" })
    );
    assert_eq!(me(&sb, "nonsense").await.status(), 401);
}

#[tokio::test]
async fn wrong_passwords_then_lockout_with_a_retry_delay() {
    let opts = SandboxOptions {
        lockout_after: 3,
        lockout_for: Duration::from_secs(2),
        ..Default::default()
    };
    let sb = Sandbox::start(opts).await.unwrap();
    let pos = sb.seed().pos_account().clone();
    for _ in 0..3 {
        let r = password(&sb, &pos.email, "wrong").await;
        assert_eq!(r.status(), 400);
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");
    }
    let locked = password(&sb, &pos.email, &pos.password).await;
    assert_eq!(locked.status(), 429, "even the right password waits");
    let header: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body: Value = locked.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    assert_eq!(body["retry_after"], header);
    assert!((1..=2).contains(&header));
    // Another account is not affected.
    let other = sb.seed().pos_accounts[1].clone();
    assert_eq!(
        password(&sb, &other.email, &other.password).await.status(),
        200
    );

    tokio::time::sleep(Duration::from_secs(header)).await;
    assert_eq!(password(&sb, &pos.email, &pos.password).await.status(), 200);

    for _ in 0..3 {
        password(&sb, &pos.email, "wrong").await;
    }
    assert_eq!(password(&sb, &pos.email, &pos.password).await.status(), 429);
    sb.admin().pos_lock_reset(&pos.email).await;
    assert_eq!(password(&sb, &pos.email, &pos.password).await.status(), 200);
}

#[tokio::test]
async fn the_token_endpoint_speaks_rfc_6749() {
    let sb = sandbox().await;
    let url = format!("{}/oauth/token", sb.pos_url());
    let no_client = http()
        .post(&url)
        .form(&[
            ("grant_type", "password"),
            ("username", "a"),
            ("password", "b"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(no_client.status(), 401);
    assert_eq!(
        no_client.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let bad_grant = http()
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "passerelle-ios"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        bad_grant.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
}

async fn broker(sb: &Sandbox, pos_token: &str, body: &Value) -> Response {
    http()
        .post(format!("{}/hubrise/broker/token", sb.pos_url()))
        .bearer_auth(pos_token)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_broker_exchanges_codes_for_the_device_and_records_them() {
    let sb = sandbox().await;
    let pos = sign_in(&sb).await;
    let pos_token = pos["access_token"].as_str().unwrap();
    let code = code_for(&sb, "3r4s3-1", &[("device_id", "ipad-A")]).await;

    assert_eq!(
        broker(&sb, "bad", &json!({ "code": code })).await.status(),
        401
    );
    let r = broker(
        &sb,
        pos_token,
        &json!({ "code": code, "redirect_uri": APP_REDIRECT, "device_id": "ipad-A" }),
    )
    .await;
    assert_eq!(r.status(), 200);
    let token: Value = r.json().await.unwrap();
    assert_eq!(token["location_id"], "3r4s3-1");
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(
        api_get(&sb, &token_of(&token), "/location").await.status(),
        200
    );

    // HubRise's errors pass through unchanged.
    let replay = broker(&sb, pos_token, &json!({ "code": code })).await;
    assert_eq!(replay.status(), 400);
    assert!(
        replay.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("already been used")
    );

    // The configuration lists it, without the token, with an ETag.
    let config_url = format!("{}/hubrise/configuration", sb.pos_url());
    let r = http()
        .get(&config_url)
        .bearer_auth(pos_token)
        .send()
        .await
        .unwrap();
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let body = r.text().await.unwrap();
    assert!(!body.contains(token_of(&token).as_str()));
    let config: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(config["connections"][0]["origin"], "device");
    assert_eq!(config["connections"][0]["state"], "active");
    assert_eq!(config["connections"][0]["location_name"], "Paris");
    let unchanged = http()
        .get(&config_url)
        .bearer_auth(pos_token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), 304);

    // A device-made connection's token is not handed out again.
    let handoff = http()
        .get(format!(
            "{}/hubrise/connections/3r4s3-1/token",
            sb.pos_url()
        ))
        .bearer_auth(pos_token)
        .send()
        .await
        .unwrap();
    assert_eq!(handoff.status(), 404);

    // Revoking through the backend revokes at HubRise and changes the configuration.
    let revoke = http()
        .post(format!(
            "{}/hubrise/connections/3r4s3-1/revoke",
            sb.pos_url()
        ))
        .bearer_auth(pos_token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    assert_eq!(
        api_get(&sb, &token_of(&token), "/location").await.status(),
        401
    );
    let changed = http()
        .get(&config_url)
        .bearer_auth(pos_token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_eq!(
        changed.json::<Value>().await.unwrap()["connections"][0]["state"],
        "removed"
    );
}

async fn claim(sb: &Sandbox, pos_token: &str, state: &str) -> Response {
    http()
        .post(format!("{}/hubrise/device-flows/claim", sb.pos_url()))
        .bearer_auth(pos_token)
        .json(&json!({ "state": state }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_backend_redirect_hands_the_code_to_the_device_that_started_the_flow() {
    use passerelle_sandbox::drivers::consent::{self, ConsentChoice};
    let sb = sandbox().await;
    let pos_token = sign_in(&sb).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let state = "device-state-0123456789";
    let digest: String = {
        use sha2::Digest;
        sha2::Sha256::digest(state.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let registered = http()
        .post(format!("{}/hubrise/device-flows", sb.pos_url()))
        .bearer_auth(&pos_token)
        .json(&json!({ "state_digest": digest }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    assert_eq!(claim(&sb, &pos_token, state).await.status(), 202, "pending");

    let redirect = format!("{}/hubrise/device-callback", sb.pos_url());
    let choice = ConsentChoice::for_user(sb.seed().user()).location("3r4s3-1");
    let location = consent::approve(&authorize_url(&sb, &redirect, &[("state", state)]), &choice)
        .await
        .unwrap();
    assert!(location.starts_with(&redirect), "{location}");
    let callback = http().get(&location).send().await.unwrap();
    assert_eq!(callback.status(), 303);
    let back = callback.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        back,
        format!("{}/hubrise/device-return?state={state}", sb.pos_url())
    );
    assert!(!back.contains("code="), "the code stays at the backend");
    let page = http().get(&back).send().await.unwrap();
    assert_eq!(page.status(), 200);

    let claimed: Value = claim(&sb, &pos_token, state).await.json().await.unwrap();
    assert_eq!(claimed["status"], "authorized");
    let code = claimed["code"].as_str().unwrap();
    assert_eq!(
        claim(&sb, &pos_token, state).await.status(),
        404,
        "handed over once"
    );
    let token = broker(
        &sb,
        &pos_token,
        &json!({ "code": code, "redirect_uri": redirect, "device_id": "ipad-A" }),
    )
    .await;
    assert_eq!(token.status(), 200);

    // A state no device registered: nothing kept.
    let stray = http()
        .get(format!("{redirect}?code=abc&state=nobody-started-this"))
        .send()
        .await
        .unwrap();
    assert_eq!(stray.status(), 400);
}

#[tokio::test]
async fn the_identity_provider_introspects_its_tokens_for_the_bridges_client_only() {
    let sb = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let pos = sb.seed().pos_account().clone();
    let issued: Value = password(&sb, &pos.email, &pos.password)
        .await
        .json()
        .await
        .unwrap();
    let introspect = |client: (&'static str, &'static str), token: String| {
        http()
            .post(format!("{}/oauth/introspect", sb.pos_url()))
            .basic_auth(client.0, Some(client.1))
            .form(&[("token", token)])
            .send()
    };
    let bridge = (
        passerelle_sandbox::INTROSPECTION_CLIENT_ID,
        passerelle_sandbox::INTROSPECTION_CLIENT_SECRET,
    );
    let token = issued["access_token"].as_str().unwrap().to_owned();
    let answer: Value = introspect(bridge, token.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["active"], true);
    assert_eq!(answer["sub"], pos.account_id.as_str());
    assert_eq!(answer["business_name"], pos.business_name.as_str());
    assert!(answer["exp"].as_i64().unwrap() > 0);
    let unknown: Value = introspect(bridge, "nope".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unknown, json!({ "active": false }));
    let stranger = introspect(("passerelle-bridge", "wrong"), token)
        .await
        .unwrap();
    assert_eq!(stranger.status(), 401);
}

#[tokio::test]
async fn jwt_access_tokens_are_signed_with_the_key_the_jwks_publishes() {
    use base64::Engine;
    let sb = Sandbox::start(SandboxOptions {
        pos_access_tokens: passerelle_sandbox::PosAccessTokens::Jwt,
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let pos = sb.seed().pos_account().clone();
    let issued: Value = password(&sb, &pos.email, &pos.password)
        .await
        .json()
        .await
        .unwrap();
    let token = issued["access_token"].as_str().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    let decode = |part: &str| -> Value {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    let (header, claims) = (decode(parts[0]), decode(parts[1]));
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "RS256");
    assert_eq!(claims["iss"], sb.pos_url().as_str());
    assert_eq!(claims["aud"], passerelle_sandbox::JWT_AUDIENCE);
    assert_eq!(claims["sub"], pos.account_id.as_str());
    let jwks: Value = http()
        .get(format!("{}{}", sb.pos_url(), passerelle_sandbox::JWKS_PATH))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&Value> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["kid"])
        .collect();
    assert_eq!(kids, vec![&header["kid"]]);
    // The fake's own routes take the JWT like an opaque token.
    assert_eq!(me(&sb, token).await.status(), 200);
    // After a rotation both keys are published.
    sb.admin().rotate_pos_signing_key().await;
    let jwks: Value = http()
        .get(format!("{}{}", sb.pos_url(), passerelle_sandbox::JWKS_PATH))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
}
