//! One end-to-end test in a real headless browser: Debian's chromium driven over WebDriver
//! (chromedriver) through the consent pages, then the code is exchanged at the token endpoint.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Kills the chromedriver we started when the test ends, however it ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `true` when the browser can run; when it cannot, fails under CI and skips loudly elsewhere.
fn browser_available() -> bool {
    if Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists() {
        return true;
    }
    let message = format!(
        "{CHROMEDRIVER} or {CHROMIUM} is missing (apt-get install chromium chromium-driver)"
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
    eprintln!("\n!!!!!!!!!! SKIPPED the browser test: {message} !!!!!!!!!!\n");
    false
}

async fn start_driver() -> (Driver, String) {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = Driver(child);
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(r) = http().get(format!("{url}/status")).send().await
            && r.status() == 200
        {
            return (driver, url);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

async fn browser(webdriver: &str, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(webdriver)
        .await
        .unwrap()
}

async fn fill(c: &Client, css: &str, text: &str) {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

async fn click(c: &Client, css: &str) {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn choose(c: &Client, css: &str, value: &str) {
    let select = c.wait().for_element(Locator::Css(css)).await.unwrap();
    select.select_by_value(value).await.unwrap();
}

#[tokio::test]
async fn a_person_approves_on_the_consent_pages_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let sb = sandbox().await;
    let (_driver, webdriver) = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&webdriver, profile.path()).await;
    let landing = format!(
        "{}/_sandbox/landing",
        sb.hubrise_oauth_url().trim_end_matches("/oauth2/v1")
    );
    let url = authorize_url(
        &sb,
        &landing,
        &[("state", "browser-state"), ("device_id", "ipad-browser")],
    );

    c.goto(&url).await.unwrap();
    let user = sb.seed().user().clone();
    fill(&c, "#email", &user.email).await;
    fill(&c, "#password", &user.password).await;
    click(&c, "#sign-in").await;
    choose(&c, "#location_id", "3r4s3-2").await;
    click(&c, "#next").await;
    choose(&c, "#catalog_id", "2kd7t").await;
    choose(&c, "#customer_list_id", "9zqm4").await;
    click(&c, "#next").await;
    let summary = c
        .wait()
        .for_element(Locator::Css("#summary-location"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(summary, "Lyon (3r4s3-2)");
    click(&c, "#allow").await;

    let code = c
        .wait()
        .for_element(Locator::Css("#code"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let state = c
        .find(Locator::Css("#state"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let final_url = c.current_url().await.unwrap();
    c.close().await.unwrap();
    assert_eq!(state, "browser-state");
    assert!(final_url.as_str().starts_with(&landing));
    assert_eq!(
        passerelle_sandbox::consent::code_from_redirect(final_url.as_str()).as_deref(),
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
    if !browser_available() {
        return;
    }
    let sb = sandbox().await;
    let (_driver, webdriver) = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&webdriver, profile.path()).await;
    let pos = sb.seed().pos_account().clone();

    c.goto(&format!("{}/backoffice", sb.pos_url()))
        .await
        .unwrap();
    fill(&c, "#email", &pos.email).await;
    fill(&c, "#password", &pos.password).await;
    click(&c, "#sign-in").await;
    c.wait()
        .for_element(Locator::Css("#no-connection"))
        .await
        .unwrap();
    click(&c, "#connect").await;

    // On HubRise's consent pages (each click waits for the next page's own element, so a
    // button of the page being left is never clicked twice).
    c.wait()
        .for_element(Locator::Css("#consent-form"))
        .await
        .unwrap();
    let user = sb.seed().user().clone();
    fill(&c, "#email", &user.email).await;
    fill(&c, "#password", &user.password).await;
    click(&c, "#sign-in").await;
    choose(&c, "#location_id", "3r4s3-1").await;
    click(&c, "#next").await;
    c.wait()
        .for_element(Locator::Css("#catalog_id"))
        .await
        .unwrap();
    click(&c, "#next").await;
    click(&c, "#allow").await;

    // Back on the back office, the names are shown.
    let location = c
        .wait()
        .for_element(Locator::Css("#location-3r4s3-1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let catalog = c
        .find(Locator::Css("#catalog-3r4s3-1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let notice = c
        .find(Locator::Css("#notice"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    c.close().await.unwrap();
    assert_eq!(location, "Paris (3r4s3-1)");
    assert_eq!(catalog, "Bella Pizza (psmlf)");
    assert!(notice.contains("Restart the app on your iPad"));
    let recorded = sb.admin().pos_connections(&pos.account_id).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["origin"], "web");
}
