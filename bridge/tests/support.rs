//! Starts the sandbox (HubRise) and a bridge whose URL the sandbox's seed names as the app's
//! Connect URL, device callback and Disconnect callback URL.

use passerelle_bridge::Config;
use passerelle_bridge::config::DatabaseUrl;
use passerelle_bridge::crypto::{Key, Keyring};
use passerelle_sandbox::{Sandbox, SandboxOptions};
use std::path::Path;
use tokio::net::TcpListener;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The sandbox with a bridge in front of it (`pos_url`: the bridge).
pub use passerelle_test_support::bridge::Bridged as Stack;

/// The bridge's configuration against this sandbox: its seed's POS accounts as demo accounts.
/// Its active callback is on (issue 24), which the default leaves off.
pub fn config(sandbox: &Sandbox, url: &str, database: DatabaseUrl, keys: Keyring) -> Config {
    let mut config = passerelle_test_support::bridge::bridge_config(sandbox, url, database, keys);
    config.active_callback = true;
    config
}

pub fn sqlite(dir: &Path) -> DatabaseUrl {
    DatabaseUrl::Sqlite(dir.join("bridge.sqlite3"))
}

pub fn keys() -> Keyring {
    Keyring::new(Key::generate(), vec![])
}

/// A listener on a free loopback port and its URL.
pub async fn listener() -> Result<(TcpListener, String), std::io::Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    Ok((listener, url))
}

/// The sandbox and a bridge on `database`.
pub async fn start(
    database: DatabaseUrl,
    keys: Keyring,
) -> Result<Stack, Box<dyn std::error::Error>> {
    passerelle_test_support::bridge::start_bridged(SandboxOptions::default(), database, keys)
        .await
        .map_err(|e| e.to_string().into())
}

/// The sandbox and a bridge on SQLite in a temporary directory (kept as long as it is held).
pub async fn started() -> Result<(tempfile::TempDir, Stack), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let stack = start(sqlite(dir.path()), keys()).await?;
    Ok((dir, stack))
}

