//! Starts the sandbox (HubRise) and a bridge whose URL the sandbox's seed names as the app's
//! Connect URL, device callback and Disconnect callback URL.

use std::path::Path;
use std::time::Duration;

use passerelle_bridge::config::{DatabaseUrl, DemoAccount, HubriseConfig, IdentityConfig};
use passerelle_bridge::crypto::{Key, Keyring};
use passerelle_bridge::secret::Secret;
use passerelle_bridge::{Config, Running};
use passerelle_sandbox::{Sandbox, SandboxOptions};
use tokio::net::TcpListener;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub struct Stack {
    pub sandbox: Sandbox,
    pub bridge: Running,
    pub url: String,
}

/// The bridge's configuration against this sandbox: its seed's POS accounts as demo accounts.
pub fn config(sandbox: &Sandbox, url: &str, database: DatabaseUrl, keys: Keyring) -> Config {
    let seed = sandbox.seed();
    let accounts = seed
        .pos_accounts
        .iter()
        .map(|a| DemoAccount {
            account_id: a.account_id.clone(),
            email: a.email.clone(),
            password: Secret::new(a.password.clone()),
            business_name: a.business_name.clone(),
        })
        .collect();
    Config {
        listen: "127.0.0.1:0"
            .parse()
            .unwrap_or(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
        public_url: url.to_owned(),
        hubrise: HubriseConfig {
            oauth_url: sandbox.hubrise_oauth_url(),
            api_url: sandbox.hubrise_api_url(),
            client_id: seed.client_id.clone(),
            client_secret: Secret::new(seed.client_secret.clone()),
            scope: seed.scope.clone(),
        },
        database,
        keys,
        identity: IdentityConfig::BuiltIn { accounts },
        pos_client_id: "passerelle-ios".into(),
        access_token_ttl: Duration::from_secs(300),
        log_json: false,
    }
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
    let (listener, url) = listener().await?;
    let sandbox = Sandbox::start(SandboxOptions {
        pos_backend_url: Some(url.clone()),
        ..Default::default()
    })
    .await?;
    let bridge =
        passerelle_bridge::start_on(listener, config(&sandbox, &url, database, keys)).await?;
    Ok(Stack {
        sandbox,
        bridge,
        url,
    })
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
    let form = [
        ("client_id", "passerelle-ios"),
        ("grant_type", "password"),
        ("username", email),
        ("password", password),
    ];
    let answer: serde_json::Value = client()
        .post(format!("{url}/oauth/token"))
        .form(&form)
        .send()
        .await?
        .json()
        .await?;
    Ok(answer["access_token"]
        .as_str()
        .ok_or("no access token")?
        .to_owned())
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
