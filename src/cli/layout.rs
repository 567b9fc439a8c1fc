//! How a run's targets are laid out. One implicit target (a manifest without `targets:`) reads
//! as it always has: its plan, its report, its error. Several, or targets named in any way, get
//! a section each (`== ACCOUNT/REGION (how it is reached) ==`), a line each and a total; with
//! `--output json`, one document with a section per target. Both layouts render the same
//! [`TargetRun`]s, so what a run found is told the same way whatever its shape.

use super::{GlobalArgs, OutputFormat, emit, errors, output};
use sc_assoc::control::StopReason;
use sc_assoc::document::{
    ErrorBody, PlanBody, ReportBody, ShardBody, TargetSection, TargetsBody, Totals, Versioned,
};
use sc_assoc::drift::CheckError;
use sc_assoc::pipeline::{TargetError, TargetRun};
use sc_assoc::redact::redact;
use sc_assoc::target::{Access, TargetSpec};
use std::fmt::Write;
use std::path::Path;

/// One target as it always read, or a section per target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Single,
    Grouped,
}

/// What of each run is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// The plans: `plan`.
    Plans,
    /// One target's plan before it is applied (text only; its report follows).
    PlanAhead,
    /// What was applied: `apply`.
    Reports,
}

/// What a run's output says besides its targets.
#[derive(Debug, Clone, Copy, Default)]
pub struct About<'a> {
    /// The saved plan applied, if one was.
    pub plan_file: Option<&'a str>,
    /// What each organisational unit of the manifests stood for.
    pub units: &'a [sc_assoc::org::UnitExpansion],
    /// Accounts of those units that `exclude_accounts` left out.
    pub excluded: &'a [sc_assoc::manifest::Located<String>],
    /// The slice of the targets this run is (`--shard`), and how many the whole run has.
    pub shard: Option<ShardBody>,
}

/// Prints `runs` in `layout`, with what `about` adds.
pub fn render(
    global: &GlobalArgs,
    layout: Layout,
    runs: &[impl std::borrow::Borrow<TargetRun>],
    shown: Shown,
    about: About<'_>,
) -> anyhow::Result<()> {
    let plan_file = about.plan_file;
    let runs: Vec<&TargetRun> = runs.iter().map(|r| r.borrow()).collect();
    match (layout, runs.as_slice()) {
        (Layout::Single, [run]) => single(global, run, shown),
        _ if shown == Shown::PlanAhead => Ok(()),
        _ => match global.output {
            OutputFormat::Text => {
                let mut out = about_text(&about, runs.len());
                out.push_str(&grouped_text(&runs, global.quiet, global.paint()));
                if let Some(file) = plan_file {
                    let failed = runs.iter().filter(|r| r.failed()).count();
                    let _ = writeln!(
                        out,
                        "Applied the plan {file}: {} target(s), {failed} with failures.",
                        runs.len()
                    );
                }
                emit(&out)
            }
            OutputFormat::Json => {
                let totals = Totals::of(runs.iter().copied());
                let body = TargetsBody {
                    plan_file: plan_file.map(str::to_string),
                    error: None,
                    organizational_units: about.units,
                    excluded_accounts: sc_assoc::document::ExcludedBody::of(about.excluded),
                    shard: about.shard,
                    targets: runs.iter().map(|run| section(run, false)).collect(),
                    summary: Some(&totals),
                };
                emit(&Versioned::new(body).to_text())
            }
        },
    }
}

/// What each unit stood for and which slice of the targets this is, before the targets.
pub fn about_text(about: &About<'_>, targets: usize) -> String {
    let mut out = String::new();
    if !about.units.is_empty() {
        out.push_str("Organizational units expanded to their active accounts:\n");
        for unit in about.units {
            let _ = writeln!(out, "  {}", redact(&unit.line()));
        }
        if !about.excluded.is_empty() {
            let excluded: Vec<String> = about
                .excluded
                .iter()
                .map(|e| format!("{} ({})", e.value, e.location))
                .collect();
            let _ = writeln!(
                out,
                "  left out by `exclude_accounts`: {}",
                excluded.join(", ")
            );
        }
        out.push('\n');
    }
    if let Some(shard) = about.shard {
        let _ = writeln!(out, "{}\n", shard.line(targets));
    }
    out
}

