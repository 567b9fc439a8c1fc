//! Saved plans on the command line, beside what [`super::runs`] does with them (`plan --out`
//! writes one, `apply FILE` carries one out): telling a plan file from a manifest, and `show
//! FILE` (the plan as text, or as JSON with a per-target summary for drift monitors).

use super::{EXIT_OK, GlobalArgs, OutputFormat, emit};
use sc_assoc::saved::{Op, SavedPlan, SavedTarget};
use serde_json::json;
use std::fmt::Write;
use std::path::{Path, PathBuf};

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

/// The target's label, as every layout names it.
fn label(target: &SavedTarget) -> String {
    target.spec().to_string()
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
    // What the plan's units stood for and its slice, as the plan said when it was made.
    let about = super::layout::About {
        units: &plan.organizational_units,
        shard: plan.shard,
        ..super::layout::About::default()
    };
    let about = super::layout::about_text(&about, plan.targets.len());
    if !about.is_empty() {
        let _ = writeln!(out, "\n{}", about.trim_end());
    }
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
        for action in &target.actions {
            if let sc_assoc::actions::ActionStep::Create { .. } = action.step {
                names.insert_action(
                    &sc_assoc::actions::pending_id(&action.name),
                    Some(&action.name),
                );
            }
        }
        super::output::actions_text(&mut out, &target.action_plan(), paint);
        super::output::changes_tree(&mut out, &target.plan(), &names, paint);
        let (add, remove) = counts(target);
        let _ = writeln!(
            out,
            "{}",
            if add + remove == 0 && target.actions.is_empty() {
                "No changes.".to_string()
            } else {
                format!(
                    "Plan: {add} to add, {remove} to remove{}.",
                    match target.actions.len() {
                        0 => String::new(),
                        n => format!(", {n} service action change(s)"),
                    }
                )
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
                "in_sync": add + remove == 0 && target.actions.is_empty(),
                "to_add": add,
                "to_remove": remove,
            });
        }
    }
    value
}
