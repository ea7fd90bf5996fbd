//! Bad input on the routes: a typed 4xx, nothing stored, never a 500.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{self, TestResult, client};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_typed_4xx_and_changes_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let stack = support::start(support::sqlite(dir.path()), support::keys()).await?;
    let pos = stack.sandbox.seed().pos_account().clone();
    let token = support::sign_in(&stack.pos_url, &pos.email, &pos.password).await?;
    let before = support::configuration(&stack.pos_url, &token).await?;
    let url = &stack.pos_url;
    let http = client();
    let big = "x".repeat(100 * 1024);
    let cases: Vec<(&str, reqwest::RequestBuilder, u16)> = vec![
        (
            "oversized body",
            http.post(format!("{url}/hubrise/broker/token"))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(big.clone()),
            413,
        ),
        (
            "oversized form",
            http.post(format!("{url}/oauth/token")).body(big),
            413,
        ),
        (
            "JSON array",
            http.post(format!("{url}/hubrise/broker/token"))
                .bearer_auth(&token)
                .json(&json!([1])),
            400,
        ),
        (
            "code as number",
            http.post(format!("{url}/hubrise/broker/token"))
                .bearer_auth(&token)
                .json(&json!({"code": 5})),
            400,
        ),
        (
            "unknown code",
            http.post(format!("{url}/hubrise/broker/token"))
                .bearer_auth(&token)
                .json(&json!({"code": "0123"})),
            400,
        ),
        (
            "revoke body not JSON",
            http.post(format!("{url}/hubrise/connections/3r4s3-1/revoke"))
                .bearer_auth(&token)
                .body("{"),
            400,
        ),
        (
            "revoke nothing",
            http.post(format!("{url}/hubrise/connections/3r4s3-1/revoke"))
                .bearer_auth(&token),
            404,
        ),
        (
            "claim unknown state",
            http.post(format!("{url}/hubrise/device-flows/claim"))
                .bearer_auth(&token)
                .json(&json!({"state": "nope"})),
            404,
        ),
        (
            "claim without state",
            http.post(format!("{url}/hubrise/device-flows/claim"))
                .bearer_auth(&token)
                .json(&json!({"state": 3})),
            400,
        ),
        (
            "callback without state",
            http.get(format!("{url}/hubrise/device-callback?code=x")),
            400,
        ),
        (
            "callback with both",
            http.get(format!(
                "{url}/hubrise/device-callback?code=x&error=y&state=s"
            )),
            400,
        ),
        (
            "disconnect unsigned",
            http.post(format!("{url}/hubrise/disconnect-callback"))
                .body("{\"app_instance_id\":\"a\"}"),
            401,
        ),
        (
            "disconnect bad hex",
            http.post(format!("{url}/hubrise/disconnect-callback"))
                .header("X-HubRise-Hmac-SHA256", "zz")
                .body("{}"),
            401,
        ),
        (
            "refresh replay",
            http.post(format!("{url}/oauth/token")).form(&[
                ("client_id", "passerelle-ios"),
                ("grant_type", "refresh_token"),
                ("refresh_token", "nope"),
            ]),
            400,
        ),
        (
            "grant unknown",
            http.post(format!("{url}/oauth/token")).form(&[
                ("client_id", "passerelle-ios"),
                ("grant_type", "client_credentials"),
            ]),
            400,
        ),
        (
            "Connect URL denied",
            http.get(format!("{url}/hubrise/connect?error=access_denied")),
            400,
        ),
        (
            "Connect URL without code",
            http.get(format!("{url}/hubrise/connect")),
            400,
        ),
        (
            "Connect URL forged state",
            http.get(format!("{url}/hubrise/connect?code=abc&state=forged")),
            400,
        ),
        ("no route", http.get(format!("{url}/nowhere")), 404),
    ];
    for (what, request, expected) in cases {
        let response = request.send().await?;
        assert_eq!(response.status().as_u16(), expected, "{what}");
    }
    assert_eq!(
        support::configuration(url, &token).await?,
        before,
        "nothing stored"
    );
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_never_reads_another_accounts_connection() -> TestResult {
    let dir = tempfile::tempdir()?;
    let stack = support::start(support::sqlite(dir.path()), support::keys()).await?;
    // Account 1 gets an off-device connection through HubRise's back office.
    let report =
        passerelle_bridge::check::run(support::target(&stack.pos_url, &stack.sandbox)).await;
    assert!(
        report
            .rows
            .iter()
            .any(|r| r.name == "Connect URL + back office" && r.passed),
        "{}",
        report.table()
    );
    let other = stack.sandbox.seed().pos_accounts[1].clone();
    let token = support::sign_in(&stack.pos_url, &other.email, &other.password).await?;
    let answer = client()
        .get(format!(
            "{}/hubrise/connections/3r4s3-1/token",
            stack.pos_url
        ))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    let config: Value = client()
        .get(format!("{}/hubrise/configuration", stack.pos_url))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(config["connections"], json!([]));
    let claim = client()
        .post(format!(
            "{}/hubrise/connections/3r4s3-1/revoke",
            stack.pos_url
        ))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(claim.status(), StatusCode::NOT_FOUND);
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}

