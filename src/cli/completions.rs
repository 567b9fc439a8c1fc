//! `sc-assoc completions bash|zsh|fish`: the completion scripts clap_complete generates from the
//! same definitions as `--help`, written whole or not at all.
//!
//! clap_complete's bash script keys its `case` labels on the binary name with `-` turned into
//! `__` (`sc__assoc__apply`) but starts from the name as typed, so for a hyphenated name like
//! `sc-assoc` no subcommand label ever matches and nothing past the first word completes. The
//! script is generated for an underscore name and then pointed at the real binary, which keeps
//! every label consistent.

use super::{Cli, Shell};
use clap::CommandFactory;

const BINARY: &str = "sc-assoc";

/// The completion script for `shell`.
pub fn script(shell: Shell) -> String {
    let mut buffer = Vec::new();
    let mut command = Cli::command();
    match shell {
        Shell::Bash => clap_complete::generate(
            clap_complete::Shell::Bash,
            &mut command,
            BINARY,
            &mut buffer,
        ),
        Shell::Zsh => {
            clap_complete::generate(clap_complete::Shell::Zsh, &mut command, BINARY, &mut buffer)
        }
        Shell::Fish => clap_complete::generate(
            clap_complete::Shell::Fish,
            &mut command,
            BINARY,
            &mut buffer,
        ),
    }
    String::from_utf8_lossy(&buffer).into_owned()
}
