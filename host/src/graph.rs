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
        GraphFormat::Dot => Dot { plan: &plan, out: String::new() }.draw(),
        GraphFormat::Mermaid => Mermaid { plan: &plan, out: String::new() }.draw(),
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
        return format!("sub-pipeline {} ({})", group.name, plan.scopes[sub.scope].pipeline.name);
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

/// The children of group `g` as drawn: a loop's iteration template stands for its children.
fn drawn_children(plan: &Plan, g: GroupIdx) -> Vec<Child> {
    let mut children = Vec::new();
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

/// The edges of the plan: (from, to, dotted `finally`).
fn edges(plan: &Plan) -> Vec<(Child, Child, bool)> {
    let mut edges = Vec::new();
    let from = |d: Child| match d {
        Child::Group(h) => Child::Group(drawn_group(plan, h)),
        task => task,
    };
    for (t, task) in plan.tasks.iter_enumerated() {
        edges.extend(task.deps.iter().map(|&d| (from(d), Child::Task(t), false)));
    }
    for (g, group) in plan.groups.iter_enumerated() {
        if group.iteration {
            continue;
        }
        edges.extend(group_deps(group).iter().map(|&d| (from(d), Child::Group(g), false)));
        if let Some(exit) = group.exit {
            edges.push((Child::Group(g), Child::Task(exit), true));
        }
    }
    edges
}

/// Writes DOT.
struct Dot<'a> {
    plan: &'a Plan,
    out: String,
}

impl Dot<'_> {
    fn draw(mut self) -> String {
        let plan = self.plan;
        let _ = writeln!(self.out, "digraph {} {{", dot_quote(&plan.name));
        self.out
            .push_str("  compound=true;\n  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"sans-serif\"];\n");
        self.out.push_str("  edge [fontname=\"sans-serif\"];\n");
        self.group_body(GroupIdx::ROOT, 1);
        for (from, to, finally) in edges(plan) {
            let (a, tail) = self.end(from);
            let (b, head) = self.end(to);
            let mut attrs = Vec::new();
            if let Some(tail) = tail {
                attrs.push(format!("ltail={tail}"));
            }
            if let Some(head) = head {
                attrs.push(format!("lhead={head}"));
            }
            if finally {
                attrs.push("style=dotted, label=\"finally\"".into());
            }
            let attrs = if attrs.is_empty() { String::new() } else { format!(" [{}]", attrs.join(", ")) };
            let _ = writeln!(self.out, "  {a} -> {b}{attrs};");
        }
        self.out.push_str("}\n");
        self.out
    }

    /// The node an edge ends at, and the cluster to clip it at for a group.
    fn end(&self, child: Child) -> (String, Option<String>) {
        match child {
            Child::Task(t) => (format!("t{}", t.index()), None),
            Child::Group(g) => (format!("g{}", g.index()), Some(format!("cluster_g{}", g.index()))),
        }
    }

    fn group_body(&mut self, g: GroupIdx, depth: usize) {
        let plan = self.plan;
        let pad = "  ".repeat(depth);
        for child in drawn_children(plan, g) {
            match child {
                Child::Task(t) => self.task(t, depth),
                Child::Group(h) => {
                    let group = &plan.groups[h];
                    let _ = writeln!(self.out, "{pad}subgraph cluster_g{} {{", h.index());
                    let style = if group.exit.is_some() { "rounded,dashed" } else { "rounded" };
                    let _ =
                        writeln!(self.out, "{pad}  label={}; style=\"{style}\";", dot_quote(&group_label(plan, group)));
                    let _ =
                        writeln!(self.out, "{pad}  g{} [shape=point, style=invis, width=0, label=\"\"];", h.index());
                    self.group_body(h, depth + 1);
                    let _ = writeln!(self.out, "{pad}}}");
                    if let Some(exit) = group.exit {
                        self.task(exit, depth);
                    }
                }
            }
        }
    }

    fn task(&mut self, t: TaskIdx, depth: usize) {
        let style = if self.plan.tasks[t].is_exit { ", style=\"rounded,bold\"" } else { "" };
        let label = dot_quote(&task_label(self.plan, t));
        let _ = writeln!(self.out, "{}t{} [label={label}{style}];", "  ".repeat(depth), t.index());
    }
}

/// A DOT string literal.
fn dot_quote(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    format!("\"{escaped}\"")
}

/// Writes a Mermaid flowchart.
struct Mermaid<'a> {
    plan: &'a Plan,
    out: String,
}

impl Mermaid<'_> {
    fn draw(mut self) -> String {
        let plan = self.plan;
        let _ = writeln!(self.out, "---\ntitle: {}\n---\nflowchart TD", mermaid_text(&plan.name));
        self.group_body(GroupIdx::ROOT, 1);
        for (from, to, finally) in edges(plan) {
            let arrow = if finally { "-. finally .->" } else { "-->" };
            let _ = writeln!(self.out, "  {} {arrow} {}", mermaid_id(from), mermaid_id(to));
        }
        self.out
    }

    fn group_body(&mut self, g: GroupIdx, depth: usize) {
        let plan = self.plan;
        let pad = "  ".repeat(depth);
        for child in drawn_children(plan, g) {
            match child {
                Child::Task(t) => self.task(t, depth),
                Child::Group(h) => {
                    let group = &plan.groups[h];
                    let label = mermaid_text(&group_label(plan, group));
                    let _ = writeln!(self.out, "{pad}subgraph g{}[\"{label}\"]", h.index());
                    self.group_body(h, depth + 1);
                    let _ = writeln!(self.out, "{pad}end");
                    if let Some(exit) = group.exit {
                        self.task(exit, depth);
                    }
                }
            }
        }
    }

    fn task(&mut self, t: TaskIdx, depth: usize) {
        let label = mermaid_text(&task_label(self.plan, t)).replace('\n', "<br>");
        let (open, close) = if self.plan.tasks[t].is_exit { ("[[", "]]") } else { ("(", ")") };
        let _ = writeln!(self.out, "{}t{}{open}\"{label}\"{close}", "  ".repeat(depth), t.index());
    }
}

/// A node or subgraph id in Mermaid.
fn mermaid_id(child: Child) -> String {
    match child {
        Child::Task(t) => format!("t{}", t.index()),
        Child::Group(g) => format!("g{}", g.index()),
    }
}

/// Text inside a Mermaid label: quotes and angle brackets as entities.
fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;").replace('<', "#lt;").replace('>', "#gt;")
}