/// One implicit target: its plan or report, or its error.
fn single(global: &GlobalArgs, run: &TargetRun, shown: Shown) -> anyhow::Result<()> {
    let planned = match &run.planned {
        Ok(planned) => planned,
        Err(_) if shown == Shown::PlanAhead => return Ok(()),
        Err(error) => {
            errors::report(global.output, &single_error(error));
            return Ok(());
        }
    };
    let prepared = &planned.prepared;
    match (shown, global.output, &run.report) {
        (Shown::PlanAhead, OutputFormat::Text, _) => {
            emit(&output::plan_text(
                prepared,
                &planned.resolved,
                global.paint(),
            ))?;
            emit("\n")
        }
        (Shown::PlanAhead, OutputFormat::Json, _) => Ok(()),
        (Shown::Plans, OutputFormat::Text, _) | (Shown::Reports, OutputFormat::Text, None) => {
            emit(&output::plan_text(
                prepared,
                &planned.resolved,
                global.paint(),
            ))?;
            for violation in &prepared.quota_violations {
                eprintln!("error: {violation}");
            }
            Ok(())
        }
        (Shown::Plans, OutputFormat::Json, _) | (Shown::Reports, OutputFormat::Json, None) => {
            emit(&Versioned::new(PlanBody::new(prepared, &planned.resolved.expansions)).to_text())
        }
        (Shown::Reports, OutputFormat::Text, Some(report)) => {
            emit(&output::report_text(report))?;
            if let Some(StopReason::Fatal(error)) = &run.stop {
                let error = anyhow::Error::new(error.clone())
                    .context("the run stopped: every further call would fail the same way");
                errors::report(OutputFormat::Text, &error);
            }
            Ok(())
        }
        (Shown::Reports, OutputFormat::Json, Some(report)) => {
            emit(&Versioned::new(ReportBody::new(report, run.stop.as_ref())).to_text())
        }
    }
}

/// A target's failure as the one-account layout tells it: its client is "the AWS client".
fn single_error(error: &TargetError) -> anyhow::Error {
    match error {
        TargetError::Connect(setup) => {
            anyhow::Error::new(setup.clone()).context("cannot set up the AWS client")
        }
        TargetError::ConnectStopped(reason) | TargetError::NotStarted(reason) => anyhow::anyhow!(
            "{} while setting up the AWS client (finding credentials); nothing was applied",
            errors::stopped_while(Some(reason))
        ),
        other => failure(other),
    }
}

/// A target's failure as an error the renderers understand (hints, diagnostics).
fn failure(error: &TargetError) -> anyhow::Error {
    anyhow::Error::new(error.clone())
}

/// How the target is reached, for its heading.
fn access(target: &TargetSpec) -> String {
    match &target.access {
        Access::Role(role) => format!("role {}", role.role_arn),
        Access::Profile(profile) => format!("profile {profile}"),
        _ => "default credentials".to_string(),
    }
}

/// The plans alone, for the question before removals.
pub fn plans_text(runs: &[&TargetRun]) -> String {
    let paint = super::colour::Paint::default();
    let mut out = String::new();
    for run in runs {
        if runs.len() > 1 {
            let _ = writeln!(out, "== {} ({}) ==", run.target, access(&run.target));
        }
        if let Ok(planned) = &run.planned {
            out.push_str(&output::plan_text(
                &planned.prepared,
                &planned.resolved,
                paint,
            ));
        }
    }
    out
}

