//! `plan` and `apply` as a user runs them: wiring signals and `--deadline` to the run's
//! [`RunControl`], the library's pipeline ([`run::plan_manifest`], [`run::execute`]), the printed
//! plan and report, the quota refusal, the question before `--prune` removes anything (asked
//! through [`prompt`](super::prompt)), and the exit code. `demo` goes through the same two
//! functions, [`plan`] and [`apply`], against its embedded catalog.

use super::progress::CliReporter;
use super::{
    EXIT_CHANGES, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, GlobalArgs, OutputFormat, emit, output,
    prompt,
};
use sc_assoc::apply::{ApplyOptions, Strategy};
use sc_assoc::control::{RunControl, StopReason};
use sc_assoc::manifest::DesiredSet;
use sc_assoc::progress::Reporter;
use sc_assoc::run::{self, Planned, RunError, RunSettings, Verify};
use sc_assoc::seam::Catalog;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

/// Wires SIGINT/SIGTERM and the deadline to a fresh [`RunControl`]. On the first signal no new
/// call is made and calls in flight get the control's grace; on the second, the process leaves
/// at once.
pub fn watch(reporter: Arc<CliReporter>, deadline: Option<Duration>) -> RunControl {
    let control = RunControl::default();
    let signalled = control.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        signalled.stop(StopReason::Interrupted);
        reporter.warn(
            "interrupted: no new calls; calls in flight get 2 s to finish (interrupt again to quit now)",
        );
        wait_for_signal().await;
        eprintln!("interrupted again: exiting now");
        std::process::exit(i32::from(EXIT_INTERRUPTED));
    });
    if let Some(limit) = deadline {
        control.stop_after(limit);
    }
    control
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// The exit code for a run that could not plan, after printing why.
pub fn planning_failed(global: &GlobalArgs, error: RunError) -> anyhow::Result<u8> {
    let interrupted = matches!(
        error,
        RunError::Stopped {
            reason: StopReason::Interrupted,
            ..
        }
    );
    let code = if interrupted {
        EXIT_INTERRUPTED
    } else {
        EXIT_FAILURE
    };
    super::errors::report(global.output, &anyhow::Error::new(error));
    Ok(code)
}

fn print_plan(global: &GlobalArgs, planned: &Planned) -> anyhow::Result<()> {
    let (prepared, expansions) = (&planned.prepared, &planned.resolved.expansions);
    match global.output {
        OutputFormat::Text => {
            emit(&output::plan_text(
                prepared,
                &planned.resolved,
                global.paint(),
            ))?;
            for violation in &prepared.quota_violations {
                eprintln!("error: {violation}");
            }
        }
        OutputFormat::Json => emit(&format!("{}\n", output::plan_json(prepared, expansions)))?,
    }
    Ok(())
}

/// What a plan or apply runs with, besides the manifest.
pub struct RunWith<'a> {
    pub settings: RunSettings,
    pub reporter: &'a dyn Reporter,
}

/// `sc-assoc plan`: resolves, reads, checks, prints the plan.
pub async fn plan<C: Catalog>(
    global: &GlobalArgs,
    catalog: &C,
    desired: &DesiredSet,
    with: &RunWith<'_>,
    detailed_exitcode: bool,
) -> anyhow::Result<u8> {
    let planned = match run::plan_manifest(catalog, desired, &with.settings, with.reporter).await {
        Ok(planned) => planned,
        Err(error) => return planning_failed(global, error),
    };
    print_plan(global, &planned)?;
    let prepared = &planned.prepared;
    if !prepared.quota_violations.is_empty() || !prepared.unreadable.is_empty() {
        return Ok(EXIT_FAILURE);
    }
    Ok(if detailed_exitcode && prepared.plan.has_changes() {
        EXIT_CHANGES
    } else {
        EXIT_OK
    })
}

/// How `apply` writes.
pub struct ApplyRun {
    pub strategy: Strategy,
    pub verify: Verify,
    /// `--yes`: make the removals of `--prune` without asking.
    pub yes: bool,
}

/// `sc-assoc apply`: plans, refuses to write past the quota, asks before removals on a terminal,
/// applies, verifies, reports.
pub async fn apply<C: Catalog>(
    global: &GlobalArgs,
    catalog: &C,
    desired: &DesiredSet,
    with: &RunWith<'_>,
    how: &ApplyRun,
) -> anyhow::Result<u8> {
    let planned = match run::plan_manifest(catalog, desired, &with.settings, with.reporter).await {
        Ok(planned) => planned,
        Err(error) => return planning_failed(global, error),
    };
    let prepared = &planned.prepared;
    if !prepared.quota_violations.is_empty() {
        let lines: Vec<String> = prepared
            .quota_violations
            .iter()
            .map(|v| v.to_string())
            .collect();
        anyhow::bail!(
            "the plan would exceed the service-action quota; nothing was applied:\n  {}",
            lines.join("\n  ")
        );
    }
    let plan_text = |paint| output::plan_text(prepared, &planned.resolved, paint);
    let shown = global.output == OutputFormat::Text && !global.quiet;
    if shown {
        emit(&plan_text(global.paint()))?;
        emit("\n")?;
    }
    let control = &with.settings.control;
    let removals = prepared.plan.to_remove.len();
    let (stdin_tty, stderr_tty) = prompt::terminal();
    if prompt::should_prompt(
        with.settings.prune,
        removals,
        how.yes,
        stdin_tty,
        stderr_tty,
    ) {
        // What is confirmed must be on the screen: with JSON, -q or stdout sent to a file, the
        // plan is not, so it goes to stderr beside the question.
        if !(shown && std::io::stdout().is_terminal()) {
            // stderr: the plan without stdout's colours.
            eprintln!("{}", plan_text(super::colour::Paint::default()));
        }
        if !prompt::ask(removals, control).await {
            anyhow::bail!("removals not confirmed; nothing was applied");
        }
    }
    let options = ApplyOptions {
        concurrency: with.settings.concurrency,
        strategy: how.strategy,
        control: control.clone(),
        ..ApplyOptions::default()
    };
    let report = run::execute(catalog, prepared, &options, &how.verify, with.reporter).await;
    let stop = control.reason();
    match global.output {
        OutputFormat::Text => emit(&output::report_text(&report))?,
        OutputFormat::Json => emit(&format!(
            "{}\n",
            output::report_json(&report, stop.as_ref())
        ))?,
    }
    match stop {
        Some(StopReason::Interrupted) => {
            eprintln!("interrupted: the report above is partial; run apply again to finish");
            Ok(EXIT_INTERRUPTED)
        }
        Some(StopReason::Deadline) => {
            eprintln!(
                "error: the deadline was reached: calls in flight were given 2 s, then abandoned; run apply again to finish"
            );
            Ok(EXIT_FAILURE)
        }
        Some(reason) => {
            if let (OutputFormat::Text, StopReason::Fatal(error)) = (global.output, reason) {
                let error = anyhow::Error::new(error)
                    .context("the run stopped: every further call would fail the same way");
                super::errors::report(OutputFormat::Text, &error);
            }
            Ok(EXIT_FAILURE)
        }
        None if report.converged() => Ok(EXIT_OK),
        None => Ok(EXIT_FAILURE),
    }
}
