//! The POS vendor's web back office and the Connect URL (issue 10): web connect, HubRise
//! back-office connect with sign-in first, refusals, disconnect with confirmation, HubRise's
//! Disconnect callback, the configuration's ETag and the token hand-off.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_sandbox::Sandbox;
use passerelle_sandbox::drivers::consent::{self, ConsentChoice};
use reqwest::Response;
use serde_json::Value;

use crate::common::*;

/// A browser-like client: keeps the back office's session cookie, never follows redirects.
struct Browser {
    base: String,
    cookie: Option<String>,
}

impl Browser {
    fn new(sb: &Sandbox) -> Browser {
        Browser {
            base: sb.pos_url(),
            cookie: None,
        }
    }

    fn remember(&mut self, r: &Response) {
        if let Some(set) = r.headers().get("set-cookie") {
            self.cookie = Some(set.to_str().unwrap().split(';').next().unwrap().to_owned());
        }
    }

    fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            format!("{}{path_or_url}", self.base)
        }
    }

    async fn get(&mut self, path: &str) -> Response {
        let mut req = http().get(self.url(path));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let r = req.send().await.unwrap();
        self.remember(&r);
        r
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
        let mut req = http().post(self.url(path)).form(form);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let r = req.send().await.unwrap();
        self.remember(&r);
        r
    }

    async fn sign_in(&mut self, sb: &Sandbox) -> Response {
        let pos = sb.seed().pos_account().clone();
        self.post(
            "/backoffice/sign-in",
            &[("email", &pos.email), ("password", &pos.password)],
        )
        .await
    }
}

