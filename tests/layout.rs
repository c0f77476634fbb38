//! Enforces the module layout of the `wasmpipe` library crate (`host/src`), so that the one-way
//! data flow described in ARCHITECTURE.md stays true as the code grows:
//!
//! 1. No import cycles. Within every folder (the crate root included), the modules directly in
//!    that folder must not import each other in a cycle. A module using its own folder's facade
//!    (`use super::Plan` from `plan/from_model.rs`), and a `mod.rs` using its own children, do not count.
//! 2. Layers. Each top-level module may only import the top-level modules that [`LAYERS`] allows.
//!
//! The check reads the source text with the standard library only: it follows `mod x;` from
//! `lib.rs` (so `main.rs`, the CLI, which may import anything, is not checked), collects every
//! `crate::`, `super::` and `self::` path outside comments and literals, `use` trees included, and
//! resolves each to the longest prefix that is a module file.
//!
//! Fixing a failure: do not bend the rule (nor widen an allowed list only to make the test pass).
//! Find what the lower module needs from the higher one, usually a type or a small function, and
//! move it down into the lower layer (or into a new module that both can use), so that the
//! dependencies keep pointing one way. A new top-level module needs a line in [`LAYERS`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};

/// Which top-level modules each top-level module may import. A module may always use itself.
///
/// Data flows one way: pipeline file -> `model` -> `plan` (build, validate, scheduler) ->
/// executor (`wasm`) -> `record`, with `run` driving them all. A module may import only what is
/// upstream of it; `lib.rs` itself may reference anything.
const LAYERS: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("faults", &[]),
    ("plan", &["model", "faults"]),
    ("wasm", &["model"]),
    ("record", &["model"]),
    ("run", &["model", "plan", "wasm", "record", "faults", "history", "journal"]),
    ("authoring", &["model", "plan"]),
    ("graph", &["model", "plan"]),
    ("export", &["model"]),
    ("report", &["model", "record"]),
    ("history", &["model", "record", "journal"]),
    ("journal", &["model", "record"]),
    ("internals", &["model", "plan", "wasm", "record", "run", "authoring"]),
];

