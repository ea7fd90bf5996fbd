//! Shared pieces of Passerelle's benchmarks (issue 7; figures in BENCHMARKS.md): statistics,
//! process memory, a sandbox either in this process or as a separate one, and fixtures built
//! through the public API (connections) plus direct SQLite writes (the bulk of the orders, which
//! no public API inserts).

pub mod fixture;
pub mod rss;
pub mod sandbox;
pub mod stats;

/// Errors of the benchmark programs: a message naming what failed.
#[derive(Debug)]
pub struct BenchError(pub String);

impl std::fmt::Display for BenchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BenchError {}

macro_rules! from_error {
    ($($ty:ty => $what:literal),* $(,)?) => {
        $(impl From<$ty> for BenchError {
            fn from(err: $ty) -> Self {
                BenchError(format!(concat!($what, ": {}"), err))
            }
        })*
    };
}

from_error! {
    passerelle_core::PasserelleError => "passerelle",
    passerelle_sandbox::SandboxError => "sandbox",
    passerelle_sandbox::drivers::consent::ConsentError => "consent page",
    rusqlite::Error => "sqlite",
    std::io::Error => "I/O",
    serde_json::Error => "JSON",
    reqwest::Error => "HTTP",
}

impl From<passerelle_test_support::SetupError> for BenchError {
    fn from(err: passerelle_test_support::SetupError) -> Self {
        use passerelle_test_support::SetupError;
        match err {
            SetupError::Passerelle(err) => err.into(),
            SetupError::Consent(err) => err.into(),
            SetupError::Seed(message) => BenchError(message),
        }
    }
}

pub type Result<T> = std::result::Result<T, BenchError>;

/// Fails with `message` unless `cond` holds.
pub fn ensure(cond: bool, message: impl FnOnce() -> String) -> Result<()> {
    if cond {
        Ok(())
    } else {
        Err(BenchError(message()))
    }
}

/// The stdin and stdout pipes of a child spawned with both piped.
pub fn child_pipes(
    child: &mut tokio::process::Child,
) -> Result<(tokio::process::ChildStdin, tokio::process::ChildStdout)> {
    let stdin = child
        .stdin
        .take()
        .ok_or_else(|| BenchError("no stdin pipe".into()))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| BenchError("no stdout pipe".into()))?;
    Ok((stdin, stdout))
}

/// A multi-threaded tokio runtime, as the FFI layer owns one.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Runs a benchmark's `main`, printing its error and exiting non-zero on failure.
pub fn exit_with(result: Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("benchmark failed: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A line describing this machine (CPU model, cores, kernel), for BENCHMARKS.md.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, Linux {kernel}")
}

/// Value of `--name VALUE` among `args`, parsed.
pub fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Result<Option<T>> {
    match args.iter().position(|a| a == name) {
        None => Ok(None),
        Some(i) => {
            let raw = args
                .get(i + 1)
                .ok_or_else(|| BenchError(format!("{name} needs a value")))?;
            raw.parse()
                .map(Some)
                .map_err(|_| BenchError(format!("{name}: invalid value {raw:?}")))
        }
    }
}

/// Whether `--name` is among `args`.
pub fn flag(args: &[String], name: &str) -> bool {
    args.iter().any(|a| a == name)
}
