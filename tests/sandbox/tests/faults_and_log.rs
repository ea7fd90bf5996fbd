//! Injected faults, the network cut and the request log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use passerelle_sandbox::{Fault, Sandbox, ServerKind};
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
    let pos_tokens = json_of(http().post(format!("{}/oauth/token", sb.pos_url())).form(&[
        ("grant_type", "password"),
        ("username", pos.email.as_str()),
        ("password", &pos.password),
        ("client_id", "passerelle-ios"),
    ]))
    .await;
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

/// Connects Paris and places an order there: the token, the order's id and its API path.
async fn an_order_at_paris(sb: &Sandbox) -> (String, String, String) {
    let token = token_of(&connect(sb, "3r4s3-1", None).await);
    let id = sb
        .admin()
        .place_order("3r4s3-1", sample_order())
        .await
        .unwrap();
    let path = format!("/location/orders/{id}");
    (token, id, path)
}

#[tokio::test]
async fn a_canned_body_answers_any_status_and_content_type() {
    let sb = sandbox().await;
    let (token, id, path) = an_order_at_paris(&sb).await;
    sb.admin()
        .inject_fault(
            Fault::body(
                &format!("/v1{path}"),
                200,
                "text/html; charset=utf-8",
                "<html><body>Maintenance</body></html>",
                1,
            )
            .for_method("GET"),
        )
        .await;
    let canned = api_get(&sb, &token, &path).await;
    assert_eq!(canned.status(), 200);
    assert_eq!(canned.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(
        canned.text().await.unwrap(),
        "<html><body>Maintenance</body></html>"
    );
    // Used up: the order again, as JSON.
    let order: Value = api_get(&sb, &token, &path).await.json().await.unwrap();
    assert_eq!(order["id"], json!(id));
}

#[tokio::test]
async fn a_rewritten_answer_loses_and_takes_fields() {
    let sb = sandbox().await;
    let (token, id, path) = an_order_at_paris(&sb).await;
    sb.admin()
        .inject_fault(
            Fault::rewrite_json(
                &format!("/v1{path}"),
                json!({ "status": null, "total": 12 }),
                &["id"],
                1,
            )
            .times(None),
        )
        .await;
    for _ in 0..2 {
        let response = api_get(&sb, &token, &path).await;
        assert_eq!(response.status(), 200);
        let order: Value = response.json().await.unwrap();
        assert!(order.get("id").is_none(), "{order}");
        assert_eq!(order["status"], Value::Null);
        assert_eq!(order["total"], json!(12));
        assert_eq!(order["location_id"], "3r4s3-1", "the rest is untouched");
        assert_eq!(order["items"].as_array().unwrap().len(), 2);
    }
    // HubRise itself still has the order as it was.
    let stored = sb.admin().order("3r4s3-1", &id).await.unwrap();
    assert_eq!(
        (&stored["id"], &stored["status"]),
        (&json!(id), &json!("new"))
    );
    // A non-JSON answer passes unchanged (an error page, say).
    sb.admin().clear_faults().await;
    sb.admin()
        .inject_fault(Fault::rewrite_json(
            "/v1/nowhere",
            json!({ "x": 1 }),
            &[],
            1,
        ))
        .await;
    let missing = api_get(&sb, &token, "/nowhere").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["error_type"],
        "routing_error"
    );
}