/// Ensures that the real crate has no import cycle and respects [`LAYERS`].
#[test]
fn layout_has_no_cycles_and_respects_layers() {
    let manifest = option_env!("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from))
        .expect("CARGO_MANIFEST_DIR is not set: run under cargo, or set it to the `host` directory");
    let src = manifest.join("src");
    let violations = check_layout(&src, LAYERS);
    assert!(
        violations.is_empty(),
        "the module layout of {} breaks {} rule(s) (see tests/layout.rs for how to fix):\n{}",
        src.display(),
        violations.len(),
        violations.join("\n")
    );
}

/// A module's path from the crate root, like `["run", "pool"]`; empty for the crate root.
type ModPath = Vec<String>;

/// A path found in a file: the path made absolute, its line, and its text as written.
type Found = (ModPath, usize, String);

/// Import edges among the modules of one folder: (from, to) -> an example `file:line: path`.
type Edges = BTreeMap<(String, String), String>;

/// A mention of a module of the crate in a source file.
#[derive(Debug)]
struct Reference {
    /// The module of the file the mention is in.
    from: ModPath,
    /// The module it names: the longest prefix of the path that is a module file.
    to: ModPath,
    /// Where it is: `file:line: path`.
    at: String,
}

/// The library crate as read from its sources.
#[derive(Default)]
struct Crate {
    /// Every module file reachable from `lib.rs`, with its path relative to `src`.
    modules: BTreeMap<ModPath, String>,
    /// Every reference to a module of the crate, by file and line.
    references: Vec<Reference>,
    /// What could not be read or is not supported (missing files, `#[path]`).
    problems: Vec<String>,
}

/// Checks the crate whose sources are in `src` against both rules; returns every violation, one
/// message each (empty when the layout is fine).
fn check_layout(src: &Path, layers: &[(&str, &[&str])]) -> Vec<String> {
    let krate = read_crate(src);
    let mut violations = krate.problems;
    let allowed: BTreeMap<&str, &[&str]> = layers.iter().copied().collect();
    for top in krate.modules.keys().filter(|module| module.len() == 1) {
        if !allowed.contains_key(top[0].as_str()) {
            violations
                .push(format!("top-level module `{0}` has no layer: add `{0}` to LAYERS in tests/layout.rs", top[0]));
        }
    }
    let folders = edges(&krate.references);
    for ((from, to), at) in folders.get(&ModPath::new()).into_iter().flatten() {
        if let Some(ok) = allowed.get(from.as_str())
            && !ok.contains(&to.as_str())
        {
            let ok = if ok.is_empty() { "nothing".to_string() } else { ok.join(", ") };
            violations.push(format!("layer violation: {from} may not import {to} ({at}); allowed: {ok}"));
        }
    }
    for (folder, edges) in &folders {
        violations.extend(cycles(folder, edges));
    }
    violations
}

/// Reads the module files reachable from `src/lib.rs` and every reference between them.
fn read_crate(src: &Path) -> Crate {
    let mut krate = Crate::default();
    let mut found = Vec::new();
    let mut queue = vec![(ModPath::new(), "lib.rs".to_string())];
    while let Some((module, file)) = queue.pop() {
        if krate.modules.contains_key(&module) {
            continue;
        }
        let Ok(text) = fs::read_to_string(src.join(&file)) else {
            krate.problems.push(format!("cannot read {}", src.join(&file).display()));
            continue;
        };
        let scan = scan(&module, &strip(&text));
        krate.problems.extend(scan.problems.iter().map(|(line, problem)| format!("{file}:{line}: {problem}")));
        for (child, line) in scan.children {
            let base = child.join("/");
            let files: Vec<String> = [format!("{base}.rs"), format!("{base}/mod.rs")]
                .into_iter()
                .filter(|f| src.join(f).is_file())
                .collect();
            match files.as_slice() {
                [one] => queue.push((child, one.clone())),
                [] => krate.problems.push(format!("{file}:{line}: no file {base}.rs or {base}/mod.rs for this `mod`")),
                _ => krate.problems.push(format!("{file}:{line}: both {base}.rs and {base}/mod.rs exist")),
            }
        }
        found.extend(
            scan.paths.into_iter().map(|(path, line, text)| (module.clone(), path, format!("{file}:{line}: {text}"))),
        );
        krate.modules.insert(module, file);
    }
    for (from, path, at) in found {
        let known = (0..=path.len()).rev().find(|&n| krate.modules.contains_key(&path[..n])).unwrap_or(0);
        krate.references.push(Reference { from, to: path[..known].to_vec(), at });
    }
    krate
}

/// What one file says: the module files it declares and the crate paths it mentions.
#[derive(Default)]
struct Scan {
    /// Module files declared with `mod x;`: full module path and line.
    children: Vec<(ModPath, usize)>,
    /// Paths into the crate, made absolute.
    paths: Vec<Found>,
    /// Unsupported constructs, with their line.
    problems: Vec<(usize, String)>,
}

/// Scans the stripped text of the file of `module`. Inline modules (`mod tests { ... }`) are
/// tracked by brace depth, so that `super` inside them is relative to the inline module.
fn scan(module: &[String], text: &str) -> Scan {
    let toks = tokenize(text);
    let tok = |i: usize| toks.get(i).map_or("", |(t, _)| t.as_str());
    let mut out = Scan::default();
    let mut scope = module.to_vec();
    let mut opened_at = Vec::new();
    let (mut depth, mut i) = (0usize, 0);
    while i < toks.len() {
        let line = toks[i].1;
        match tok(i) {
            "{" => depth += 1,
            "}" => {
                depth = depth.saturating_sub(1);
                if opened_at.last() == Some(&depth) {
                    opened_at.pop();
                    scope.pop();
                }
            }
            "#" if tok(i + 1) == "[" && tok(i + 2) == "path" => {
                out.problems.push((line, "`#[path]` is not supported by tests/layout.rs".to_string()));
            }
            "mod" if is_ident(tok(i + 1)) && matches!(tok(i + 2), ";" | "{") => {
                let mut child = scope.clone();
                child.push(tok(i + 1).to_string());
                if tok(i + 2) == ";" {
                    out.children.push((child, line));
                } else {
                    opened_at.push(depth);
                    depth += 1;
                    scope = child;
                }
                i += 3;
                continue;
            }
            "use" => {
                i += 1;
                let mut leaves = Vec::new();
                use_tree(&toks, &mut i, &[], &mut leaves);
                for (path, line, text) in leaves {
                    out.paths.extend(absolute(&scope, &path).map(|path| (path, line, text)));
                }
                continue;
            }
            "crate" | "$crate" | "super" | "self" if tok(i + 1) == "::" && (i == 0 || tok(i - 1) != "::") => {
                let mut path = vec![tok(i).to_string()];
                i += 1;
                while tok(i) == "::" && is_ident(tok(i + 1)) {
                    path.push(tok(i + 1).to_string());
                    i += 2;
                }
                out.paths.extend(absolute(&scope, &path).map(|abs| (abs, line, path.join("::"))));
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Parses the use tree at `toks[*i]` (after `use`, or inside braces) under `prefix`, adding each
/// leaf path with its line and text to `leaves`: `a::{self, b::C}` gives `a` and `a::b::C`, a glob
/// `a::*` gives `a`, and `a as b` gives `a`. Stops after the tree.
fn use_tree(toks: &[(String, usize)], i: &mut usize, prefix: &[String], leaves: &mut Vec<Found>) {
    let tok = |i: usize| toks.get(i).map_or("", |(t, _)| t.as_str());
    let mut path = prefix.to_vec();
    loop {
        let line = toks.get(*i).map_or(0, |(_, line)| *line);
        match tok(*i) {
            "::" => *i += 1,
            "{" => {
                *i += 1;
                while !matches!(tok(*i), "}" | ";" | "") {
                    use_tree(toks, i, &path, leaves);
                    if tok(*i) == "," {
                        *i += 1;
                    }
                }
                if tok(*i) == "}" {
                    *i += 1;
                }
                return;
            }
            "*" => {
                *i += 1;
                let text = format!("{}::*", path.join("::"));
                leaves.push((path, line, text));
                return;
            }
            name if is_ident(name) => {
                path.push(name.to_string());
                *i += 1;
                if tok(*i) == "::" {
                    continue;
                }
                if tok(*i) == "as" {
                    *i += 2;
                }
                if path.len() > 1 && path.last().is_some_and(|last| last == "self") {
                    path.pop();
                }
                let text = path.join("::");
                leaves.push((path, line, text));
                return;
            }
            _ => {
                *i += 1;
                return;
            }
        }
    }
}

/// Makes a `crate::`, `$crate::`, `self::` or `super::` path absolute from the module `scope`;
/// `None` for other paths (the standard library, dependencies) and for `super` above the root.
fn absolute(scope: &[String], path: &[String]) -> Option<ModPath> {
    let (first, rest) = path.split_first()?;
    let mut abs = match first.as_str() {
        "crate" | "$crate" => ModPath::new(),
        "self" | "super" => scope.to_vec(),
        _ => return None,
    };
    if first == "super" {
        abs.pop()?;
    }
    let mut rest = rest.iter().peekable();
    while rest.next_if(|segment| *segment == "super").is_some() {
        abs.pop()?;
    }
    abs.extend(rest.cloned());
    Some(abs)
}

/// Turns references into edges between the modules of the folder where they meet. A reference
/// to the module itself or an ancestor, or from a module to its own descendant, is no edge.
fn edges(references: &[Reference]) -> BTreeMap<ModPath, Edges> {
    let mut folders: BTreeMap<ModPath, Edges> = BTreeMap::new();
    for reference in references {
        let (from, to) = (&reference.from, &reference.to);
        let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
        if common == to.len() || common == from.len() {
            continue;
        }
        let folder = folders.entry(from[..common].to_vec()).or_default();
        folder.entry((from[common].clone(), to[common].clone())).or_insert_with(|| reference.at.clone());
    }
    folders
}

/// Reports each import cycle among the modules of `folder`: one message per strongly connected
/// component, with a round trip through all its modules and an example of each edge.
fn cycles(folder: &[String], edges: &Edges) -> Vec<String> {
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        graph.entry(from).or_default().insert(to);
    }
    let reach: BTreeMap<&str, BTreeSet<&str>> = graph.keys().map(|&node| (node, reachable(&graph, node))).collect();
    let name = if folder.is_empty() { "crate root".to_string() } else { folder.join("::") };
    let (mut done, mut out) = (BTreeSet::new(), Vec::new());
    for (&node, reached) in &reach {
        let members: Vec<&str> =
            reached.iter().copied().filter(|other| reach.get(other).is_some_and(|back| back.contains(node))).collect();
        if members.len() < 2 || done.contains(node) {
            continue;
        }
        done.extend(members.iter().copied());
        let mut walk = vec![node];
        for &member in &members {
            if !walk.contains(&member) {
                walk.extend(shortest(&graph, &members, walk[walk.len() - 1], member));
            }
        }
        walk.extend(shortest(&graph, &members, walk[walk.len() - 1], node));
        let mut message = format!("import cycle in {name}: {}", walk.join(" -> "));
        let mut shown = BTreeSet::new();
        for pair in walk.windows(2).filter(|pair| shown.insert((pair[0], pair[1]))) {
            let at = &edges[&(pair[0].to_string(), pair[1].to_string())];
            message.push_str(&format!("\n    {} -> {}: {at}", pair[0], pair[1]));
        }
        out.push(message);
    }
    out
}

/// Every node reachable from `start` in one step or more.
fn reachable<'a>(graph: &BTreeMap<&'a str, BTreeSet<&'a str>>, start: &'a str) -> BTreeSet<&'a str> {
    let (mut seen, mut stack) = (BTreeSet::new(), vec![start]);
    while let Some(node) = stack.pop() {
        for &next in graph.get(node).into_iter().flatten() {
            if seen.insert(next) {
                stack.push(next);
            }
        }
    }
    seen
}

/// The shortest path from `from` to `to` (which may be `from`) through `within`, without `from`.
fn shortest<'a>(
    graph: &BTreeMap<&'a str, BTreeSet<&'a str>>,
    within: &[&str],
    from: &'a str,
    to: &str,
) -> Vec<&'a str> {
    let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    while let Some(node) = queue.pop_front() {
        for &next in graph.get(node).into_iter().flatten() {
            if next == to {
                let (mut path, mut at) = (vec![next], node);
                while at != from {
                    path.push(at);
                    at = previous[at];
                }
                path.reverse();
                return path;
            }
            if within.contains(&next) && next != from && !previous.contains_key(next) {
                previous.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    Vec::new()
}

/// Whether `c` may be part of an identifier.
fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether the token is an identifier or keyword (or `$crate`), not a number or punctuation.
fn is_ident(token: &str) -> bool {
    token == "$crate" || token.starts_with(|c: char| c.is_alphabetic() || c == '_')
}

/// Blanks out comments (doc comments included, block comments nested) and the contents of
/// string, byte string, raw string and char literals; keeps line breaks, so lines stay right.
/// A `'` starts a char literal only if it closes like one: `'a` is a lifetime or a label.
fn strip(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let at = |i: usize, s: &str| s.chars().enumerate().all(|(k, ch)| c.get(i + k) == Some(&ch));
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let (mut out, mut i) = (String::with_capacity(text.len()), 0);
    while i < c.len() {
        let raw = if i > 0 && is_ident_char(c[i - 1]) { None } else { raw_string(&c, i) };
        if at(i, "//") {
            while i < c.len() && c[i] != '\n' {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if at(i, "/*") {
            let mut depth = 0;
            while i < c.len() {
                let step = if at(i, "/*") || at(i, "*/") { 2 } else { 1 };
                depth += usize::from(at(i, "/*"));
                depth -= usize::from(at(i, "*/"));
                c[i..i + step].iter().for_each(|&ch| blank(&mut out, ch));
                i += step;
                if depth == 0 {
                    break;
                }
            }
        } else if let Some((open, hashes)) = raw {
            let close: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            out.push('"');
            i = open + 1;
            while i < c.len() && !at(i, &close) {
                blank(&mut out, c[i]);
                i += 1;
            }
            out.push('"');
            i += hashes + 1;
        } else if c[i] == '"' {
            out.push('"');
            i += 1;
            while i < c.len() && c[i] != '"' {
                let step = if c[i] == '\\' { 2 } else { 1 };
                c[i..(i + step).min(c.len())].iter().for_each(|&ch| blank(&mut out, ch));
                i += step;
            }
            out.push('"');
            i += 1;
        } else if c[i] == '\'' {
            let close = if c.get(i + 1) == Some(&'\\') {
                (i + 3..c.len()).find(|&k| c[k] == '\'')
            } else {
                (c.get(i + 2) == Some(&'\'')).then_some(i + 2)
            };
            out.push('\'');
            i += 1;
            if let Some(close) = close {
                out.push_str(&" ".repeat(close - i));
                out.push('\'');
                i = close + 1;
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// If a raw string literal (`r"`, `r#"`, `br"`, `cr##"`...) starts at `i`, the index of its
/// opening quote and its number of `#`.
fn raw_string(c: &[char], i: usize) -> Option<(usize, usize)> {
    let r = if matches!(c.get(i), Some('b' | 'c')) { i + 1 } else { i };
    if c.get(r) != Some(&'r') {
        return None;
    }
    let hashes = c[r + 1..].iter().take_while(|&&ch| ch == '#').count();
    (c.get(r + 1 + hashes) == Some(&'"')).then_some((r + 1 + hashes, hashes))
}

/// Splits stripped source into identifiers (numbers and `$crate` included), `::`, and single
/// punctuation characters, each with its line number.
fn tokenize(text: &str) -> Vec<(String, usize)> {
    let c: Vec<char> = text.chars().collect();
    let (mut toks, mut line, mut i) = (Vec::new(), 1, 0);
    while i < c.len() {
        let start = i;
        if c[i] == '\n' {
            line += 1;
            i += 1;
        } else if c[i].is_whitespace() {
            i += 1;
        } else if is_ident_char(c[i]) || (c[i] == '$' && c.get(i + 1).is_some_and(|&n| is_ident_char(n))) {
            i += 1;
            while i < c.len() && is_ident_char(c[i]) {
                i += 1;
            }
            toks.push((c[start..i].iter().collect(), line));
        } else if c[i] == ':' && c.get(i + 1) == Some(&':') {
            toks.push(("::".to_string(), line));
            i += 2;
        } else {
            toks.push((c[i].to_string(), line));
            i += 1;
        }
    }
    toks
}

/// A crate source tree (the `src` folder) in a temporary directory, removed when dropped.
struct FakeTree(PathBuf);

impl FakeTree {
    /// Writes `files` (path under `src`, contents) into a fresh directory named after `name`.
    fn new(name: &str, files: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!("wasmpipe-layout-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for (path, text) in files {
            let path = dir.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        Self(dir)
    }

    /// The violations of the tree under `layers`.
    fn check(&self, layers: &[(&str, &[&str])]) -> Vec<String> {
        check_layout(&self.0, layers)
    }

    /// The modules that the file of module `from` (written `a::b`) references, sorted.
    fn targets(&self, from: &str) -> Vec<String> {
        let refs = read_crate(&self.0).references;
        let found = refs.iter().filter(|r| r.from.join("::") == from).map(|r| r.to.join("::"));
        found.collect::<BTreeSet<_>>().into_iter().collect()
    }
}

impl Drop for FakeTree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Layers for the fake trees: model, then plan, then run.
const TEST_LAYERS: &[(&str, &[&str])] = &[("model", &[]), ("plan", &["model"]), ("run", &["model", "plan"])];

/// Ensures that a tree that respects its layers and has no cycle passes.
#[test]
fn clean_layered_tree_passes() {
    let tree = FakeTree::new(
        "clean",
        &[
            (
                "lib.rs",
                "//! Docs for crate::run.\npub mod model;\n#[doc(hidden)]\npub(crate) mod plan;\npub mod run;\n",
            ),
            ("model.rs", "pub struct Pipeline;\n"),
            ("plan/mod.rs", "mod build;\nuse crate::model::Pipeline;\npub struct Plan;\npub fn f() { build::g() }\n"),
            ("plan/build.rs", "use super::Plan;\nuse crate::model::Pipeline;\npub fn g() {}\n"),
            ("run.rs", "use crate::{model::Pipeline, plan::{self, Plan}};\nfn f() { crate::plan::f() }\n"),
        ],
    );
    assert_eq!(tree.check(TEST_LAYERS), Vec::<String>::new());
}

/// Ensures that two top-level modules importing each other are reported with both names.
#[test]
fn root_cycle_is_reported() {
    let tree = FakeTree::new(
        "root-cycle",
        &[
            ("lib.rs", "mod model;\nmod plan;\n"),
            ("model.rs", "use crate::plan::Plan;\npub struct Pipeline;\n"),
            ("plan.rs", "pub struct Plan;\n\nfn f(_: crate::model::Pipeline) {}\n"),
        ],
    );
    let violations = tree.check(&[("model", &["plan"]), ("plan", &["model"])]);
    assert_eq!(
        violations,
        ["import cycle in crate root: model -> plan -> model\n    model -> plan: model.rs:1: crate::plan::Plan\n    \
          plan -> model: plan.rs:3: crate::model::Pipeline"]
    );
}

/// Ensures that a cycle between two modules of the same folder is reported.
#[test]
fn folder_cycle_is_reported() {
    let tree = FakeTree::new(
        "folder-cycle",
        &[
            ("lib.rs", "pub mod run;\n"),
            ("run/mod.rs", "mod bind;\nmod pool;\n"),
            ("run/bind.rs", "use super::pool::Worker;\npub struct Bound;\n"),
            ("run/pool.rs", "pub struct Worker;\nfn f() -> super::bind::Bound {\n    todo!()\n}\n"),
        ],
    );
    let violations = tree.check(&[("run", &[])]);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].starts_with("import cycle in run: bind -> pool -> bind\n"), "{violations:?}");
}

/// Ensures that a child using its folder's `mod.rs`, and the `mod.rs` calling the child, is no cycle.
#[test]
fn facade_and_child_are_no_cycle() {
    let tree = FakeTree::new(
        "facade",
        &[
            ("lib.rs", "mod model;\nmod plan;\n"),
            ("model.rs", ""),
            ("plan/mod.rs", "mod validate;\npub struct Plan;\npub fn f(p: &Plan) {\n    validate::check(p);\n}\n"),
            ("plan/validate.rs", "use super::Plan;\npub fn check(_: &Plan) {\n    self::g(crate::plan::Plan);\n}\n"),
        ],
    );
    assert_eq!(tree.check(TEST_LAYERS), Vec::<String>::new());
}

/// Ensures that a lower layer importing a higher one is reported with where and what is allowed.
#[test]
fn upward_import_is_reported() {
    let tree = FakeTree::new(
        "upward",
        &[
            ("lib.rs", "mod model;\nmod plan;\nmod run;\n"),
            ("model.rs", "pub struct Pipeline;\n"),
            ("plan/mod.rs", "mod check;\n"),
            ("plan/check.rs", "use crate::model::Pipeline;\n\nuse crate::run::Runner;\n"),
            ("run.rs", "pub struct Runner;\n"),
        ],
    );
    assert_eq!(
        tree.check(TEST_LAYERS),
        ["layer violation: plan may not import run (plan/check.rs:3: crate::run::Runner); allowed: model"]
    );
}

/// Ensures that nested use trees, `self`, `as`, globs and inline paths are all resolved.
#[test]
fn use_trees_are_parsed() {
    let tree = FakeTree::new(
        "use-trees",
        &[
            ("lib.rs", "mod a;\nmod d;\nmod e;\nmod g;\nmod h;\nmod x;\n"),
            ("a/mod.rs", "pub mod b;\n"),
            ("a/b.rs", ""),
            ("d.rs", ""),
            ("e.rs", ""),
            ("g.rs", ""),
            ("h/mod.rs", "pub mod k;\n"),
            ("h/k.rs", ""),
            (
                "x.rs",
                "use crate::{\n    a::{self, b::C},\n    d,\n};\nuse crate::e as f;\npub use crate::g::*;\n\
                 fn f() {\n    crate::h::k::f::<u8>();\n}\n",
            ),
        ],
    );
    assert_eq!(tree.targets("x"), ["a", "a::b", "d", "e", "g", "h::k"]);
}

/// Ensures that crate paths in comments, doc comments and string literals are ignored.
#[test]
fn comments_and_literals_are_ignored() {
    let source = r##"//! Uses crate::y::Doc.
/// See crate::y::f.
// crate::y::g
/* crate::y::h /* nested */ crate::y::i */
fn f<'a>(s: &'a str) -> (&'a str, char, char, &'static str) {
    let _ = "crate::y::j \" crate::y::k";
    let _ = r#"crate::y::l " crate::y::m"#;
    let _ = (b"crate::y", br"crate::y", b'x');
    (s, '"', '\'', "crate::y::n")
}
fn g() {
    crate::z::real();
}
"##;
    let tree = FakeTree::new(
        "literals",
        &[("lib.rs", "mod x;\nmod y;\nmod z;\n"), ("x.rs", source), ("y.rs", ""), ("z.rs", "")],
    );
    assert_eq!(tree.targets("x"), ["z"]);
    assert!(read_crate(&tree.0).references.iter().any(|r| r.at == "x.rs:12: crate::z::real"));
}

/// Ensures that `super` inside an inline `mod tests` is relative to the file's own module.
#[test]
fn super_in_inline_tests_is_the_file_module() {
    let tree = FakeTree::new(
        "inline-tests",
        &[
            ("lib.rs", "mod a;\n"),
            ("a/mod.rs", "mod b;\nmod c;\n"),
            (
                "a/b.rs",
                "mod c;\npub struct B;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use super::c::In;\n}\n",
            ),
            ("a/b/c.rs", "pub struct In;\n"),
            ("a/c.rs", "use super::b::B;\n"),
        ],
    );
    assert_eq!(tree.targets("a::b"), ["a::b", "a::b::c"]);
    assert_eq!(tree.check(&[("a", &[])]), Vec::<String>::new());
}

/// Ensures that a top-level module missing from the layers table is reported.
#[test]
fn module_without_layer_is_reported() {
    let tree = FakeTree::new("no-layer", &[("lib.rs", "mod model;\nmod util;\n"), ("model.rs", ""), ("util.rs", "")]);
    assert_eq!(
        tree.check(TEST_LAYERS),
        ["top-level module `util` has no layer: add `util` to LAYERS in tests/layout.rs"]
    );
}

/// Ensures that `#[path]` and a `mod` without a file are reported rather than skipped.
#[test]
fn unsupported_layouts_are_reported() {
    let tree = FakeTree::new("unsupported", &[("lib.rs", "#[path = \"other.rs\"]\nmod model;\nmod plan;\n")]);
    assert_eq!(
        tree.check(TEST_LAYERS),
        [
            "lib.rs:1: `#[path]` is not supported by tests/layout.rs",
            "lib.rs:2: no file model.rs or model/mod.rs for this `mod`",
            "lib.rs:3: no file plan.rs or plan/mod.rs for this `mod`",
        ]
    );
}
