//! `passerelle-sandbox serve`: the sandbox as a standalone dev server, for people and for the
//! Swift tests (see `shared/design/swift-on-linux.md`: signal mask, stdin EOF, output line).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::exposure::Exposure;
use crate::rate_limit::RateLimits;
use crate::sandbox::{EventSuppression, Ports, Sandbox, SandboxOptions, TokenErrorBody};

/// Parsed command line of `serve`.
#[derive(Debug, Default)]
pub struct ServeArgs {
    pub options: SandboxOptions,
    pub ports: Ports,
    /// Where to listen (`--listen`, `--host`, `--admin-token`).
    pub exposure: Exposure,
    pub port_file: Option<PathBuf>,
    /// Keep running when stdin closes (for `serve &` in a shell, whose stdin is /dev/null).
    pub ignore_stdin: bool,
}

pub const USAGE: &str = "\
usage: passerelle-sandbox serve [options]

  --port-file PATH          also write the PASSERELLE_SANDBOX JSON to PATH (atomically)
  --ports M,A,P             listen on these ports (manager/OAuth+admin, API, POS); default: free ports
  --listen ADDR             listen on this address (default 127.0.0.1). 0.0.0.0 or a LAN address makes
                            the sandbox reachable from this machine's network (a demo on a real iPad):
                            a warning is printed and the admin API then needs the token printed at start
  --host NAME               the host the printed URLs name (default: the --listen address, or this
                            machine's network address for 0.0.0.0), e.g. my-mac.local
  --admin-token TOKEN       require this token on the admin API (Authorization: Bearer TOKEN), also on
                            loopback; generated when listening beyond loopback without one
  --state PATH              keep state in this JSON file across restarts
  --pos-ttl SECS            POS access token lifetime (default 300)
  --window-scale-ms N       length of a rate-limit \"minute\" in ms (default 60000)
  --limits MIN,HOUR,DAY,HEAVY   rate limits per connection (default 500,2500,10000,10)
  --unlimited               no rate limits (benchmarks)
  --no-retry-after          omit Retry-After on 429s
  --omit-token-type         omit token_type from HubRise token responses
  --lockout-after N         wrong POS passwords before lockout (default 5)
  --lockout-secs N          POS lockout duration (default 60)
  --event-suppression connection|client   whose own writes generate no events (default client)
  --invalid-code-status 400|404           status for bad codes (default 400)
  --legacy-blocked-status   429 instead of 401 for blocked or revoked tokens (an older HubRise page)
  --legacy-event-resource-id   events also carry resource_id (an older HubRise page)
  --token-content-type TYPE    Content-Type of every token endpoint answer (default JSON's)
  --token-error-body json|html|empty   body of token endpoint errors (default json)
  --https-redirects-only    refuse custom-scheme redirect URIs at /authorize
  --times-as-sent           keep the offsets of times clients send (no conversion)
  --no-backend-callback     the POS backend does not register the order callback of the
                            connections made off the device (shows the orders lost without it)
  --ignore-stdin            do not exit when stdin reaches end of file

The server exits on SIGTERM, SIGINT (Ctrl-C), SIGHUP, and when stdin reaches end of file.
";

fn number<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    value
        .parse()
        .map_err(|_| format!("{flag}: invalid value '{value}'"))
}

fn list<T: std::str::FromStr>(
    flag: &str,
    value: Option<String>,
    len: usize,
) -> Result<Vec<T>, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    let items: Result<Vec<T>, _> = value.split(',').map(|s| s.trim().parse()).collect();
    match items {
        Ok(items) if items.len() == len => Ok(items),
        _ => Err(format!(
            "{flag}: expected {len} comma-separated numbers, got '{value}'"
        )),
    }
}

