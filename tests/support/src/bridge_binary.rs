//! The passerelle-bridge binary in front of a sandbox: its configuration file (the seed's POS
//! accounts as its demo accounts), the binary started as a child process, and a POS access
//! token from its built-in identity.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use passerelle_sandbox::{Sandbox, SandboxOptions};
use tokio::io::{AsyncBufReadExt, BufReader};

/// The configuration file of a bridge listening on `127.0.0.1:port` against `sandbox`, with
/// `extra` lines at the end of its top-level keys (`log_format = "json"`, `active_callback =
/// true`).
pub fn config_file(sandbox: &Sandbox, port: u16, extra: &str) -> String {
    let mut toml = format!(
        "listen = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\n\
         hubrise_oauth_url = \"{}\"\nhubrise_api_url = \"{}\"\n{extra}",
        sandbox.hubrise_oauth_url(),
        sandbox.hubrise_api_url()
    );
    for a in &sandbox.seed().pos_accounts {
        toml.push_str(&format!(
            "[[accounts]]\naccount_id = \"{}\"\nemail = \"{}\"\npassword = \"{}\"\nbusiness_name = \"{}\"\n",
            a.account_id, a.email, a.password, a.business_name
        ));
    }
    toml
}

/// The binary running in front of a sandbox of its own.
pub struct RunningBinary {
    pub sandbox: Sandbox,
    pub child: tokio::process::Child,
    /// The bridge's base URL (its listener on loopback).
    pub url: String,
    /// The first line it printed (`PASSERELLE_BRIDGE {…}` once it listens).
    pub first_line: String,
    /// Its configuration file and data directory.
    pub dir: tempfile::TempDir,
}

/// Starts the sandbox and `binary` in front of it on a free loopback port (its configuration:
/// [`config_file`] with `extra`; HubRise's client in its environment), stderr to `stderr`,
/// killed on drop; waits for its first line (30 s at most), and drains its stdout after it.
pub async fn start(
    binary: &Path,
    extra: &str,
    stderr: Stdio,
) -> Result<RunningBinary, Box<dyn std::error::Error + Send + Sync>> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let sandbox = Sandbox::start(SandboxOptions {
        pos_backend_url: Some(url.clone()),
        ..SandboxOptions::default()
    })
    .await?;
    let seed = sandbox.seed().clone();
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("bridge.toml");
    std::fs::write(&file, config_file(&sandbox, port, extra))?;
    let mut child = tokio::process::Command::new(binary)
        .arg("--config")
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("PASSERELLE_BRIDGE_HUBRISE_CLIENT_ID", &seed.client_id)
        .env(
            "PASSERELLE_BRIDGE_HUBRISE_CLIENT_SECRET",
            &seed.client_secret,
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let first_line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await??
        .unwrap_or_default();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(RunningBinary {
        sandbox,
        child,
        url,
        first_line,
        dir,
    })
}

/// A POS access token from the bridge at `url` (password grant, the till's client id).
pub async fn pos_token(
    http: &reqwest::Client,
    url: &str,
    email: &str,
    password: &str,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let form = [
        ("client_id", passerelle_sandbox::seed::POS_CLIENT_ID),
        ("grant_type", "password"),
        ("username", email),
        ("password", password),
    ];
    let answer: serde_json::Value = http
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
