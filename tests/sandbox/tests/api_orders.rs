//! HubRise's API: authentication, locations, orders (validation, totals, PATCH semantics,
//! private refs, listing), HubRise's error JSON.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_sandbox::drivers::consent::{self, ConsentChoice};
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn tokens_and_locations() {
    let sb = sandbox().await;
    let missing = http()
        .get(format!("{}/location", sb.hubrise_api_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["error_type"],
        "unauthorized"
    );
    assert_eq!(api_get(&sb, "not-a-token", "/location").await.status(), 401);

    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    assert_eq!(
        api_get(&sb, &token, "/locations/3r4s3-1").await.status(),
        200
    );
    let other = api_get(&sb, &token, "/locations/3r4s3-2").await;
    assert_eq!(other.status(), 403);
    assert_eq!(
        other.json::<Value>().await.unwrap()["error_type"],
        "forbidden"
    );
    assert_eq!(
        api_get(&sb, &token, "/locations/zzzzz-9").await.status(),
        404
    );
    assert_eq!(
        api_get(&sb, &token, "/locations/3r4s3-2/orders")
            .await
            .status(),
        403
    );
    let account: Value = api_get(&sb, &token, "/account").await.json().await.unwrap();
    assert_eq!(
        account,
        json!({ "id": "3r4s3", "name": "Bella Pizza", "currency": "EUR" })
    );
    let routing = api_get(&sb, &token, "/no/such/thing").await;
    assert_eq!(routing.status(), 404);
    assert_eq!(
        routing.json::<Value>().await.unwrap()["error_type"],
        "routing_error"
    );

    let lists: Value = api_get(&sb, &token, "/location/customer_lists")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        lists.as_array().unwrap().len(),
        1,
        "only the chosen customer list is readable"
    );
    let catalogs: Value = api_get(&sb, &token, "/location/catalogs")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(catalogs[0]["id"], "psmlf");
}

