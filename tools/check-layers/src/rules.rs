//! The layers of docs/architecture.md, and the checks of a parsed crate against them.
//!
//! ```text
//! facade (passerelle.rs)  ->  services/  ->  context/  ->  clients/  ->  foundations
//! ```
//!
//! - no file imports one of a higher layer (nothing imports the facade; the context imports no
//!   service; the clients import neither the services nor the context; the foundations import
//!   none of the layers above them);
//! - `clients/hubrise` never imports `clients/pos`;
//! - a service imports only services placed before it in [`SERVICE_ORDER`], and every service
//!   (a file or folder directly under `services/`) is placed there;
//! - no cycle between files.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;

use crate::modules::Crate;

/// The services, each allowed to use only those before it. The one place this order is written
/// (docs/architecture.md lists the services in the same order).
pub const SERVICE_ORDER: &[&str] = &[
    "retention",
    "health",
    "inbox",
    "sign_in",
    "connect",
    "off_device",
    "push",
    "sync",
    "restart",
    "account",
];

/// Where a file stands, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    /// `model/`, `config.rs`, `store/`, `secrets.rs`, `http.rs`, `events.rs`, `logging/`,
    /// `time.rs`, `error/`, `failpoint.rs`, and whatever else is not named below.
    Foundations,
    /// `clients/`: protocol clients.
    Clients,
    /// `context/`: the parts built once at `open()`, and the POS session kept for the services.
    Context,
    /// `services/`: the use cases.
    Services,
    /// `passerelle.rs`.
    Facade,
    /// `lib.rs` and `fuzzing.rs`: the crate's faces outwards, which nothing inside imports.
    Root,
}

impl Layer {
    pub fn of(rel: &str) -> Layer {
        match rel {
            "lib.rs" | "fuzzing.rs" => Layer::Root,
            "passerelle.rs" => Layer::Facade,
            _ if rel.starts_with("context/") => Layer::Context,
            _ if rel.starts_with("services/") => Layer::Services,
            _ if rel.starts_with("clients/") => Layer::Clients,
            _ => Layer::Foundations,
        }
    }

    /// The rule a file of this layer breaks by importing a higher one.
    fn rule(self) -> &'static str {
        match self {
            Layer::Foundations => "the foundations import none of the layers above them",
            Layer::Clients => {
                "the protocol clients (clients/) import neither the services nor the context"
            }
            Layer::Context => "the context imports no service",
            Layer::Services => "a service imports neither the facade nor the crate's faces",
            Layer::Facade | Layer::Root => "nothing imports the crate's faces (lib.rs, fuzzing.rs)",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Layer::Foundations => "foundations",
            Layer::Clients => "clients",
            Layer::Context => "context",
            Layer::Services => "services",
            Layer::Facade => "the facade",
            Layer::Root => "the crate's root",
        }
    }
}

/// The service a file of `services/` belongs to: `services/sync/cycle.rs` → `sync`;
/// `services/mod.rs` belongs to none.
pub fn service_of(rel: &str) -> Option<&str> {
    let rest = rel.strip_prefix("services/")?;
    match rest.split_once('/') {
        Some((folder, _)) => Some(folder),
        None if rest == "mod.rs" => None,
        None => rest.strip_suffix(".rs"),
    }
}

/// One import from a file to another, with the first place it is written.
#[derive(Debug, Clone)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub line: usize,
    pub text: String,
    pub test: bool,
}

/// A broken rule, printed as `file:line: what`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

/// Every import between two files of the crate: each reference resolved to the file it lands
/// in, self-references dropped.
pub fn edges(krate: &Crate) -> Vec<Edge> {
    let mut edges = Vec::new();
    for reference in &krate.references {
        let Some(absolute) = krate.absolute(&reference.scope, &reference.segments) else {
            continue;
        };
        let Some(to) = krate.resolve(&absolute) else {
            continue;
        };
        if to != reference.file {
            edges.push(Edge {
                from: reference.file,
                to,
                line: reference.line,
                text: reference.text(),
                test: reference.test || krate.files[reference.file].test_only,
            });
        }
    }
    edges
}

