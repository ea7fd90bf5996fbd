//! A check of the library's sources: its call sites give the bridge what it can filter.

/// Every `tracing::` call of the library, as written in `core/src`, names a `passerelle::`
/// target and has a constant message (the bridge can see fields, not what was formatted into
/// the message): data goes in fields, where the allow-list applies.
#[test]
fn every_call_site_has_a_passerelle_target_and_a_constant_message() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect_sources(&root, &mut files);
    let mut calls = 0;
    let mut problems = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let name = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        if name.starts_with("logging/") {
            // The bridge's own tests log on purpose what the others must not (and this file
            // spells out the calls it looks for).
            continue;
        }
        for line in text.lines() {
            let code = line.trim_start();
            if code.starts_with("use tracing::")
                && ["trace", "debug", "info", "warn", "error", "event"]
                    .iter()
                    .any(|m| code.contains(m))
            {
                problems.push(format!("{name}: call the macros as tracing::…! ({code})"));
            }
        }
        for (offset, _) in text.match_indices("tracing::") {
            let rest = &text[offset + "tracing::".len()..];
            let Some(macro_name) = [
                "trace!(", "debug!(", "info!(", "warn!(", "error!(", "event!(",
            ]
            .iter()
            .find(|m| rest.starts_with(**m)) else {
                continue;
            };
            calls += 1;
            let args = top_level_args(&rest[macro_name.len()..]);
            let line = text[..offset].lines().count();
            let site = format!("{name}:{line}");
            if !args
                .first()
                .is_some_and(|a| a.starts_with("target: \"passerelle::"))
            {
                problems.push(format!("{site}: no `target: \"passerelle::…\"` first"));
            }
            match args.last() {
                Some(message) if message.starts_with('"') => {
                    if message.replace("{{", "").contains('{') {
                        problems.push(format!("{site}: data formatted into the message"));
                    }
                }
                _ => problems.push(format!(
                    "{site}: the message must be the last argument, a constant"
                )),
            }
        }
    }
    assert!(
        calls >= 10,
        "found only {calls} tracing calls: is the scan right?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn collect_sources(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_sources(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The arguments of a macro call whose text starts after its `(`, split at top-level
/// commas, trimmed (string literals and nested brackets kept whole).
fn top_level_args(text: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            current.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                current.push(c);
            }
            '(' | '[' | '{' => {
                depth += 1;
                current.push(c);
            }
            ')' | ']' | '}' if depth == 0 => break,
            ')' | ']' | '}' => {
                depth -= 1;
                current.push(c);
            }
            ',' if depth == 0 => args.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    args.push(current);
    args.into_iter()
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty())
        .collect()
}
