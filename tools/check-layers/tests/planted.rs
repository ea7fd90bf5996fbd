//! The check against a copy of core/src with one violation planted at a time: each must be
//! refused, at its file and line. These are the violations the line-by-line script let through
//! (issue 22).

// Test helpers: a failure to copy or plant is the test failing.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

use passerelle_check_layers::check;

fn core_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../core/src")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            fs::copy(&path, &target).unwrap();
        }
    }
}

/// A copy of core/src to plant violations in.
struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&core_src(), dir.path());
        Tree { dir }
    }

    /// Appends `text` to `file`; returns the line number its first line gets.
    fn append(&self, file: &str, text: &str) -> usize {
        let path = self.dir.path().join(file);
        let mut source = fs::read_to_string(&path).unwrap();
        if !source.ends_with('\n') {
            source.push('\n');
        }
        let line = source.lines().count() + 1;
        source.push_str(text);
        fs::write(&path, source).unwrap();
        line
    }

    fn create(&self, file: &str, text: &str) {
        fs::write(self.dir.path().join(file), text).unwrap();
    }

    /// The check's violations, one string each (`file:line: message`).
    fn violations(&self) -> Vec<String> {
        let report = check(self.dir.path(), "").unwrap();
        report.violations.iter().map(ToString::to_string).collect()
    }

    /// Asserts one violation starts with `expected`.
    fn refuses(&self, expected: &str) -> Vec<String> {
        let violations = self.violations();
        assert!(
            violations.iter().any(|v| v.starts_with(expected)),
            "expected a violation starting with\n  {expected}\ngot:\n{}",
            violations.join("\n")
        );
        violations
    }
}

/// The planted tree's violations that the untouched tree does not have.
fn new_violations(tree: &Tree) -> Vec<String> {
    let before = Tree::new().violations();
    tree.violations()
        .into_iter()
        .filter(|v| !before.contains(v))
        .collect()
}

#[test]
fn the_real_tree_passes() {
    let report = check(&core_src(), "core/src/").unwrap();
    let violations: Vec<String> = report.violations.iter().map(ToString::to_string).collect();
    assert!(violations.is_empty(), "{}", violations.join("\n\n"));
    assert!(report.files > 50 && report.imports > 500, "{report:?}");
}

#[test]
fn the_store_reaching_a_service_through_lib_re_exports_is_refused() {
    let tree = Tree::new();
    let line = tree.append(
        "store/meta.rs",
        "#[allow(unused_imports)]\nuse crate::UNSEEN_ANNOUNCED_FOR;\n",
    );
    tree.refuses(&format!(
        "store/meta.rs:{}: upward import: `crate::UNSEEN_ANNOUNCED_FOR` reaches services/inbox.rs",
        line + 1
    ));
}

#[test]
fn a_service_importing_the_facade_is_refused() {
    let tree = Tree::new();
    let line = tree.append("services/inbox.rs", "use crate::Passerelle;\n");
    tree.refuses(&format!(
        "services/inbox.rs:{line}: upward import: `crate::Passerelle` reaches passerelle.rs \
         (the facade)"
    ));
}

#[test]
fn a_multi_line_use_group_in_a_lower_layer_is_refused() {
    let tree = Tree::new();
    let line = tree.append(
        "clients/hubrise/api.rs",
        "use crate::{\n    model::order::Order,\n    services::{\n        inbox::Inbox,\n    },\n};\n",
    );
    tree.refuses(&format!(
        "clients/hubrise/api.rs:{}: upward import: `crate::services::inbox::Inbox` reaches \
         services/inbox.rs (services)",
        line + 3
    ));
}

#[test]
fn super_super_context_inside_a_client_function_is_refused() {
    let tree = Tree::new();
    let line = tree.append(
        "clients/hubrise/mod.rs",
        "pub fn planted() -> usize {\n    std::mem::size_of::<super::super::context::Context>()\n}\n",
    );
    tree.refuses(&format!(
        "clients/hubrise/mod.rs:{}: upward import: `super::super::context::Context` reaches \
         context/mod.rs (context)",
        line + 1
    ));
}

