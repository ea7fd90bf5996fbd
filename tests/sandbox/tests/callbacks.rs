//! Passive callbacks and events: registration, fan-out to other connections only, pagination,
//! acknowledgement.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_sandbox::{EventSuppression, Sandbox, SandboxOptions};
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::*;

async fn events(sb: &Sandbox, token: &str) -> Vec<Value> {
    api_get(sb, token, "/callback/events")
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn callback_registration() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    let none: Value = api_get(&sb, &token, "/callback")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none, json!({ "url": null, "events": {} }));

    register_callback(&sb, &token).await;
    let passive: Value = api_get(&sb, &token, "/callback")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        passive,
        json!({ "url": null, "events": { "order": ["create", "update"] } })
    );

    let bad = json!({ "url": null, "events": { "order": ["explode"] } });
    assert_eq!(
        api_send(&sb, &token, Method::POST, "/callback", &bad)
            .await
            .status(),
        422
    );

    let deleted = http()
        .delete(format!("{}/callback", sb.hubrise_api_url()))
        .header("X-Access-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let after: Value = api_get(&sb, &token, "/callback")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after, json!({ "url": null, "events": {} }));
}

#[tokio::test]
async fn per_connection_suppression_is_a_switch_events_reach_other_connections_not_the_writer() {
    let sb = Sandbox::start(SandboxOptions {
        event_suppression: EventSuppression::Connection,
        ..Default::default()
    })
    .await
    .unwrap();
    let ipad_a = token_of(&connect(&sb, "3r4s3-1", Some("ipad-A")).await);
    let ipad_b = token_of(&connect(&sb, "3r4s3-1", Some("ipad-B")).await);
    let lyon = token_of(&connect(&sb, "3r4s3-2", None).await);
    let unregistered = token_of(&connect(&sb, "3r4s3-1", Some("ipad-C")).await);
    for t in [&ipad_a, &ipad_b, &lyon] {
        register_callback(&sb, t).await;
    }

    // An order from another app: both Paris iPads hear of it, Lyon does not.
    let id = sb
        .admin()
        .place_order("3r4s3-1", sample_order())
        .await
        .unwrap();
    for t in [&ipad_a, &ipad_b] {
        let list = events(&sb, t).await;
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["resource_type"], "order");
        assert_eq!(list[0]["event_type"], "create");
        assert_eq!(list[0]["order_id"], id.as_str());
        assert_eq!(list[0]["location_id"], "3r4s3-1");
        assert!(
            list[0].get("new_state").is_none(),
            "listings carry no states"
        );
    }
    assert!(events(&sb, &lyon).await.is_empty());
    assert!(events(&sb, &unregistered).await.is_empty());

    // iPad A accepts: iPad B gets the update, iPad A (the writer) does not.
    let r = api_send(
        &sb,
        &ipad_a,
        Method::PATCH,
        &format!("/location/orders/{id}"),
        &json!({ "status": "accepted" }),
    )
    .await;
    assert_eq!(r.status(), 200);
    let a = events(&sb, &ipad_a).await;
    let b = events(&sb, &ipad_b).await;
    assert_eq!(a.len(), 1);
    assert_eq!(b.len(), 2);
    assert_eq!(b[1]["event_type"], "update");

    let event: Value = api_get(
        &sb,
        &ipad_b,
        &format!("/callback/events/{}", b[1]["id"].as_str().unwrap()),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(event["previous_state"]["status"], "new");
    assert_eq!(event["new_state"]["status"], "accepted");
    let created: Value = api_get(
        &sb,
        &ipad_b,
        &format!("/callback/events/{}", b[0]["id"].as_str().unwrap()),
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(created.get("previous_state").is_none());
    assert_eq!(created["new_state"]["total"], "27.50 EUR");

    // An order created by iPad B itself produces events for A only.
    let r = api_send(
        &sb,
        &ipad_b,
        Method::POST,
        "/location/orders",
        &json!({ "status": "accepted" }),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(events(&sb, &ipad_a).await.len(), 2);
    assert_eq!(events(&sb, &ipad_b).await.len(), 2);
}

#[tokio::test]
async fn client_wide_suppression_is_the_default() {
    assert_eq!(
        SandboxOptions::default().event_suppression,
        EventSuppression::Client
    );
    let sb = sandbox().await;
    let ipad_a = token_of(&connect(&sb, "3r4s3-1", Some("ipad-A")).await);
    let ipad_b = token_of(&connect(&sb, "3r4s3-1", Some("ipad-B")).await);
    register_callback(&sb, &ipad_a).await;
    register_callback(&sb, &ipad_b).await;
    let id = sb
        .admin()
        .place_order("3r4s3-1", sample_order())
        .await
        .unwrap();
    api_send(
        &sb,
        &ipad_a,
        Method::PATCH,
        &format!("/location/orders/{id}"),
        &json!({ "status": "received" }),
    )
    .await;
    // Same client: B does not hear of A's update.
    assert_eq!(events(&sb, &ipad_b).await.len(), 1);
}

#[tokio::test]
async fn events_paginate_and_stay_until_deleted() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    register_callback(&sb, &token).await;
    let mut ids = Vec::new();
    for i in 0..130 {
        ids.push(
            sb.admin()
                .place_order(
                    "3r4s3-1",
                    json!({ "status": "new", "ref": format!("o{i}") }),
                )
                .await
                .unwrap(),
        );
    }

    let first = api_get(&sb, &token, "/callback/events").await;
    let cursor = first.headers()["x-cursor-next"]
        .to_str()
        .unwrap()
        .to_owned();
    let page1: Vec<Value> = first.json().await.unwrap();
    assert_eq!(page1.len(), 100);
    let second = api_get(&sb, &token, &format!("/callback/events?cursor={cursor}")).await;
    assert!(
        second.headers().get("x-cursor-next").is_none(),
        "the last page has no cursor"
    );
    let page2: Vec<Value> = second.json().await.unwrap();
    assert_eq!(page2.len(), 30);
    let order_ids: Vec<&str> = page1
        .iter()
        .chain(&page2)
        .map(|e| e["order_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        order_ids,
        ids.iter().map(String::as_str).collect::<Vec<_>>(),
        "oldest first, each once"
    );

    let small = api_get(&sb, &token, "/callback/events?count=10").await;
    assert!(small.headers().get("x-cursor-next").is_some());
    assert_eq!(small.json::<Vec<Value>>().await.unwrap().len(), 10);

    // Acknowledge the first 100: the 30 others come back on the next poll.
    for e in &page1 {
        let url = format!(
            "{}/callback/events/{}",
            sb.hubrise_api_url(),
            e["id"].as_str().unwrap()
        );
        let r = http()
            .delete(url)
            .header("X-Access-Token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let rest = events(&sb, &token).await;
    assert_eq!(rest.len(), 30);
    assert_eq!(rest[0]["order_id"], ids[100].as_str());
    let gone = api_get(
        &sb,
        &token,
        &format!("/callback/events/{}", page1[0]["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(gone.status(), 404);
    let url = format!(
        "{}/callback/events/{}",
        sb.hubrise_api_url(),
        page1[0]["id"].as_str().unwrap()
    );
    assert_eq!(
        http()
            .delete(url)
            .header("X-Access-Token", &token)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn customer_cancellation_from_the_other_app_is_an_update_event() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    register_callback(&sb, &token).await;
    let id = sb
        .admin()
        .place_order("3r4s3-1", sample_order())
        .await
        .unwrap();
    let order = sb
        .admin()
        .update_order_as_other_app("3r4s3-1", &id, json!({ "status": "cancelled" }))
        .await
        .unwrap();
    assert_eq!(order["status"], "cancelled");
    let list = events(&sb, &token).await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[1]["event_type"], "update");
}

#[tokio::test]
async fn odd_entries_placed_by_the_admin_are_listed_as_placed() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", Some("ipad-A")).await);
    register_callback(&sb, &token).await;
    let odd = [
        json!({"id": "both1", "resource_type": "order", "event_type": "update",
               "order_id": "abc12", "resource_id": "3r4s3-1"}),
        json!({"resource_type": "order", "event_type": "create", "order_id": "abc12"}),
        json!({"id": "cust1", "resource_type": "customer", "event_type": "update",
               "resource_id": "xab66"}),
    ];
    for event in &odd {
        let queued = sb
            .admin()
            .inject_event("3r4s3-1", event.clone())
            .await
            .unwrap();
        assert_eq!(queued, 1);
    }
    assert_eq!(events(&sb, &token).await, odd.to_vec());
    let fetched: Value = api_get(&sb, &token, "/callback/events/both1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, odd[0]);
    let deleted = http()
        .delete(format!("{}/callback/events/cust1", sb.hubrise_api_url()))
        .header("X-Access-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    assert_eq!(events(&sb, &token).await.len(), 2);
}
