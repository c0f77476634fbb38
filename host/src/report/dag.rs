//! The run's graph for the report: one box per task of the pipeline (a loop's task once, with
//! its instances counted by state), colored by state, laid out in layers by `layout-rs` and
//! drawn as SVG.
//!
//! Edges: a task's dependencies on other tasks; a dependency on a group comes from the group's
//! last tasks (those no other task of the group waits for); an exit task is reached, dashed,
//! from the last tasks of its group's body.

use std::collections::HashMap;

use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::geometry::Point;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;

use super::templates::Template;
use crate::record::TaskState;

/// Graphs with more boxes than this are not laid out (the layout's time grows faster than the
/// number of boxes); the report says so instead.
pub(super) const MAX_BOXES: usize = 400;

/// Graphs with more edges than this are not laid out either (a hostile record may list any
/// number of dependencies).
pub(super) const MAX_EDGES: usize = 4 * MAX_BOXES;

/// The font size of the boxes' text, in pixels.
const FONT: usize = 14;

/// The fill color of a box in `state`.
pub(super) fn fill(state: TaskState) -> u32 {
    match state {
        TaskState::Succeeded => 0xc8e6c9ff,
        TaskState::Failed => 0xffcdd2ff,
        TaskState::Skipped => 0xeeeeeeff,
        TaskState::Cancelled => 0xffe0b2ff,
    }
}

/// The graph of `templates` as an SVG element, or why there is none.
pub(super) fn svg(templates: &[Template]) -> Result<String, String> {
    if templates.len() > MAX_BOXES {
        return Err(format!(
            "The graph is not drawn: {} tasks are more than the {MAX_BOXES} it lays out.",
            templates.len()
        ));
    }
    if templates.is_empty() {
        return Err("The run has no tasks.".into());
    }
    let edges = edges(templates);
    if edges.len() > MAX_EDGES {
        return Err(format!(
            "The graph is not drawn: {} edges are more than the {MAX_EDGES} it lays out.",
            edges.len()
        ));
    }
    let drawn = std::panic::catch_unwind(|| draw(templates, &edges));
    let (svg, (width, height)) =
        drawn.map_err(|_| "The graph could not be laid out (a fault in the layout library).".to_string())?;
    // The writer sizes the picture from its text's length too, which leaves a tall empty band:
    // the opening tag is written again with the size of what was laid out (and inline SVG in
    // HTML takes no XML declaration).
    let body = svg.find("<svg").and_then(|at| svg[at..].find('>').map(|end| &svg[at + end + 1..]));
    match body {
        Some(body) => Ok(format!(
            "<svg width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">{body}"
        )),
        None => Err("The graph could not be drawn.".into()),
    }
}

/// The SVG of the graph, and the width and height its boxes take.
fn draw(templates: &[Template], edges: &[(usize, usize, bool)]) -> (String, (f64, f64)) {
    let mut graph = VisualGraph::new(Orientation::TopToBottom);
    // The library checks the graph for cycles after each edge by walking every path, which
    // takes exponential time on chains of fork-joins; it turns cycles around itself when it lays
    // the graph out.
    graph.dag.set_validate(false);
    let nodes: Vec<_> = templates.iter().map(|t| graph.add_node(node(t))).collect();
    for &(from, to, dashed) in edges {
        let style = if dashed { LineStyleKind::Dashed } else { LineStyleKind::Normal };
        graph.add_edge(edge(style), nodes[from], nodes[to]);
    }
    let mut writer = SVGWriter::new();
    graph.do_it(false, false, false, &mut writer);
    let (mut width, mut height) = (0.0f64, 0.0f64);
    for node in graph.iter_nodes() {
        let pos = graph.pos(node);
        width = width.max(pos.right(true));
        height = height.max(pos.bottom(true));
    }
    (writer.finalize(), (width + 10.0, height + 10.0))
}

/// The edges between templates (from, to, dashed), each once, none from a box to itself: a
/// dependency on a template, a dependency on a group from the group's last tasks, and an exit
/// task from the last tasks of its body (dashed).
fn edges(templates: &[Template]) -> Vec<(usize, usize, bool)> {
    let index: HashMap<&str, usize> = templates.iter().enumerate().map(|(i, t)| (t.id.as_str(), i)).collect();
    let mut last: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut edges = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (to, template) in templates.iter().enumerate() {
        let deps = template.depends_on.iter().map(|d| (d.as_str(), false));
        let exit = template.exit_handler.then(|| (template.group(), true));
        for (dep, dashed) in deps.chain(exit) {
            let from = match index.get(dep) {
                Some(&from) if !dashed => vec![from],
                _ => last.entry(dep).or_insert_with(|| last_of(templates, dep)).clone(),
            };
            for from in from {
                if from != to && seen.insert((from, to)) {
                    edges.push((from, to, dashed));
                }
            }
        }
        if seen.len() > MAX_EDGES {
            break;
        }
    }
    edges
}

/// The box of a template: its id, its component, and (for several instances) the counts.
fn node(template: &Template) -> Element {
    let mut label = format!("{}\n{}", template.id, template.component);
    if template.exit_handler {
        label.push_str(" (exit task)");
    }
    if template.tasks.len() != 1 {
        let counts = template.counts_text();
        label.push('\n');
        label.push_str(if counts.is_empty() { "not run" } else { &counts });
    }
    let widest = label.lines().map(|l| l.chars().count()).max().unwrap_or(1);
    let size =
        Point::new(widest as f64 * FONT as f64 * 0.62 + 24.0, label.lines().count() as f64 * FONT as f64 * 1.3 + 16.0);
    let look = StyleAttr::new(Color::new(0x455a64ff), 1, Some(Color::new(fill(template.state()))), 6, FONT);
    Element::create(ShapeKind::new_box(&label), look, Orientation::LeftToRight, size)
}

fn edge(style: LineStyleKind) -> Arrow {
    let look = StyleAttr::new(Color::new(0x607d8bff), 1, None, 0, FONT);
    Arrow::new(LineEndKind::None, LineEndKind::Arrow, style, "", &look, &None, &None)
}

/// The last tasks of `group` (templates under it that no other template under it depends on,
/// directly or through a group that holds them; the group's exit task not counted as waiting);
/// the whole pipeline for "". Linear in the members and their dependencies.
fn last_of(templates: &[Template], group: &str) -> Vec<usize> {
    let inside = |t: &Template| group.is_empty() || within(&t.id, group);
    let members: Vec<usize> =
        (0..templates.len()).filter(|&i| inside(&templates[i]) && !is_exit_of(&templates[i], group)).collect();
    let waited_for: std::collections::HashSet<&str> =
        members.iter().flat_map(|&j| templates[j].depends_on.iter().map(String::as_str)).collect();
    members
        .into_iter()
        .filter(|&i| {
            // The template's id and each group around it (`a/b/c`, `a/b`, `a`).
            let id = templates[i].id.as_str();
            let mut ancestors = std::iter::successors(Some(id), |p| p.rsplit_once('/').map(|(head, _)| head));
            !ancestors.any(|p| waited_for.contains(p))
        })
        .collect()
}

/// Whether `template` is the exit task of `group` itself.
fn is_exit_of(template: &Template, group: &str) -> bool {
    template.exit_handler && template.group() == group
}

/// Whether `id` lies inside group `group`.
fn within(id: &str, group: &str) -> bool {
    id.strip_prefix(group).is_some_and(|rest| rest.starts_with('/'))
}
