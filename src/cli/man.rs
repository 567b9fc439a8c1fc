//! `sc-assoc man [COMMAND]`: manual pages in roff, rendered by clap_mangen from the same clap
//! definitions as `--help` and the completion scripts, so the three never disagree.
//!
//! Without a command it prints `sc-assoc(1)`, whose COMMANDS section names each subcommand as
//! `sc-assoc-<command>(1)`; with one it prints that page, global options included. Pages go to
//! stdout so packagers and users choose where they live (`man -l -` reads one directly).

use super::Cli;
use clap::CommandFactory;

/// The page of `command` (a subcommand's name), or of `sc-assoc` itself when `None`.
pub fn page(command: Option<&str>) -> Result<String, String> {
    // clap's own `help` subcommand gets no page: `--help` is on every page already.
    let mut cli = Cli::command().disable_help_subcommand(true);
    // Building propagates global options into every subcommand and gives each its display name
    // (`sc-assoc-plan`), which becomes the page title.
    cli.build();
    let target = match command {
        None => cli,
        Some(name) => cli
            .get_subcommands()
            .find(|sub| sub.get_name() == name && !sub.is_hide_set())
            .cloned()
            .ok_or_else(|| {
                format!(
                    "no command `{name}` (the commands are: {})",
                    names().join(", ")
                )
            })?,
    };
    let mut roff = Vec::new();
    // A subcommand has no version of its own, and the page's `.TH` line would carry its name
    // where the version goes: every page gets the program's.
    clap_mangen::Man::new(target.version(super::VERSION))
        .render(&mut roff)
        .map_err(|e| format!("cannot render the manual page: {e}"))?;
    String::from_utf8(roff).map_err(|e| format!("the manual page is not UTF-8: {e}"))
}

/// The commands that have a page, in `--help` order.
fn names() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set())
        .map(|sub| sub.get_name().to_string())
        .collect()
}
