//! HubRise's OAuth server: consent pages, codes, token responses, revocation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use passerelle_sandbox::drivers::consent::{self, ConsentChoice, ConsentError};
use passerelle_sandbox::{Sandbox, SandboxOptions};
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn consent_flow_gives_a_code_the_token_endpoint_accepts() {
    let sb = sandbox().await;
    let url = authorize_url(
        &sb,
        APP_REDIRECT,
        &[("state", "st-123"), ("device_id", "ipad-1")],
    );
    let choice = ConsentChoice::for_user(sb.seed().user())
        .location("3r4s3-2")
        .catalog("2kd7t")
        .customer_list("9zqm4");
    let location = consent::approve(&url, &choice).await.unwrap();
    assert!(
        location.starts_with("passerelle-demo://oauth/hubrise?code="),
        "{location}"
    );
    assert_eq!(
        consent::query_param(&location, "state").as_deref(),
        Some("st-123")
    );

    let code = consent::code_from_redirect(&location).unwrap();
    let response = exchange(&sb, &code).await;
    assert_eq!(response.status(), 200);
    let token: Value = response.json().await.unwrap();
    assert!(token["access_token"].as_str().unwrap().len() >= 26);
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["account_id"], "3r4s3");
    assert_eq!(token["account_name"], "Bella Pizza");
    assert_eq!(token["location_id"], "3r4s3-2");
    assert_eq!(token["location_name"], "Lyon");
    assert_eq!(token["catalog_id"], "2kd7t");
    assert_eq!(token["catalog_name"], "Bella Pizza Lyon");
    assert_eq!(token["customer_list_id"], "9zqm4");
    assert_eq!(token["customer_list_name"], "Bella Pizza Fidélité");
    assert!(token["app_instance_id"].is_string());
    assert!(token.get("expires_in").is_none() && token.get("refresh_token").is_none());

    let location = api_get(&sb, &token_of(&token), "/location").await;
    assert_eq!(location.status(), 200);
    let location: Value = location.json().await.unwrap();
    assert_eq!(location["name"], "Lyon");
    assert_eq!(
        location["account"],
        json!({ "id": "3r4s3", "name": "Bella Pizza", "currency": "EUR" })
    );
    assert_eq!(location["timezone"]["name"], "Europe/Paris");
}