#[tokio::test]
async fn creating_an_order_computes_subtotals_and_total() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    let r = api_send(
        &sb,
        &token,
        Method::POST,
        "/location/orders",
        &sample_order(),
    )
    .await;
    assert_eq!(r.status(), 200);
    let order: Value = r.json().await.unwrap();
    // (9.00 + 2.50) × 2 = 23.00; + 5.50; + 2.00 charge; − 3.00 discount = 27.50.
    assert_eq!(order["items"][0]["subtotal"], "23.00 EUR");
    assert_eq!(order["items"][1]["subtotal"], "5.50 EUR");
    assert_eq!(order["total"], "27.50 EUR");
    assert_eq!(order["status"], "new");
    assert_eq!(order["location_id"], "3r4s3-1");
    assert_eq!(order["created_by"], "Passerelle");
    assert_eq!(order["expected_time"], "2026-06-24T19:30:00+02:00");
    assert!(order["id"].as_str().unwrap().len() == 5);
    for collection in ["items", "charges", "discounts", "payments"] {
        let element = &order[collection][0];
        assert!(element["id"].is_string(), "{collection} elements get ids");
        assert_eq!(element["deleted"], false);
        assert!(element.get("__private_refs").is_none());
    }
    assert_eq!(order["customer"]["first_name"], "Léa");
    assert!(order["customer"]["id"].is_null());
    assert!(
        order["created_at"].as_str().unwrap().ends_with(":00")
            && order["created_at"].as_str().unwrap().contains('+')
    );

    let fetched: Value = api_get(
        &sb,
        &token,
        &format!("/location/orders/{}", order["id"].as_str().unwrap()),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(fetched, order);
    let by_id = api_get(
        &sb,
        &token,
        &format!(
            "/locations/3r4s3-1/orders/{}",
            order["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(by_id.status(), 200);
    assert_eq!(
        api_get(&sb, &token, "/location/orders/nope1")
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn money_and_decimals_are_validated() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    let bad = json!({
        "status": "new",
        "items": [
            { "product_name": "Pizza", "price": "abc", "quantity": "1" },
            { "product_name": "Pizza", "price": "8.9 EUR", "quantity": 1 },
            { "price": "8.90 GBP", "quantity": "x" }
        ],
        "charges": [{ "name": "Delivery", "price": 2.5 }]
    });
    let r = api_send(&sb, &token, Method::POST, "/location/orders", &bad).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error_type"], "unprocessable_entity");
    let errors = body["errors"].as_array().unwrap();
    let fields: Vec<&str> = errors
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in [
        "items[0].price",
        "items[1].price",
        "items[1].quantity",
        "items[2].product_name",
        "items[2].price",
        "items[2].quantity",
        "charges[0].price",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    assert!(
        errors
            .iter()
            .any(|e| e["message"] == "'abc' is not a valid monetary amount")
    );

    let bad_status = api_send(
        &sb,
        &token,
        Method::POST,
        "/location/orders",
        &json!({ "status": "eaten" }),
    )
    .await;
    assert_eq!(bad_status.status(), 422);
    // Negative amounts are valid money.
    let refund =
        json!({ "items": [{ "product_name": "Refund", "price": "-0.05 EUR", "quantity": "3" }] });
    let ok: Value = api_send(&sb, &token, Method::POST, "/location/orders", &refund)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ok["total"], "-0.15 EUR");
    // Nothing was stored by the rejected requests.
    assert_eq!(sb.admin().orders("3r4s3-1").await.len(), 1);
}

#[tokio::test]
async fn non_json_bodies_are_415_and_broken_json_400() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    let url = format!("{}/location/orders", sb.hubrise_api_url());
    let form = http()
        .post(&url)
        .header("X-Access-Token", &token)
        .form(&[("status", "new")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    assert_eq!(
        form.json::<Value>().await.unwrap()["error_type"],
        "unsupported_media_type"
    );
    let broken = http()
        .post(&url)
        .header("X-Access-Token", &token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 400);
}

#[tokio::test]
async fn patch_sets_fields_appends_and_marks_deleted() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    let id = sb
        .admin()
        .place_order("3r4s3-1", sample_order())
        .await
        .unwrap();
    let order = sb.admin().order("3r4s3-1", &id).await.unwrap();
    assert_eq!(order["created_by"], "Uber Eats (sandbox)");
    let tiramisu = order["items"][1]["id"].as_str().unwrap().to_owned();

    let patch = json!({
        "status": "accepted",
        "confirmed_time": "2026-06-24T17:45:00Z",
        "seller_notes": "On its way",
        "collection_code": "A12",
        "items": [{ "id": tiramisu, "deleted": true }],
        "payments": [{ "name": "Cash", "ref": "CSH", "amount": "1.00 EUR" }]
    });
    let r = api_send(
        &sb,
        &token,
        Method::PATCH,
        &format!("/location/orders/{id}"),
        &patch,
    )
    .await;
    assert_eq!(r.status(), 200);
    let patched: Value = r.json().await.unwrap();
    assert_eq!(patched["status"], "accepted");
    // Times are converted to the location's timezone.
    assert_eq!(patched["confirmed_time"], "2026-06-24T19:45:00+02:00");
    assert_eq!(patched["seller_notes"], "On its way");
    assert_eq!(patched["collection_code"], "A12");
    assert_eq!(
        patched["items"].as_array().unwrap().len(),
        2,
        "deleted items stay"
    );
    assert_eq!(patched["items"][1]["deleted"], true);
    assert_eq!(
        patched["payments"].as_array().unwrap().len(),
        2,
        "payments are appended"
    );
    assert_eq!(patched["payments"][1]["amount"], "1.00 EUR");
    // The total follows: 27.50 − 5.50.
    assert_eq!(patched["total"], "22.00 EUR");

    let stored = sb.admin().order("3r4s3-1", &id).await.unwrap();
    assert_eq!(stored["status"], "accepted");

    let undelete = json!({ "items": [{ "id": tiramisu, "deleted": false }] });
    assert_eq!(
        api_send(
            &sb,
            &token,
            Method::PATCH,
            &format!("/location/orders/{id}"),
            &undelete
        )
        .await
        .status(),
        422
    );
    let modify = json!({ "items": [{ "id": tiramisu, "price": "1.00 EUR" }] });
    assert_eq!(
        api_send(
            &sb,
            &token,
            Method::PATCH,
            &format!("/location/orders/{id}"),
            &modify
        )
        .await
        .status(),
        422
    );
    let unknown = json!({ "charges": [{ "id": "zzzzz", "deleted": true }] });
    assert_eq!(
        api_send(
            &sb,
            &token,
            Method::PATCH,
            &format!("/location/orders/{id}"),
            &unknown
        )
        .await
        .status(),
        422
    );
    let read_only = json!({ "ref": "new-ref" });
    assert_eq!(
        api_send(
            &sb,
            &token,
            Method::PATCH,
            &format!("/location/orders/{id}"),
            &read_only
        )
        .await
        .status(),
        422
    );
}

#[tokio::test]
async fn private_refs_are_private_to_their_client() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    let mut order = sample_order();
    order["private_ref"] = json!("uber-4471");
    let id = sb.admin().place_order("3r4s3-1", order).await.unwrap();

    let seen: Value = api_get(&sb, &token, &format!("/location/orders/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        seen["private_ref"].is_null(),
        "the other app's private ref is hidden"
    );

    let r = api_send(
        &sb,
        &token,
        Method::PATCH,
        &format!("/location/orders/{id}"),
        &json!({ "private_ref": "pos-17" }),
    )
    .await;
    assert_eq!(r.json::<Value>().await.unwrap()["private_ref"], "pos-17");
    let found: Value = api_get(&sb, &token, "/location/orders?private_ref=pos-17")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found.as_array().unwrap().len(), 1);
    let not_found: Value = api_get(&sb, &token, "/location/orders?private_ref=uber-4471")
        .await
        .json()
        .await
        .unwrap();
    assert!(not_found.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn listing_orders_filters_and_paginates() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    for i in 0..7 {
        let status = if i % 2 == 0 { "new" } else { "accepted" };
        sb.admin()
            .place_order(
                "3r4s3-1",
                json!({ "status": status, "ref": format!("r{i}") }),
            )
            .await
            .unwrap();
    }
    sb.admin()
        .place_order("3r4s3-2", json!({ "status": "new" }))
        .await
        .unwrap();

    let mut seen = Vec::new();
    let mut url = "/location/orders?count=3".to_owned();
    loop {
        let r = api_get(&sb, &token, &url).await;
        assert_eq!(r.status(), 200);
        let next = r
            .headers()
            .get("x-cursor-next")
            .map(|v| v.to_str().unwrap().to_owned());
        let page: Vec<Value> = r.json().await.unwrap();
        assert!(page.len() <= 3);
        seen.extend(
            page.into_iter()
                .map(|o| o["ref"].as_str().unwrap().to_owned()),
        );
        match next {
            Some(cursor) => url = format!("/location/orders?count=3&cursor={cursor}"),
            None => break,
        }
    }
    // Newest first, every Paris order once, no Lyon order.
    assert_eq!(seen, vec!["r6", "r5", "r4", "r3", "r2", "r1", "r0"]);

    let accepted: Vec<Value> = api_get(&sb, &token, "/location/orders?status=accepted")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accepted.len(), 3);
    let by_uber: Vec<Value> = api_get(
        &sb,
        &token,
        "/location/orders?created_by=Uber%20Eats%20(sandbox)",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(by_uber.len(), 7);
    let future: Vec<Value> = api_get(
        &sb,
        &token,
        "/location/orders?after=2999-01-01T00:00:00%2B01:00",
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(future.is_empty());
    let past: Vec<Value> = api_get(
        &sb,
        &token,
        "/location/orders?before=2999-01-01T00:00:00%2B01:00",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(past.len(), 7);
    assert_eq!(
        api_get(&sb, &token, "/location/orders?count=101")
            .await
            .status(),
        400
    );
    assert_eq!(
        api_get(&sb, &token, "/location/orders?after=yesterday")
            .await
            .status(),
        422
    );
}

#[tokio::test]
async fn scope_limits_what_a_connection_may_do() {
    let sb = sandbox().await;
    // The other app's scope has no customer_list: it cannot read customer lists.
    let other = sb.seed().other_client.clone();
    let mut url = url::Url::parse(&format!("{}/authorize", sb.hubrise_oauth_url())).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", &other.id)
        .append_pair("redirect_uri", "urn:ietf:wg:oauth:2.0:oob")
        .append_pair("scope", "location[orders.read]");
    let choice = ConsentChoice::for_user(sb.seed().user()).location("3r4s3-1");
    let code = consent::approve(url.as_str(), &choice).await.unwrap();
    let token = json_of(
        http()
            .post(format!("{}/token", sb.hubrise_oauth_url()))
            .basic_auth(&other.id, Some(&other.secret))
            .form(&[("code", code.as_str())]),
    )
    .await;
    assert!(token["catalog_id"].is_null() && token["customer_list_id"].is_null());
    let token = token_of(&token);
    assert_eq!(api_get(&sb, &token, "/location/orders").await.status(), 200);
    assert_eq!(
        api_send(
            &sb,
            &token,
            Method::POST,
            "/location/orders",
            &json!({"status": "new"})
        )
        .await
        .status(),
        403
    );
    assert_eq!(
        api_get(&sb, &token, "/customer_lists/xab66").await.status(),
        403
    );
}

#[tokio::test]
async fn times_as_sent_keeps_the_client_s_offset() {
    let sb = passerelle_sandbox::Sandbox::start(passerelle_sandbox::SandboxOptions {
        times_as_sent: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    let id = sb
        .admin()
        .place_order("3r4s3-1", sample_order())
        .await
        .unwrap();
    let r = api_send(
        &sb,
        &token,
        Method::PATCH,
        &format!("/location/orders/{id}"),
        &json!({ "status": "accepted", "confirmed_time": "2026-06-24T17:45:00Z" }),
    )
    .await;
    assert_eq!(r.status(), 200);
    let order: Value = r.json().await.unwrap();
    assert_eq!(
        order["confirmed_time"], "2026-06-24T17:45:00Z",
        "kept as sent"
    );

    sb.admin().update_options(|o| o.times_as_sent = false).await;
    let r = api_send(
        &sb,
        &token,
        Method::PATCH,
        &format!("/location/orders/{id}"),
        &json!({ "confirmed_time": "2026-06-24T17:45:00Z" }),
    )
    .await;
    let order: Value = r.json().await.unwrap();
    assert_eq!(
        order["confirmed_time"], "2026-06-24T19:45:00+02:00",
        "converted to the location's timezone by default"
    );
}

#[tokio::test]
async fn renamed_catalogs_customer_lists_and_locations_read_back() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    let admin = sb.admin();
    admin
        .rename("catalog", "psmlf", "Bella Pizza Été")
        .await
        .unwrap();
    admin
        .rename("customer_list", "xab66", "Clients Bella")
        .await
        .unwrap();
    admin
        .rename("location", "3r4s3-1", "Paris Marais")
        .await
        .unwrap();
    let catalog: Value = api_get(&sb, &token, "/catalogs/psmlf?hide_data=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(catalog["name"], "Bella Pizza Été");
    assert!(
        catalog.get("data").is_none(),
        "hide_data leaves the data out"
    );
    let list: Value = api_get(&sb, &token, "/customer_lists/xab66")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["name"], "Clients Bella");
    let location: Value = api_get(&sb, &token, "/location")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(location["name"], "Paris Marais");
    assert!(admin.rename("catalog", "nope", "x").await.is_err());
}
