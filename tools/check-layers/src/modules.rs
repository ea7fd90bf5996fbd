//! The crate's modules and every path one of its files writes toward another.
//!
//! The module tree comes from the files: `lib.rs` is the crate, `foo.rs` and `foo/mod.rs` are
//! `foo`, `foo/bar.rs` is `foo::bar`; inline `mod x { … }` blocks are modules of the file they sit
//! in. Each file is parsed with `syn`, and three things are collected per module: the names it
//! defines, the names it imports (`use`, with groups, `self`, renames and globs), and the paths
//! it writes (whole `use` trees, and paths inside items, expressions, types, patterns and macro
//! bodies). Paths are then made absolute (`crate::`, `self::`, `super::`, or the first segment
//! looked up in the module's scope) and resolved to the deepest file they name, following
//! imports, so `crate::UNSEEN_ANNOUNCED_FOR`, which `lib.rs` re-exports from `services::inbox`,
//! lands on `services/inbox.rs` (the file that defines it).

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use proc_macro2::{Spacing, TokenStream, TokenTree};
use syn::visit::{self, Visit};

/// A module's absolute path from the crate root (`[]` is the crate, `["store", "orders"]` is
/// `crate::store::orders`).
pub type ModPath = Vec<String>;

/// One source file: a module of the crate.
#[derive(Debug)]
pub struct SourceFile {
    /// Relative to the crate's `src/`, with `/` separators (`services/sync/mod.rs`).
    pub rel: String,
    pub module: ModPath,
    /// Compiled only for tests (`#[cfg(test)] mod x;` in its parent, or under such a module).
    pub test_only: bool,
}

/// A path written in a file, as written, with where it was written.
#[derive(Debug, Clone)]
pub struct Reference {
    pub file: usize,
    pub line: usize,
    /// The module (possibly an inline one) whose scope the path is read in.
    pub scope: ModPath,
    pub segments: Vec<String>,
    /// Inside `#[cfg(test)]` code.
    pub test: bool,
}

impl Reference {
    pub fn text(&self) -> String {
        self.segments.join("::")
    }
}

/// An import of a name into a module: `use a::b::c;` (or `as`), or a glob `use a::b::*;`.
#[derive(Debug, Clone)]
struct Import {
    /// The module the `use` is written in: its path is read from there.
    scope: ModPath,
    segments: Vec<String>,
}

#[derive(Debug, Default)]
struct Scope {
    file: usize,
    /// Submodules: files (`mod x;`) and inline blocks (`mod x { … }`).
    children: HashSet<String>,
    /// Names defined here (types, functions, constants, macros…), not modules.
    items: HashSet<String>,
    imports: HashMap<String, Import>,
    globs: Vec<Import>,
}

impl Scope {
    fn knows(&self, name: &str) -> bool {
        self.children.contains(name) || self.items.contains(name) || self.imports.contains_key(name)
    }
}

/// The parsed crate.
#[derive(Debug)]
pub struct Crate {
    pub root: PathBuf,
    pub files: Vec<SourceFile>,
    pub references: Vec<Reference>,
    scopes: HashMap<ModPath, Scope>,
}

/// Imports followed at most this deep (a re-export of a re-export…), against loops.
const MAX_HOPS: usize = 32;

impl Crate {
    /// Reads and parses every `.rs` file under `root` (a crate's `src/`).
    pub fn load(root: &Path) -> Result<Self, String> {
        let mut paths = Vec::new();
        collect_rs_files(root, &mut paths)?;
        paths.sort();
        let mut krate = Crate {
            root: root.to_path_buf(),
            files: Vec::new(),
            references: Vec::new(),
            scopes: HashMap::new(),
        };
        let mut test_modules: Vec<ModPath> = Vec::new();
        for path in paths {
            let rel = path
                .strip_prefix(root)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let Some(module) = module_of(&rel) else {
                continue;
            };
            let source =
                fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let syntax = syn::parse_file(&source).map_err(|e| {
                let at = e.span().start();
                format!(
                    "{}:{}:{}: cannot parse: {e}",
                    path.display(),
                    at.line,
                    at.column + 1
                )
            })?;
            let file = krate.files.len();
            krate.files.push(SourceFile {
                rel,
                module: module.clone(),
                test_only: false,
            });
            let mut collector = Collector {
                file,
                scopes: vec![module.clone()],
                test_depth: 0,
                block_depth: 0,
                krate: &mut krate,
                test_modules: &mut test_modules,
            };
            collector.scope_mut().file = file;
            if let Some((name, parent)) = module.split_last() {
                // A child of its parent even if the parent forgot `mod name;` (a file left over
                // is still read and checked).
                let parent = collector.krate.scopes.entry(parent.to_vec()).or_default();
                parent.children.insert(name.clone());
            }
            for item in &syntax.items {
                collector.visit_item(item);
            }
        }
        for file in &mut krate.files {
            file.test_only = test_modules.iter().any(|m| file.module.starts_with(m));
        }
        Ok(krate)
    }

