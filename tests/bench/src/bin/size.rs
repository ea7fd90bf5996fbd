//! Size of the release `passerelle-ffi` libraries for this machine (x86_64 Linux), as built by
//! the workspace's size-tuned release profile (LTO, one codegen unit, opt-level "z", strip).
//!
//! ```text
//! cargo build --release -p passerelle-ffi
//! cargo run --release -p passerelle-bench --bin size
//! ```
//!
//! Reports the cdylib as built and after `strip --strip-all` (a no-op when the profile already
//! stripped it), its largest sections, and the static library as built and after `strip -g`
//! (an app links only the objects it uses from it, so its size is an upper bound).
//!
//! `--by-crate LIB` attributes the code of an UNSTRIPPED build of the cdylib to crates, from its
//! symbols (`nm`), as `cargo bloat --crates` does (inlined code counts for the caller's crate):
//!
//! ```text
//! CARGO_PROFILE_RELEASE_STRIP=none cargo build --release -p passerelle-ffi --target-dir target/size-analysis
//! cargo run --release -p passerelle-bench --bin size -- --by-crate target/size-analysis/release/libpasserelle_ffi.so
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use passerelle_bench::{BenchError, Result, ensure, exit_with, flag};

const GOAL_BYTES: u64 = 4 * 1024 * 1024;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if flag(&args, "--help") || flag(&args, "-h") {
        println!(
            "cargo run --release -p passerelle-bench --bin size [-- --dir target/release] [--by-crate UNSTRIPPED_LIB]"
        );
        return ExitCode::SUCCESS;
    }
    exit_with(run(&args))
}

fn bytes(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)
        .map_err(|e| BenchError(format!("{}: {e}", path.display())))?
        .len())
}

fn human(n: u64) -> String {
    format!(
        "{n} bytes = {:.2} MiB = {:.2} MB",
        n as f64 / (1024.0 * 1024.0),
        n as f64 / 1e6
    )
}

/// `strip ARGS` of a copy of `path`; the copy's size.
fn stripped(path: &Path, args: &[&str], dir: &Path) -> Result<u64> {
    let name = path
        .file_name()
        .ok_or_else(|| BenchError("no file name".into()))?;
    let copy = dir.join(name);
    std::fs::copy(path, &copy)?;
    let status = Command::new("strip").args(args).arg(&copy).status()?;
    ensure(status.success(), || {
        format!("strip {args:?} {} failed", copy.display())
    })?;
    bytes(&copy)
}

/// The largest sections of an ELF file (`size -A`), biggest first.
fn sections(path: &Path) -> Result<Vec<(String, u64)>> {
    let output = Command::new("size").arg("-A").arg(path).output()?;
    ensure(output.status.success(), || "size -A failed".into())?;
    let mut out: Vec<(String, u64)> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let name = parts.next()?;
            let size = parts.next()?.parse().ok()?;
            name.starts_with('.').then(|| (name.to_owned(), size))
        })
        .collect();
    out.sort_by_key(|s| std::cmp::Reverse(s.1));
    Ok(out)
}

/// The crate a demangled symbol belongs to. Symbols without a Rust path are C code: ring's
/// (prefixed), UniFFI's exported C functions, and otherwise SQLite's (its `static` functions have
/// no common prefix).
fn crate_of(symbol: &str) -> String {
    let trimmed = symbol.trim_start_matches(['<', '&', '*', '(', '[']);
    let trimmed = trimmed
        .trim_start_matches("dyn ")
        .trim_start_matches("mut ")
        .trim_start_matches("const ");
    if let Some((krate, _)) = trimmed.split_once("::") {
        if !krate.is_empty() && !krate.contains([' ', '<', '>']) {
            return krate.to_owned();
        }
        return "[other Rust]".into();
    }
    if symbol.contains("ring_core_") {
        "ring (C and assembly)".into()
    } else if symbol.starts_with("uniffi_") || symbol.starts_with("ffi_") {
        "UniFFI exported C functions".into()
    } else if symbol.starts_with("rust_")
        || symbol.starts_with("__rust")
        || symbol.starts_with("_ZN")
    {
        "[other Rust]".into()
    } else {
        "[C] SQLite (libsqlite3-sys)".into()
    }
}

