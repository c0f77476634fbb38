//! The pipeline as a graph, for people: Graphviz DOT or Mermaid text (`wasmpipe graph`).
//!
//! Groups are clusters (subgraphs): an exit handler's body, with its exit task drawn after it
//! and a dotted `finally` edge from the body; `if`/`elif`/`else` with their conditions;
//! `parallel_for` with its items, drawn once (one iteration stands for all); sub-pipelines with
//! their own steps. An edge goes from what a task (or a condition, a loop's items, a
//! sub-pipeline's inputs) reads or waits for to the task. Drawn from the plan, so sub-pipeline
//! files are read; components are not loaded.

use std::fmt::Write as _;
use std::path::Path;

use crate::model::diag::Diagnostics;
use crate::model::load;
use crate::plan::{Child, GroupIdx, Idx, Plan, PlanGroup, TaskIdx};

/// The text format of a graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
}

/// Reads the pipeline file at `path` (and its sub-pipelines) and draws it in `format`; the
/// problems that keep the file from being read are returned as diagnostics.
pub fn draw_file(path: &Path, format: GraphFormat) -> Result<String, Diagnostics> {
    let plan = Plan::build(load::load_file(path)?);
    if !plan.errors.is_empty() {
        return Err(Diagnostics { errors: plan.errors.clone() });
    }
    Ok(match format {
        GraphFormat::Dot => draw(&plan, &Dot),
        GraphFormat::Mermaid => draw(&plan, &Mermaid),
    })
}

/// What a group is, in a line: `exit_handler guard`, `if {{params.n}} > 1`, `parallel_for fan
/// over 3 items`, `sub-pipeline train (train.yaml)`.
fn group_label(plan: &Plan, group: &PlanGroup) -> String {
    if let Some(branch) = &group.branch {
        return match &branch.text {
            Some(text) => format!("{} {text}", branch.key),
            None => branch.key.to_string(),
        };
    }
    if let Some(looping) = &group.looping {
        let parallelism = looping.parallelism.map(|p| format!(", {p} at a time")).unwrap_or_default();
        return format!("parallel_for {} over {}{parallelism}", group.name, looping.label);
    }
    if let Some(sub) = &group.sub {
        let name = &plan.scopes[sub.scope].pipeline.name;
        return match &sub.recursion {
            Some(call) => format!("{} calls {name} again, up to {} levels deep", group.name, call.max_depth),
            None => format!("sub-pipeline {} ({name})", group.name),
        };
    }
    if group.exit.is_some() {
        return format!("exit_handler {}", group.name);
    }
    group.name.clone()
}

/// A task's label: its name, `(exit handler)` for an exit task, and its component.
fn task_label(plan: &Plan, t: TaskIdx) -> String {
    let task = &plan.tasks[t];
    let role = if task.is_exit { " (exit handler)" } else { "" };
    format!("{}{role}\n{}", task.name, task.component)
}

/// The children of group `g` as drawn: a loop's iteration template stands for its children; a
/// pipeline's call of itself is drawn empty (its steps are those drawn around it).
fn drawn_children(plan: &Plan, g: GroupIdx) -> Vec<Child> {
    let mut children = Vec::new();
    if plan.is_call(g) {
        return children;
    }
    for &child in &plan.groups[g].children {
        match child {
            Child::Group(h) if plan.groups[h].iteration => children.extend(drawn_children(plan, h)),
            other => children.push(other),
        }
    }
    children
}

/// What group `g` reads: its condition's, its items' or its sub-pipeline's inputs' tasks.
fn group_deps(group: &PlanGroup) -> &[Child] {
    if let Some(branch) = &group.branch {
        return &branch.deps;
    }
    if let Some(looping) = &group.looping {
        return &looping.deps;
    }
    group.sub.as_ref().map(|s| s.deps.as_slice()).unwrap_or_default()
}

/// The drawn group that stands for group `g` (an iteration template is drawn as its loop).
fn drawn_group(plan: &Plan, g: GroupIdx) -> GroupIdx {
    match plan.groups[g].parent {
        Some(parent) if plan.groups[g].iteration => parent,
        _ => g,
    }
}

/// Whether group `g` is, or is inside, a pipeline's call of itself (not drawn).
fn inside_call(plan: &Plan, g: GroupIdx) -> bool {
    let mut cur = Some(g);
    while let Some(k) = cur {
        if plan.is_call(k) {
            return true;
        }
        cur = plan.groups[k].parent;
    }
    false
}

/// The edges of the plan: (from, to, dotted `finally`).
fn edges(plan: &Plan) -> Vec<(Child, Child, bool)> {
    let mut edges = Vec::new();
    let from = |d: Child| match d {
        Child::Group(h) => Child::Group(drawn_group(plan, h)),
        task => task,
    };
    for (t, task) in plan.tasks.iter_enumerated() {
        if inside_call(plan, task.group) {
            continue;
        }
        let deps = task.deps.iter().chain(task.alternatives.iter().flat_map(|a| &a.branches));
        edges.extend(deps.map(|&d| (from(d), Child::Task(t), false)));
    }
    for (g, group) in plan.groups.iter_enumerated() {
        if group.iteration || group.parent.is_some_and(|p| inside_call(plan, p)) {
            continue;
        }
        edges.extend(group_deps(group).iter().map(|&d| (from(d), Child::Group(g), false)));
        if let Some(exit) = group.exit {
            edges.push((Child::Group(g), Child::Task(exit), true));
        }
    }
    edges
}

