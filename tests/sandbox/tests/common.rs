//! Helpers shared by the sandbox's behavioural tests: a sandbox, an HTTP client that does not
//! follow redirects, and the OAuth dance done the way an app does it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use passerelle_sandbox::drivers::consent::{self, ConsentChoice};
use passerelle_sandbox::{Sandbox, SandboxOptions};
use reqwest::{Client, Response};
use serde_json::{Value, json};

pub const SCOPE: &str = "location[orders.write,customer_list.write,catalog.read]";
pub const APP_REDIRECT: &str = "passerelle-demo://oauth/hubrise";

pub async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions::default())
        .await
        .expect("sandbox starts")
}

pub fn http() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// An authorize URL for Passerelle's client.
/// Sends `request` and reads its JSON answer.
pub async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

pub fn authorize_url(sb: &Sandbox, redirect_uri: &str, extra: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&format!("{}/authorize", sb.hubrise_oauth_url())).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", &sb.seed().client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", SCOPE);
    for (k, v) in extra {
        url.query_pairs_mut().append_pair(k, v);
    }
    url.to_string()
}

/// Approves on the consent pages as Bella Pizza's manager; returns the code.
pub async fn code_for(sb: &Sandbox, location_id: &str, extra: &[(&str, &str)]) -> String {
    let choice = ConsentChoice::for_user(sb.seed().user()).location(location_id);
    let location = consent::approve(&authorize_url(sb, APP_REDIRECT, extra), &choice)
        .await
        .unwrap();
    consent::code_from_redirect(&location).expect("redirect carries a code")
}

/// Exchanges a code with HTTP Basic client authentication (HubRise's documented way).
pub async fn exchange(sb: &Sandbox, code: &str) -> Response {
    http()
        .post(format!("{}/token", sb.hubrise_oauth_url()))
        .basic_auth(&sb.seed().client_id, Some(&sb.seed().client_secret))
        .form(&[("code", code)])
        .send()
        .await
        .unwrap()
}

/// A full connection of Passerelle's client to `location_id` (optionally for a device).
pub async fn connect(sb: &Sandbox, location_id: &str, device_id: Option<&str>) -> Value {
    let extra: Vec<(&str, &str)> = device_id
        .map(|d| vec![("device_id", d)])
        .unwrap_or_default();
    let code = code_for(sb, location_id, &extra).await;
    let response = exchange(sb, &code).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

pub fn token_of(token_json: &Value) -> String {
    token_json["access_token"].as_str().unwrap().to_owned()
}

pub async fn api_get(sb: &Sandbox, token: &str, path: &str) -> Response {
    http()
        .get(format!("{}{path}", sb.hubrise_api_url()))
        .header("X-Access-Token", token)
        .send()
        .await
        .unwrap()
}

pub async fn api_send(
    sb: &Sandbox,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: &Value,
) -> Response {
    http()
        .request(method, format!("{}{path}", sb.hubrise_api_url()))
        .header("X-Access-Token", token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Registers a passive callback for order create/update.
pub async fn register_callback(sb: &Sandbox, token: &str) {
    let body = json!({ "url": null, "events": { "order": ["create", "update"] } });
    let r = api_send(sb, token, reqwest::Method::POST, "/callback", &body).await;
    assert_eq!(r.status(), 200);
}

pub fn sample_order() -> Value {
    json!({
        "status": "new",
        "service_type": "delivery",
        "expected_time": "2026-06-24T19:30:00+02:00",
        "customer_notes": "Ring twice",
        "items": [
            { "product_name": "Margherita", "sku_ref": "MAR", "price": "9.00 EUR", "quantity": "2",
              "options": [{ "option_list_name": "Extras", "name": "Burrata", "price": "2.50 EUR", "quantity": 1 }] },
            { "product_name": "Tiramisu", "price": "5.50 EUR", "quantity": "1" }
        ],
        "charges": [{ "name": "Delivery", "price": "2.00 EUR" }],
        "discounts": [{ "name": "Welcome", "price_off": "3.00 EUR" }],
        "payments": [{ "name": "Card", "amount": "27.50 EUR" }],
        "customer": { "first_name": "Léa", "last_name": "Martin", "phone": "+33600000000" }
    })
}
