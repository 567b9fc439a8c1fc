//! `sc-assoc completions bash|zsh|fish`: the completion scripts clap_complete generates from the
//! same definitions as `--help`, and the one workaround that makes its bash script work for a
//! binary whose name has a hyphen.
//!
//! clap_complete 4.6's bash script walks the typed words and names the state it reaches by
//! escaping the bin name (`-` → `__`) and each subcommand separately: `sc__assoc__subcmd__apply`.
//! The `case` arms that hold each subcommand's flags are labelled by escaping the whole path in
//! one pass (`-` → `__subcmd__`), which also rewrites the hyphen in the bin name:
//! `sc__subcmd__assoc__subcmd__apply`. No arm ever matches, so in bash nothing after a
//! subcommand completes (its flags, their values, the global flags); only the first word does.
//! This is clap-rs/clap#6421, still there in clap_complete 4.6.11. zsh and fish keep the bin
//! name as given and are not affected.
//!
//! The bash script is therefore generated for `sc__assoc`, the name clap_complete itself derives
//! from `sc-assoc`. It has no hyphen, so both spellings agree. The script depends on the bin name
//! only in its `complete` registration lines, which are then pointed back at `sc-assoc`.

use super::{Cli, Shell};
use clap::CommandFactory;

const BINARY: &str = "sc-assoc";

/// What the bash script is generated for: `BINARY` with `-` escaped the way clap_complete
/// escapes it, so its function is still `_sc__assoc`.
const BASH_GENERATED_FOR: &str = "sc__assoc";

/// The completion script for `shell`.
pub fn script(shell: Shell) -> String {
    let mut command = Cli::command();
    match shell {
        Shell::Bash => {
            let script = generate(clap_complete::Shell::Bash, &mut command, BASH_GENERATED_FOR);
            register_bash_for_binary(&script)
        }
        Shell::Zsh => generate(clap_complete::Shell::Zsh, &mut command, BINARY),
        Shell::Fish => generate(clap_complete::Shell::Fish, &mut command, BINARY),
    }
}

fn generate(shell: clap_complete::Shell, command: &mut clap::Command, name: &str) -> String {
    let mut buffer = Vec::new();
    clap_complete::generate(shell, command, name, &mut buffer);
    String::from_utf8_lossy(&buffer).into_owned()
}

/// Rewrites the last word of the `complete -F _sc__assoc [options] sc__assoc` lines (one per
/// bash version branch) to `sc-assoc`. Nothing else in the script names the binary: the
/// function reads the typed name from `$1`. The bash completion test reaches the function only
/// through this registration.
fn register_bash_for_binary(script: &str) -> String {
    let generated_suffix = format!(" {BASH_GENERATED_FOR}");
    let mut out = String::with_capacity(script.len());
    for line in script.split_inclusive('\n') {
        let text = line.trim_end_matches('\n');
        match text.strip_suffix(&generated_suffix) {
            Some(head) if text.trim_start().starts_with("complete -F ") => {
                out.push_str(head);
                out.push(' ');
                out.push_str(BINARY);
                out.push_str(&line[text.len()..]);
            }
            _ => out.push_str(line),
        }
    }
    out
}
