//! The oldest SQLite the store runs on. On Apple platforms Passerelle uses the system's SQLite
//! (decision 23), so the SQL here must exist in the SQLite of the oldest iOS it supports: iOS 16,
//! whose SQLite is 3.39 (the version `select sqlite_version()` reports there, and GRDB marks its
//! JSON functions "iOS 16+ / SQLite 3.38+": iOS 15's 3.37 lacks them). docs/apple.md has the
//! sources. Elsewhere the bundled SQLite is far newer.
//!
//! What the SQL uses, with the SQLite version that introduced it: `STRICT` tables (3.37.0),
//! `json_extract` built in (3.38.0; an extension before), `RETURNING` (3.35.0), upserts
//! `ON CONFLICT ... DO UPDATE` (3.24.0), partial indexes (3.8.0). The tests below fail when the
//! store's SQL starts using something newer than the floor, and [`check`] refuses an older
//! SQLite at open with a clear error instead of failing later on one statement.

use crate::error::{Error, Result};

/// SQLite 3.39.0, as `sqlite3_libversion_number()` writes it: iOS 16's.
pub const FLOOR: i32 = 3_039_000;

/// Refuses a SQLite older than [`FLOOR`] (`version` as `rusqlite::version_number()` gives it).
pub fn check(version: i32) -> Result<()> {
    if version >= FLOOR {
        return Ok(());
    }
    let readable = |v: i32| format!("{}.{}.{}", v / 1_000_000, v / 1_000 % 1_000, v % 1_000);
    Err(Error::Storage {
        reason: format!(
            "SQLite {} is older than {}, the oldest Passerelle's database works with (iOS 16 or later)",
            readable(version),
            readable(FLOOR)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQL features newer than the floor, with the version that introduced them. A statement
    /// using one of them would fail on iOS 16 only.
    const NEWER: &[(&str, &str)] = &[
        ("unhex(", "3.41.0"),
        ("'subsec'", "3.42.0"),
        ("'subsecond'", "3.42.0"),
        ("timediff(", "3.43.0"),
        ("octet_length(", "3.43.0"),
        ("concat(", "3.44.0"),
        ("concat_ws(", "3.44.0"),
        ("string_agg(", "3.44.0"),
        ("jsonb", "3.45.0"),
        ("json_pretty(", "3.46.0"),
        ("percentile", "3.47.0"),
        ("median(", "3.47.0"),
        ("if(", "3.48.0"),
        ("unistr(", "3.50.0"),
        ("within group", "3.47.0"),
    ];

    /// What the SQL relies on, each at or below the floor (the inventory in the module's doc).
    const USED: &[(&str, i32)] = &[
        (") strict", 3_037_000),
        ("json_extract(", 3_038_000),
        ("returning ", 3_035_000),
        ("on conflict", 3_024_000),
    ];

    /// Whether `sql` holds `feature` as a word of its own (`if(` but not `notif(`).
    fn uses(sql: &str, feature: &str) -> bool {
        sql.match_indices(feature).any(|(at, _)| {
            !feature.starts_with(|c: char| c.is_alphanumeric())
                || !sql[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    }

    /// The contents of the string literals of a Rust source (plain and raw), where its SQL is.
    fn string_literals(source: &str) -> Vec<String> {
        let chars: Vec<char> = source.chars().collect();
        let mut found = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '/' if chars.get(i + 1) == Some(&'/') => {
                    while i < chars.len() && chars[i] != '\n' {
                        i += 1;
                    }
                }
                '\'' if chars.get(i + 2) == Some(&'\'') || chars.get(i + 1) == Some(&'\\') => {
                    // A char literal ('"' in particular).
                    i += if chars.get(i + 1) == Some(&'\\') {
                        4
                    } else {
                        3
                    };
                    continue;
                }
                'r' if matches!(chars.get(i + 1), Some('"' | '#'))
                    && (i == 0 || !chars[i - 1].is_alphanumeric()) =>
                {
                    let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
                    let start = i + 2 + hashes;
                    let mut end = start;
                    while end < chars.len()
                        && !(chars[end] == '"'
                            && chars[end + 1..].iter().take(hashes).all(|c| *c == '#'))
                    {
                        end += 1;
                    }
                    found.push(chars[start.min(end)..end].iter().collect());
                    i = end + 1 + hashes;
                    continue;
                }
                '"' => {
                    let mut literal = String::new();
                    i += 1;
                    while i < chars.len() && chars[i] != '"' {
                        if chars[i] == '\\' {
                            i += 1;
                        }
                        literal.push(chars[i]);
                        i += 1;
                    }
                    found.push(literal);
                }
                _ => {}
            }
            i += 1;
        }
        found
    }

    /// Every piece of SQL the store holds: its migrations and the string literals of its modules.
    fn store_sql() -> Vec<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
        let mut sql = Vec::new();
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .chain(std::fs::read_dir(dir.join("migrations")).unwrap())
            .map(|entry| entry.unwrap().path())
            .collect();
        paths.sort();
        for path in paths {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            match path.extension().and_then(|e| e.to_str()) {
                Some("sql") => sql.push((name, text.to_lowercase())),
                // This file names the newer features on purpose.
                Some("rs") if !name.ends_with("sqlite_version.rs") => {
                    for literal in string_literals(&text) {
                        sql.push((name.clone(), literal.to_lowercase()));
                    }
                }
                _ => {}
            }
        }
        sql
    }

    #[test]
    fn the_store_uses_no_sql_newer_than_ios_16s_sqlite() {
        let sql = store_sql();
        assert!(
            sql.iter().any(|(_, s)| s.contains("create table")),
            "the migrations were read"
        );
        assert!(
            sql.iter().any(|(_, s)| s.contains("json_extract(")),
            "the modules' SQL was read"
        );
        for (file, text) in &sql {
            let compact: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let compact = compact.replace(" (", "(");
            for (feature, since) in NEWER {
                assert!(
                    !uses(&compact, feature),
                    "{file} uses `{feature}`, new in SQLite {since}: iOS 16 has 3.39 (store/sqlite_version.rs)"
                );
            }
        }
        for (feature, since) in USED {
            assert!(*since <= FLOOR, "{feature}");
            assert!(
                sql.iter().any(|(_, s)| s.contains(feature)),
                "`{feature}` is no longer used: update the inventory in sqlite_version.rs"
            );
        }
    }

    #[test]
    fn newer_features_are_found_as_words() {
        assert!(uses("select concat(a, b) from t", "concat("));
        assert!(uses("select if(a, b, c)", "if("));
        assert!(!uses("select notif(a) from t", "if("));
        assert!(uses("select x from t where d = 'subsec'", "'subsec'"));
    }

    #[test]
    fn the_lint_sees_sql_in_string_literals_only() {
        let source = r##"
            // concat( in a comment
            let a = "SELECT concat(x) FROM t";
            let b = r#"SELECT "quoted" FROM t"#;
            let c = '"';
        "##;
        let literals = string_literals(source);
        assert_eq!(
            literals,
            vec![
                "SELECT concat(x) FROM t".to_owned(),
                r#"SELECT "quoted" FROM t"#.to_owned()
            ]
        );
    }

    #[test]
    fn an_older_sqlite_is_refused_with_its_version() {
        assert!(check(3_039_000).is_ok());
        assert!(check(3_050_004).is_ok());
        let err = check(3_037_000).unwrap_err();
        let Error::Storage { reason } = err else {
            panic!("{err:?}")
        };
        assert!(
            reason.contains("SQLite 3.37.0 is older than 3.39.0"),
            "{reason}"
        );
        assert!(reason.contains("iOS 16"), "{reason}");
    }

    #[test]
    fn the_linked_sqlite_is_recent_enough() {
        // The bundled SQLite, or the system's (Apple targets, and the size proxy's
        // `--cfg passerelle_platform_libs`): Debian's is 3.40, iOS 16's 3.39.
        assert!(
            check(rusqlite::version_number()).is_ok(),
            "{}",
            rusqlite::version()
        );
    }
}
