//! The guard on removals: whether `apply --prune` asks a person before it removes anything, and
//! the asking. When the plan removes something and `--yes` was not given, it asks when someone
//! can answer (stdin and stderr both on a terminal) and refuses otherwise: off a terminal (a
//! pipeline, a script) removals need `--yes` or a reviewed plan file (`apply plan.json`), as
//! terraform's need `-auto-approve`. A run over several targets asks once, after every target is
//! planned and before any is applied.

use sc_assoc::control::RunControl;
use sc_assoc::pipeline::Removals;
use std::io::{BufRead, IsTerminal, Write};

/// The one answer that confirms. Not `y` as well: a removal is not undone by a re-run, and the
/// question names the exact word, as Terraform's does.
pub const CONFIRMATION: &str = "yes";

/// What stands between a plan's removals and their being made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Nothing to remove, or `--yes` said so.
    Proceed,
    /// A person is at the terminal (stdin to type, stderr to read): ask.
    Ask,
    /// Removals, no `--yes`, and nobody to ask: refuse, as terraform refuses without
    /// `-auto-approve`. A pipeline applies a reviewed plan file, or says `--yes`.
    Refuse,
}

/// The guard for the planned `removals` (`--prune`'s, and those `absent: true` declares).
pub fn guard(removals: Removals, yes: bool, stdin_tty: bool, stderr_tty: bool) -> Guard {
    if !removals.any() || yes {
        Guard::Proceed
    } else if stdin_tty && stderr_tty {
        Guard::Ask
    } else {
        Guard::Refuse
    }
}

/// Whether stdin and stderr are both terminals, the two the question needs.
pub fn terminal() -> (bool, bool) {
    (
        std::io::stdin().is_terminal(),
        std::io::stderr().is_terminal(),
    )
}

/// The question, left open on its line for the answer.
pub fn question(removals: Removals) -> String {
    let Removals {
        associations,
        actions,
    } = removals;
    let what = match (associations, actions) {
        (_, 0) => format!("Remove {associations} service-action association(s)"),
        (0, _) => format!("Delete {actions} service action(s)"),
        _ => format!(
            "Remove {associations} service-action association(s) and delete {actions} service action(s)"
        ),
    };
    format!("{what}? Only \"{CONFIRMATION}\" confirms: ")
}

/// Whether a line typed in answer confirms. Surrounding blanks and the line end are not part of
/// the answer; case is (`YES` could be a key held down by accident as easily as a choice).
pub fn confirms(line: &str) -> bool {
    line.trim() == CONFIRMATION
}

/// Asks [`question`] on stderr and reads one line from stdin. Anything but `yes`, end of input,
/// a read error, or the run being stopped (an interrupt, `--deadline`) is "no".
pub async fn ask(removals: Removals, control: &RunControl) -> bool {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "{}", question(removals));
    let _ = stderr.flush();
    drop(stderr);
    let (sender, answer) = tokio::sync::oneshot::channel();
    // A thread of its own rather than `spawn_blocking`: a read blocked on the terminal cannot be
    // cancelled, and the runtime waits for its blocking tasks on shutdown, so an interrupted
    // prompt would hang the exit. A detached thread ends with the process.
    let reader = std::thread::Builder::new()
        .name("prompt".to_string())
        .spawn(move || {
            let mut line = String::new();
            let read = std::io::stdin().lock().read_line(&mut line);
            let _ = sender.send(read.map(|_| line));
        });
    if reader.is_err() {
        eprintln!();
        return false;
    }
    tokio::select! {
        answer = answer => match answer {
            Ok(Ok(line)) => {
                // End of input (Ctrl-D) echoes no line end: the next message starts a line.
                if !line.ends_with('\n') {
                    eprintln!();
                }
                confirms(&line)
            }
            _ => {
                eprintln!();
                false
            }
        },
        () = control.stopped() => {
            eprintln!();
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn associations(count: usize) -> Removals {
        Removals {
            associations: count,
            actions: 0,
        }
    }

    #[test]
    fn a_person_at_a_terminal_is_asked_before_removals() {
        assert!(guard(associations(2), false, true, true) == Guard::Ask);
        // Deleting a service action (`absent: true`) is a removal too.
        let delete = Removals {
            associations: 0,
            actions: 1,
        };
        assert!(guard(delete, false, true, true) == Guard::Ask);
    }

    #[test]
    fn nothing_to_remove_asks_nothing() {
        assert!(guard(associations(0), false, true, true) != Guard::Ask);
    }

    #[test]
    fn yes_waives_the_question() {
        assert!(guard(associations(2), true, true, true) != Guard::Ask);
    }

    #[test]
    fn off_a_terminal_nobody_is_asked_and_removals_need_yes() {
        // A pipeline: stdin closed or piped, stderr a log; or half a terminal, where either the
        // question would not be seen or the answer could not be typed.
        for (stdin_tty, stderr_tty) in [(false, false), (true, false), (false, true)] {
            assert_eq!(
                guard(associations(2), false, stdin_tty, stderr_tty),
                Guard::Refuse
            );
            assert_eq!(
                guard(associations(2), true, stdin_tty, stderr_tty),
                Guard::Proceed
            );
            assert_eq!(
                guard(associations(0), false, stdin_tty, stderr_tty),
                Guard::Proceed
            );
        }
    }

    #[test]
    fn only_the_word_yes_confirms() {
        assert!(confirms("yes\n"));
        assert!(confirms("  yes \r\n"));
        for answer in ["", "\n", "y\n", "no\n", "YES\n", "yes please\n", "ye"] {
            assert!(!confirms(answer), "{answer:?}");
        }
    }

    #[test]
    fn the_question_names_the_counts_and_the_word() {
        assert_eq!(
            question(associations(2)),
            "Remove 2 service-action association(s)? Only \"yes\" confirms: "
        );
        let both = Removals {
            associations: 3,
            actions: 1,
        };
        assert_eq!(
            question(both),
            "Remove 3 service-action association(s) and delete 1 service action(s)? Only \"yes\" confirms: "
        );
    }
}