/// The back office's forms carry the session's CSRF token: a post without it (a page of another
/// site posting into a signed-in browser) is 403 and does nothing; cookies are HttpOnly and
/// SameSite=Lax.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_office_forms_without_the_csrf_token_are_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let stack = support::start(support::sqlite(dir.path()), support::keys()).await?;
    let pos = stack.sandbox.seed().pos_account().clone();
    let http = client();
    let page = http
        .get(format!("{}/backoffice/sign-in", stack.pos_url))
        .header("accept-language", "fr-FR,fr")
        .send()
        .await?;
    let set_cookie = support::header(&page, "set-cookie");
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    assert!(!set_cookie.contains("Secure"), "http public URL: no Secure");
    // Before sign-in the token is a double-submit cookie: visiting the page stores nothing.
    assert!(set_cookie.starts_with("pos_csrf="), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap_or_default().to_owned();
    let html = page.text().await?;
    assert!(
        html.contains("lang=\"fr\"") && html.contains("Mot de passe"),
        "French page"
    );
    let csrf = passerelle_bridge::check::hidden_value(&html, "csrf").ok_or("no csrf")?;
    let form = |csrf: Option<&str>| {
        let mut f = vec![
            ("email", pos.email.clone()),
            ("password", pos.password.clone()),
        ];
        f.extend(csrf.map(|c| ("csrf", c.to_owned())));
        f
    };
    let post = |f: Vec<(&'static str, String)>| {
        http.post(format!("{}/backoffice/sign-in", stack.pos_url))
            .header("cookie", &cookie)
            .form(&f)
            .send()
    };
    assert_eq!(post(form(None)).await?.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        post(form(Some("forged"))).await?.status(),
        StatusCode::FORBIDDEN
    );
    let signed_in = post(form(Some(&csrf))).await?;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let session = support::set_cookie(&signed_in);
    assert_ne!(session, cookie, "a fresh session id at sign-in");
    // Connect without the token: refused, no HubRise redirect.
    let connect = http
        .post(format!("{}/backoffice/hubrise/connect", stack.pos_url))
        .header("cookie", &session)
        .send()
        .await?;
    assert_eq!(connect.status(), StatusCode::FORBIDDEN);
    let page = http
        .get(format!("{}/backoffice/hubrise?lang=en", stack.pos_url))
        .header("cookie", &session)
        .send()
        .await?
        .text()
        .await?;
    assert!(page.contains("id=\"no-connection\"") && page.contains("Connect HubRise"));
    let csrf = passerelle_bridge::check::hidden_value(&page, "csrf").ok_or("no csrf")?;
    let connect = http
        .post(format!("{}/backoffice/hubrise/connect", stack.pos_url))
        .header("cookie", &session)
        .form(&[("csrf", csrf)])
        .send()
        .await?;
    assert_eq!(connect.status(), StatusCode::SEE_OTHER);
    let location = connect
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        location.starts_with(&stack.sandbox.hubrise_oauth_url()) && location.contains("state="),
        "{location}"
    );
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}

/// Behind https (the public URL says so), the back office's cookies are `Secure`: the sign-in
/// form's, the session's, and the one sign-out sends to end it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_are_secure_behind_https() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (listener, url) = support::listener().await?;
    let sandbox =
        passerelle_sandbox::Sandbox::start(passerelle_sandbox::SandboxOptions::default()).await?;
    let config = support::config(
        &sandbox,
        "https://pos.example",
        support::sqlite(dir.path()),
        support::keys(),
    );
    let bridge = passerelle_bridge::start_on(listener, config).await?;
    let page = client()
        .get(format!("{url}/backoffice/sign-in"))
        .send()
        .await?;
    let set_cookie = support::header(&page, "set-cookie");
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
    // The session's cookie, and the one that ends it at sign-out, too.
    let pos = sandbox.seed().pos_account().clone();
    let office = support::BackOffice::sign_in(&url, &pos.email, &pos.password).await?;
    let session = &office.set_cookie;
    assert!(
        session.starts_with("pos_session=")
            && session.contains("; Secure")
            && session.contains("HttpOnly")
            && session.contains("SameSite=Lax"),
        "{session}"
    );
    let csrf = office.csrf("/backoffice/hubrise").await?;
    let out = office
        .post("/backoffice/sign-out", &[("csrf", &csrf)])
        .await?;
    let ended = support::header(&out, "set-cookie");
    assert!(
        ended.contains("Max-Age=0") && ended.contains("; Secure"),
        "{ended}"
    );
    bridge.stop().await?;
    sandbox.stop().await;
    Ok(())
}
