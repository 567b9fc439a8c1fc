//! `plan` and `apply` over a manifest's `targets:` (or a `--target` subset): one base AWS
//! configuration, the library's [`fleet::run_targets`] for the per-target work, and the output
//! grouped by target: a section per target (its plan and report, or its error), one summary
//! line per target and a total; with `--output json`, one document with a section per target.
//! A failed target fails the exit code (1) but not the other targets.

use super::colour::Paint;
use super::commands::{self, ApplyRun};
use super::progress::CliReporter;
use super::{
    EXIT_CHANGES, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, GlobalArgs, OutputFormat, Tuning, emit,
    errors, output,
};
use anyhow::Context;
use sc_assoc::aws::{AwsBase, AwsConnector};
use sc_assoc::control::{RunControl, StopReason};
use sc_assoc::fleet::{self, FleetSettings, Mode, TargetError, TargetRun};
use sc_assoc::manifest::{TargetDesired, Targeted};
use sc_assoc::target::{Access, TargetFilter, TargetSpec};
use serde_json::json;
use std::fmt::Write;
use std::sync::Arc;

/// What the command asks of every target.
pub enum Command {
    Plan {
        detailed_exitcode: bool,
        /// Save the plan to this file (`plan --out`).
        out: Option<std::path::PathBuf>,
    },
    Apply(ApplyRun),
}

/// Runs `command` on every selected target and renders the result; returns the exit code.
pub async fn run(
    global: &GlobalArgs,
    targeted: Targeted,
    tuning: &Tuning,
    prune: bool,
    command: Command,
) -> anyhow::Result<u8> {
    // Targets apply concurrently, each as soon as its own plan is made: no one question could
    // cover plans not yet made, so a person pruning says --yes up front. Refused before the
    // credentials are even resolved: nothing is called.
    let (stdin_tty, stderr_tty) = super::prompt::terminal();
    if let Command::Apply(how) = &command
        && super::prompt::refuses_targets(prune, how.yes, stdin_tty, stderr_tty)
    {
        anyhow::bail!(
            "pruning several targets from a terminal needs --yes (or review a saved plan: plan --out plan.json, then apply plan.json)"
        );
    }
    let reporter = Arc::new(super::reporter(global));
    let control = commands::watch(reporter.clone(), tuning.deadline());
    let base = connect_base(global, &targeted, tuning, &control).await?;
    let on = On {
        base: &base,
        reporter: reporter.as_ref(),
        control: &control,
    };
    run_on(global, &on, targeted, tuning, prune, command).await
}

/// What a run over targets is made with: the base configuration, progress and the stop switch.
pub struct On<'a> {
    pub base: &'a AwsBase,
    pub reporter: &'a CliReporter,
    pub control: &'a RunControl,
}

/// [`run`] with the base configuration made: `demo` comes in here with its embedded catalog's.
pub async fn run_on(
    global: &GlobalArgs,
    on: &On<'_>,
    targeted: Targeted,
    tuning: &Tuning,
    prune: bool,
    command: Command,
) -> anyhow::Result<u8> {
    let (base, reporter, control) = (on.base, on.reporter, on.control);
    let files = targeted.files.clone();
    let targets = select(targeted.targets, base.default_region(), &tuning.targets)?;
    let make_pacer = || tuning.pacer();
    let connector = AwsConnector {
        base,
        pacer: &make_pacer,
    };
    let mode = match &command {
        Command::Plan { .. } => Mode::Plan,
        Command::Apply(how) => Mode::Apply {
            strategy: how.strategy,
            verify: how.verify,
        },
    };
    let settings = FleetSettings {
        concurrency: tuning.concurrency as usize,
        target_concurrency: tuning.target_concurrency as usize,
        prune,
        control: control.clone(),
        connect_timeout: super::operation_timeout(tuning),
        mode,
        save: matches!(command, Command::Plan { out: Some(_), .. }),
    };
    let runs = fleet::run_targets(&connector, &targets, &settings, reporter).await;
    let totals = Totals::of(&runs);
    let saved = match &command {
        Command::Plan { out: Some(out), .. } if totals.failed == 0 => {
            Some(super::saved::write(out, &files, prune, &runs).map(|()| out.clone()))
        }
        _ => None,
    };
    match global.output {
        OutputFormat::Text => emit(&text(runs, &totals, global.quiet, global.paint()))?,
        OutputFormat::Json => emit(&format!("{:#}\n", document(runs, &totals)))?,
    }
    match saved {
        Some(Ok(out)) if !global.quiet => eprintln!(
            "Saved the plan to {}: review it with `sc-assoc show {0}`, apply it with `sc-assoc apply {0}`.",
            out.display()
        ),
        Some(Err(error)) => {
            errors::report(global.output, &error);
            return Ok(EXIT_FAILURE);
        }
        _ => {}
    }
    if let Command::Plan { out: Some(out), .. } = &command
        && totals.failed > 0
    {
        eprintln!(
            "error: no plan file was written to {}: a target failed",
            out.display()
        );
    }
    let stop = control.reason();
    if matches!(stop, Some(StopReason::Interrupted)) {
        eprintln!("interrupted: the results above are partial; run again to finish");
        return Ok(EXIT_INTERRUPTED);
    }
    if totals.failed > 0 {
        if global.output == OutputFormat::Text {
            eprintln!(
                "error: {} of {} target(s) failed: {}",
                totals.failed,
                totals.targets,
                totals.failed_labels.join(", ")
            );
        }
        return Ok(EXIT_FAILURE);
    }
    Ok(match command {
        Command::Plan {
            detailed_exitcode: true,
            ..
        } if totals.with_changes > 0 => EXIT_CHANGES,
        _ => EXIT_OK,
    })
}

