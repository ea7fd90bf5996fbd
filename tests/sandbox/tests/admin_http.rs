//! The admin API over HTTP, as Swift tests use it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn orders_connections_faults_and_logs_over_http() {
    let sb = sandbox().await;
    let admin = sb.admin_url();
    let token = token_of(&connect(&sb, "3r4s3-1", Some("ipad-A")).await);
    register_callback(&sb, &token).await;

    let placed = json_of(
        http()
            .post(format!("{admin}/locations/3r4s3-1/orders"))
            .json(&sample_order()),
    )
    .await;
    let id = placed["id"].as_str().unwrap().to_owned();
    assert_eq!(placed["order"]["total"], "27.50 EUR");
    let invalid = http()
        .post(format!("{admin}/locations/3r4s3-1/orders"))
        .json(&json!({ "items": [{ "product_name": "x", "price": "1 EUR", "quantity": "1" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 422);
    assert_eq!(
        invalid.json::<Value>().await.unwrap()["errors"][0]["field"],
        "items[0].price"
    );

    let cancelled = json_of(
        http()
            .patch(format!("{admin}/locations/3r4s3-1/orders/{id}"))
            .json(&json!({ "status": "cancelled" })),
    )
    .await;
    assert_eq!(cancelled["status"], "cancelled");
    let fetched = json_of(http().get(format!("{admin}/locations/3r4s3-1/orders/{id}"))).await;
    assert_eq!(fetched["status"], "cancelled");
    assert_eq!(
        api_get(&sb, &token, "/callback/events")
            .await
            .json::<Vec<Value>>()
            .await
            .unwrap()
            .len(),
        2
    );

    let connections: Vec<Value> = http()
        .get(format!("{admin}/connections"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(connections[0]["device_id"], "ipad-A");
    assert_eq!(connections[0]["state"], "active");
    let conn_id = connections[0]["id"].as_str().unwrap();
    let blocked = json_of(http().post(format!("{admin}/connections/{conn_id}/block"))).await;
    assert_eq!(blocked["blocked"], 1);
    assert_eq!(api_get(&sb, &token, "/location").await.status(), 401);
    http()
        .post(format!("{admin}/connections/{conn_id}/unblock"))
        .send()
        .await
        .unwrap();
    assert_eq!(api_get(&sb, &token, "/location").await.status(), 200);

    let fault = json!({ "path_prefix": "/v1/location", "times": 1, "kind": { "type": "status", "status": 502 } });
    assert_eq!(
        http()
            .post(format!("{admin}/faults"))
            .json(&fault)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(api_get(&sb, &token, "/location").await.status(), 502);
    assert_eq!(api_get(&sb, &token, "/location").await.status(), 200);

    let count = json_of(http().get(format!(
        "{admin}/requests/count?method=GET&path_prefix=/v1/location"
    )))
    .await;
    assert_eq!(count["count"], 4);
    let api_only: Vec<Value> = http()
        .get(format!("{admin}/requests?server=api"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(api_only.iter().all(|r| r["server"] == "api"));
    http()
        .delete(format!("{admin}/requests"))
        .send()
        .await
        .unwrap();
    let empty: Vec<Value> = http()
        .get(format!("{admin}/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(empty.is_empty(), "admin calls are not logged");

    let options = json_of(http()
        .patch(format!("{admin}/options"))
        .json(&json!({ "omit_token_type": true, "limits": { "per_minute": 1, "per_hour": 10, "per_day": 10, "heavy_per_minute": 1 } }))).await;
    assert_eq!(options["omit_token_type"], true);
    assert_eq!(api_get(&sb, &token, "/location").await.status(), 200);
    assert_eq!(api_get(&sb, &token, "/location").await.status(), 429);

    let connect = json_of(
        http()
            .post(format!("{admin}/back-office/connect"))
            .json(&json!({ "location_id": "3r4s3-2" })),
    )
    .await;
    assert!(
        connect["url"]
            .as_str()
            .unwrap()
            .contains("/hubrise/connect?code=")
    );
    let open = json_of(http().get(format!("{admin}/connections/3r4s3-1/open-url"))).await;
    assert!(
        open["url"]
            .as_str()
            .unwrap()
            .starts_with("passerelle-demo://hubrise/open?app_instance_id=")
    );
    assert_eq!(
        http()
            .post(format!("{admin}/connections/nope/block"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn codes_age_and_pos_tokens_expire_over_http() {
    let sb = sandbox().await;
    let admin = sb.admin_url();
    let code = code_for(&sb, "3r4s3-1", &[]).await;
    http()
        .post(format!("{admin}/codes/age"))
        .json(&json!({ "seconds": 601 }))
        .send()
        .await
        .unwrap();
    assert_eq!(exchange(&sb, &code).await.status(), 400);
    let landing = http()
        .get(format!("{admin}/landing?code=abc&state=xyz"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        landing.contains("<code id=\"code\">abc</code>")
            && landing.contains("<code id=\"state\">xyz</code>")
    );
}

#[tokio::test]
async fn raw_orders_and_the_new_fault_kinds_over_http() {
    let sb = sandbox().await;
    let admin = sb.admin_url();
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);

    // Without "order", the seed's sample order is the base.
    let placed = json_of(
        http()
            .post(format!("{admin}/locations/3r4s3-1/raw-orders"))
            .json(&json!({ "raw": { "status": null, "total": 12, "customer": null } })),
    )
    .await;
    let id = placed["id"].as_str().unwrap().to_owned();
    assert_eq!(placed["order"]["status"], Value::Null);
    assert_eq!(placed["order"]["total"], json!(12));
    assert_eq!(placed["order"]["customer"], Value::Null);
    assert!(!placed["order"]["items"].as_array().unwrap().is_empty());
    let bad = http()
        .post(format!("{admin}/locations/3r4s3-1/raw-orders"))
        .json(&json!({ "raw": "status=null" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    for fault in [
        json!({ "path_prefix": format!("/v1/location/orders/{id}"), "method": "GET", "times": 1,
                "kind": { "type": "body", "status": 200, "content_type": "text/html",
                          "body": "<html>oops</html>" } }),
        json!({ "path_prefix": format!("/v1/location/orders/{id}"), "method": "GET", "times": 1,
                "kind": { "type": "rewrite_json", "remove": ["id"] } }),
    ] {
        let r = http()
            .post(format!("{admin}/faults"))
            .json(&fault)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{fault}");
    }
    let path = format!("/location/orders/{id}");
    assert_eq!(
        api_get(&sb, &token, &path).await.text().await.unwrap(),
        "<html>oops</html>"
    );
    let rewritten: Value = api_get(&sb, &token, &path).await.json().await.unwrap();
    assert!(rewritten.get("id").is_none() && rewritten["total"] == json!(12));
}
