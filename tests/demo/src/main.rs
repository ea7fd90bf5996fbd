//! `passerelle-demo`: the whole product in one command, without an iPad or HubRise credentials.
//!
//! Starts the sandbox (a fake HubRise and POS backend) on loopback and drives the public API of
//! `passerelle-core` through the seeds' story, narrating each step. Exits 0 when every step
//! held, 1 naming the step that failed, 2 on a usage error.
//!
//! ```text
//! cargo run --release -p passerelle-demo [-- --data-dir DIR] [--verbose]
//! ```

mod keychain;
mod story;
mod ui;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
passerelle-demo: a narrated walkthrough of Passerelle against the sandbox

Usage: passerelle-demo [--data-dir DIR] [--verbose]

  --data-dir DIR  keep the iPad's state (database, demo keychain) in DIR between runs;
                  a second run shows it restored. Default: a temporary directory.
  --verbose       also print Passerelle's logs (RUST_LOG filters them) on stderr
  -h, --help      this help";

struct Args {
    data_dir: Option<PathBuf>,
    verbose: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        data_dir: None,
        verbose: false,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--verbose" | "-v" => parsed.verbose = true,
            "--data-dir" => {
                let dir = args.next().ok_or("--data-dir needs a directory")?;
                parsed.data_dir = Some(PathBuf::from(dir));
            }
            other => match other.strip_prefix("--data-dir=") {
                Some(dir) => parsed.data_dir = Some(PathBuf::from(dir)),
                None => return Err(format!("unknown argument {other:?}")),
            },
        }
    }
    Ok(Some(parsed))
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("passerelle-demo: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.verbose {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("passerelle=debug,info"));
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("passerelle-demo: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(story::run(args.data_dir))
}
