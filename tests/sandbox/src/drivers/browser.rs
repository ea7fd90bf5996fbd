//! A real headless browser for end-to-end tests: Debian's Chromium driven over WebDriver
//! (chromedriver, started on a free port) with fantoccini. Behind the `browser` feature.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Why the browser could not be driven.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("chromedriver: {0}")]
    Driver(String),
    #[error("webdriver: {0}")]
    WebDriver(String),
}

fn webdriver(err: impl std::fmt::Display) -> BrowserError {
    BrowserError::WebDriver(err.to_string())
}

/// `true` when the browser can run. When it cannot, the caller should skip the test loudly, and
/// under `CI=true` fail it (`require_browser` does both).
pub fn browser_available() -> bool {
    Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists()
}

/// Whether to run a browser test: false (after a loud message) when the browser is missing
/// outside CI; an error under CI, where it must run.
pub fn require_browser() -> Result<bool, BrowserError> {
    if browser_available() {
        return Ok(true);
    }
    let message = format!(
        "{CHROMEDRIVER} or {CHROMIUM} is missing (apt-get install chromium chromium-driver)"
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        return Err(BrowserError::Driver(message));
    }
    eprintln!("\n!!!!!!!!!! SKIPPED a browser test: {message} !!!!!!!!!!\n");
    Ok(false)
}

/// A headless Chromium session; the driver and the profile go when it is dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Starts chromedriver and a fresh headless Chromium.
    pub async fn start() -> Result<Browser, BrowserError> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| BrowserError::Driver(e.to_string()))?
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| BrowserError::Driver(e.to_string()))?;
        let profile = tempfile::tempdir().map_err(|e| BrowserError::Driver(e.to_string()))?;
        let url = format!("http://127.0.0.1:{port}");
        let client = connect(&url, profile.path()).await?;
        Ok(Browser {
            client,
            driver,
            _profile: profile,
        })
    }

    /// The element `css`, once it is on the page.
    async fn element(&self, css: &str) -> Result<Element, BrowserError> {
        self.client
            .wait()
            .for_element(Locator::Css(css))
            .await
            .map_err(webdriver)
    }

    pub async fn goto(&self, url: &str) -> Result<(), BrowserError> {
        self.client.goto(url).await.map_err(webdriver)
    }

    /// Types into the element `css` once it is on the page.
    pub async fn fill(&self, css: &str, text: &str) -> Result<(), BrowserError> {
        let element = self.element(css).await?;
        element.send_keys(text).await.map_err(webdriver)
    }

    /// Clicks the element `css` once it is on the page.
    ///
    /// A click that submits a form waits for the navigation it starts; when the server answers
    /// with a redirect, chromedriver can report that first navigation as "aborted by navigation"
    /// although the click happened and the browser is on its way to the redirect's target. That
    /// answer counts as a click: the next step waits for an element of the page it leads to.
    pub async fn click(&self, css: &str) -> Result<(), BrowserError> {
        let element = self.element(css).await?;
        match element.click().await {
            Err(err) if err.to_string().contains("aborted by navigation") => Ok(()),
            other => other.map_err(webdriver),
        }
    }

    /// Selects `value` in the `<select>` `css`.
    pub async fn choose(&self, css: &str, value: &str) -> Result<(), BrowserError> {
        let element = self.element(css).await?;
        element.select_by_value(value).await.map_err(webdriver)
    }

    /// Waits for the element `css` and returns its text.
    pub async fn text(&self, css: &str) -> Result<String, BrowserError> {
        let element = self.element(css).await?;
        element.text().await.map_err(webdriver)
    }

    pub async fn current_url(&self) -> Result<String, BrowserError> {
        self.client
            .current_url()
            .await
            .map(|u| u.to_string())
            .map_err(webdriver)
    }

    pub async fn close(self) -> Result<(), BrowserError> {
        self.client.clone().close().await.map_err(webdriver)
    }
}

async fn connect(url: &str, profile: &Path) -> Result<Client, BrowserError> {
    let deadline = Instant::now() + Duration::from_secs(20);
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
    loop {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(url)
            .await
        {
            Ok(client) => return Ok(client),
            Err(err) if Instant::now() > deadline => return Err(webdriver(err)),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}
