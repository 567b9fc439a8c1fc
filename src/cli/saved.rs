//! Saved plans on the command line: `plan --out FILE` (writing what the fleet planned, with each
//! target's planned-scope state and account), `apply FILE` (checking every target against the
//! plan, then applying exactly its changes, never prompting: the review was the plan) and
//! `show FILE` (the plan as text, or as JSON with a per-target summary for drift monitors).

use super::commands::{self, ApplyRun};
use super::{EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, GlobalArgs, OutputFormat, Tuning, emit};
use anyhow::Context;
use sc_assoc::apply::ApplyOptions;
use sc_assoc::aws::{AwsBase, AwsConnector};
use sc_assoc::control::StopReason;
use sc_assoc::fleet::TargetRun;
use sc_assoc::run::{Report, execute};
use sc_assoc::saved::{Op, SavedPlan, SavedTarget, check_targets};
use serde_json::json;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// True when `paths` is one file that is (or was meant to be) a saved plan.
pub fn is_plan_file(paths: &[PathBuf]) -> bool {
    let [path] = paths else { return false };
    if !path.is_file() {
        return false;
    }
    let mut head = vec![0u8; 512];
    let read = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    SavedPlan::looks_like_plan(&String::from_utf8_lossy(&head[..read]))
}

/// Writes the plan of `runs` to `path`, when every target planned cleanly. The file is written
/// whole or not at all (a temporary file renamed into place).
pub fn write(
    path: &Path,
    files: &[PathBuf],
    prune: bool,
    runs: &[TargetRun],
) -> anyhow::Result<()> {
    let mut targets = Vec::with_capacity(runs.len());
    for run in runs {
        let (Ok(planned), Some(Ok(saving))) = (&run.planned, &run.saved) else {
            anyhow::bail!(
                "no plan file was written: target {} has no complete plan (see above)",
                run.target
            );
        };
        let mut spec = run.target.clone();
        if spec.account.is_none() {
            spec.account = saving.account.clone();
        }
        targets.push(SavedTarget::new(&spec, planned, saving.observed.clone()));
    }
    let manifests =
        sc_assoc::saved::digest_manifests(files).context("cannot read the manifests again")?;
    let plan = SavedPlan {
        format: sc_assoc::saved::PLAN_FORMAT.to_string(),
        format_version: sc_assoc::saved::PLAN_FORMAT_VERSION,
        created_by: format!("sc-assoc {}", super::VERSION),
        created_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default(),
        manifests,
        prune,
        targets,
        digest: String::new(),
    };
    let temporary = path.with_extension("json.partial");
    std::fs::write(&temporary, plan.to_file_text())
        .and_then(|()| std::fs::rename(&temporary, path))
        .with_context(|| format!("cannot write the plan file {}", path.display()))
}

/// The target's label, as fleet output names it.
fn label(target: &SavedTarget) -> String {
    target.spec().to_string()
}