    /// The file the module `module` lives in, if it is one of the crate's.
    pub fn file_of(&self, module: &[String]) -> Option<usize> {
        self.scopes.get(module).map(|s| s.file)
    }

    /// `segments`, read in `scope`, as an absolute path; `None` for a path outside the crate
    /// (`std::…`, `tokio::…`, a local variable, `Self::…`).
    pub fn absolute(&self, scope: &[String], segments: &[String]) -> Option<ModPath> {
        self.absolute_hops(scope, segments, 0)
    }

    fn absolute_hops(&self, scope: &[String], segments: &[String], hops: usize) -> Option<ModPath> {
        if hops > MAX_HOPS || segments.is_empty() {
            return None;
        }
        let mut base: ModPath = scope.to_vec();
        let mut at = 0;
        while let Some(segment) = segments.get(at) {
            match segment.as_str() {
                "crate" | "$crate" if at == 0 => base.clear(),
                "self" => {}
                "super" => {
                    base.pop()?;
                }
                _ => break,
            }
            at += 1;
        }
        if at > 0 {
            base.extend_from_slice(&segments[at..]);
            return Some(base);
        }
        // Relative: the first segment is a name of this module's scope, or not the crate's.
        let first = &segments[0];
        let here = self.scopes.get(scope)?;
        if here.children.contains(first) || here.items.contains(first) {
            base.extend_from_slice(segments);
            return Some(base);
        }
        if let Some(import) = here.imports.get(first) {
            let mut target = self.absolute_hops(&import.scope, &import.segments, hops + 1)?;
            target.extend_from_slice(&segments[1..]);
            return Some(target);
        }
        for glob in &here.globs {
            let Some(mut target) = self.absolute_hops(&glob.scope, &glob.segments, hops + 1) else {
                continue;
            };
            if self.scopes.get(&target).is_some_and(|s| s.knows(first)) {
                target.extend_from_slice(segments);
                return Some(target);
            }
        }
        None
    }

    /// The deepest file an absolute path names: modules are walked down while they exist, and a
    /// name a module imports is followed to where it comes from (re-exports included).
    pub fn resolve(&self, absolute: &[String]) -> Option<usize> {
        self.resolve_hops(absolute, 0)
    }

    fn resolve_hops(&self, absolute: &[String], hops: usize) -> Option<usize> {
        let mut module: ModPath = Vec::new();
        let mut scope = self.scopes.get(&module)?;
        for (at, name) in absolute.iter().enumerate() {
            let mut child = module.clone();
            child.push(name.clone());
            if scope.children.contains(name)
                && let Some(next) = self.scopes.get(&child)
            {
                module = child;
                scope = next;
                continue;
            }
            if scope.items.contains(name) || hops >= MAX_HOPS {
                return Some(scope.file);
            }
            if let Some(import) = scope.imports.get(name) {
                let Some(mut target) = self.absolute_hops(&import.scope, &import.segments, hops)
                else {
                    // Imported from outside the crate (`pub use std::…`): this module it is.
                    return Some(scope.file);
                };
                target.extend_from_slice(&absolute[at + 1..]);
                return self.resolve_hops(&target, hops + 1);
            }
            for glob in &scope.globs {
                let Some(mut target) = self.absolute_hops(&glob.scope, &glob.segments, hops) else {
                    continue;
                };
                if self.scopes.get(&target).is_some_and(|s| s.knows(name)) {
                    target.extend_from_slice(&absolute[at..]);
                    return self.resolve_hops(&target, hops + 1);
                }
            }
            return Some(scope.file);
        }
        Some(scope.file)
    }
}

fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            collect_rs_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// `lib.rs` → `[]`, `a/mod.rs` → `[a]`, `a/b.rs` → `[a, b]`; `None` for `main.rs` and `bin/`.
fn module_of(rel: &str) -> Option<ModPath> {
    let mut parts: Vec<String> = rel.split('/').map(str::to_owned).collect();
    let last = parts.pop()?;
    if parts.is_empty() && last == "main.rs" || parts.first().is_some_and(|p| p == "bin") {
        return None;
    }
    match last.as_str() {
        "lib.rs" if parts.is_empty() => {}
        "mod.rs" => {}
        other => parts.push(other.strip_suffix(".rs")?.to_owned()),
    }
    Some(parts)
}