#[test]
fn a_later_services_type_used_by_an_earlier_one_is_refused() {
    let tree = Tree::new();
    let line = tree.append(
        "services/inbox.rs",
        "fn planted(_: &super::restart::RestartToApply) {}\n",
    );
    tree.refuses(&format!(
        "services/inbox.rs:{line}: service `inbox` uses `restart`, placed after it in \
         SERVICE_ORDER (`super::restart::RestartToApply` reaches services/restart.rs)"
    ));
}

#[test]
fn a_service_missing_from_the_order_and_its_cycle_are_refused() {
    let tree = Tree::new();
    tree.append("services/mod.rs", "pub mod foo;\n");
    tree.create(
        "services/foo.rs",
        "//! Planted.\n\nuse super::account::AccountLifecycle;\n\npub struct Foo(pub AccountLifecycle);\n",
    );
    let line = tree.append("services/sign_in.rs", "use super::foo::Foo;\n");
    let violations = tree.refuses("services/foo.rs: service `foo` is not placed in SERVICE_ORDER");
    tree.refuses(&format!(
        "services/sign_in.rs:{line}: service `sign_in` uses `foo`, which SERVICE_ORDER does \
         not place"
    ));
    let cycle = violations
        .iter()
        .find(|v| v.contains("cycle between files: services/account.rs"))
        .unwrap_or_else(|| panic!("no cycle through account.rs in:\n{}", violations.join("\n")));
    assert!(
        cycle.contains(
            "cycle between files: services/account.rs -> services/sign_in.rs -> \
             services/foo.rs -> services/account.rs"
        ),
        "{cycle}"
    );
    assert!(
        cycle.contains(&format!(
            "services/sign_in.rs:{line}: `super::foo::Foo` -> services/foo.rs"
        )),
        "{cycle}"
    );
    assert!(
        cycle.contains(
            "services/foo.rs:3: `super::account::AccountLifecycle` -> services/account.rs"
        ),
        "{cycle}"
    );
}

#[test]
fn inline_paths_in_expressions_and_macros_are_read() {
    let tree = Tree::new();
    let line = tree.append(
        "store/meta.rs",
        "pub fn planted() {\n    let _ = crate::services::health::Health::new;\n    \
         let _ = format!(\"{:?}\", crate::context::Context::new);\n}\n",
    );
    tree.refuses(&format!(
        "store/meta.rs:{}: upward import: `crate::services::health::Health::new` reaches \
         services/health.rs",
        line + 1
    ));
    tree.refuses(&format!(
        "store/meta.rs:{}: upward import: `crate::context::Context::new` reaches context/mod.rs",
        line + 2
    ));
}

#[test]
fn renames_and_imported_modules_are_followed() {
    let tree = Tree::new();
    let line = tree.append(
        "clients/pos/backend.rs",
        "use crate::services as above;\nfn planted(_: above::sync::SyncEngine) {}\n",
    );
    let violations = tree.refuses(&format!(
        "clients/pos/backend.rs:{line}: upward import: `crate::services` reaches services/mod.rs"
    ));
    assert!(
        violations.iter().any(|v| v.starts_with(&format!(
            "clients/pos/backend.rs:{}: upward import: `above::sync::SyncEngine` reaches \
             services/sync/",
            line + 1
        ))),
        "{}",
        violations.join("\n")
    );
}

#[test]
fn the_hubrise_client_importing_the_pos_client_is_refused() {
    let tree = Tree::new();
    let line = tree.append(
        "clients/hubrise/token.rs",
        "use super::super::pos::backend;\n",
    );
    tree.refuses(&format!(
        "clients/hubrise/token.rs:{line}: `super::super::pos::backend` reaches \
         clients/pos/backend.rs: clients/hubrise never imports clients/pos"
    ));
}

#[test]
fn comments_strings_and_doc_links_are_not_imports() {
    let tree = Tree::new();
    tree.append(
        "store/meta.rs",
        "// use crate::Passerelle;\n/* use crate::services::sync::SyncEngine; */\n\
         /// See [`crate::Passerelle`].\npub const PLANTED: &str = \"crate::services::inbox::Inbox\";\n",
    );
    let new = new_violations(&tree);
    assert!(new.is_empty(), "{}", new.join("\n"));
}