impl ServeArgs {
    /// Parses the arguments after `serve`.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<ServeArgs, String> {
        let mut parsed = ServeArgs::default();
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let o = &mut parsed.options;
            match flag.as_str() {
                "--port-file" => parsed.port_file = Some(number::<PathBuf>(&flag, args.next())?),
                "--state" => o.state_file = Some(number::<PathBuf>(&flag, args.next())?),
                "--ports" => {
                    let p: Vec<u16> = list(&flag, args.next(), 3)?;
                    parsed.ports = Ports {
                        manager: p[0],
                        api: p[1],
                        pos: p[2],
                    };
                }
                "--listen" => {
                    let value = args.next().ok_or("--listen needs an address")?;
                    parsed.exposure.listen = value
                        .parse()
                        .map_err(|_| format!("--listen: not an IP address: '{value}'"))?;
                }
                "--host" => {
                    let value = args.next().ok_or("--host needs a name")?;
                    let valid = !value.is_empty()
                        && value
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c));
                    if !valid {
                        return Err(format!("--host: not a host name or address: '{value}'"));
                    }
                    parsed.exposure.public_host = Some(value);
                }
                "--admin-token" => {
                    let value = args.next().ok_or("--admin-token needs a value")?;
                    if value.len() < 8 || value.chars().any(|c| c.is_whitespace()) {
                        return Err("--admin-token: at least 8 characters, no spaces".to_owned());
                    }
                    parsed.exposure.admin_token = Some(value);
                }
                "--pos-ttl" => {
                    o.pos_access_token_ttl = Duration::from_secs(number(&flag, args.next())?)
                }
                "--window-scale-ms" => {
                    o.window_scale = Some(Duration::from_millis(number(&flag, args.next())?))
                }
                "--limits" => {
                    let l: Vec<u32> = list(&flag, args.next(), 4)?;
                    o.limits = RateLimits {
                        per_minute: l[0],
                        per_hour: l[1],
                        per_day: l[2],
                        heavy_per_minute: l[3],
                    };
                }
                "--unlimited" => o.limits = RateLimits::unlimited(),
                "--no-retry-after" => o.retry_after_header = false,
                "--omit-token-type" => o.omit_token_type = true,
                "--lockout-after" => o.lockout_after = number(&flag, args.next())?,
                "--lockout-secs" => {
                    o.lockout_for = Duration::from_secs(number(&flag, args.next())?)
                }
                "--event-suppression" => {
                    o.event_suppression = match args.next().as_deref() {
                        Some("connection") => EventSuppression::Connection,
                        Some("client") => EventSuppression::Client,
                        other => {
                            return Err(format!(
                                "--event-suppression: connection or client, got {other:?}"
                            ));
                        }
                    }
                }
                "--invalid-code-status" => o.invalid_code_status = number(&flag, args.next())?,
                "--legacy-blocked-status" => o.legacy_blocked_status = true,
                "--legacy-event-resource-id" => o.legacy_event_resource_id = true,
                "--token-content-type" => {
                    o.token_content_type = Some(
                        args.next()
                            .ok_or("--token-content-type: a Content-Type value is required")?,
                    )
                }
                "--token-error-body" => {
                    o.token_error_body = match args.next().as_deref() {
                        Some("json") => TokenErrorBody::Json,
                        Some("html") => TokenErrorBody::Html,
                        Some("empty") => TokenErrorBody::Empty,
                        other => {
                            return Err(format!(
                                "--token-error-body: json, html or empty, got {other:?}"
                            ));
                        }
                    }
                }
                "--https-redirects-only" => o.https_redirects_only = true,
                "--times-as-sent" => o.times_as_sent = true,
                "--no-backend-callback" => o.backend_registers_callback = false,
                "--ignore-stdin" => parsed.ignore_stdin = true,
                other => return Err(format!("unknown option '{other}'")),
            }
        }
        Ok(parsed)
    }
}

/// Unblocks every signal. A process started from a Swift concurrency thread inherits a mask
/// that blocks SIGTERM, and would then ignore `terminate()`. Must run before any thread starts.
pub fn reset_signal_mask() -> Result<(), String> {
    use nix::sys::signal::{SigSet, SigmaskHow, sigprocmask};
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None).map_err(|e| e.to_string())
}

/// The machine-readable description of a running sandbox.
pub fn description(sandbox: &Sandbox) -> Value {
    let seed = sandbox.seed();
    let mut description = json!({
        "hubrise_oauth_url": sandbox.hubrise_oauth_url(),
        "hubrise_api_url": sandbox.hubrise_api_url(),
        "pos_url": sandbox.pos_url(),
        "admin_url": sandbox.admin_url(),
        "client_id": seed.client_id,
        "client_secret": seed.client_secret,
        "redirect_uris": seed.redirect_uris,
        "hubrise_user": { "email": seed.user().email, "password": seed.user().password },
        "pos_account": seed.pos_account(),
        "seed": seed,
        "listen": sandbox.exposure().listen.to_string(),
    });
    if let Some(token) = &sandbox.exposure().admin_token {
        description["admin_token"] = json!(token);
    }
    description
}