/// `#[cfg(test)]`, `#[cfg(all(test, …))]`: code built for tests only.
fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let syn::Meta::List(list) = &attr.meta else {
            return false;
        };
        if !list.path.is_ident("cfg") {
            return false;
        }
        let mut test = false;
        let mut negated = false;
        walk_idents(list.tokens.clone(), &mut |ident| match ident.as_str() {
            "test" => test = true,
            "not" | "any" => negated = true,
            _ => {}
        });
        test && !negated
    })
}

fn walk_idents(tokens: TokenStream, f: &mut impl FnMut(String)) {
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => f(ident.to_string()),
            TokenTree::Group(group) => walk_idents(group.stream(), f),
            _ => {}
        }
    }
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    use syn::Item::*;
    match item {
        Const(i) => &i.attrs,
        Enum(i) => &i.attrs,
        ExternCrate(i) => &i.attrs,
        Fn(i) => &i.attrs,
        ForeignMod(i) => &i.attrs,
        Impl(i) => &i.attrs,
        Macro(i) => &i.attrs,
        Mod(i) => &i.attrs,
        Static(i) => &i.attrs,
        Struct(i) => &i.attrs,
        Trait(i) => &i.attrs,
        TraitAlias(i) => &i.attrs,
        Type(i) => &i.attrs,
        Union(i) => &i.attrs,
        Use(i) => &i.attrs,
        _ => &[],
    }
}

fn item_name(item: &syn::Item) -> Option<String> {
    use syn::Item::*;
    let ident = match item {
        Const(i) => &i.ident,
        Enum(i) => &i.ident,
        Fn(i) => &i.sig.ident,
        Macro(i) => i.ident.as_ref()?,
        Static(i) => &i.ident,
        Struct(i) => &i.ident,
        Trait(i) => &i.ident,
        TraitAlias(i) => &i.ident,
        Type(i) => &i.ident,
        Union(i) => &i.ident,
        _ => return None,
    };
    Some(ident.to_string())
}

/// Walks one file, module by module.
struct Collector<'a> {
    file: usize,
    /// The module being read: the file's, then inline modules inside it.
    scopes: Vec<ModPath>,
    test_depth: usize,
    /// Inside a function body or other block: items there are not names of the module.
    block_depth: usize,
    krate: &'a mut Crate,
    test_modules: &'a mut Vec<ModPath>,
}

impl Collector<'_> {
    fn scope(&self) -> ModPath {
        self.scopes.last().cloned().unwrap_or_default()
    }

    fn scope_mut(&mut self) -> &mut Scope {
        let path = self.scope();
        self.krate.scopes.entry(path).or_default()
    }

    fn reference(&mut self, segments: Vec<String>, line: usize) {
        let reference = Reference {
            file: self.file,
            line,
            scope: self.scope(),
            segments,
            test: self.test_depth > 0,
        };
        self.krate.references.push(reference);
    }

    /// One `use` tree: each leaf is a reference, and a name (or glob) of the module.
    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree, line: usize) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                let line = line_of(&path.ident);
                self.use_tree(prefix, &path.tree, line);
                prefix.pop();
            }
            syn::UseTree::Name(name) => {
                let ident = name.ident.to_string();
                let line = line_of(&name.ident);
                // `a::{self}` imports `a` itself.
                let (segments, bound) = if ident == "self" {
                    (prefix.clone(), prefix.last().cloned())
                } else {
                    let mut segments = prefix.clone();
                    segments.push(ident.clone());
                    (segments, Some(ident))
                };
                self.import(segments, bound, line);
            }
            syn::UseTree::Rename(rename) => {
                let ident = rename.ident.to_string();
                let line = line_of(&rename.ident);
                let mut segments = prefix.clone();
                if ident != "self" {
                    segments.push(ident);
                }
                let bound = rename.rename.to_string();
                self.import(segments, (bound != "_").then_some(bound), line);
            }
            syn::UseTree::Glob(_) => {
                let import = Import {
                    scope: self.scope(),
                    segments: prefix.clone(),
                };
                self.scope_mut().globs.push(import);
                self.reference(prefix.clone(), line);
            }
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.use_tree(prefix, tree, line);
                }
            }
        }
    }

    fn import(&mut self, segments: Vec<String>, bound: Option<String>, line: usize) {
        if segments.is_empty() {
            return;
        }
        if let Some(name) = bound {
            let import = Import {
                scope: self.scope(),
                segments: segments.clone(),
            };
            let in_block = self.block_depth > 0;
            let imports = &mut self.scope_mut().imports;
            // An import inside a function body is seen by paths in this file only; it never
            // hides the module's own.
            if !in_block || !imports.contains_key(&name) {
                imports.insert(name, import);
            }
        }
        self.reference(segments, line);
    }

    /// Paths inside a macro's tokens (`format!`, `matches!`, `assert!`, `macro_rules!` bodies):
    /// every `a::b::c` run whose first segment is not preceded by `::`.
    fn macro_tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut at = 0;
        while at < tokens.len() {
            match &tokens[at] {
                TokenTree::Group(group) => {
                    self.macro_tokens(group.stream());
                    at += 1;
                }
                TokenTree::Ident(ident) if !preceded_by_colons(&tokens, at) => {
                    let dollar = at > 0
                        && matches!(&tokens[at - 1], TokenTree::Punct(p) if p.as_char() == '$');
                    let first = if dollar && ident == "crate" {
                        "$crate".to_owned()
                    } else {
                        ident.to_string()
                    };
                    let line = ident.span().start().line;
                    let mut segments = vec![first];
                    let mut next = at + 1;
                    while let Some(segment) = colons_then_ident(&tokens, next) {
                        segments.push(segment);
                        next += 3;
                    }
                    if segments.len() > 1 {
                        self.reference(segments, line);
                    }
                    at = next;
                }
                _ => at += 1,
            }
        }
    }
}

