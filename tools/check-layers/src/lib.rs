//! Keeps passerelle-core's layers as docs/architecture.md draws them, by parsing the code.
//!
//! [`modules`] reads `core/src` into modules, the names each defines and imports, and every path
//! each file writes; [`rules`] resolves those paths to files and refuses cycles between files,
//! upward imports and services missing from [`rules::SERVICE_ORDER`].

pub mod modules;
pub mod rules;

use std::path::Path;

/// What a check found.
#[derive(Debug)]
pub struct Report {
    pub files: usize,
    pub imports: usize,
    pub violations: Vec<rules::Violation>,
    /// Every import between two files, `file:line: `path` -> file` (for `--list`).
    pub listing: Vec<String>,
}

/// Checks the crate whose `src/` is `root`, printing each file as `prefix` + its path under
/// `src/`.
pub fn check(root: &Path, prefix: &str) -> Result<Report, String> {
    let krate = modules::Crate::load(root)?;
    let edges = rules::edges(&krate);
    let display = |rel: &str| format!("{prefix}{rel}");
    let violations = rules::check(&krate, &edges, &display);
    let listing = edges
        .iter()
        .map(|e| {
            let test = if e.test { " (test)" } else { "" };
            format!(
                "{}:{}: `{}` -> {}{test}",
                display(&krate.files[e.from].rel),
                e.line,
                e.text,
                display(&krate.files[e.to].rel)
            )
        })
        .collect();
    Ok(Report {
        files: krate.files.len(),
        imports: edges.len(),
        violations,
        listing,
    })
}
