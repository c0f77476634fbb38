//! Colors by state in the lines the CLI prints: `--color auto|always|never`. `auto` colors only
//! when the lines go to a terminal, and never when `NO_COLOR` is set (no-color.org) or
//! `TERM=dumb`. Decided once per process, before anything is printed.

use std::sync::atomic::{AtomicBool, Ordering};

use anstyle::{AnsiColor, Style};

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Color when printing to a terminal, unless `NO_COLOR` is set or `TERM` is `dumb`.
    Auto,
    /// Always color.
    Always,
    /// Never color.
    Never,
}

static ON: AtomicBool = AtomicBool::new(false);

/// Decides whether lines are colored: `terminal` says whether they go to one.
pub fn set(choice: ColorChoice, terminal: bool) {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let on = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && !no_color && !dumb_terminal(),
    };
    ON.store(on, Ordering::Relaxed);
}

/// Whether `TERM=dumb`: a terminal that takes no escape sequences (no colors, no status area).
pub fn dumb_terminal() -> bool {
    std::env::var_os("TERM").is_some_and(|t| t == "dumb")
}

/// `text` in `style` when colors are on, else as it is.
pub fn paint(text: &str, style: Style) -> String {
    if ON.load(Ordering::Relaxed) { format!("{style}{text}{style:#}") } else { text.to_string() }
}

/// The style of a state's word: green for success, red for failure, yellow for skipped,
/// magenta for cancelled.
pub fn of_state(word: &str) -> Style {
    let color = match word {
        "ok" | "cached" | "succeeded" => AnsiColor::Green,
        "failed" => AnsiColor::Red,
        "skipped" => AnsiColor::Yellow,
        _ => AnsiColor::Magenta,
    };
    Style::new().fg_color(Some(color.into())).bold()
}
