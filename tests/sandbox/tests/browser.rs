//! End-to-end tests in a real headless browser (Debian's Chromium over WebDriver): the consent
//! pages then the token exchange, and the POS vendor's web back office Connect story.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use passerelle_sandbox::drivers::browser::{Browser, require_browser};
use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn a_person_approves_on_the_consent_pages_in_a_real_browser() {
    if !require_browser().unwrap() {
        return;
    }
    let sb = sandbox().await;
    let b = Browser::start().await.unwrap();
    let landing = format!(
        "{}/_sandbox/landing",
        sb.hubrise_oauth_url().trim_end_matches("/oauth2/v1")
    );
    let url = authorize_url(
        &sb,
        &landing,
        &[("state", "browser-state"), ("device_id", "ipad-browser")],
    );

    b.goto(&url).await.unwrap();
    let user = sb.seed().user().clone();
    b.fill("#email", &user.email).await.unwrap();
    b.fill("#password", &user.password).await.unwrap();
    b.click("#sign-in").await.unwrap();
    b.choose("#location_id", "3r4s3-2").await.unwrap();
    b.click("#next").await.unwrap();
    b.choose("#catalog_id", "2kd7t").await.unwrap();
    b.choose("#customer_list_id", "9zqm4").await.unwrap();
    b.click("#next").await.unwrap();
    assert_eq!(b.text("#summary-location").await.unwrap(), "Lyon (3r4s3-2)");
    b.click("#allow").await.unwrap();

    let code = b.text("#code").await.unwrap();
    let state = b.text("#state").await.unwrap();
    let final_url = b.current_url().await.unwrap();
    b.close().await.unwrap();
    assert_eq!(state, "browser-state");
    assert!(final_url.starts_with(&landing));
    assert_eq!(
        passerelle_sandbox::drivers::consent::code_from_redirect(&final_url).as_deref(),
        Some(code.as_str())
    );

    let response = exchange(&sb, &code).await;
    assert_eq!(response.status(), 200);
    let token: Value = response.json().await.unwrap();
    assert_eq!(token["location_id"], "3r4s3-2");
    assert_eq!(token["catalog_id"], "2kd7t");
    assert_eq!(token["customer_list_id"], "9zqm4");
    assert_eq!(
        api_get(&sb, &token_of(&token), "/location").await.status(),
        200
    );
}

#[tokio::test]
async fn the_restaurant_connects_from_the_web_back_office_in_a_real_browser() {
    if !require_browser().unwrap() {
        return;
    }
    let sb = sandbox().await;
    let b = Browser::start().await.unwrap();
    let pos = sb.seed().pos_account().clone();

    b.goto(&format!("{}/backoffice", sb.pos_url()))
        .await
        .unwrap();
    b.fill("#email", &pos.email).await.unwrap();
    b.fill("#password", &pos.password).await.unwrap();
    b.click("#sign-in").await.unwrap();
    b.text("#no-connection").await.unwrap();
    b.click("#connect").await.unwrap();

    // On HubRise's consent pages (each click waits for the next page's own element, so a
    // button of the page being left is never clicked twice).
    b.text("#consent-form").await.unwrap();
    let user = sb.seed().user().clone();
    b.fill("#email", &user.email).await.unwrap();
    b.fill("#password", &user.password).await.unwrap();
    b.click("#sign-in").await.unwrap();
    b.choose("#location_id", "3r4s3-1").await.unwrap();
    b.click("#next").await.unwrap();
    b.text("#catalog_id").await.unwrap();
    b.click("#next").await.unwrap();
    b.click("#allow").await.unwrap();

    // Back on the back office, the names are shown.
    let location = b.text("#location-3r4s3-1").await.unwrap();
    let catalog = b.text("#catalog-3r4s3-1").await.unwrap();
    let notice = b.text("#notice").await.unwrap();
    b.close().await.unwrap();
    assert_eq!(location, "Paris (3r4s3-1)");
    assert_eq!(catalog, "Bella Pizza (psmlf)");
    assert!(notice.contains("Restart the app on your iPad"));
    let recorded = sb.admin().pos_connections(&pos.account_id).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["origin"], "web");
}