/// One text format: the lines it writes for each part of the graph (without indentation).
trait Syntax {
    /// The lines before the groups and tasks.
    fn header(&self, plan: &Plan) -> String;
    /// A task's node.
    fn task(&self, plan: &Plan, t: TaskIdx) -> String;
    /// The lines that open group `g`'s cluster.
    fn open(&self, plan: &Plan, g: GroupIdx) -> Vec<String>;
    /// The line that closes a cluster.
    fn close(&self) -> &'static str;
    /// An edge (`finally`: from an exit handler's body to its exit task).
    fn edge(&self, from: Child, to: Child, finally: bool) -> String;
    /// The lines after the edges.
    fn footer(&self) -> &'static str;
}

/// Draws the plan in `syntax`: its groups and tasks, nested and indented, then its edges.
fn draw(plan: &Plan, syntax: &impl Syntax) -> String {
    let mut out = syntax.header(plan);
    write_group(plan, syntax, GroupIdx::ROOT, 1, &mut out);
    for (from, to, finally) in edges(plan) {
        let _ = writeln!(out, "  {}", syntax.edge(from, to, finally));
    }
    out.push_str(syntax.footer());
    out
}

/// Writes the children of group `g` at `depth`: tasks, and clusters of groups with their exit
/// task after them.
fn write_group(plan: &Plan, syntax: &impl Syntax, g: GroupIdx, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    for child in drawn_children(plan, g) {
        match child {
            Child::Task(t) => {
                let _ = writeln!(out, "{pad}{}", syntax.task(plan, t));
            }
            Child::Group(h) => {
                let lines = syntax.open(plan, h);
                let _ = writeln!(out, "{pad}{}", lines[0]);
                for line in &lines[1..] {
                    let _ = writeln!(out, "{pad}  {line}");
                }
                write_group(plan, syntax, h, depth + 1, out);
                let _ = writeln!(out, "{pad}{}", syntax.close());
                if let Some(exit) = plan.groups[h].exit {
                    let _ = writeln!(out, "{pad}{}", syntax.task(plan, exit));
                }
            }
        }
    }
}

/// A node's id (`t3`) or a group's (`g2`).
fn node_id(child: Child) -> String {
    match child {
        Child::Task(t) => format!("t{}", t.index()),
        Child::Group(g) => format!("g{}", g.index()),
    }
}

/// Graphviz DOT.
struct Dot;

impl Syntax for Dot {
    fn header(&self, plan: &Plan) -> String {
        format!(
            "digraph {} {{\n  compound=true;\n  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"sans-serif\"];\n  edge [fontname=\"sans-serif\"];\n",
            dot_quote(&plan.name)
        )
    }

    fn task(&self, plan: &Plan, t: TaskIdx) -> String {
        let style = if plan.tasks[t].is_exit { ", style=\"rounded,bold\"" } else { "" };
        format!("t{} [label={}{style}];", t.index(), dot_quote(&task_label(plan, t)))
    }

    /// A cluster, with an invisible point inside for the edges that start or end at the group
    /// (clipped at the cluster's border).
    fn open(&self, plan: &Plan, g: GroupIdx) -> Vec<String> {
        let group = &plan.groups[g];
        let style = if group.exit.is_some() { "rounded,dashed" } else { "rounded" };
        vec![
            format!("subgraph cluster_g{} {{", g.index()),
            format!("label={}; style=\"{style}\";", dot_quote(&group_label(plan, group))),
            format!("g{} [shape=point, style=invis, width=0, label=\"\"];", g.index()),
        ]
    }

    fn close(&self) -> &'static str {
        "}"
    }

    fn edge(&self, from: Child, to: Child, finally: bool) -> String {
        let clip = |child: Child| match child {
            Child::Group(g) => Some(format!("cluster_g{}", g.index())),
            Child::Task(_) => None,
        };
        let mut attrs: Vec<String> = Vec::new();
        attrs.extend(clip(from).map(|c| format!("ltail={c}")));
        attrs.extend(clip(to).map(|c| format!("lhead={c}")));
        if finally {
            attrs.push("style=dotted, label=\"finally\"".into());
        }
        let attrs = if attrs.is_empty() { String::new() } else { format!(" [{}]", attrs.join(", ")) };
        format!("{} -> {}{attrs};", node_id(from), node_id(to))
    }

    fn footer(&self) -> &'static str {
        "}\n"
    }
}

/// A DOT string literal.
fn dot_quote(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    format!("\"{escaped}\"")
}

/// A Mermaid flowchart.
struct Mermaid;

impl Syntax for Mermaid {
    fn header(&self, plan: &Plan) -> String {
        format!("---\ntitle: {}\n---\nflowchart TD\n", mermaid_text(&plan.name))
    }

    fn task(&self, plan: &Plan, t: TaskIdx) -> String {
        let label = mermaid_text(&task_label(plan, t)).replace('\n', "<br>");
        let (open, close) = if plan.tasks[t].is_exit { ("[[", "]]") } else { ("(", ")") };
        format!("t{}{open}\"{label}\"{close}", t.index())
    }

    fn open(&self, plan: &Plan, g: GroupIdx) -> Vec<String> {
        vec![format!("subgraph g{}[\"{}\"]", g.index(), mermaid_text(&group_label(plan, &plan.groups[g])))]
    }

    fn close(&self) -> &'static str {
        "end"
    }

    fn edge(&self, from: Child, to: Child, finally: bool) -> String {
        let arrow = if finally { "-. finally .->" } else { "-->" };
        format!("{} {arrow} {}", node_id(from), node_id(to))
    }

    fn footer(&self) -> &'static str {
        ""
    }
}

/// Text inside a Mermaid label: quotes and angle brackets as entities.
fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;").replace('<', "#lt;").replace('>', "#gt;")
}
