//! `cargo run -p passerelle-check-layers [--list] [SRC_DIR]`: checks passerelle-core's layers (by
//! default the workspace's `core/src`) and exits 1 naming each broken rule at its file and line.
//! `--list` also prints every import between two files, as the check resolved it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args: Vec<_> = std::env::args_os().skip(1).collect();
    let list = args.iter().any(|a| a == "--list");
    args.retain(|a| a != "--list");
    let (root, prefix) = match args.into_iter().next() {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            let prefix = format!("{}/", dir.display().to_string().trim_end_matches('/'));
            (dir, prefix)
        }
        None => {
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let root = workspace.join("core/src");
            // Paths printed from where the command runs, when that is the workspace.
            let here = std::env::current_dir()
                .ok()
                .and_then(|d| d.canonicalize().ok());
            let prefix = match (here, workspace.canonicalize().ok()) {
                (Some(here), Some(workspace)) if here == workspace => "core/src/".to_owned(),
                _ => format!("{}/", root.display()),
            };
            (root, prefix)
        }
    };
    let report = passerelle_check_layers::check(&root, &prefix);
    if list && let Ok(report) = &report {
        for line in &report.listing {
            println!("{line}");
        }
    }
    match report {
        Ok(report) if report.violations.is_empty() => {
            println!(
                "layers: ok ({} files, {} imports between them, no cycle)",
                report.files, report.imports
            );
            ExitCode::SUCCESS
        }
        Ok(report) => {
            for violation in &report.violations {
                eprintln!("{violation}\n");
            }
            eprintln!(
                "{} layer rule(s) broken; see docs/architecture.md",
                report.violations.len()
            );
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("check-layers: {error}");
            ExitCode::FAILURE
        }
    }
}