fn banner(sandbox: &Sandbox) -> String {
    let seed = sandbox.seed();
    let exposure = sandbox.exposure();
    let mut lines = Vec::new();
    if exposure.reachable_from_network() {
        lines.extend([
            format!(
                "WARNING: listening on {} (not loopback): every device on this machine's network",
                exposure.listen
            ),
            "can reach this fake HubRise and POS backend. Test data only; stop it when done.".to_owned(),
            "The admin API needs the token below; it refuses other hosts' names and other sites' pages.".to_owned(),
            String::new(),
            "Passerelle sandbox: a fake HubRise and POS backend on this machine's network".to_owned(),
        ]);
    } else {
        lines.push("Passerelle sandbox: a fake HubRise and POS backend on loopback".to_owned());
    }
    lines.extend([
        String::new(),
        format!("  HubRise OAuth    {}", sandbox.hubrise_oauth_url()),
        format!("  HubRise API      {}", sandbox.hubrise_api_url()),
        format!("  POS backend      {}", sandbox.pos_url()),
        format!("  Admin API        {}", sandbox.admin_url()),
    ]);
    if let Some(token) = &exposure.admin_token {
        lines.push(format!(
            "  admin token      {token}   (Authorization: Bearer {token})"
        ));
    }
    lines.extend([
        String::new(),
        format!(
            "  HubRise client   {} ({})",
            seed.client_id, seed.client_name
        ),
        format!("  client secret    {}", seed.client_secret),
    ]);
    for uri in &seed.redirect_uris {
        lines.push(format!("  redirect URI     {uri}"));
    }
    lines.push(String::new());
    for user in &seed.users {
        lines.push(format!(
            "  HubRise user     {} / {}",
            user.email, user.password
        ));
    }
    for account in &seed.accounts {
        let locations: Vec<String> = account
            .locations
            .iter()
            .map(|l| format!("{} {}", l.id, l.name))
            .collect();
        lines.push(format!(
            "  HubRise account  {} {}: {}",
            account.id,
            account.name,
            locations.join(", ")
        ));
    }
    for pos in &seed.pos_accounts {
        lines.push(format!(
            "  POS account      {} / {} ({})",
            pos.email, pos.password, pos.business_name
        ));
    }
    lines.push(format!("  POS client id    {}", seed.pos_client_id));
    lines.push(String::new());
    lines.push("Stop with Ctrl-C (or close stdin).".to_owned());
    lines.join("\n")
}

fn write_port_file(path: &Path, description: &Value) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(description).unwrap_or_default(),
    )?;
    std::fs::rename(&tmp, path)
}

/// Resolves when stdin reaches end of file. A plain thread (not tokio's blocking pool) reads it,
/// so a pending read never delays the runtime's shutdown.
fn stdin_closed() -> mpsc::Receiver<()> {
    let (tx, rx) = mpsc::channel(1);
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
        let _ = tx.blocking_send(());
    });
    rx
}

async fn termination(ignore_stdin: bool) -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut stdin = if ignore_stdin {
        None
    } else {
        Some(stdin_closed())
    };
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) else {
        return "signal handlers unavailable";
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
        _ = hup.recv() => "SIGHUP",
        Some(()) = async { match stdin.as_mut() { Some(rx) => rx.recv().await, None => std::future::pending().await } } => "stdin closed",
    }
}

/// Runs the server until told to stop.
pub async fn run(args: ServeArgs) -> Result<(), String> {
    let sandbox = Sandbox::start_exposed(args.options, args.ports, args.exposure)
        .await
        .map_err(|e| e.to_string())?;
    let description = description(&sandbox);
    if let Some(path) = &args.port_file {
        write_port_file(path, &description)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", banner(&sandbox));
    let _ = writeln!(out, "PASSERELLE_SANDBOX {description}");
    let _ = out.flush();
    drop(out);
    let why = termination(args.ignore_stdin).await;
    eprintln!("passerelle-sandbox: stopping ({why})");
    sandbox.stop().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<ServeArgs, String> {
        ServeArgs::parse(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_flags() {
        let a = args(&[
            "--port-file",
            "x.json",
            "--pos-ttl",
            "5",
            "--window-scale-ms",
            "2000",
            "--limits",
            "5,50,500,2",
        ])
        .unwrap();
        assert_eq!(a.port_file, Some(PathBuf::from("x.json")));
        assert_eq!(a.options.pos_access_token_ttl, Duration::from_secs(5));
        assert_eq!(a.options.window_scale, Some(Duration::from_secs(2)));
        assert_eq!(a.options.limits.heavy_per_minute, 2);
        assert!(args(&["--bogus"]).is_err());
        let lan = args(&["--listen", "0.0.0.0", "--host", "my-mac.local"]).unwrap();
        assert!(lan.exposure.reachable_from_network());
        assert_eq!(lan.exposure.public_host.as_deref(), Some("my-mac.local"));
        assert!(args(&["--listen", "my-mac"]).is_err());
        assert!(args(&["--host", "a b"]).is_err());
        assert!(args(&["--admin-token", "short"]).is_err());
        let token = args(&["--admin-token", "abcd-efgh-jkmn"]).unwrap();
        assert_eq!(
            token.exposure.admin_token.as_deref(),
            Some("abcd-efgh-jkmn")
        );
        assert!(!token.exposure.reachable_from_network());
        assert!(args(&["--ports", "1,2"]).is_err());
    }
}