/// Text bytes per crate from `nm --print-size --size-sort -C` of an unstripped library.
fn by_crate(lib: &Path) -> Result<()> {
    let output = Command::new("nm")
        .args(["--print-size", "--size-sort", "-C"])
        .arg(lib)
        .output()?;
    ensure(output.status.success(), || {
        format!(
            "nm failed (is {} unstripped?): {}",
            lib.display(),
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    let mut totals: std::collections::HashMap<String, u64> = Default::default();
    let mut attributed = 0u64;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let mut parts = line.splitn(4, ' ');
        let (Some(_addr), Some(size), Some(kind), Some(name)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if !matches!(kind, "T" | "t" | "W" | "w") {
            continue;
        }
        let Ok(size) = u64::from_str_radix(size, 16) else {
            continue;
        };
        attributed += size;
        *totals.entry(crate_of(name)).or_default() += size;
    }
    let text = sections(lib)?
        .into_iter()
        .find(|(name, _)| name == ".text")
        .map_or(0, |(_, size)| size);
    let mut rows: Vec<(String, u64)> = totals.into_iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1));
    println!("Code by crate (`size -- --by-crate {}`):", lib.display());
    println!();
    println!("| crate | KiB of .text |");
    println!("|---|---:|");
    for (krate, size) in rows.iter().take(25) {
        println!("| {krate} | {:.0} |", *size as f64 / 1024.0);
    }
    println!(
        "| (symbols total / .text) | {:.0} / {:.0} |",
        attributed as f64 / 1024.0,
        text as f64 / 1024.0
    );
    Ok(())
}

fn run(args: &[String]) -> Result<()> {
    if let Some(lib) = passerelle_bench::arg::<String>(args, "--by-crate")? {
        return by_crate(Path::new(&lib));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir: PathBuf = match passerelle_bench::arg::<String>(args, "--dir")? {
        Some(d) => d.into(),
        None => root.join("target/release"),
    };
    let cdylib = dir.join("libpasserelle_ffi.so");
    let staticlib = dir.join("libpasserelle_ffi.a");
    ensure(cdylib.exists() && staticlib.exists(), || {
        format!(
            "{} or {} is missing: cargo build --release -p passerelle-ffi",
            cdylib.display(),
            staticlib.display()
        )
    })?;
    let scratch = tempfile::tempdir()?;
    let so = bytes(&cdylib)?;
    let so_stripped = stripped(&cdylib, &["--strip-all"], scratch.path())?;
    let a = bytes(&staticlib)?;
    let a_stripped = stripped(&staticlib, &["-g"], scratch.path())?;

    println!("## Size: `cargo run --release -p passerelle-bench --bin size`");
    println!();
    println!("| artifact (x86_64 Linux, release profile) | size | goal |");
    println!("|---|---|---|");
    println!("| libpasserelle_ffi.so as built | {} | |", human(so));
    println!(
        "| libpasserelle_ffi.so after strip --strip-all | {} | ≤ 4 MiB: {} |",
        human(so_stripped),
        if so_stripped <= GOAL_BYTES {
            "met"
        } else {
            "MISSED"
        }
    );
    println!("| libpasserelle_ffi.a as built | {} | |", human(a));
    println!(
        "| libpasserelle_ffi.a after strip -g | {} | |",
        human(a_stripped)
    );
    println!();
    println!("Largest sections of the cdylib:");
    println!();
    println!("| section | bytes |");
    println!("|---|---:|");
    for (name, size) in sections(&cdylib)?.into_iter().take(8) {
        println!("| {name} | {size} |");
    }
    Ok(())
}