/// The base configuration (default chain or `--profile`, endpoint, default region), within
/// the run's deadline and interrupt.
async fn connect_base(
    global: &GlobalArgs,
    targeted: &Targeted,
    tuning: &Tuning,
    control: &RunControl,
) -> anyhow::Result<AwsBase> {
    let options = super::aws_options(global, targeted.accept_language, tuning);
    tokio::select! {
        base = AwsBase::load(&options) => base.context("cannot set up the AWS client"),
        () = control.stopped() => anyhow::bail!(
            "{} while setting up the AWS client; nothing was applied",
            control.reason().map_or_else(|| "stopped".to_string(), |r| r.to_string())
        ),
    }
}

/// The targets `--target` selects (all when none is given), each without a region of its own
/// given `default_region` first, so filters and labels name real regions. A filter that selects
/// nothing is an error listing the targets there are: a typo must not run zero targets and exit
/// 0.
pub fn select(
    mut targets: Vec<TargetDesired>,
    default_region: Option<String>,
    filters: &[TargetFilter],
) -> anyhow::Result<Vec<TargetDesired>> {
    for declared in &mut targets {
        if declared.target.region.is_none() {
            declared.target.region = default_region.clone();
        }
    }
    if filters.is_empty() {
        return Ok(targets);
    }
    if let Some(unmatched) = filters
        .iter()
        .find(|f| !targets.iter().any(|t| t.target.matches(f)))
    {
        let known: Vec<String> = targets.iter().map(|t| t.target.to_string()).collect();
        anyhow::bail!(
            "--target {unmatched} matches none of the manifests' targets: {}",
            known.join(", ")
        );
    }
    Ok(targets
        .into_iter()
        .filter(|t| filters.iter().any(|f| t.target.matches(f)))
        .collect())
}

/// Counts over all targets, for the total line, the JSON summary and the exit code.
struct Totals {
    targets: usize,
    failed: usize,
    failed_labels: Vec<String>,
    with_changes: usize,
    to_add: usize,
    to_remove: usize,
}

impl Totals {
    fn of(runs: &[TargetRun]) -> Self {
        let mut totals = Totals {
            targets: runs.len(),
            failed: 0,
            failed_labels: Vec::new(),
            with_changes: 0,
            to_add: 0,
            to_remove: 0,
        };
        for run in runs {
            if run.failed() {
                totals.failed += 1;
                totals.failed_labels.push(run.target.to_string());
            }
            if run.has_changes() {
                totals.with_changes += 1;
            }
            if let Ok(planned) = &run.planned {
                totals.to_add += planned.prepared.plan.to_add.len();
                totals.to_remove += planned.prepared.plan.to_remove.len();
            }
        }
        totals
    }
}

/// How the target is reached, for its heading.
fn access(target: &TargetSpec) -> String {
    match &target.access {
        Access::Role(role) => format!("role {}", role.role_arn),
        Access::Profile(profile) => format!("profile {profile}"),
        _ => "default credentials".to_string(),
    }
}

/// A target's failure as an error the CLI's renderers understand (hints, diagnostics).
fn failure(error: TargetError) -> anyhow::Error {
    match error {
        TargetError::Plan(error) => anyhow::Error::new(error),
        other => anyhow::Error::new(other),
    }
}

