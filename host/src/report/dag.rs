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

use super::templates::{STATES, Template, state_index};
use crate::record::TaskState;

/// Graphs with more boxes than this are not laid out (the layout's time grows faster than the
/// number of boxes); the report says so instead.
pub(super) const MAX_BOXES: usize = 400;

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
    let drawn = std::panic::catch_unwind(|| draw(templates));
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
fn draw(templates: &[Template]) -> (String, (f64, f64)) {
    let mut graph = VisualGraph::new(Orientation::TopToBottom);
    let nodes: Vec<_> = templates.iter().map(|t| graph.add_node(node(t))).collect();
    let index: HashMap<&str, usize> = templates.iter().enumerate().map(|(i, t)| (t.id.as_str(), i)).collect();
    for (to, template) in templates.iter().enumerate() {
        for dep in &template.depends_on {
            let from = match index.get(dep.as_str()) {
                Some(&from) => vec![from],
                None => last_of(templates, dep),
            };
            for from in from {
                graph.add_edge(edge(LineStyleKind::Normal), nodes[from], nodes[to]);
            }
        }
        if template.exit_handler {
            for from in last_of(templates, template.group()) {
                if from != to {
                    graph.add_edge(edge(LineStyleKind::Dashed), nodes[from], nodes[to]);
                }
            }
        }
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

/// The box of a template: its id, its component, and (for several instances) the counts.
fn node(template: &Template) -> Element {
    let mut label = format!("{}\n{}", template.id, template.component);
    if template.exit_handler {
        label.push_str(" (exit task)");
    }
    if template.tasks.len() != 1 {
        let counts: Vec<String> = STATES
            .iter()
            .filter(|s| template.counts[state_index(**s)] > 0)
            .map(|s| format!("{} {}", template.counts[state_index(*s)], super::state_word(*s)))
            .collect();
        label.push('\n');
        label.push_str(&if counts.is_empty() { "not run".into() } else { counts.join(", ") });
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
/// the group's exit task not counted as waiting); the whole pipeline for "".
fn last_of(templates: &[Template], group: &str) -> Vec<usize> {
    let inside = |t: &Template| group.is_empty() || within(&t.id, group);
    let members: Vec<usize> =
        (0..templates.len()).filter(|&i| inside(&templates[i]) && !is_exit_of(&templates[i], group)).collect();
    members
        .iter()
        .copied()
        .filter(|&i| {
            !members
                .iter()
                .any(|&j| templates[j].depends_on.iter().any(|d| d == &templates[i].id || within(&templates[i].id, d)))
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