#[tokio::test]
async fn the_consent_pages_are_the_documented_form_sequence() {
    let sb = sandbox().await;
    let http = http();
    let page = http
        .get(authorize_url(&sb, APP_REDIRECT, &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    for needle in [
        "name=\"flow\"",
        "name=\"step\" value=\"sign_in\"",
        "id=\"email\"",
        "id=\"password\"",
        "id=\"sign-in\"",
    ] {
        assert!(html.contains(needle), "sign-in page lacks {needle}");
    }
    let flow = html
        .split("name=\"flow\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let post = |form: Vec<(&'static str, String)>| {
        let http = http.clone();
        let action = format!("{}/authorize", sb.hubrise_oauth_url());
        async move { http.post(action).form(&form).send().await.unwrap() }
    };
    let user = sb.seed().user().clone();

    // A wrong password shows the sign-in page again with an error.
    let wrong = post(vec![
        ("flow", flow.clone()),
        ("step", "sign_in".into()),
        ("email", user.email.clone()),
        ("password", "nope".into()),
    ])
    .await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().await.unwrap().contains("id=\"error\""));

    let location_page = post(vec![
        ("flow", flow.clone()),
        ("step", "sign_in".into()),
        ("email", user.email.clone()),
        ("password", user.password.clone()),
    ])
    .await;
    let html = location_page.text().await.unwrap();
    assert!(
        html.contains("<select id=\"location_id\" name=\"location_id\">"),
        "{html}"
    );
    assert!(html.contains("value=\"3r4s3-1\"") && html.contains("value=\"3r4s3-2\""));

    // A step out of sequence is refused.
    let stale = post(vec![
        ("flow", flow.clone()),
        ("step", "decision".into()),
        ("decision", "allow".into()),
    ])
    .await;
    assert_eq!(stale.status(), 400);

    let resources = post(vec![
        ("flow", flow.clone()),
        ("step", "location".into()),
        ("location_id", "3r4s3-1".into()),
    ])
    .await;
    let html = resources.text().await.unwrap();
    assert!(html.contains("<select id=\"catalog_id\" name=\"catalog_id\">"));
    assert!(html.contains("<select id=\"customer_list_id\" name=\"customer_list_id\">"));
    // Lyon's own catalog is not offered for Paris.
    assert!(html.contains("value=\"psmlf\"") && !html.contains("value=\"2kd7t\""));

    let decision = post(vec![
        ("flow", flow.clone()),
        ("step", "resources".into()),
        ("catalog_id", "psmlf".into()),
        ("customer_list_id", "xab66".into()),
    ])
    .await;
    let html = decision.text().await.unwrap();
    assert!(html.contains("id=\"allow\"") && html.contains("name=\"decision\" value=\"allow\""));
    assert!(html.contains("id=\"deny\"") && html.contains("Paris (3r4s3-1)"));

    let done = post(vec![
        ("flow", flow.clone()),
        ("step", "decision".into()),
        ("decision", "allow".into()),
    ])
    .await;
    assert_eq!(done.status(), 302);
    let location = done.headers()["location"].to_str().unwrap().to_owned();
    assert!(consent::code_from_redirect(&location).is_some());
    // No state was sent, so none comes back.
    assert!(consent::query_param(&location, "state").is_none());

    // The flow is over: posting again is refused.
    let again = post(vec![
        ("flow", flow),
        ("step", "decision".into()),
        ("decision", "allow".into()),
    ])
    .await;
    assert_eq!(again.status(), 400);
}

#[tokio::test]
async fn deny_redirects_with_access_denied_and_the_state() {
    let sb = sandbox().await;
    let url = authorize_url(&sb, APP_REDIRECT, &[("state", "s1")]);
    let location = consent::deny(&url, &ConsentChoice::for_user(sb.seed().user()))
        .await
        .unwrap();
    assert_eq!(
        consent::query_param(&location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        consent::query_param(&location, "state").as_deref(),
        Some("s1")
    );
    assert!(consent::code_from_redirect(&location).is_none());
}

#[tokio::test]
async fn the_out_of_band_page_shows_the_code() {
    let sb = sandbox().await;
    let url = authorize_url(&sb, "urn:ietf:wg:oauth:2.0:oob", &[]);
    let code = consent::approve(&url, &ConsentChoice::for_user(sb.seed().user()))
        .await
        .unwrap();
    assert_eq!(code.len(), 32);
    assert_eq!(exchange(&sb, &code).await.status(), 200);
    let denied = consent::deny(&url, &ConsentChoice::for_user(sb.seed().user()))
        .await
        .unwrap();
    assert_eq!(denied, "access_denied");
}

#[tokio::test]
async fn a_single_location_account_skips_the_location_step() {
    let sb = sandbox().await;
    let marco = sb.seed().users[1].clone();
    let code = consent::approve(
        &authorize_url(&sb, APP_REDIRECT, &[]),
        &ConsentChoice::for_user(&marco),
    )
    .await
    .unwrap();
    let token: Value = exchange(&sb, &consent::code_from_redirect(&code).unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(token["location_id"], "7hq2c-1");
    assert_eq!(token["location_name"], "Nice");
}

#[tokio::test]
async fn bad_authorize_requests_get_an_error_page_and_no_redirect() {
    let sb = sandbox().await;
    let http = http();
    let base = format!("{}/authorize", sb.hubrise_oauth_url());
    let cases = [
        (
            "unknown client",
            format!(
                "{base}?client_id=1.clients.hubrise.com&redirect_uri=urn:ietf:wg:oauth:2.0:oob&scope=profile"
            ),
        ),
        (
            "unregistered redirect",
            authorize_url(&sb, "https://evil.example/cb", &[]),
        ),
        (
            "redirect prefix only",
            authorize_url(&sb, "passerelle-demo://oauth/hubrise/extra", &[]),
        ),
        (
            "missing scope",
            format!(
                "{base}?client_id={}&redirect_uri=urn:ietf:wg:oauth:2.0:oob",
                sb.seed().client_id
            ),
        ),
        (
            "malformed scope",
            format!(
                "{base}?client_id={}&redirect_uri=urn:ietf:wg:oauth:2.0:oob&scope=location%5Borders.eat%5D",
                sb.seed().client_id
            ),
        ),
        (
            "bad device id",
            authorize_url(&sb, APP_REDIRECT, &[("device_id", "ipad one!")]),
        ),
    ];
    for (what, url) in cases {
        let r = http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 400, "{what}");
        assert!(r.headers().get("location").is_none(), "{what}");
        assert!(r.text().await.unwrap().contains("id=\"error\""), "{what}");
    }
}

#[tokio::test]
async fn wrong_credentials_on_the_consent_page_are_reported() {
    let sb = sandbox().await;
    let choice = ConsentChoice {
        email: "manager@bellapizza.fr".into(),
        password: "wrong".into(),
        ..Default::default()
    };
    let err = consent::approve(&authorize_url(&sb, APP_REDIRECT, &[]), &choice)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConsentError::Page { status: 401, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn reauthorising_returns_the_same_token_unless_the_device_differs() {
    let sb = sandbox().await;
    let first = connect(&sb, "3r4s3-1", None).await;
    let again = connect(&sb, "3r4s3-1", None).await;
    assert_eq!(first["access_token"], again["access_token"]);
    assert_eq!(first["app_instance_id"], again["app_instance_id"]);

    let ipad_a = connect(&sb, "3r4s3-1", Some("ipad-A")).await;
    let ipad_b = connect(&sb, "3r4s3-1", Some("ipad-B")).await;
    let ipad_a_again = connect(&sb, "3r4s3-1", Some("ipad-A")).await;
    assert_ne!(ipad_a["access_token"], first["access_token"]);
    assert_ne!(ipad_a["access_token"], ipad_b["access_token"]);
    assert_eq!(ipad_a["access_token"], ipad_a_again["access_token"]);

    // Another location is another connection.
    let lyon = connect(&sb, "3r4s3-2", None).await;
    assert_ne!(lyon["access_token"], first["access_token"]);
}

#[tokio::test]
async fn choosing_another_catalog_moves_the_token_to_it() {
    let sb = sandbox().await;
    let choose = |catalog: &'static str| {
        let url = authorize_url(&sb, APP_REDIRECT, &[]);
        let choice = ConsentChoice::for_user(sb.seed().user())
            .location("3r4s3-2")
            .catalog(catalog);
        async move {
            consent::code_from_redirect(&consent::approve(&url, &choice).await.unwrap()).unwrap()
        }
    };
    let first: Value = exchange(&sb, &choose("psmlf").await)
        .await
        .json()
        .await
        .unwrap();
    let token = token_of(&first);
    assert_eq!(api_get(&sb, &token, "/catalogs/psmlf").await.status(), 200);
    assert_eq!(api_get(&sb, &token, "/catalogs/2kd7t").await.status(), 403);

    let second: Value = exchange(&sb, &choose("2kd7t").await)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(token_of(&second), token);
    assert_eq!(second["catalog_id"], "2kd7t");
    assert_eq!(api_get(&sb, &token, "/catalogs/psmlf").await.status(), 403);
    let catalog: Value = api_get(&sb, &token, "/catalogs/2kd7t")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(catalog["name"], "Bella Pizza Lyon");
    assert!(catalog["data"]["products"].is_array());
    let hidden: Value = api_get(&sb, &token, "/catalogs/2kd7t?hide_data=true")
        .await
        .json()
        .await
        .unwrap();
    assert!(hidden.get("data").is_none());
}

#[tokio::test]
async fn codes_are_single_use() {
    let sb = sandbox().await;
    let code = code_for(&sb, "3r4s3-1", &[]).await;
    assert_eq!(exchange(&sb, &code).await.status(), 200);
    let replay = exchange(&sb, &code).await;
    assert_eq!(replay.status(), 400);
    let body: Value = replay.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("already been used")
    );
    assert_eq!(
        exchange(&sb, "0123456789abcdef0123456789abcdef")
            .await
            .status(),
        400
    );
}

#[tokio::test]
async fn codes_expire_after_ten_minutes() {
    let sb = sandbox().await;
    let fresh = code_for(&sb, "3r4s3-1", &[]).await;
    sb.admin().age_codes(Duration::from_secs(599)).await;
    assert_eq!(exchange(&sb, &fresh).await.status(), 200);

    let old = code_for(&sb, "3r4s3-1", &[]).await;
    sb.admin().age_codes(Duration::from_secs(601)).await;
    let r = exchange(&sb, &old).await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn client_credentials_by_basic_form_or_json() {
    let sb = sandbox().await;
    let seed = sb.seed().clone();
    let token_url = format!("{}/token", sb.hubrise_oauth_url());

    let code = code_for(&sb, "3r4s3-1", &[]).await;
    let form = http()
        .post(&token_url)
        .form(&[
            ("client_id", seed.client_id.as_str()),
            ("client_secret", &seed.client_secret),
            ("code", &code),
            ("grant_type", "authorization_code"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);

    let code = code_for(&sb, "3r4s3-1", &[]).await;
    let json = http()
        .post(&token_url)
        .json(&json!({ "client_id": seed.client_id, "client_secret": seed.client_secret, "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 200);

    let code = code_for(&sb, "3r4s3-1", &[]).await;
    assert_eq!(exchange(&sb, &code).await.status(), 200);
}

#[tokio::test]
async fn bad_client_credentials_are_401() {
    let sb = sandbox().await;
    let code = code_for(&sb, "3r4s3-1", &[]).await;
    let token_url = format!("{}/token", sb.hubrise_oauth_url());
    let wrong = http()
        .post(&token_url)
        .basic_auth(&sb.seed().client_id, Some("not-the-secret"))
        .form(&[("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["error_type"], "unauthorized");
    let missing = http()
        .post(&token_url)
        .form(&[("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401);
    // The code was not consumed by the failed attempts.
    assert_eq!(exchange(&sb, &code).await.status(), 200);

    // Another client cannot redeem Passerelle's code.
    let code = code_for(&sb, "3r4s3-1", &[]).await;
    let other = &sb.seed().other_client;
    let stolen = http()
        .post(&token_url)
        .basic_auth(&other.id, Some(&other.secret))
        .form(&[("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status(), 400);
}

#[tokio::test]
async fn token_type_can_be_omitted_and_bad_codes_can_be_404() {
    let opts = SandboxOptions {
        omit_token_type: true,
        invalid_code_status: 404,
        ..Default::default()
    };
    let sb = Sandbox::start(opts).await.unwrap();
    let token: Value = exchange(&sb, &code_for(&sb, "3r4s3-1", &[]).await)
        .await
        .json()
        .await
        .unwrap();
    assert!(token.get("token_type").is_none());
    assert!(token["access_token"].is_string());
    assert_eq!(exchange(&sb, "nope").await.status(), 404);
}

#[tokio::test]
async fn pkce_is_accepted_and_checked_when_a_verifier_is_sent() {
    let sb = sandbox().await;
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    // RFC 7636 appendix B.
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let pkce = [
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("state", "x"),
    ];
    let token_url = format!("{}/token", sb.hubrise_oauth_url());
    let send = |code: String, verifier: &'static str| {
        let (url, id, secret) = (
            token_url.clone(),
            sb.seed().client_id.clone(),
            sb.seed().client_secret.clone(),
        );
        async move {
            http()
                .post(url)
                .basic_auth(id, Some(secret))
                .form(&[("code", code.as_str()), ("code_verifier", verifier)])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        send(
            code_for(&sb, "3r4s3-1", &pkce).await,
            "wrong-verifier-wrong-verifier-wrong-verifier"
        )
        .await
        .status(),
        400
    );
    assert_eq!(
        send(code_for(&sb, "3r4s3-1", &pkce).await, verifier)
            .await
            .status(),
        200
    );
    // Without a verifier HubRise (which knows no PKCE) still accepts the code.
    assert_eq!(
        exchange(&sb, &code_for(&sb, "3r4s3-1", &pkce).await)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn revoked_tokens_stop_working() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    let r = http()
        .post(format!("{}/revoke", sb.hubrise_oauth_url()))
        .basic_auth(&sb.seed().client_id, Some(&sb.seed().client_secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let after = api_get(&sb, &token, "/location").await;
    assert_eq!(after.status(), 401);
    let body: Value = after.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "error_type": "unauthorized", "message": "The access token is invalid or the connection has been revoked" })
    );
    // Reconnecting issues a new token.
    let fresh = token_of(&connect(&sb, "3r4s3-1", None).await);
    assert_ne!(fresh, token);
    assert_eq!(api_get(&sb, &fresh, "/location").await.status(), 200);
}

#[tokio::test]
async fn token_answers_follow_the_content_type_and_error_body_switches() {
    use passerelle_sandbox::TokenErrorBody;
    let sb = Sandbox::start(SandboxOptions {
        token_content_type: Some("text/plain".into()),
        token_error_body: TokenErrorBody::Html,
        ..Default::default()
    })
    .await
    .unwrap();
    let code = code_for(&sb, "3r4s3-1", &[]).await;
    let ok = exchange(&sb, &code).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["content-type"], "text/plain");
    let token: Value = serde_json::from_slice(&ok.bytes().await.unwrap()).unwrap();
    assert!(token["access_token"].is_string(), "the body is still JSON");

    let replayed = exchange(&sb, &code).await;
    assert_eq!(replayed.status(), 400);
    assert_eq!(replayed.headers()["content-type"], "text/plain");
    assert!(
        replayed
            .text()
            .await
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );

    sb.admin()
        .update_options(|o| {
            o.token_error_body = TokenErrorBody::Empty;
            o.token_content_type = None;
        })
        .await;
    let bad_client = http()
        .post(format!("{}/token", sb.hubrise_oauth_url()))
        .basic_auth(&sb.seed().client_id, Some("wrong"))
        .form(&[("code", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad_client.status(), 401);
    assert!(bad_client.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn https_redirects_only_refuses_custom_schemes() {
    let sb = Sandbox::start(SandboxOptions {
        https_redirects_only: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let custom = http()
        .get(authorize_url(&sb, APP_REDIRECT, &[("state", "s")]))
        .send()
        .await
        .unwrap();
    assert_eq!(custom.status(), 400);
    assert!(custom.text().await.unwrap().contains("must use https"));
    for allowed in [
        "urn:ietf:wg:oauth:2.0:oob".to_owned(),
        format!("{}/hubrise/device-callback", sb.pos_url()),
    ] {
        let page = http()
            .get(authorize_url(&sb, &allowed, &[("state", "s")]))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "{allowed}");
    }
}