fn grouped_text(runs: &[&TargetRun], quiet: bool, paint: super::colour::Paint) -> String {
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
        let line = match &run.planned {
            Err(error) => {
                out.push_str(&errors::text(&failure(error)));
                format!("failed: {}", redact(&error.to_string()))
            }
            Ok(planned) => {
                let prepared = &planned.prepared;
                if !quiet {
                    out.push_str(&output::plan_text(prepared, &planned.resolved, paint));
                }
                for violation in &prepared.quota_violations {
                    let _ = writeln!(out, "error: {violation}");
                }
                let line = match &run.report {
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
                        if s.not_visible > 0 {
                            let _ = write!(line, ", {} not yet visible", s.not_visible);
                        }
                        if !report.actions.is_empty() {
                            let _ = write!(line, "; {}", output::actions_brief(&report.actions));
                        }
                        line
                    }
                    None => {
                        let plan = &prepared.plan;
                        let mut line = format!(
                            "{} to add, {} to remove, {} already present",
                            plan.to_add.len(),
                            plan.to_remove.len(),
                            plan.present.len()
                        );
                        if prepared.actions.has_changes() {
                            let counts = prepared.actions.counts();
                            let _ = write!(
                                line,
                                "; actions: {} to create, {} to update, {} to delete",
                                counts.create, counts.update, counts.delete
                            );
                        }
                        line
                    }
                };
                match &run.stop {
                    Some(reason) => format!("{line} (stopped: {reason})"),
                    None => line,
                }
            }
        };
        lines.push(format!("  {label:<width$}  {line}"));
        if !quiet {
            out.push('\n');
        }
    }
    let totals = Totals::of(runs.iter().copied());
    let _ = writeln!(out, "Targets:");
    for line in lines {
        let _ = writeln!(out, "{}", redact(&line));
    }
    let reports: Vec<&sc_assoc::run::Report> =
        runs.iter().filter_map(|r| r.report.as_ref()).collect();
    if reports.is_empty() {
        let _ = writeln!(
            out,
            "Total: {} target(s), {} failed; {} to add, {} to remove.",
            totals.targets, totals.failed, totals.to_add, totals.to_remove
        );
    } else {
        // Applied: what was done, not what was planned.
        let sum = |f: fn(&sc_assoc::run::Summary) -> usize| -> usize {
            reports.iter().map(|r| f(&r.summary)).sum()
        };
        let _ = writeln!(
            out,
            "Total: {} target(s), {} failed; {} created, {} removed, {} already present.",
            totals.targets,
            totals.failed,
            sum(|s| s.created + s.adopted + s.healed),
            sum(|s| s.removed + s.already_absent),
            sum(|s| s.already_present),
        );
    }
    out
}

/// One target's JSON section; `refused` for a saved plan's target that did not check out.
fn section<'a>(run: &'a TargetRun, refused: bool) -> TargetSection<'a> {
    let failure = run
        .planned
        .as_ref()
        .err()
        .map(|error| errors::fields(&failure(error)));
    TargetSection::new(run, failure, refused)
}

/// A saved plan that did not check out in some target: nothing is applied anywhere, each
/// refused target says why, and the run exits 1.
pub fn refused(global: &GlobalArgs, path: &Path, runs: &[&TargetRun]) -> anyhow::Result<u8> {
    let refused: Vec<&TargetRun> = runs.iter().copied().filter(|r| r.failed()).collect();
    let names: Vec<String> = refused.iter().map(|r| r.target.to_string()).collect();
    let already = refused.iter().all(|r| {
        matches!(
            r.planned,
            Err(TargetError::Check(CheckError::AlreadyApplied(_)))
        )
    });
    let summary = if already {
        format!(
            "the plan {} has already been applied; nothing was written; plan again to see whether anything is left to do",
            path.display()
        )
    } else {
        format!(
            "the plan {} was not applied; nothing was written (refused: {}); plan again and review the new plan",
            path.display(),
            names.join(", ")
        )
    };
    if global.output == OutputFormat::Json {
        // One document on stdout, whatever the number of refused targets.
        let body = TargetsBody {
            plan_file: Some(path.display().to_string()),
            error: Some(ErrorBody {
                message: summary,
                ..ErrorBody::default()
            }),
            organizational_units: &[],
            excluded_accounts: Vec::new(),
            shard: None,
            targets: refused.iter().map(|run| section(run, true)).collect(),
            summary: None,
        };
        emit(&Versioned::new(body).to_text())?;
        return Ok(super::EXIT_FAILURE);
    }
    for run in refused {
        if let Err(error) = &run.planned {
            let error = failure(error).context(format!("target {}", run.target));
            errors::report(global.output, &error);
        }
    }
    anyhow::bail!("{summary}");
}
