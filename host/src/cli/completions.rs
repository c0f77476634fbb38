//! `wasmpipe completions SHELL`: the shell completion script for the command line (clap_complete).

use std::process::ExitCode;

use clap::CommandFactory;

use super::args::Cli;

/// Prints the completion script of `shell` on stdout: exit code 0.
pub fn print(shell: clap_complete::Shell) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "wasmpipe", &mut script);
    out!("{}", String::from_utf8_lossy(&script));
    ExitCode::SUCCESS
}