/// `times: None` keeps a fault until cleared: a persistent error on one order, a persistent
/// PATCH failure, while everything else works.
#[tokio::test]
async fn persistent_faults_on_one_order_and_on_its_patches() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    let poisoned = sb
        .admin()
        .place_order("3r4s3-1", sample_order())
        .await
        .unwrap();
    let healthy = sb
        .admin()
        .place_order("3r4s3-1", sample_order())
        .await
        .unwrap();
    let admin = sb.admin();
    admin
        .inject_fault(
            Fault::status(&format!("/v1/location/orders/{poisoned}"), 500, 1)
                .for_method("GET")
                .times(None),
        )
        .await;
    admin
        .inject_fault(
            Fault::status("/v1/location/orders/", 503, 1)
                .for_method("PATCH")
                .times(None),
        )
        .await;
    for _ in 0..5 {
        let r = api_get(&sb, &token, &format!("/location/orders/{poisoned}")).await;
        assert_eq!(r.status(), 500);
        let patch = json!({ "status": "accepted" });
        for id in [&poisoned, &healthy] {
            let r = api_send(
                &sb,
                &token,
                Method::PATCH,
                &format!("/location/orders/{id}"),
                &patch,
            )
            .await;
            assert_eq!(r.status(), 503);
        }
        let r = api_get(&sb, &token, &format!("/location/orders/{healthy}")).await;
        assert_eq!(r.status(), 200, "another order is not affected");
    }
    assert_eq!(admin.faults().await.len(), 2, "still there");
    assert_eq!(
        admin.order("3r4s3-1", &healthy).await.unwrap()["status"],
        "new",
        "no failed PATCH was applied"
    );
    admin.clear_faults().await;
    assert_eq!(
        api_get(&sb, &token, &format!("/location/orders/{poisoned}"))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn an_order_with_raw_fields_is_served_and_announced_as_placed() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    register_callback(&sb, &token).await;
    let admin = sb.admin();
    let id = admin
        .place_order_with_raw_fields(
            "3r4s3-1",
            sample_order(),
            json!({ "status": null, "total": 12, "customer": null, "ref": 42 }),
        )
        .await
        .unwrap();
    let order: Value = api_get(&sb, &token, &format!("/location/orders/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(order["id"], json!(id));
    assert_eq!(order["status"], Value::Null);
    assert_eq!(order["total"], json!(12));
    assert_eq!(order["customer"], Value::Null);
    assert_eq!(order["ref"], json!(42));
    assert_eq!(
        order["items"].as_array().unwrap().len(),
        2,
        "the rest is kept"
    );
    let events: Vec<Value> = api_get(&sb, &token, "/callback/events")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    let event: Value = api_get(
        &sb,
        &token,
        &format!("/callback/events/{}", events[0]["id"].as_str().unwrap()),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(event["order_id"], json!(id));
    assert_eq!(event["new_state"]["status"], Value::Null);

    // An order whose JSON has no id is still served at its URL.
    let anonymous = admin
        .place_order_with_raw_fields("3r4s3-1", sample_order(), json!({ "id": null }))
        .await
        .unwrap();
    let order: Value = api_get(&sb, &token, &format!("/location/orders/{anonymous}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(order["id"], Value::Null);
    // The base order is validated as usual; raw fields must be an object.
    assert!(
        admin
            .place_order_with_raw_fields("3r4s3-1", json!({ "status": "teleported" }), json!({}))
            .await
            .is_err()
    );
    assert!(
        admin
            .place_order_with_raw_fields("3r4s3-1", sample_order(), json!([1]))
            .await
            .is_err()
    );
}

/// Sends a GET and reads the body: `Err` when no HTTP answer came back.
async fn try_get(client: &reqwest::Client, url: &str) -> Result<u16, reqwest::Error> {
    let response = client.get(url).send().await?;
    let status = response.status().as_u16();
    response.bytes().await?;
    Ok(status)
}

#[tokio::test]
async fn a_network_cut_refuses_connections_until_restored() {
    let sb = sandbox().await;
    let admin_url = sb.admin_url();
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    let location = format!("{}/location", sb.hubrise_api_url());
    let me = format!("{}/me", sb.pos_url());
    // A client with a connection kept alive from before the cut; `fresh()` opens new ones.
    let authed = || {
        reqwest::Client::builder()
            .default_headers(
                [(
                    reqwest::header::HeaderName::from_static("x-access-token"),
                    reqwest::header::HeaderValue::from_str(&token).unwrap(),
                )]
                .into_iter()
                .collect(),
            )
            .build()
            .unwrap()
    };
    let fresh = authed;
    let pooled = authed();
    assert_eq!(try_get(&pooled, &location).await.unwrap(), 200);

    let cut = json_of(http().post(format!("{admin_url}/network/cut"))).await;
    assert_eq!(cut["cut"], true);
    assert!(sb.admin().network_cut().await);
    for url in [&location, &me] {
        let err = try_get(&fresh(), url).await.unwrap_err();
        assert!(err.is_connect(), "a new connection is refused: {err:?}");
    }
    assert!(
        try_get(&pooled, &location).await.is_err(),
        "a connection from before the cut gets no answer"
    );
    let token_endpoint = format!("{}/token", sb.hubrise_oauth_url());
    assert!(
        http().post(&token_endpoint).send().await.is_err(),
        "HubRise's OAuth server answers nothing either"
    );
    // The admin API stays up, and ends the cut.
    let state = json_of(http().get(format!("{admin_url}/network"))).await;
    assert_eq!(state["cut"], true);
    assert!(
        sb.admin()
            .requests()
            .await
            .iter()
            .any(|r| r.status == 0 && r.path == "/v1/location"),
        "dropped requests are logged with status 0"
    );
    http()
        .post(format!("{admin_url}/network/restore"))
        .send()
        .await
        .unwrap();
    assert!(!sb.admin().network_cut().await);

    // Back on the same ports as soon as the restore returns, for new and pooled clients alike.
    assert_eq!(try_get(&fresh(), &location).await.unwrap(), 200);
    assert_eq!(try_get(&pooled, &location).await.unwrap(), 200);
    assert_eq!(try_get(&http(), &me).await.unwrap(), 401);

    // Twice in a row works as well.
    sb.admin().cut_network().await;
    assert!(try_get(&fresh(), &location).await.unwrap_err().is_connect());
    sb.admin().restore_network().await;
    assert_eq!(try_get(&fresh(), &location).await.unwrap(), 200);
}

/// "HubRise applied the PATCH but its answer cannot be read": handled, then a canned body or a
/// dropped connection instead of the answer.
#[tokio::test]
async fn a_change_applied_whose_answer_is_unreadable_or_lost() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    let admin = sb.admin();
    let id = admin.place_order("3r4s3-1", sample_order()).await.unwrap();
    let path = format!("/location/orders/{id}");
    admin
        .inject_fault(
            Fault::body(&format!("/v1{path}"), 200, "text/html", "<html>", 1)
                .for_method("PATCH")
                .after_handling(),
        )
        .await;
    let garbled = api_send(
        &sb,
        &token,
        Method::PATCH,
        &path,
        &json!({ "status": "accepted" }),
    )
    .await;
    assert_eq!(garbled.status(), 200);
    assert_eq!(garbled.text().await.unwrap(), "<html>");
    assert_eq!(
        admin.order("3r4s3-1", &id).await.unwrap()["status"],
        "accepted"
    );

    admin
        .inject_fault(
            Fault::drop_connection(&format!("/v1{path}"), 1)
                .for_method("PATCH")
                .after_handling(),
        )
        .await;
    let lost = http()
        .patch(format!("{}{path}", sb.hubrise_api_url()))
        .header("X-Access-Token", &token)
        .json(&json!({ "status": "in_preparation" }))
        .send()
        .await;
    let outcome = match lost {
        Err(e) => Err(e),
        Ok(r) => r.bytes().await.map(|_| ()),
    };
    assert!(outcome.is_err(), "no answer");
    assert_eq!(
        admin.order("3r4s3-1", &id).await.unwrap()["status"],
        "in_preparation",
        "but applied"
    );
    // Without `after_handling`, nothing is applied.
    admin
        .inject_fault(
            Fault::body(&format!("/v1{path}"), 200, "text/html", "<html>", 1).for_method("PATCH"),
        )
        .await;
    api_send(
        &sb,
        &token,
        Method::PATCH,
        &path,
        &json!({ "status": "completed" }),
    )
    .await;
    assert_eq!(
        admin.order("3r4s3-1", &id).await.unwrap()["status"],
        "in_preparation"
    );
}