/// `apply PLAN`: every target checked (credentials, account, planned scope unchanged), then,
/// only if all are, every target's changes applied and verified.
pub async fn apply(
    global: &GlobalArgs,
    path: &Path,
    tuning: &Tuning,
    how: &ApplyRun,
) -> anyhow::Result<u8> {
    let plan = SavedPlan::read(path).context("the plan was not applied; nothing was written")?;
    let reporter = Arc::new(super::reporter(global));
    let control = commands::watch(reporter.clone(), tuning.deadline());
    let options = super::aws_options(global, None, tuning);
    let base = tokio::select! {
        base = AwsBase::load(&options) => base.context("cannot set up the AWS client")?,
        () = control.stopped() => anyhow::bail!("stopped while setting up the AWS client; nothing was applied"),
    };
    let make_pacer = || tuning.pacer();
    let connector = AwsConnector {
        base: &base,
        pacer: &make_pacer,
    };
    let concurrency = tuning.concurrency as usize;
    let checked = check_targets(
        &connector,
        &plan,
        concurrency,
        tuning.target_concurrency as usize,
        &control,
        reporter.as_ref(),
    )
    .await;
    let mut refused = Vec::new();
    let mut ready = Vec::new();
    for checked in checked {
        match checked.outcome {
            Ok(catalog) => ready.push((checked.target, catalog)),
            // Kept as an error chain, so the renderers find its hint (a role refused, …).
            Err(error) => refused.push((checked.target, anyhow::Error::new(error))),
        }
    }
    if matches!(control.reason(), Some(StopReason::Interrupted)) {
        eprintln!("interrupted while checking the plan; nothing was applied");
        return Ok(EXIT_INTERRUPTED);
    }
    if !refused.is_empty() {
        let names: Vec<String> = refused.iter().map(|(t, _)| label(t)).collect();
        let summary = format!(
            "the plan {} was not applied; nothing was written (refused: {}); plan again and review the new plan",
            path.display(),
            names.join(", ")
        );
        if global.output == OutputFormat::Json {
            // One document on stdout, whatever the number of refused targets.
            let sections: Vec<serde_json::Value> = refused
                .iter()
                .map(|(target, error)| {
                    let mut section = super::errors::fields(error);
                    section["target"] = label(target).into();
                    section["status"] = "refused".into();
                    section
                })
                .collect();
            emit(&format!(
                "{:#}\n",
                json!({
                    "format_version": super::output::FORMAT_VERSION,
                    "plan_file": path.display().to_string(),
                    "error": {"message": summary},
                    "targets": sections,
                })
            ))?;
            return Ok(EXIT_FAILURE);
        }
        for (target, error) in refused {
            let error = error.context(format!("target {}", label(&target)));
            super::errors::report(global.output, &error);
        }
        anyhow::bail!("{summary}");
    }
    let options = ApplyOptions {
        concurrency,
        strategy: how.strategy,
        control: control.clone(),
        ..ApplyOptions::default()
    };
    let reports: Vec<(SavedTarget, Report)> = {
        use futures::StreamExt;
        futures::stream::iter(ready)
            .map(|(target, catalog)| {
                let options = &options;
                async move {
                    let prepared = target.prepared();
                    let report = execute(
                        &catalog,
                        &prepared,
                        options,
                        &how.verify,
                        &sc_assoc::progress::NoProgress,
                    )
                    .await;
                    (target, report)
                }
            })
            .buffer_unordered(tuning.target_concurrency as usize)
            .collect()
            .await
    };
    let mut reports = reports;
    reports.sort_by_key(|(target, _)| label(target));
    let failed = reports.iter().filter(|(_, r)| !r.converged()).count();
    match global.output {
        OutputFormat::Text => {
            let mut out = String::new();
            for (target, report) in &reports {
                if !global.quiet {
                    let _ = writeln!(out, "== {} ==", label(target));
                }
                out.push_str(&super::output::report_text(report));
            }
            let _ = writeln!(
                out,
                "Applied the plan {}: {} target(s), {failed} with failures.",
                path.display(),
                reports.len()
            );
            emit(&out)?;
        }
        OutputFormat::Json => {
            let stop = control.reason();
            let sections: Vec<serde_json::Value> = reports
                .iter()
                .map(|(target, report)| {
                    json!({
                        "target": label(target),
                        "account": target.account,
                        "region": target.region,
                        "status": if report.converged() { "ok" } else { "failed" },
                        "report": super::output::report_value(report, stop.as_ref()),
                    })
                })
                .collect();
            emit(&format!(
                "{:#}\n",
                json!({
                    "format_version": super::output::FORMAT_VERSION,
                    "plan_file": path.display().to_string(),
                    "targets": sections,
                    "summary": {"targets": reports.len(), "failed": failed},
                })
            ))?;
        }
    }
    Ok(match control.reason() {
        Some(StopReason::Interrupted) => EXIT_INTERRUPTED,
        Some(_) => EXIT_FAILURE,
        None if failed > 0 => EXIT_FAILURE,
        None => EXIT_OK,
    })
}

/// `show PLAN`: the plan for review, as text or JSON.
pub fn show(global: &GlobalArgs, path: &Path) -> anyhow::Result<u8> {
    let plan = SavedPlan::read(path)?;
    match global.output {
        OutputFormat::Text => emit(&text(&plan, global.paint()))?,
        OutputFormat::Json => emit(&format!("{:#}\n", document(&plan)))?,
    }
    Ok(EXIT_OK)
}

fn text(plan: &SavedPlan, paint: super::colour::Paint) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Plan made by {} from {} (manifests sha256 {}){}:",
        plan.created_by,
        plan.manifests.files.join(", "),
        &plan.manifests.sha256[..plan.manifests.sha256.len().min(12)],
        if plan.prune { ", with --prune" } else { "" }
    );
    for target in &plan.targets {
        let _ = writeln!(out, "\n== {} ==", label(target));
        // The same tree `plan` prints, from the names the plan file kept.
        let mut names = sc_assoc::resolve::Names::default();
        for change in &target.changes {
            let (t, n) = (&change.triple, &change.names);
            names.insert_product(&t.product, n.product.as_deref());
            names.insert_artifact(&t.product, &t.artifact, n.artifact.as_deref());
            names.insert_action(&t.action, n.action.as_deref());
        }
        super::output::changes_tree(&mut out, &target.plan(), &names, paint);
        let (add, remove) = counts(target);
        let _ = writeln!(
            out,
            "{}",
            if add + remove == 0 {
                "No changes.".to_string()
            } else {
                format!("Plan: {add} to add, {remove} to remove.")
            }
        );
    }
    out
}

fn counts(target: &SavedTarget) -> (usize, usize) {
    let add = target.changes.iter().filter(|c| c.op == Op::Add).count();
    (add, target.changes.len() - add)
}

/// The plan as JSON for programs: the file's content without the external ids, and a summary
/// per target (in sync, to add, to remove).
fn document(plan: &SavedPlan) -> serde_json::Value {
    let mut value = serde_json::to_value(plan).unwrap_or_default();
    if let Some(targets) = value.get_mut("targets").and_then(|t| t.as_array_mut()) {
        for (section, target) in targets.iter_mut().zip(&plan.targets) {
            if let Some(role) = section.pointer_mut("/access/role")
                && let Some(map) = role.as_object_mut()
            {
                map.remove("external_id");
            }
            let (add, remove) = counts(target);
            section["target"] = label(target).into();
            section["summary"] = json!({
                "in_sync": add + remove == 0,
                "to_add": add,
                "to_remove": remove,
            });
        }
    }
    value
}
