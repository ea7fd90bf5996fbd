//! The child process as the soak runs it: starting it (`--child`), sending it commands, reading
//! its JSON lines into what was observed, asking it for its health.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::process::Stdio;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use passerelle_bench::{BenchError, Result, child_pipes};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::Soak;
use crate::options::now_us;

pub(crate) struct ChildProc {
    pub(crate) child: Child,
    pub(crate) stdin: ChildStdin,
    pub(crate) pid: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct ConnHealth {
    pub(crate) name: String,
    pub(crate) state: String,
    pub(crate) reason: Option<String>,
    pub(crate) next_in_ms: Option<i64>,
    pub(crate) quarantined: u64,
    pub(crate) failed: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct HealthLine {
    pub(crate) at: u64,
    pub(crate) state: String,
    pub(crate) conns: Vec<ConnHealth>,
}

impl HealthLine {
    pub(crate) fn parse(v: &Value) -> Self {
        let conns = v["conns"]
            .as_array()
            .map(|conns| {
                conns
                    .iter()
                    .map(|c| ConnHealth {
                        name: c["name"].as_str().unwrap_or("?").to_owned(),
                        state: c["state"].as_str().unwrap_or("?").to_owned(),
                        reason: c["reason"].as_str().map(str::to_owned),
                        next_in_ms: c["next_in_ms"].as_i64(),
                        quarantined: c["quarantined"].as_u64().unwrap_or(0),
                        failed: c["failed"].as_u64().unwrap_or(0),
                    })
                    .collect()
            })
            .unwrap_or_default();
        HealthLine {
            at: v["at"].as_u64().unwrap_or(0),
            state: v["state"].as_str().unwrap_or("?").to_owned(),
            conns,
        }
    }

    pub(crate) fn all_flowing(&self) -> bool {
        self.state == "Flowing" && self.conns.iter().all(|c| c.state == "Flowing")
    }

    pub(crate) fn delayed_for(&self, reason: &str) -> impl Iterator<Item = &ConnHealth> {
        self.conns
            .iter()
            .filter(move |c| c.state == "Delayed" && c.reason.as_deref() == Some(reason))
    }

    pub(crate) fn brief(&self) -> String {
        self.conns
            .iter()
            .map(|c| match &c.reason {
                Some(reason) => format!("{} {}/{}", c.name, c.state, reason),
                None => format!("{} {}", c.name, c.state),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Default)]
pub(crate) struct Observed {
    /// Every report of each order: (time the child got the event, child pid).
    pub(crate) reports: HashMap<String, Vec<(u64, u32)>>,
    /// `SyncHealthChanged` events, in order.
    pub(crate) health: Vec<HealthLine>,
    /// Answers to `health N`.
    pub(crate) queries: HashMap<u64, HealthLine>,
    pub(crate) quarantined: Vec<(u64, String)>,
    pub(crate) failed: Vec<(u64, String, String)>,
    pub(crate) accepted: BTreeSet<String>,
    pub(crate) conflicts: Vec<String>,
    pub(crate) reconnect_needed: Vec<String>,
    pub(crate) ready: Vec<(u32, u64)>,
    pub(crate) report: Option<Value>,
    pub(crate) errors: Vec<String>,
}

pub(crate) type Shared = Arc<Mutex<Observed>>;

pub(crate) fn lock(shared: &Shared) -> MutexGuard<'_, Observed> {
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

fn record(shared: &Shared, pid: u32, line: &str) {
    let Ok(v) = serde_json::from_str::<Value>(line) else {
        lock(shared).errors.push(format!("not JSON: {line}"));
        return;
    };
    let at = v["at"].as_u64().unwrap_or(0);
    let text = |key: &str| v[key].as_str().unwrap_or_default().to_owned();
    let mut observed = lock(shared);
    match v["t"].as_str().unwrap_or_default() {
        "ready" => observed.ready.push((pid, at)),
        "order" => observed
            .reports
            .entry(text("id"))
            .or_default()
            .push((at, pid)),
        "health" => {
            let health = HealthLine::parse(&v);
            match v["q"].as_u64() {
                Some(q) => {
                    observed.queries.insert(q, health);
                }
                None => observed.health.push(health),
            }
        }
        "quarantined" => observed.quarantined.push((at, text("order_id"))),
        "change_failed" => observed.failed.push((at, text("order_id"), text("status"))),
        "accepted" => {
            observed.accepted.insert(text("id"));
        }
        "conflict" => observed
            .conflicts
            .push(format!("{}: {}", text("order_id"), text("reason"))),
        "reconnect_needed" => observed.reconnect_needed.push(text("reason")),
        "report" => observed.report = Some(v),
        "error" => observed.errors.push(line.to_owned()),
        _ => {}
    }
}

/// Polls `found` on what was observed, every 50 ms, for at most `timeout`.
pub(crate) async fn wait_for<T>(
    shared: &Shared,
    timeout: Duration,
    found: impl Fn(&Observed) -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        let result = found(&lock(shared));
        if result.is_some() {
            return result;
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn spawn_reader(stdout: ChildStdout, pid: u32, shared: Shared, mut transcript: std::fs::File) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let _ = writeln!(transcript, "{line}");
            record(&shared, pid, &line);
        }
    });
}

impl Soak {
    /// Starts a child and waits for it to be open; returns when it was spawned and when it said
    /// it was ready (its `open()` returned; its workers may have synced already).
    pub(crate) async fn spawn_child(&mut self) -> Result<(u64, u64)> {
        self.children += 1;
        let spawned = now_us();
        let stderr =
            std::fs::File::create(self.work.join(format!("child-{}.stderr", self.children)))?;
        let mut child = Command::new(&self.exe)
            .arg("--child")
            .arg(&self.config_file)
            .arg(&self.secrets_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .kill_on_drop(true)
            .spawn()?;
        let pid = child
            .id()
            .ok_or_else(|| BenchError("the child has no pid".into()))?;
        let (stdin, stdout) = child_pipes(&mut child)?;
        let transcript = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.work.join("child.jsonl"))?;
        spawn_reader(stdout, pid, self.shared.clone(), transcript);
        self.child = Some(ChildProc { child, stdin, pid });
        let ready = wait_for(&self.shared, Duration::from_secs(60), |o| {
            o.ready.iter().find(|(p, _)| *p == pid).map(|(_, at)| *at)
        })
        .await;
        let Some(ready) = ready else {
            return Err(BenchError(format!("child {pid} never got ready")));
        };
        // Accepts of held orders the last child never confirmed: the till asks again.
        for id in self.unconfirmed_accepts.clone() {
            self.send(&format!("accept {id}")).await?;
        }
        Ok((spawned, ready))
    }

    pub(crate) async fn send(&mut self, command: &str) -> Result<()> {
        let child = self
            .child
            .as_mut()
            .ok_or_else(|| BenchError("no child".into()))?;
        child
            .stdin
            .write_all(format!("{command}\n").as_bytes())
            .await?;
        child.stdin.flush().await?;
        Ok(())
    }

    /// A child that ended without being killed is a failure; it is started again.
    pub(crate) async fn ensure_alive(&mut self) -> Result<()> {
        let Some(child) = self.child.as_mut() else {
            return Ok(());
        };
        if let Some(status) = child.child.try_wait()? {
            let pid = child.pid;
            self.child = None;
            self.check(
                "the child never ends by itself",
                false,
                format!("child {pid} ended: {status}"),
            );
            self.spawn_child().await?;
        }
        Ok(())
    }

    /// `sync_health()` read in the child now.
    pub(crate) async fn query_health(&mut self) -> Result<Option<HealthLine>> {
        self.query_seq += 1;
        let q = self.query_seq;
        self.send(&format!("health {q}")).await?;
        Ok(wait_for(&self.shared, Duration::from_secs(5), |o| {
            o.queries.get(&q).cloned()
        })
        .await)
    }

    /// Reads the child's health every 100 ms until every connection is `Flowing`; when it was.
    pub(crate) async fn wait_flowing(&mut self, within: Duration) -> Option<u64> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(health)) = self.query_health().await
                && health.all_flowing()
            {
                return Some(health.at);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) fn health_events(&self, from: u64, to: u64) -> Vec<HealthLine> {
        lock(&self.shared)
            .health
            .iter()
            .filter(|h| h.at >= from && h.at <= to)
            .cloned()
            .collect()
    }
}
