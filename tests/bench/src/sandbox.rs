//! The sandbox the benchmarks run against: in this process (`Sandbox::start`) or as a separate
//! process (`passerelle-sandbox serve`), so that a memory figure can cover the client alone.
//! Either way it is driven through its admin HTTP API, so both behave the same.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use passerelle_sandbox::{Sandbox, SandboxOptions, Seed};
use passerelle_test_support::SandboxEndpoints;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

use crate::{BenchError, Result};

/// Where the sandbox answers, and what it was seeded with.
#[derive(Debug, Clone)]
pub struct SandboxInfo {
    pub hubrise_oauth_url: String,
    pub hubrise_api_url: String,
    pub pos_url: String,
    pub admin_url: String,
    pub seed: Seed,
}

impl SandboxEndpoints for SandboxInfo {
    fn seed(&self) -> &Seed {
        &self.seed
    }
    fn pos_url(&self) -> String {
        self.pos_url.clone()
    }
    fn hubrise_oauth_url(&self) -> String {
        self.hubrise_oauth_url.clone()
    }
    fn hubrise_api_url(&self) -> String {
        self.hubrise_api_url.clone()
    }
}

enum Kind {
    InProcess(Sandbox),
    Child(Box<(Child, ChildStdin)>),
}

/// A running sandbox.
pub struct RunningSandbox {
    pub info: SandboxInfo,
    kind: Kind,
    http: reqwest::Client,
}

fn http_client() -> Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// `passerelle-sandbox` next to this benchmark's executable (both in `target/<profile>`).
pub fn sibling_binary(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .ok_or_else(|| BenchError("the executable has no directory".into()))?;
    Ok(dir.join(name))
}

impl RunningSandbox {
    /// Starts the sandbox inside this process.
    pub async fn in_process(options: SandboxOptions) -> Result<Self> {
        let sandbox = Sandbox::start(options).await?;
        let info = SandboxInfo {
            hubrise_oauth_url: sandbox.hubrise_oauth_url(),
            hubrise_api_url: sandbox.hubrise_api_url(),
            pos_url: sandbox.pos_url(),
            admin_url: sandbox.admin_url(),
            seed: sandbox.seed().clone(),
        };
        Ok(Self {
            info,
            kind: Kind::InProcess(sandbox),
            http: http_client()?,
        })
    }

    /// Starts `binary serve ARGS` and reads its `PASSERELLE_SANDBOX` line. Its stdin is a pipe
    /// held here: when this process ends, the sandbox does too.
    pub async fn spawn(binary: &Path, args: &[&str]) -> Result<Self> {
        if !binary.exists() {
            return Err(BenchError(format!(
                "{} not found: build it first (cargo build --release -p passerelle-sandbox)",
                binary.display()
            )));
        }
        let mut child = Command::new(binary)
            .arg("serve")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let (stdin, stdout) = crate::child_pipes(&mut child)?;
        let mut lines = BufReader::new(stdout).lines();
        let description = loop {
            let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
                .await
                .map_err(|_| BenchError("the sandbox printed no PASSERELLE_SANDBOX line".into()))??
                .ok_or_else(|| BenchError("the sandbox exited before it was ready".into()))?;
            if let Some(json) = line.strip_prefix("PASSERELLE_SANDBOX ") {
                break serde_json::from_str::<Value>(json)?;
            }
        };
        // Keep reading so the sandbox never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let text = |key: &str| -> Result<String> {
            description[key]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| BenchError(format!("no {key} in the sandbox's description")))
        };
        let info = SandboxInfo {
            hubrise_oauth_url: text("hubrise_oauth_url")?,
            hubrise_api_url: text("hubrise_api_url")?,
            pos_url: text("pos_url")?,
            admin_url: text("admin_url")?,
            seed: serde_json::from_value(description["seed"].clone())?,
        };
        Ok(Self {
            info,
            kind: Kind::Child(Box::new((child, stdin))),
            http: http_client()?,
        })
    }

    /// The process id of a separate sandbox.
    pub fn child_pid(&self) -> Option<u32> {
        match &self.kind {
            Kind::Child(child) => child.0.id(),
            Kind::InProcess(_) => None,
        }
    }

    async fn json(&self, request: reqwest::RequestBuilder) -> Result<Value> {
        let response = request.send().await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if !status.is_success() {
            return Err(BenchError(format!("admin API answered {status}: {body}")));
        }
        Ok(body)
    }

    /// Places an order "from another app"; returns its id.
    pub async fn place_order(&self, location_id: &str, order: &Value) -> Result<String> {
        let url = format!("{}/locations/{location_id}/orders", self.info.admin_url);
        let body = self.json(self.http.post(url).json(order)).await?;
        body["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| BenchError(format!("no order id in {body}")))
    }

    /// HubRise's connections, as its back office lists them.
    pub async fn connections(&self) -> Result<Vec<Value>> {
        let url = format!("{}/connections", self.info.admin_url);
        match self.json(self.http.get(url)).await? {
            Value::Array(items) => Ok(items),
            other => Err(BenchError(format!("unexpected connections: {other}"))),
        }
    }

    /// Clears the request log.
    pub async fn reset_requests(&self) -> Result<()> {
        let url = format!("{}/requests", self.info.admin_url);
        let status = self.http.delete(url).send().await?.status();
        crate::ensure(status.is_success(), || {
            format!("clearing the request log: {status}")
        })
    }

    /// The request log of one server (`api`, `manager`, `pos`).
    pub async fn requests(&self, server: &str) -> Result<Vec<Value>> {
        let url = format!("{}/requests?server={server}", self.info.admin_url);
        match self.json(self.http.get(url)).await? {
            Value::Array(items) => Ok(items),
            other => Err(BenchError(format!("unexpected request log: {other}"))),
        }
    }

    /// Stops the sandbox (closes a child's stdin, then waits for it).
    pub async fn stop(self) {
        match self.kind {
            Kind::InProcess(sandbox) => sandbox.stop().await,
            Kind::Child(boxed) => {
                let (mut child, stdin) = *boxed;
                drop(stdin);
                if tokio::time::timeout(Duration::from_secs(10), child.wait())
                    .await
                    .is_err()
                {
                    let _ = child.kill().await;
                }
            }
        }
    }
}
