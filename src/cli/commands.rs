//! `plan` and `apply` as a user runs them: the read phase, the printed plan, the quota refusal,
//! the apply with its stop conditions (SIGINT/SIGTERM, `--deadline`), and the exit code.

use super::progress::CliReporter;
use super::{
    EXIT_CHANGES, EXIT_FAILURE, EXIT_OK, GlobalArgs, OutputFormat, Tuning, output, reporter,
};
use crate::apply::{ApplyOptions, Strategy};
use crate::aws::AwsCatalog;
use crate::progress::Reporter;
use crate::resolve::Resolved;
use crate::run::{self, Prepared, Target, Verify};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Exit code after an interrupt, as shells report SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Why a run stopped dispatching calls early.
#[derive(Default)]
struct Stops {
    /// Set by either cause: the apply loop watches only this.
    any: Arc<AtomicBool>,
    interrupted: Arc<AtomicBool>,
    deadline: Arc<AtomicBool>,
}

impl Stops {
    /// Watches signals and the deadline. On the first SIGINT or SIGTERM, no new calls are made
    /// and those in flight finish (each bounded by the call timeout); on the second, the process
    /// leaves at once.
    fn watch(reporter: Arc<CliReporter>, deadline: Option<Duration>) -> Self {
        let stops = Stops::default();
        let (any, interrupted) = (stops.any.clone(), stops.interrupted.clone());
        let signal_reporter = reporter.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            interrupted.store(true, Ordering::SeqCst);
            any.store(true, Ordering::SeqCst);
            signal_reporter.warn(
                "interrupted: no new calls; waiting for calls in flight (interrupt again to quit now)",
            );
            wait_for_signal().await;
            eprintln!("interrupted again: exiting now");
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        });
        if let Some(limit) = deadline {
            let (any, hit) = (stops.any.clone(), stops.deadline.clone());
            tokio::spawn(async move {
                tokio::time::sleep(limit).await;
                hit.store(true, Ordering::SeqCst);
                any.store(true, Ordering::SeqCst);
                reporter.warn("deadline reached: no new calls; waiting for calls in flight");
            });
        }
        stops
    }

    /// Resolves once a stop was requested.
    async fn requested(&self) {
        while !self.any.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
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

/// The salt of this run's healing tokens: a replayed token cannot heal, so each run that needs
/// to heal uses tokens no earlier run used, still derived deterministically from the triple.
/// Nanoseconds and the process id, because pipelines re-run within the same second.
pub fn run_salt() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{nanos}-{}", std::process::id())
}

/// Reads and plans, unless a stop comes first: nothing has been written yet, so stopping here
/// just ends the run.
async fn prepare(
    catalog: &AwsCatalog,
    target: &Target,
    tuning: &Tuning,
    stops: &Stops,
    reporter: &dyn Reporter,
) -> anyhow::Result<Prepared> {
    tokio::select! {
        prepared = run::prepare_target(catalog, target, tuning.concurrency as usize, reporter) => Ok(prepared?),
        () = stops.requested() => {
            if stops.deadline.load(Ordering::SeqCst) {
                anyhow::bail!("the deadline was reached while reading the current associations; nothing was applied")
            }
            anyhow::bail!("interrupted while reading the current associations; nothing was applied")
        }
    }
}

fn print_plan(global: &GlobalArgs, prepared: &Prepared, resolved: &Resolved) {
    match global.output {
        OutputFormat::Text => {
            print!("{}", output::plan_text(prepared, &resolved.expansions));
            for violation in &prepared.quota_violations {
                eprintln!("error: {violation}");
            }
        }
        OutputFormat::Json => println!("{}", output::plan_json(prepared, &resolved.expansions)),
    }
}

/// `sc-assoc plan`.
pub async fn plan(
    global: &GlobalArgs,
    catalog: &AwsCatalog,
    resolved: &Resolved,
    prune: bool,
    tuning: &Tuning,
    detailed_exitcode: bool,
) -> anyhow::Result<u8> {
    let reporter = Arc::new(reporter(global));
    let stops = Stops::watch(reporter.clone(), tuning.deadline.map(Duration::from_secs));
    let target = Target::from_resolved(resolved, prune);
    let prepared = prepare(catalog, &target, tuning, &stops, reporter.as_ref()).await?;
    print_plan(global, &prepared, resolved);
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
    pub prune: bool,
    pub strategy: Strategy,
    pub verify: Verify,
}

/// `sc-assoc apply`: plans, refuses to write past the quota, applies, verifies, reports.
pub async fn apply(
    global: &GlobalArgs,
    catalog: &AwsCatalog,
    resolved: &Resolved,
    tuning: &Tuning,
    run: &ApplyRun,
) -> anyhow::Result<u8> {
    let reporter = Arc::new(reporter(global));
    let stops = Stops::watch(reporter.clone(), tuning.deadline.map(Duration::from_secs));
    let reporter = reporter.as_ref();
    let target = Target::from_resolved(resolved, run.prune);
    let prepared = prepare(catalog, &target, tuning, &stops, reporter).await?;
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
    if global.output == OutputFormat::Text && !global.quiet {
        print!("{}", output::plan_text(&prepared, &resolved.expansions));
        println!();
    }
    let options = ApplyOptions {
        concurrency: tuning.concurrency as usize,
        strategy: run.strategy,
        stop: Some(stops.any.clone()),
        ..ApplyOptions::default()
    };
    let report = run::execute(catalog, &prepared, &options, &run.verify, reporter).await;
    match global.output {
        OutputFormat::Text => print!("{}", output::report_text(&report)),
        OutputFormat::Json => println!("{}", output::report_json(&report)),
    }
    if stops.interrupted.load(Ordering::SeqCst) {
        eprintln!("interrupted: the report above is partial; run apply again to finish");
        return Ok(EXIT_INTERRUPTED);
    }
    if stops.deadline.load(Ordering::SeqCst) {
        eprintln!("error: the deadline was reached; run apply again to finish");
        return Ok(EXIT_FAILURE);
    }
    Ok(if report.converged() {
        EXIT_OK
    } else {
        EXIT_FAILURE
    })
}