fn preceded_by_colons(tokens: &[TokenTree], at: usize) -> bool {
    at >= 1 && matches!(&tokens[at - 1], TokenTree::Punct(p) if p.as_char() == ':')
}

/// `:: ident` starting at `at`: the ident.
fn colons_then_ident(tokens: &[TokenTree], at: usize) -> Option<String> {
    match (tokens.get(at)?, tokens.get(at + 1)?, tokens.get(at + 2)?) {
        (TokenTree::Punct(a), TokenTree::Punct(b), TokenTree::Ident(ident))
            if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':' =>
        {
            Some(ident.to_string())
        }
        _ => None,
    }
}

fn line_of(ident: &proc_macro2::Ident) -> usize {
    ident.span().start().line
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let test = is_cfg_test(item_attrs(item));
        if test {
            self.test_depth += 1;
        }
        if self.block_depth == 0
            && let Some(name) = item_name(item)
        {
            self.scope_mut().items.insert(name);
        }
        match item {
            syn::Item::Mod(module) => {
                let name = module.ident.to_string();
                let mut child = self.scope();
                child.push(name.clone());
                self.scope_mut().children.insert(name);
                if test {
                    self.test_modules.push(child.clone());
                }
                if let Some((_, items)) = &module.content {
                    self.scopes.push(child);
                    let file = self.file;
                    self.scope_mut().file = file;
                    let outer_blocks = std::mem::replace(&mut self.block_depth, 0);
                    for item in items {
                        self.visit_item(item);
                    }
                    self.block_depth = outer_blocks;
                    self.scopes.pop();
                }
            }
            syn::Item::Use(item) => {
                if item.leading_colon.is_none() {
                    let line = item.use_token.span.start().line;
                    self.use_tree(&mut Vec::new(), &item.tree, line);
                }
            }
            _ => visit::visit_item(self, item),
        }
        if test {
            self.test_depth -= 1;
        }
    }

    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        let attrs: &[syn::Attribute] = match item {
            syn::ImplItem::Const(i) => &i.attrs,
            syn::ImplItem::Fn(i) => &i.attrs,
            syn::ImplItem::Type(i) => &i.attrs,
            syn::ImplItem::Macro(i) => &i.attrs,
            _ => &[],
        };
        let test = is_cfg_test(attrs);
        self.test_depth += usize::from(test);
        visit::visit_impl_item(self, item);
        self.test_depth -= usize::from(test);
    }

    fn visit_block(&mut self, block: &'ast syn::Block) {
        self.block_depth += 1;
        visit::visit_block(self, block);
        self.block_depth -= 1;
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() && path.segments.len() > 1 {
            let segments = path.segments.iter().map(|s| s.ident.to_string()).collect();
            let line = path
                .segments
                .first()
                .map_or(0, |s| s.ident.span().start().line);
            self.reference(segments, line);
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        self.macro_tokens(mac.tokens.clone());
    }

    // `pub(super)`, `pub(in crate::x)`: visibility, not a use of the module.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    // Attributes name no module of the crate (`#[cfg(…)]`, `#[derive(…)]`, doc comments).
    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}
}

#[cfg(test)]
mod tests {
    use super::module_of;

    #[test]
    fn files_name_modules() {
        assert_eq!(module_of("lib.rs"), Some(vec![]));
        assert_eq!(module_of("store/mod.rs"), Some(vec!["store".to_owned()]));
        assert_eq!(
            module_of("services/sync/cycle.rs"),
            Some(vec![
                "services".to_owned(),
                "sync".to_owned(),
                "cycle".to_owned()
            ])
        );
        assert_eq!(module_of("main.rs"), None);
    }
}