fn location(r: &Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

async fn pos_token(sb: &Sandbox) -> String {
    let pos = sb.seed().pos_account().clone();
    let r = json_of(http().post(format!("{}/oauth/token", sb.pos_url())).form(&[
        ("grant_type", "password"),
        ("client_id", "passerelle-ios"),
        ("username", pos.email.as_str()),
        ("password", &pos.password),
    ]))
    .await;
    r["access_token"].as_str().unwrap().to_owned()
}

async fn configuration(sb: &Sandbox, token: &str) -> Value {
    http()
        .get(format!("{}/hubrise/configuration", sb.pos_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn connecting_from_the_web_back_office() {
    let sb = sandbox().await;
    let mut browser = Browser::new(&sb);
    assert_eq!(
        location(&browser.get("/backoffice").await),
        "/backoffice/sign-in"
    );
    let wrong = browser
        .post(
            "/backoffice/sign-in",
            &[("email", "chef@bellapizza.fr"), ("password", "nope")],
        )
        .await;
    assert_eq!(wrong.status(), 401);
    let signed = browser.sign_in(&sb).await;
    assert_eq!(location(&signed), "/backoffice/hubrise");
    let page = browser
        .get("/backoffice/hubrise")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"no-connection\"") && page.contains("id=\"support-access\""));
    assert!(page.contains("Technical partner"));

    // Connect → HubRise's consent page → back on the Connect URL with code and state.
    let start = browser.post("/backoffice/hubrise/connect", &[]).await;
    let authorize = location(&start);
    assert!(authorize.starts_with(&sb.hubrise_oauth_url()) && authorize.contains("state="));
    let choice = ConsentChoice::for_user(sb.seed().user())
        .location("3r4s3-2")
        .catalog("2kd7t");
    let back = consent::approve(&authorize, &choice).await.unwrap();
    assert!(back.starts_with(&format!("{}/hubrise/connect?code=", sb.pos_url())));
    let done = browser.get(&back).await;
    assert_eq!(location(&done), "/backoffice/hubrise?connected=3r4s3-2");
    let page = browser
        .get("/backoffice/hubrise?connected=3r4s3-2")
        .await
        .text()
        .await
        .unwrap();
    for shown in [
        "Bella Pizza (3r4s3)",
        "Lyon (3r4s3-2)",
        "Bella Pizza Lyon (2kd7t)",
        "Bella Pizza (xab66)",
        "restart the app on your iPad",
    ] {
        assert!(page.contains(shown), "the page shows {shown}");
    }

    // A replayed code: a clear page, nothing more recorded.
    let replay = browser.get(&back).await;
    assert_eq!(replay.status(), 400);
    assert!(
        replay
            .text()
            .await
            .unwrap()
            .contains("Nothing was connected")
    );

    // The device sees it in the configuration and may fetch its token.
    let token = pos_token(&sb).await;
    let config = configuration(&sb, &token).await;
    assert_eq!(config["connections"].as_array().unwrap().len(), 1);
    assert_eq!(config["connections"][0]["origin"], "web");
    assert_eq!(config["connections"][0]["catalog_name"], "Bella Pizza Lyon");
    let handoff = http()
        .get(format!(
            "{}/hubrise/connections/3r4s3-2/token",
            sb.pos_url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(handoff.status(), 200);
    let hubrise_token = handoff.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        api_get(&sb, &hubrise_token, "/location").await.status(),
        200
    );
    // Not without a device session, nor for another account's device.
    let anonymous = http()
        .get(format!(
            "{}/hubrise/connections/3r4s3-2/token",
            sb.pos_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let marco = sb.seed().pos_accounts[1].clone();
    let marco_token = json_of(http().post(format!("{}/oauth/token", sb.pos_url())).form(&[
        ("grant_type", "password"),
        ("client_id", "passerelle-ios"),
        ("username", marco.email.as_str()),
        ("password", &marco.password),
    ]))
    .await;
    let foreign = http()
        .get(format!(
            "{}/hubrise/connections/3r4s3-2/token",
            sb.pos_url()
        ))
        .bearer_auth(marco_token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 404);

    // Disconnect asks for confirmation, then revokes at HubRise.
    let confirm = browser
        .get("/backoffice/hubrise/disconnect?location_id=3r4s3-2")
        .await
        .text()
        .await
        .unwrap();
    assert!(confirm.contains("id=\"confirm-disconnect\""));
    let not_confirmed = browser
        .post(
            "/backoffice/hubrise/disconnect",
            &[("location_id", "3r4s3-2")],
        )
        .await;
    assert_eq!(location(&not_confirmed), "/backoffice/hubrise");
    assert_eq!(
        api_get(&sb, &hubrise_token, "/location").await.status(),
        200
    );
    browser
        .post(
            "/backoffice/hubrise/disconnect",
            &[("location_id", "3r4s3-2"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(
        api_get(&sb, &hubrise_token, "/location").await.status(),
        401
    );
    assert_eq!(
        configuration(&sb, &token).await["connections"][0]["state"],
        "removed"
    );
}

#[tokio::test]
async fn a_hubrise_back_office_connect_asks_for_the_pos_sign_in_first() {
    let sb = sandbox().await;
    let url = sb
        .admin()
        .back_office_connect(&sb.seed().client_id, "3r4s3-1", &sb.seed().user().email)
        .await
        .unwrap();
    let mut browser = Browser::new(&sb);
    let first = browser.get(&url).await;
    assert_eq!(location(&first), "/backoffice/sign-in");
    let page = browser
        .get("/backoffice/sign-in")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Sign in to finish connecting HubRise"));
    let token = pos_token(&sb).await;
    assert!(
        configuration(&sb, &token).await["connections"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing before sign-in"
    );

    let signed = browser.sign_in(&sb).await;
    assert_eq!(location(&signed), "/backoffice/hubrise?connected=3r4s3-1");
    let config = configuration(&sb, &token).await;
    assert_eq!(config["connections"][0]["origin"], "hubrise_back_office");
    assert_eq!(config["connections"][0]["location_id"], "3r4s3-1");
}

#[tokio::test]
async fn a_back_office_connect_while_signed_in_is_recorded_at_once() {
    let sb = sandbox().await;
    let mut browser = Browser::new(&sb);
    browser.sign_in(&sb).await;
    let url = sb
        .admin()
        .back_office_connect(&sb.seed().client_id, "3r4s3-2", &sb.seed().user().email)
        .await
        .unwrap();
    assert_eq!(
        location(&browser.get(&url).await),
        "/backoffice/hubrise?connected=3r4s3-2"
    );
}

#[tokio::test]
async fn refusals_and_unexpected_codes_record_nothing() {
    let sb = sandbox().await;
    let mut browser = Browser::new(&sb);
    browser.sign_in(&sb).await;
    let denied = browser
        .get("/hubrise/connect?error=access_denied&state=whatever")
        .await;
    assert_eq!(denied.status(), 400);
    assert!(denied.text().await.unwrap().contains("id=\"error\""));

    // A code with a state this back office never issued.
    let code = code_for(&sb, "3r4s3-1", &[]).await;
    let forged = browser
        .get(&format!("/hubrise/connect?code={code}&state=forged"))
        .await;
    assert_eq!(forged.status(), 400);

    // An expired back-office code waiting for sign-in.
    let url = sb
        .admin()
        .back_office_connect(&sb.seed().client_id, "3r4s3-1", &sb.seed().user().email)
        .await
        .unwrap();
    let mut other = Browser::new(&sb);
    other.get(&url).await;
    sb.admin()
        .age_codes(std::time::Duration::from_secs(601))
        .await;
    let late = other.sign_in(&sb).await;
    assert_eq!(late.status(), 400);

    let token = pos_token(&sb).await;
    assert!(
        configuration(&sb, &token).await["connections"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn hubrise_back_office_disconnect_reaches_the_disconnect_callback() {
    let sb = sandbox().await;
    let pos = pos_token(&sb).await;
    let code = code_for(&sb, "3r4s3-1", &[("device_id", "ipad-A")]).await;
    let token = json_of(
        http()
            .post(format!("{}/hubrise/broker/token", sb.pos_url()))
            .bearer_auth(&pos)
            .json(&serde_json::json!({ "code": code })),
    )
    .await;
    let etag = http()
        .get(format!("{}/hubrise/configuration", sb.pos_url()))
        .bearer_auth(&pos)
        .send()
        .await
        .unwrap()
        .headers()["etag"]
        .clone();

    assert_eq!(
        sb.admin()
            .disconnect_connection(token["access_token"].as_str().unwrap())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        api_get(&sb, token["access_token"].as_str().unwrap(), "/location")
            .await
            .status(),
        401
    );
    let changed = http()
        .get(format!("{}/hubrise/configuration", sb.pos_url()))
        .bearer_auth(&pos)
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200, "the configuration changed");
    assert_eq!(
        changed.json::<Value>().await.unwrap()["connections"][0]["state"],
        "removed"
    );

    // An unsigned notice is refused.
    let forged = http()
        .post(format!("{}/hubrise/disconnect-callback", sb.pos_url()))
        .header("x-hubrise-hmac-sha256", "00")
        .body("{\"app_instance_id\":\"x\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
}

/// Connects `location_id` in the web back office (signed in, Connect, consent): origin `web`.
async fn connect_on_the_web(sb: &Sandbox, location_id: &str) {
    let mut browser = Browser::new(sb);
    browser.sign_in(sb).await;
    let start = browser.post("/backoffice/hubrise/connect", &[]).await;
    let choice = ConsentChoice::for_user(sb.seed().user()).location(location_id);
    let back = consent::approve(&location(&start), &choice).await.unwrap();
    let done = browser.get(&back).await;
    assert_eq!(
        location(&done),
        format!("/backoffice/hubrise?connected={location_id}")
    );
}

/// Connects `location_id` from HubRise's back office (Connect URL, no state): origin
/// `hubrise_back_office`.
async fn connect_from_hubrise(sb: &Sandbox, location_id: &str) {
    let url = sb
        .admin()
        .back_office_connect(&sb.seed().client_id, location_id, &sb.seed().user().email)
        .await
        .unwrap();
    let mut browser = Browser::new(sb);
    browser.sign_in(sb).await;
    assert_eq!(
        location(&browser.get(&url).await),
        format!("/backoffice/hubrise?connected={location_id}")
    );
}

fn rfc3339(text: &str) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .expect("an RFC 3339 time")
}

/// Decision 19: the backend registers the order callback as soon as it holds the token of a
/// connection made off the device, so HubRise queues the orders placed before any device
/// confirms it; the configuration says when HubRise made the connection; the token hand-off is
/// HubRise's token response, bound to its location and account.
#[tokio::test]
async fn an_off_device_connection_queues_orders_from_the_start_and_says_since_when() {
    let sb = sandbox().await;
    let before = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
    connect_on_the_web(&sb, "3r4s3-2").await;
    connect_from_hubrise(&sb, "3r4s3-1").await;
    let after = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);

    // No device has done anything yet.
    let admin = sb.admin();
    let connections = admin.connections().await;
    assert_eq!(connections.len(), 2);
    for c in &connections {
        assert_eq!(
            c.callback_events,
            Some(serde_json::json!({ "order": ["create", "update"] })),
            "{c:?}"
        );
    }
    assert_eq!(
        admin.count_requests("POST", "/v1/callback").await,
        0,
        "no client registered it over HTTP"
    );
    let paris_order = admin.place_order("3r4s3-1", sample_order()).await.unwrap();
    let lyon_order = admin.place_order("3r4s3-2", sample_order()).await.unwrap();
    assert!(
        admin
            .connections()
            .await
            .iter()
            .all(|c| c.pending_events == 1),
        "HubRise queued each order for the connection no device uses yet"
    );

    let pos = pos_token(&sb).await;
    let config = configuration(&sb, &pos).await;
    for entry in config["connections"].as_array().unwrap() {
        let connected_at = rfc3339(entry["connected_at"].as_str().unwrap());
        assert!(
            before <= connected_at && connected_at <= after,
            "{connected_at} is when it was made"
        );
        let at_hubrise = connections
            .iter()
            .find(|c| c.location_id == entry["location_id"].as_str().map(str::to_owned))
            .unwrap();
        assert_eq!(entry["connected_at"], at_hubrise.created_at.as_str());
    }

    for (location_id, order_id) in [("3r4s3-1", &paris_order), ("3r4s3-2", &lyon_order)] {
        let handoff = json_of(
            http()
                .get(format!(
                    "{}/hubrise/connections/{location_id}/token",
                    sb.pos_url()
                ))
                .bearer_auth(&pos),
        )
        .await;
        assert_eq!(handoff["token_type"], "Bearer");
        assert_eq!(handoff["location_id"], location_id);
        assert_eq!(handoff["account_id"], "3r4s3");
        assert!(handoff["connected_at"].is_string());
        let token = handoff["access_token"].as_str().unwrap();
        // What the token is bound to, as HubRise says it: the same location and account.
        let at_hubrise: Value = api_get(&sb, token, "/location").await.json().await.unwrap();
        assert_eq!(at_hubrise["id"], handoff["location_id"]);
        assert_eq!(at_hubrise["account"]["id"], handoff["account_id"]);
        let events: Vec<Value> = api_get(&sb, token, "/callback/events")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["order_id"], order_id.as_str());
    }
}

/// The switch shows the loss: without the backend's registration, nothing is queued before a
/// device registers the callback itself.
#[tokio::test]
async fn without_the_backends_registration_orders_before_a_device_are_not_queued() {
    let sb = sandbox().await;
    let options = json_of(
        http()
            .patch(format!("{}/options", sb.admin_url()))
            .json(&serde_json::json!({ "backend_registers_callback": false })),
    )
    .await;
    assert_eq!(options["backend_registers_callback"], false);
    connect_on_the_web(&sb, "3r4s3-2").await;
    let admin = sb.admin();
    admin.place_order("3r4s3-2", sample_order()).await.unwrap();
    let connection = admin.connections().await.pop().unwrap();
    assert_eq!(connection.callback_events, None);
    assert_eq!(connection.pending_events, 0, "this order is lost to events");
    // connected_at is reported all the same: a catch-up can still find the order.
    let config = configuration(&sb, &pos_token(&sb).await).await;
    assert!(config["connections"][0]["connected_at"].is_string());
}
