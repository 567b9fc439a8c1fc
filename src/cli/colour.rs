//! Colour on stdout: the `--color auto|always|never` flag, the decision it leads to (a pure
//! function of the flag, `NO_COLOR`, `TERM` and whether stdout is a terminal, so it is tested
//! without one), and the ANSI codes plan text is painted with. Only the text plan is painted; JSON
//! never is, and stderr's logs decide for themselves ([`super::progress::colour_on_stderr`]).

use clap::ValueEnum;
use std::ffi::OsStr;
use std::io::IsTerminal;

/// `--color`: whether the plan on stdout is coloured. The variants carry no doc comments on
/// purpose: clap would turn them into per-value help and switch every command's `--help` to the
/// long layout; the flag's own line says what they mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    // When stdout is a terminal, `NO_COLOR` is unset or empty and `TERM` is not `dumb`.
    Auto,
    // Even into a pipe or a file, and even with `NO_COLOR` set.
    Always,
    Never,
}

/// Paints plan lines, or leaves them as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Paint {
    enabled: bool,
}

/// SGR green, red and reset: the 8-colour codes every terminal that takes colour understands.
const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const RESET: &str = "\x1b[0m";

impl Paint {
    /// What `choice` means for stdout in this process's environment.
    pub fn stdout(choice: ColorChoice) -> Paint {
        Paint {
            enabled: decide(
                choice,
                std::env::var_os("NO_COLOR").as_deref(),
                std::env::var_os("TERM").as_deref(),
                std::io::stdout().is_terminal(),
            ),
        }
    }

    /// A line that adds something: green.
    pub fn added(self, text: &str) -> String {
        self.paint(GREEN, text)
    }

    /// A line that removes something: red.
    pub fn removed(self, text: &str) -> String {
        self.paint(RED, text)
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

impl super::GlobalArgs {
    /// How this run paints its plan on stdout (`--color` in this environment).
    pub fn paint(&self) -> Paint {
        Paint::stdout(self.color)
    }
}

/// Whether to colour. An explicit `always` wins over `NO_COLOR`: no-color.org asks programs to
/// honour the variable by default, and lets a command-line flag override it, so a user who sets
/// `NO_COLOR` globally can still ask one run for colour (a pager that takes it, `less -R`).
/// `auto` follows the convention: any non-empty `NO_COLOR` disables, and so does `TERM=dumb`.
fn decide(
    choice: ColorChoice,
    no_color: Option<&OsStr>,
    term: Option<&OsStr>,
    stdout_is_terminal: bool,
) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            stdout_is_terminal
                && no_color.is_none_or(OsStr::is_empty)
                && term.is_none_or(|t| t != "dumb")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auto(no_color: Option<&str>, term: Option<&str>, terminal: bool) -> bool {
        decide(
            ColorChoice::Auto,
            no_color.map(OsStr::new),
            term.map(OsStr::new),
            terminal,
        )
    }

    #[test]
    fn auto_colours_only_a_capable_terminal_without_no_color() {
        assert!(auto(None, Some("xterm-256color"), true));
        assert!(auto(None, None, true));
        assert!(!auto(None, Some("xterm-256color"), false), "a pipe");
        assert!(!auto(Some("1"), Some("xterm"), true));
        assert!(!auto(Some("0"), Some("xterm"), true), "any non-empty value");
        assert!(auto(Some(""), Some("xterm"), true), "empty is unset");
        assert!(!auto(None, Some("dumb"), true));
    }

    #[test]
    fn an_explicit_flag_wins_over_the_environment() {
        let (no_color, dumb) = (Some(OsStr::new("1")), Some(OsStr::new("dumb")));
        assert!(decide(ColorChoice::Always, no_color, dumb, false));
        assert!(!decide(ColorChoice::Never, None, None, true));
    }

    #[test]
    fn paint_wraps_in_green_or_red_and_resets_or_does_nothing() {
        let (on, off) = (Paint { enabled: true }, Paint { enabled: false });
        assert_eq!(on.added("+ x"), "\x1b[32m+ x\x1b[0m");
        assert_eq!(on.removed("- x"), "\x1b[31m- x\x1b[0m");
        assert_eq!(off.added("+ x"), "+ x");
        assert_eq!(off.removed("- x"), "- x");
    }
}
