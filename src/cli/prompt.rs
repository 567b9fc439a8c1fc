//! The guard on removals: whether `apply --prune` asks a person before it removes anything, and
//! the asking. It asks only when someone can answer (stdin and stderr both on a terminal), the
//! plan removes something, and `--yes` was not given; off a terminal (a pipeline, a script) it
//! never asks, so unattended runs apply what they were given, as they always have. A run over
//! several targets asks once, after every target is planned and before any is applied.

use sc_assoc::control::RunControl;
use std::io::{BufRead, IsTerminal, Write};

/// The one answer that confirms. Not `y` as well: a removal is not undone by a re-run, and the
/// question names the exact word, as Terraform's does.
pub const CONFIRMATION: &str = "yes";

/// Whether `apply` asks before making `removals` removals.
pub fn should_prompt(
    prune: bool,
    removals: usize,
    yes: bool,
    stdin_tty: bool,
    stderr_tty: bool,
) -> bool {
    removals > 0 && guarded(prune, yes, stdin_tty, stderr_tty)
}

/// The guard applies: removals may be planned, nobody waived the question, and a person is there
/// to read it (stderr) and type the answer (stdin).
fn guarded(prune: bool, yes: bool, stdin_tty: bool, stderr_tty: bool) -> bool {
    prune && !yes && stdin_tty && stderr_tty
}

/// Whether stdin and stderr are both terminals, the two the question needs.
pub fn terminal() -> (bool, bool) {
    (
        std::io::stdin().is_terminal(),
        std::io::stderr().is_terminal(),
    )
}

/// The question, left open on its line for the answer.
pub fn question(removals: usize) -> String {
    format!("Remove {removals} service-action association(s)? Only \"{CONFIRMATION}\" confirms: ")
}

/// Whether a line typed in answer confirms. Surrounding blanks and the line end are not part of
/// the answer; case is (`YES` could be a key held down by accident as easily as a choice).
pub fn confirms(line: &str) -> bool {
    line.trim() == CONFIRMATION
}

/// Asks [`question`] on stderr and reads one line from stdin. Anything but `yes`, end of input,
/// a read error, or the run being stopped (an interrupt, `--deadline`) is "no".
pub async fn ask(removals: usize, control: &RunControl) -> bool {
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

    #[test]
    fn a_person_at_a_terminal_is_asked_before_removals() {
        assert!(should_prompt(true, 2, false, true, true));
    }

    #[test]
    fn nothing_to_remove_or_no_prune_asks_nothing() {
        assert!(!should_prompt(true, 0, false, true, true));
        assert!(!should_prompt(false, 0, false, true, true));
        // Without prune nothing is removed, whatever a count says.
        assert!(!should_prompt(false, 3, false, true, true));
    }

    #[test]
    fn yes_waives_the_question() {
        assert!(!should_prompt(true, 2, true, true, true));
    }

    #[test]
    fn off_a_terminal_nobody_is_asked() {
        // A pipeline: stdin closed or piped, stderr a log; or half a terminal, where either the
        // question would not be seen or the answer could not be typed.
        for (stdin_tty, stderr_tty) in [(false, false), (true, false), (false, true)] {
            assert!(!should_prompt(true, 2, false, stdin_tty, stderr_tty));
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
    fn the_question_names_the_count_and_the_word() {
        assert_eq!(
            question(2),
            "Remove 2 service-action association(s)? Only \"yes\" confirms: "
        );
    }
}
