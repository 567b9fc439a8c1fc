//! The CLI's [`Reporter`]: indicatif bars on a terminal, plain progress lines when stderr is a
//! pipe or a CI log (one line at start, at most one every few seconds, one at the end), nothing
//! when quiet. Bars go to stderr so stdout stays clean for data.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sc_assoc::progress::{Phase, Reporter};
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    Bars,
    Lines,
    Silent,
}

impl ProgressMode {
    /// Bars on a capable terminal; plain lines in CI (`CI` set), on a dumb terminal
    /// (`TERM=dumb`, where bars would not draw at all) and when stderr is not a terminal;
    /// nothing when asked for quiet.
    pub fn detect(quiet: bool, no_progress: bool) -> Self {
        if quiet || no_progress {
            ProgressMode::Silent
        } else if std::io::stderr().is_terminal() && !in_ci() && !dumb_terminal() {
            ProgressMode::Bars
        } else {
            ProgressMode::Lines
        }
    }
}

/// `CI` is set by every major CI system; `CI=false` or `CI=0` says it is not one.
fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn dumb_terminal() -> bool {
    std::env::var_os("TERM").is_some_and(|t| t == "dumb")
}

/// Whether log lines on stderr may carry ANSI colour: only on a terminal that can show it, and
/// never with `NO_COLOR`.
pub fn colour_on_stderr() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && !dumb_terminal()
}

/// Minimum spacing of plain progress lines, so CI logs stay readable.
const LINE_INTERVAL: Duration = Duration::from_secs(5);

struct LineState {
    phase: Phase,
    total: u64,
    done: u64,
    started: Instant,
    last_line: Instant,
}

pub struct CliReporter {
    mode: ProgressMode,
    /// Quiet also silences warnings; `--no-progress` alone does not.
    quiet: bool,
    bar: Mutex<Option<ProgressBar>>,
    lines: Mutex<Option<LineState>>,
}

impl CliReporter {
    pub fn new(mode: ProgressMode, quiet: bool) -> Self {
        Self {
            mode,
            quiet,
            bar: Mutex::new(None),
            lines: Mutex::new(None),
        }
    }

    fn line(message: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{message}");
    }
}

fn rate(done: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { done as f64 / secs } else { 0.0 }
}

impl Reporter for CliReporter {
    fn start(&self, phase: Phase, total: u64) {
        match self.mode {
            ProgressMode::Silent => {}
            ProgressMode::Bars => {
                let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
                let style = ProgressStyle::with_template(
                    "{prefix:>10} [{bar:40}] {pos}/{len}{calls_per_sec}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                // indicatif's own `{per_sec}` prints three decimals ("25.508/s"); whole calls
                // per second read better next to a count of calls. Before the first call ends
                // there is no rate and no estimate: `0/s eta 0s` would read as stuck, or done.
                .with_key(
                    "calls_per_sec",
                    |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                        if state.pos() > 0 {
                            let _ = write!(
                                out,
                                " {:.0}/s eta {:#}",
                                state.per_sec(),
                                indicatif::HumanDuration(state.eta())
                            );
                        }
                    },
                )
                .progress_chars("=> ");
                bar.set_style(style);
                bar.set_prefix(phase.label());
                bar.enable_steady_tick(Duration::from_millis(200));
                if let Ok(mut slot) = self.bar.lock() {
                    *slot = Some(bar);
                }
            }
            ProgressMode::Lines => {
                Self::line(&format!("{}: 0/{total}", phase.label()));
                let now = Instant::now();
                if let Ok(mut slot) = self.lines.lock() {
                    *slot = Some(LineState {
                        phase,
                        total,
                        done: 0,
                        started: now,
                        last_line: now,
                    });
                }
            }
        }
    }

    fn advance(&self, _phase: Phase, count: u64) {
        match self.mode {
            ProgressMode::Silent => {}
            ProgressMode::Bars => {
                if let Ok(slot) = self.bar.lock()
                    && let Some(bar) = slot.as_ref()
                {
                    bar.inc(count);
                }
            }
            ProgressMode::Lines => {
                if let Ok(mut slot) = self.lines.lock()
                    && let Some(state) = slot.as_mut()
                {
                    state.done += count;
                    if state.last_line.elapsed() >= LINE_INTERVAL {
                        state.last_line = Instant::now();
                        Self::line(&format!(
                            "{}: {}/{} ({:.0}/s)",
                            state.phase.label(),
                            state.done,
                            state.total,
                            rate(state.done, state.started.elapsed())
                        ));
                    }
                }
            }
        }
    }

    fn finish(&self, _phase: Phase) {
        match self.mode {
            ProgressMode::Silent => {}
            ProgressMode::Bars => {
                if let Ok(mut slot) = self.bar.lock()
                    && let Some(bar) = slot.take()
                {
                    bar.finish_and_clear();
                }
            }
            ProgressMode::Lines => {
                if let Ok(mut slot) = self.lines.lock()
                    && let Some(state) = slot.take()
                {
                    let elapsed = state.started.elapsed();
                    Self::line(&format!(
                        "{}: {}/{} done in {:.1}s ({:.0}/s)",
                        state.phase.label(),
                        state.done,
                        state.total,
                        elapsed.as_secs_f64(),
                        rate(state.done, elapsed)
                    ));
                }
            }
        }
    }

    fn warn(&self, message: &str) {
        if self.quiet {
            return;
        }
        let text = format!("warning: {message}");
        match self.bar.lock() {
            Ok(slot) if slot.is_some() => {
                if let Some(bar) = slot.as_ref() {
                    bar.println(text);
                }
            }
            _ => Self::line(&text),
        }
    }
}