/// Checks the layers, the services' order and cycles. `display` turns a file's path relative to
/// `src/` into the path printed.
pub fn check(krate: &Crate, edges: &[Edge], display: &dyn Fn(&str) -> String) -> Vec<Violation> {
    let mut violations = Vec::new();
    let rel = |file: usize| krate.files[file].rel.as_str();

    // Every service placed in the order, and the order naming only services that exist.
    let mut services: BTreeMap<&str, &str> = BTreeMap::new();
    for file in &krate.files {
        if let Some(service) = service_of(&file.rel) {
            services.entry(service).or_insert(&file.rel);
        }
    }
    for (service, file) in &services {
        if !SERVICE_ORDER.contains(service) {
            violations.push(Violation {
                file: display(file),
                line: 0,
                message: format!(
                    "service `{service}` is not placed in SERVICE_ORDER \
                     (tools/check-layers/src/rules.rs): put it after the services it uses \
                     and before those that use it (and in docs/architecture.md)"
                ),
            });
        }
    }
    for service in SERVICE_ORDER {
        if !services.contains_key(service) {
            violations.push(Violation {
                file: display("services/"),
                line: 0,
                message: format!(
                    "SERVICE_ORDER (tools/check-layers/src/rules.rs) names `{service}`, \
                     which is no file or folder of services/"
                ),
            });
        }
    }

    for edge in edges {
        let (from, to) = (rel(edge.from), rel(edge.to));
        let (from_layer, to_layer) = (Layer::of(from), Layer::of(to));
        let mut broken = |message: String| {
            violations.push(Violation {
                file: display(from),
                line: edge.line,
                message,
            });
        };
        if to_layer > from_layer && from_layer != Layer::Root {
            broken(format!(
                "upward import: `{}` reaches {} ({}); {}",
                edge.text,
                display(to),
                to_layer.name(),
                from_layer.rule()
            ));
        } else if to_layer == Layer::Root && from_layer != Layer::Root {
            broken(format!(
                "upward import: `{}` reaches {}; {}",
                edge.text,
                display(to),
                Layer::Root.rule()
            ));
        }
        if from.starts_with("clients/hubrise/") && to.starts_with("clients/pos/") {
            broken(format!(
                "`{}` reaches {}: clients/hubrise never imports clients/pos (the POS broker \
                 forwards HubRise's token, so the arrow goes from pos to hubrise)",
                edge.text,
                display(to)
            ));
        }
        if let (Some(user), Some(used)) = (service_of(from), service_of(to))
            && user != used
        {
            let position = |s: &str| SERVICE_ORDER.iter().position(|o| *o == s);
            match (position(user), position(used)) {
                (Some(u), Some(d)) if d > u => broken(format!(
                    "service `{user}` uses `{used}`, placed after it in SERVICE_ORDER \
                     (`{}` reaches {})",
                    edge.text,
                    display(to)
                )),
                (Some(_), None) => broken(format!(
                    "service `{user}` uses `{used}`, which SERVICE_ORDER does not place \
                     (`{}` reaches {})",
                    edge.text,
                    display(to)
                )),
                _ => {}
            }
        }
    }

    violations.extend(cycles(krate, edges, display));
    violations.sort();
    violations.dedup();
    violations
}