fn text(runs: Vec<TargetRun>, totals: &Totals, quiet: bool, paint: Paint) -> String {
    let mut out = String::new();
    let mut lines = Vec::with_capacity(runs.len());
    let width = runs
        .iter()
        .map(|r| r.target.to_string().len())
        .max()
        .unwrap_or(0);
    for run in runs {
        let label = run.target.to_string();
        if !quiet {
            let _ = writeln!(out, "== {label} ({}) ==", access(&run.target));
        }
        let line = match run.planned {
            Err(error) => {
                let error = failure(error);
                let rendered = errors::text(&error);
                out.push_str(&rendered);
                let first = rendered.lines().find(|l| l.starts_with("error: "));
                format!(
                    "failed: {}",
                    first.map_or("see above", |l| l.trim_start_matches("error: "))
                )
            }
            Ok(planned) => {
                let prepared = &planned.prepared;
                if !quiet {
                    out.push_str(&output::plan_text(prepared, &planned.resolved, paint));
                }
                for violation in &prepared.quota_violations {
                    let _ = writeln!(out, "error: {violation}");
                }
                match &run.report {
                    Some(report) => {
                        if !quiet {
                            out.push('\n');
                        }
                        out.push_str(&output::report_text(report));
                        let s = &report.summary;
                        let mut line = format!(
                            "{} created, {} already present, {} failed",
                            s.created, s.already_present, s.failed
                        );
                        if s.removed > 0 {
                            let _ = write!(line, ", {} removed", s.removed);
                        }
                        if s.not_attempted + s.unknown > 0 {
                            let _ = write!(
                                line,
                                ", {} not attempted, {} unknown",
                                s.not_attempted, s.unknown
                            );
                        }
                        line
                    }
                    None => {
                        let plan = &prepared.plan;
                        format!(
                            "{} to add, {} to remove, {} in place",
                            plan.to_add.len(),
                            plan.to_remove.len(),
                            plan.present.len()
                        )
                    }
                }
            }
        };
        let line = match &run.stop {
            Some(reason) if !line.starts_with("failed") => format!("{line} (stopped: {reason})"),
            _ => line,
        };
        lines.push(format!("  {label:<width$}  {line}"));
        if !quiet {
            out.push('\n');
        }
    }
    let _ = writeln!(out, "Targets:");
    for line in lines {
        let _ = writeln!(out, "{}", sc_assoc::redact::redact(&line));
    }
    let _ = writeln!(
        out,
        "Total: {} target(s), {} failed; {} to add, {} to remove.",
        totals.targets, totals.failed, totals.to_add, totals.to_remove
    );
    out
}

fn document(runs: Vec<TargetRun>, totals: &Totals) -> serde_json::Value {
    let sections: Vec<serde_json::Value> = runs.into_iter().map(section).collect();
    json!({
        "format_version": output::FORMAT_VERSION,
        "targets": sections,
        "summary": {
            "targets": totals.targets,
            "failed": totals.failed,
            "with_changes": totals.with_changes,
            "to_add": totals.to_add,
            "to_remove": totals.to_remove,
        },
    })
}

/// One target's section: who it is, then its plan and report, or its error.
fn section(run: TargetRun) -> serde_json::Value {
    let failed = run.failed();
    let mut section = json!({
        "target": run.target.to_string(),
        "account": run.target.account,
        "region": run.target.region,
        "access": run.target.access,
        "elapsed_ms": run.elapsed.as_millis() as u64,
    });
    if let Some(location) = &run.location {
        section["declared_at"] = location.to_string().into();
    }
    match run.planned {
        Err(error) => {
            section["status"] = "failed".into();
            let fields = errors::fields(&failure(error));
            if let Some(map) = fields.as_object() {
                for (key, value) in map {
                    section[key] = value.clone();
                }
            }
        }
        Ok(planned) => {
            let prepared = &planned.prepared;
            section["status"] = if failed { "failed" } else { "ok" }.into();
            section["in_sync"] = (!prepared.plan.has_changes()).into();
            section["plan"] = output::plan_value(prepared, &planned.resolved.expansions);
            if let Some(report) = &run.report {
                section["report"] = output::report_value(report, run.stop.as_ref());
            } else if let Some(reason) = &run.stop {
                section["stopped"] = sc_assoc::redact::redact(&reason.to_string())
                    .into_owned()
                    .into();
            }
        }
    }
    section
}