/// Stops the bridge, then the sandbox.
pub async fn stop(stack: Stack) -> TestResult {
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// A POS access token of the seed's first account (or `email`/`password`).
pub async fn sign_in(
    url: &str,
    email: &str,
    password: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    passerelle_test_support::bridge_binary::pos_token(&client(), url, email, password)
        .await
        .map_err(|e| -> Box<dyn std::error::Error> { e })
}

/// The check's target for this stack.
pub fn target(url: &str, sandbox: &Sandbox) -> passerelle_bridge::check::CheckTarget {
    passerelle_bridge::check::CheckTarget {
        url: url.to_owned(),
        sandbox_admin: sandbox.admin_url(),
        admin_token: None,
        email: None,
        password: None,
    }
}

/// The sandbox with HubRise's retry schedule compressed (a retry unit of 50 ms) for tests of
/// the active callback.
pub fn compressed_callbacks() -> SandboxOptions {
    SandboxOptions {
        active_callbacks: passerelle_sandbox::ActiveCallbacks {
            retry_unit: std::time::Duration::from_millis(50),
            ..Default::default()
        },
        ..SandboxOptions::default()
    }
}

/// The sandbox started with `options` and a bridge on `database` taking HubRise's events.
pub async fn start_with(
    options: SandboxOptions,
    database: DatabaseUrl,
    keys: Keyring,
) -> Result<Stack, Box<dyn std::error::Error>> {
    let (listener, pos_url) = listener().await?;
    let sandbox = Sandbox::start(SandboxOptions {
        pos_backend_url: Some(pos_url.clone()),
        ..options
    })
    .await?;
    let config = config(&sandbox, &pos_url, database, keys);
    let bridge = passerelle_bridge::start_on(listener, config).await?;
    Ok(Stack {
        sandbox,
        bridge,
        pos_url,
    })
}

/// Connects `location_id` in HubRise's back office to the seed's first POS account through the
/// bridge at `url`; the account's POS token and the connection's HubRise token.
pub async fn connect_off_device(
    sandbox: &Sandbox,
    url: &str,
    location_id: &str,
) -> Result<(String, String), Box<dyn std::error::Error>> {
    let pos = sandbox.seed().pos_account().clone();
    let connect_url = sandbox
        .admin()
        .back_office_connect(
            &sandbox.seed().client_id,
            location_id,
            &sandbox.seed().user().email,
        )
        .await?;
    passerelle_bridge::check::open_connect_url(
        &client(),
        &connect_url,
        url,
        &pos.email,
        &pos.password,
    )
    .await?;
    let token = sign_in(url, &pos.email, &pos.password).await?;
    let handed: serde_json::Value = client()
        .get(format!("{url}/hubrise/connections/{location_id}/token"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let hubrise = handed["access_token"]
        .as_str()
        .ok_or("no HubRise token handed off")?
        .to_owned();
    Ok((token, hubrise))
}

/// Hex HMAC-SHA256 of `body` keyed by `secret`: what HubRise sends in `X-HubRise-Hmac-SHA256`.
pub fn hubrise_signature(secret: &str, body: &[u8]) -> String {
    use hmac::Mac;
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    passerelle_bridge::secret::hex(&mac.finalize().into_bytes())
}

/// Waits until `done` holds (at most `within`), checking every 20 ms.
pub async fn eventually<F, Fut>(within: std::time::Duration, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while started.elapsed() < within {
        if done().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    false
}

/// A till's configuration against `stack`, storing in `dir`, polling HubRise every `poll_secs`.
pub fn till_config(stack: &Stack, dir: &Path, poll_secs: u32) -> passerelle_core::PasserelleConfig {
    let mut config = passerelle_test_support::config_for(stack, dir);
    config.initial_settings.poll_interval_secs = poll_secs;
    config
}

/// Opens a till on `config` and `secrets`, signs it in to the seed's first POS account, connects
/// `location` through the bridge, restarts to apply, and waits until it flows.
pub async fn connected_till(
    stack: &Stack,
    config: passerelle_core::PasserelleConfig,
    secrets: std::sync::Arc<passerelle_core::InMemorySecretStore>,
    location: &str,
) -> Result<
    (
        passerelle_core::Passerelle,
        std::sync::Arc<passerelle_test_support::EventRecorder>,
    ),
    Box<dyn std::error::Error>,
> {
    connected_till_at(stack, config, secrets, &[location]).await
}

/// [`connected_till`] with a connection at each of `locations`, over any secret store.
pub async fn connected_till_at(
    stack: &Stack,
    config: passerelle_core::PasserelleConfig,
    secrets: std::sync::Arc<dyn passerelle_core::SecretStore>,
    locations: &[&str],
) -> Result<
    (
        passerelle_core::Passerelle,
        std::sync::Arc<passerelle_test_support::EventRecorder>,
    ),
    Box<dyn std::error::Error>,
> {
    use passerelle_test_support::seeded;
    let events = std::sync::Arc::new(passerelle_test_support::EventRecorder::new());
    let app = passerelle_core::Passerelle::open(config, secrets, events.clone()).await?;
    let seed = stack.sandbox.seed().clone();
    seeded::sign_in(&app, &seed, 0).await?;
    for location in locations {
        seeded::connect(&app, &seeded::choice(&seed, 0, location)?).await?;
    }
    app.restart().await?;
    let flowing =
        passerelle_test_support::health_shows(&app, None, std::time::Duration::from_secs(10)).await;
    if !flowing {
        return Err("the till never flowed".into());
    }
    Ok((app, events))
}

/// Every row of every table of the bridge's database, SQLite or Postgres (rows as text, sorted),
/// to tell that a request stored nothing: equal before and after.
pub async fn stored(
    stack: &Stack,
) -> Result<std::collections::BTreeMap<String, Vec<String>>, Box<dyn std::error::Error>> {
    let db = stack.bridge.app().store.database();
    let tables = match db.kind() {
        "postgres" => {
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() ORDER BY table_name"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    };
    let tables = db.query(tables, vec![]).await?;
    let mut all = std::collections::BTreeMap::new();
    for table in tables.iter().filter_map(|r| r.first()?.as_text()) {
        let mut rows: Vec<String> = db
            .query(&format!("SELECT * FROM {table}"), vec![])
            .await?
            .iter()
            .map(|row| format!("{row:?}"))
            .collect();
        rows.sort();
        all.insert(table.to_owned(), rows);
    }
    Ok(all)
}

/// A response's header `name` as text (empty when absent; the first when repeated).
pub fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The `name=value` of a response's first `Set-Cookie` (empty when none).
pub fn set_cookie(response: &reqwest::Response) -> String {
    let cookie = header(response, "set-cookie");
    cookie.split(';').next().unwrap_or_default().to_owned()
}

/// Where a response redirects (empty when it does not).
pub fn location(response: &reqwest::Response) -> String {
    header(response, "location")
}

/// A browser signed in to the bridge's back office: its session cookie; redirects are read,
/// not followed.
pub struct BackOffice {
    pub url: String,
    /// `pos_session=…`, as the browser sends it back.
    pub cookie: String,
    /// The whole `Set-Cookie` the sign-in answered with (its attributes).
    pub set_cookie: String,
}

impl BackOffice {
    /// Signs in with the POS credentials through the sign-in form (its CSRF token carried).
    pub async fn sign_in(
        url: &str,
        email: &str,
        password: &str,
    ) -> Result<BackOffice, Box<dyn std::error::Error>> {
        let page = client()
            .get(format!("{url}/backoffice/sign-in"))
            .send()
            .await?;
        let pre = BackOffice {
            url: url.to_owned(),
            cookie: set_cookie(&page),
            set_cookie: header(&page, "set-cookie"),
        };
        let csrf = passerelle_bridge::check::hidden_value(&page.text().await?, "csrf")
            .ok_or("no csrf on the sign-in page")?;
        let answer = pre
            .post(
                "/backoffice/sign-in",
                &[("email", email), ("password", password), ("csrf", &csrf)],
            )
            .await?;
        if answer.status() != reqwest::StatusCode::SEE_OTHER {
            return Err(format!("sign-in answered {}", answer.status()).into());
        }
        Ok(BackOffice {
            url: url.to_owned(),
            cookie: set_cookie(&answer),
            set_cookie: header(&answer, "set-cookie"),
        })
    }

    /// `GET path` (or a full URL) with the cookie.
    pub async fn get(&self, path: &str) -> Result<reqwest::Response, reqwest::Error> {
        let url = match path.starts_with('/') {
            true => format!("{}{path}", self.url),
            false => path.to_owned(),
        };
        client()
            .get(url)
            .header("cookie", &self.cookie)
            .send()
            .await
    }

    /// A form posted to `path` with the cookie.
    pub async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<reqwest::Response, reqwest::Error> {
        client()
            .post(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .form(form)
            .send()
            .await
    }

    /// The CSRF token the forms of the page at `path` carry.
    pub async fn csrf(&self, path: &str) -> Result<String, Box<dyn std::error::Error>> {
        let page = self.get(path).await?.text().await?;
        passerelle_bridge::check::hidden_value(&page, "csrf")
            .ok_or_else(|| format!("no csrf on {path}").into())
    }
}

/// The body of a typed refusal: JSON `{"error_type", "message"}` or an OAuth `{"error"}`, or a
/// back-office page naming the error (`id="error"`). `Err` says what came instead.
pub async fn typed_refusal(response: reqwest::Response) -> Result<String, String> {
    let content_type = header(&response, "content-type");
    let body = response.text().await.map_err(|e| e.to_string())?;
    let typed = if content_type.starts_with("application/json") {
        serde_json::from_str::<serde_json::Value>(&body).is_ok_and(|v| {
            v["error_type"].is_string() && v["message"].is_string() || v["error"].is_string()
        })
    } else {
        content_type.starts_with("text/html") && body.contains("id=\"error\"")
    };
    match typed {
        true => Ok(body),
        false => Err(format!("untyped refusal ({content_type:?}): {body:.200}")),
    }
}

/// The account's configuration (`GET /hubrise/configuration`) as JSON.
pub async fn configuration(
    url: &str,
    token: &str,
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    Ok(client()
        .get(format!("{url}/hubrise/configuration"))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?)
}

/// The states of the app's connections HubRise has on `location`, oldest first.
pub async fn hubrise_states(
    sandbox: &Sandbox,
    location: &str,
) -> Vec<passerelle_sandbox::ConnectionState> {
    let client_id = &sandbox.seed().client_id;
    sandbox
        .admin()
        .connections()
        .await
        .into_iter()
        .filter(|c| c.location_id.as_deref() == Some(location) && c.client_id == *client_id)
        .map(|c| c.state)
        .collect()
}