/// One violation per knot of files importing each other (a strongly connected component),
/// naming the shortest cycle through its first file and where each of its imports is written.
/// Test-only code (`#[cfg(test)]`) is left out: a test may reach back to set up what it checks.
fn cycles(krate: &Crate, edges: &[Edge], display: &dyn Fn(&str) -> String) -> Vec<Violation> {
    let count = krate.files.len();
    let mut next: Vec<BTreeMap<usize, &Edge>> = vec![BTreeMap::new(); count];
    for edge in edges.iter().filter(|e| !e.test) {
        next[edge.from].entry(edge.to).or_insert(edge);
    }
    let mut violations = Vec::new();
    for component in strongly_connected(&next) {
        if component.len() < 2 {
            continue;
        }
        let members: BTreeSet<usize> = component.iter().copied().collect();
        let Some(&start) = component.iter().min_by_key(|f| &krate.files[**f].rel) else {
            continue;
        };
        let path = shortest_cycle(&next, &members, start);
        let mut lines = Vec::new();
        for pair in path.windows(2) {
            if let Some(edge) = next[pair[0]].get(&pair[1]) {
                lines.push(format!(
                    "    {}:{}: `{}` -> {}",
                    display(&krate.files[pair[0]].rel),
                    edge.line,
                    edge.text,
                    display(&krate.files[pair[1]].rel)
                ));
            }
        }
        let names: Vec<String> = path.iter().map(|f| display(&krate.files[*f].rel)).collect();
        let mut message = format!(
            "cycle between files: {}\n{}",
            names.join(" -> "),
            lines.join("\n")
        );
        if members.len() + 1 > path.len() {
            let all: Vec<String> = members
                .iter()
                .map(|f| display(&krate.files[*f].rel))
                .collect();
            message.push_str(&format!(
                "\n    ({} files import each other: {})",
                members.len(),
                all.join(", ")
            ));
        }
        let first = next[start].get(&path[1]).map_or(0, |e| e.line);
        violations.push(Violation {
            file: display(&krate.files[start].rel),
            line: first,
            message,
        });
    }
    violations
}

/// Tarjan's algorithm, iterative.
fn strongly_connected(next: &[BTreeMap<usize, &Edge>]) -> Vec<Vec<usize>> {
    let count = next.len();
    let mut index = vec![usize::MAX; count];
    let mut low = vec![0; count];
    let mut on_stack = vec![false; count];
    let mut stack = Vec::new();
    let mut components = Vec::new();
    let mut counter = 0;
    for root in 0..count {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, Vec<usize>)> = Vec::new();
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        work.push((root, next[root].keys().rev().copied().collect()));
        while let Some((node, pending)) = work.last_mut() {
            let node = *node;
            if let Some(to) = pending.pop() {
                if index[to] == usize::MAX {
                    index[to] = counter;
                    low[to] = counter;
                    counter += 1;
                    stack.push(to);
                    on_stack[to] = true;
                    work.push((to, next[to].keys().rev().copied().collect()));
                } else if on_stack[to] {
                    low[node] = low[node].min(index[to]);
                }
                continue;
            }
            work.pop();
            if let Some((parent, _)) = work.last() {
                low[*parent] = low[*parent].min(low[node]);
            }
            if low[node] == index[node] {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    components
}

/// The shortest path `start -> … -> start` inside `members` (breadth first).
fn shortest_cycle(
    next: &[BTreeMap<usize, &Edge>],
    members: &BTreeSet<usize>,
    start: usize,
) -> Vec<usize> {
    let mut came_from: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &to in next[node].keys() {
            if !members.contains(&to) {
                continue;
            }
            if to == start {
                let mut path = vec![node];
                let mut at = node;
                while let Some(&previous) = came_from.get(&at) {
                    path.push(previous);
                    at = previous;
                }
                path.reverse();
                path.push(start);
                return path;
            }
            if to != start && !came_from.contains_key(&to) {
                came_from.insert(to, node);
                queue.push_back(to);
            }
        }
    }
    vec![start, start]
}

#[cfg(test)]
mod tests {
    use super::{Layer, service_of};

    #[test]
    fn files_have_layers_and_services() {
        assert_eq!(Layer::of("passerelle.rs"), Layer::Facade);
        assert_eq!(Layer::of("services/sync/cycle.rs"), Layer::Services);
        assert_eq!(Layer::of("clients/pos/backend.rs"), Layer::Clients);
        assert_eq!(Layer::of("store/orders.rs"), Layer::Foundations);
        assert_eq!(service_of("services/sync/cycle.rs"), Some("sync"));
        assert_eq!(service_of("services/inbox.rs"), Some("inbox"));
        assert_eq!(service_of("services/mod.rs"), None);
        assert_eq!(service_of("store/mod.rs"), None);
    }
}
