//! `passerelle-bridge [serve] [--config FILE] [--data-dir DIR]`, `passerelle-bridge rotate-key`,
//! `passerelle-bridge --help`.

use std::path::PathBuf;
use std::process::ExitCode;

use passerelle_bridge::check::CheckTarget;
use passerelle_bridge::config::{ENV_PREFIX, KEYS, Sources};
use passerelle_bridge::{Config, server};

const USAGE: &str = "passerelle-bridge: the POS backend's HubRise half

Usage:
  passerelle-bridge [serve] [--config FILE] [--data-dir DIR]
  passerelle-bridge rotate-key [--config FILE] [--data-dir DIR]
  passerelle-bridge check --url URL --sandbox-admin URL [--admin-token T] [--email E --password P]
  passerelle-bridge --help

serve       serves until SIGTERM or Ctrl-C, then finishes the requests in flight
rotate-key  seals every stored HubRise token again with the current encryption_key
            (give the earlier key in old_encryption_keys while doing it)
check       drives the POS backend at URL through the contract (HubRise played by the
            sandbox whose admin API is given), prints a pass/fail table, exits 1 on a failure
--data-dir  the embedded default: SQLite and an encryption key kept in DIR

Every key can be set in the TOML file or as an environment variable ";

struct Args {
    command: String,
    config: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    check: CheckTarget,
}

fn parse_args() -> Result<Args, String> {
    let check = CheckTarget {
        url: String::new(),
        sandbox_admin: String::new(),
        admin_token: None,
        email: None,
        password: None,
    };
    let mut args = Args {
        command: "serve".into(),
        config: None,
        data_dir: None,
        check,
    };
    let mut rest = std::env::args().skip(1);
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "serve" | "rotate-key" | "check" => args.command = arg,
            "--url" => args.check.url = rest.next().ok_or("--url needs a URL")?,
            "--sandbox-admin" => {
                args.check.sandbox_admin = rest.next().ok_or("--sandbox-admin needs a URL")?
            }
            "--admin-token" => {
                args.check.admin_token = Some(rest.next().ok_or("--admin-token needs a token")?)
            }
            "--email" => args.check.email = Some(rest.next().ok_or("--email needs an email")?),
            "--password" => {
                args.check.password = Some(rest.next().ok_or("--password needs a password")?)
            }
            "--help" | "-h" => args.command = "help".into(),
            "--config" => args.config = Some(rest.next().ok_or("--config needs a file")?.into()),
            "--data-dir" => {
                args.data_dir = Some(rest.next().ok_or("--data-dir needs a folder")?.into())
            }
            other => return Err(format!("unknown argument: {other} (see --help)")),
        }
    }
    Ok(args)
}

fn usage() -> String {
    let mut text = format!("{USAGE}({ENV_PREFIX}KEY, which wins):\n");
    for (key, meaning) in KEYS {
        text.push_str(&format!("  {key:<28} {meaning}\n"));
    }
    text.push_str("  [[accounts]]                 built-in identity's demo accounts (file only)\n");
    text
}

fn init_logs(json: bool) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    if args.command == "help" {
        print!("{}", usage());
        return ExitCode::SUCCESS;
    }
    if args.command == "check" {
        return check(args.check);
    }
    let env = |name: &str| std::env::var(name).ok();
    let sources = Sources {
        env: &env,
        file: args.config.as_deref(),
        data_dir: args.data_dir.as_deref(),
    };
    let config = match sources.load() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("passerelle-bridge refuses to start: {error}");
            return ExitCode::from(2);
        }
    };
    init_logs(config.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("passerelle-bridge: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = match args.command.as_str() {
        "rotate-key" => runtime.block_on(rotate_key(config)),
        _ => runtime.block_on(serve(config)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!(%message, "passerelle-bridge stopped");
            eprintln!("passerelle-bridge: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let running = server::start(config).await.map_err(|e| e.to_string())?;
    // One line a script can read for the address (port 0 picks a free one).
    println!("PASSERELLE_BRIDGE {{\"url\":\"http://{}\"}}", running.addr);
    let stop = running.stopper();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("stopping: finishing the requests in flight");
        let _ = stop.send(true);
    });
    running.wait().await.map_err(|e| e.to_string())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn rotate_key(config: Config) -> Result<(), String> {
    let database = server::open_database(&config.database).map_err(|e| e.to_string())?;
    passerelle_bridge::db::migrate(database.as_ref())
        .await
        .map_err(|e| e.to_string())?;
    let store = passerelle_bridge::store::Store::new(database, config.keys.clone());
    let resealed = store.reseal().await.map_err(|e| e.to_string())?;
    let left = store
        .sealed_with_old_keys()
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "resealed {resealed} values with key {}; {left} still sealed with another key",
        config.keys.current_id()
    );
    if left == 0 {
        Ok(())
    } else {
        Err(format!("{left} values still sealed with an old key"))
    }
}

/// `check`: the table on stdout, exit 1 when a row failed.
fn check(target: CheckTarget) -> ExitCode {
    if target.url.is_empty() || target.sandbox_admin.is_empty() {
        eprintln!("check needs --url URL and --sandbox-admin URL (see --help)");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("passerelle-bridge: {error}");
            return ExitCode::FAILURE;
        }
    };
    let report = runtime.block_on(passerelle_bridge::check::run(target));
    print!("{}", report.table());
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
