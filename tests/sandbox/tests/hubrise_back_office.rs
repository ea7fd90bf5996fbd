//! HubRise's back office: block, unblock, disconnect, suspension, Open URL, back-office Connect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_sandbox::{ConnectionState, Sandbox, SandboxOptions};
use serde_json::{Value, json};

use crate::common::*;

async fn error_of(sb: &Sandbox, token: &str) -> (u16, Value) {
    let r = api_get(sb, token, "/location").await;
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn blocked_connections_get_the_documented_401_until_unblocked() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    assert_eq!(sb.admin().block_connection("3r4s3-1").await.unwrap(), 1);
    assert_eq!(
        error_of(&sb, &token).await,
        (
            401,
            json!({ "error_type": "unauthorized", "message": "The connection has been blocked" })
        )
    );
    sb.admin().unblock_connection(&token).await.unwrap();
    assert_eq!(api_get(&sb, &token, "/location").await.status(), 200);

    // Reconnecting lifts a block and keeps the token.
    sb.admin().block_connection("3r4s3-1").await.unwrap();
    let again = token_of(&connect(&sb, "3r4s3-1", None).await);
    assert_eq!(again, token);
    assert_eq!(api_get(&sb, &token, "/location").await.status(), 200);
}

#[tokio::test]
async fn disconnected_connections_get_the_revoked_401() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    register_callback(&sb, &token).await;
    let listed = sb.admin().connections().await;
    assert_eq!(listed.len(), 1);
    assert!(
        !serde_json::to_string(&listed).unwrap().contains(&token),
        "listings never show tokens"
    );
    assert_eq!(
        sb.admin()
            .disconnect_connection(&listed[0].id)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        error_of(&sb, &token).await,
        (
            401,
            json!({ "error_type": "unauthorized", "message": "The access token is invalid or the connection has been revoked" })
        )
    );
    assert_eq!(
        sb.admin().connections().await[0].state,
        ConnectionState::Disconnected
    );
    // A dead connection cannot be blocked or unblocked back to life.
    assert!(sb.admin().unblock_connection(&listed[0].id).await.is_err());
}

#[tokio::test]
async fn suspension_and_the_legacy_429_switch() {
    let sb = sandbox().await;
    let token = token_of(&connect(&sb, "3r4s3-1", None).await);
    sb.admin().suspend_location("3r4s3-1", true).await.unwrap();
    let (status, body) = error_of(&sb, &token).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["message"],
        "The account/location has been suspended for non payment of the subscription"
    );
    sb.admin().suspend_location("3r4s3-1", false).await.unwrap();
    assert_eq!(api_get(&sb, &token, "/location").await.status(), 200);

    let legacy = Sandbox::start(SandboxOptions {
        legacy_blocked_status: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let token = token_of(&connect(&legacy, "3r4s3-1", None).await);
    legacy.admin().block_connection(&token).await.unwrap();
    assert_eq!(error_of(&legacy, &token).await.0, 429);
}

#[tokio::test]
async fn open_url_carries_the_app_instance_id() {
    let sb = sandbox().await;
    let token = connect(&sb, "3r4s3-1", None).await;
    let url = sb.admin().open_url("3r4s3-1").await.unwrap();
    assert_eq!(
        url,
        format!(
            "passerelle-demo://hubrise/open?app_instance_id={}",
            token["app_instance_id"].as_str().unwrap()
        )
    );
}

#[tokio::test]
async fn back_office_connect_ends_on_the_connect_url_without_state() {
    let sb = sandbox().await;
    let url = sb
        .admin()
        .back_office_connect(&sb.seed().client_id, "3r4s3-2", &sb.seed().user().email)
        .await
        .unwrap();
    assert!(
        url.starts_with(&format!("{}/hubrise/connect?code=", sb.pos_url())),
        "{url}"
    );
    assert!(!url.contains("state="));
    // The code is a normal authorisation code for the Connect URL.
    let code = passerelle_sandbox::drivers::consent::code_from_redirect(&url).unwrap();
    let token: Value = exchange(&sb, &code).await.json().await.unwrap();
    assert_eq!(token["location_id"], "3r4s3-2");
    assert_eq!(token["catalog_id"], "psmlf");

    let authorize = sb
        .admin()
        .back_office_authorize_url(&sb.seed().client_id)
        .await
        .unwrap();
    assert!(authorize.contains("redirect_uri=http%3A%2F%2F127.0.0.1"));
    assert!(
        sb.admin()
            .back_office_connect(&sb.seed().client_id, "7hq2c-1", &sb.seed().user().email)
            .await
            .is_err()
    );
}
