//! Rendering results for people and for programs: the plan and the apply report as text (to
//! stdout, failures with their reasons) or as one stable JSON document. Nothing here decides an
//! exit code or touches the network.

use crate::apply::Status;
use crate::run::{Prepared, Report};
use crate::triple::Triple;
use serde::Serialize;
use std::fmt::Write;

/// The plan as JSON: stable field names, sorted lists.
#[derive(Serialize)]
struct PlanDocument<'a> {
    direction: &'a crate::observe::DirectionChoice,
    to_add: &'a [Triple],
    already_present: &'a [Triple],
    unreadable: Vec<UnreadableEntry<'a>>,
    quota_violations: &'a [crate::plan::QuotaViolation],
    summary: PlanSummary,
}

#[derive(Serialize)]
struct UnreadableEntry<'a> {
    #[serde(flatten)]
    triple: &'a Triple,
    error: crate::apply::Failure,
}

#[derive(Serialize)]
struct PlanSummary {
    desired: usize,
    to_add: usize,
    already_present: usize,
    unreadable: usize,
}

pub fn plan_json(prepared: &Prepared) -> String {
    let document = PlanDocument {
        direction: &prepared.direction,
        to_add: &prepared.plan.to_add,
        already_present: &prepared.plan.present,
        unreadable: prepared
            .unreadable
            .iter()
            .map(|(triple, error)| UnreadableEntry {
                triple,
                error: error.into(),
            })
            .collect(),
        quota_violations: &prepared.quota_violations,
        summary: PlanSummary {
            desired: prepared.desired_count,
            to_add: prepared.plan.to_add.len(),
            already_present: prepared.plan.present.len(),
            unreadable: prepared.unreadable.len(),
        },
    };
    to_json(&document)
}

pub fn plan_text(prepared: &Prepared) -> String {
    let mut out = String::new();
    if prepared.plan.has_changes() {
        out.push_str("sc-assoc will associate these service actions:\n\n");
    }
    let _ = writeln!(out, "{}", prepared.plan);
    for (triple, error) in &prepared.unreadable {
        let _ = writeln!(out, "  ! {triple}: could not read current state: {error}");
    }
    out
}

pub fn report_json(report: &Report) -> String {
    to_json(report)
}

pub fn report_text(report: &Report) -> String {
    let mut out = String::new();
    let failures: Vec<_> = report.failures().collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "Failed:");
        for outcome in &failures {
            if let Some(error) = &outcome.error {
                let _ = write!(
                    out,
                    "  ✗ {}: {}: {}",
                    outcome.triple, error.code, error.message
                );
                if let Some(id) = &error.request_id {
                    let _ = write!(out, " (request id {id})");
                }
                out.push('\n');
            }
        }
        out.push('\n');
    }
    let not_attempted = report
        .outcomes
        .iter()
        .filter(|o| o.status == Status::NotAttempted)
        .count();
    let summary = &report.summary;
    let _ = write!(
        out,
        "Apply: {} created, {} already present, {} adopted, {} failed",
        summary.created, summary.already_present, summary.adopted, summary.failed
    );
    if summary.healed > 0 {
        let _ = write!(out, ", {} healed", summary.healed);
    }
    if not_attempted > 0 {
        let _ = write!(out, ", {not_attempted} not attempted");
    }
    let _ = writeln!(
        out,
        " ({} desired; {} read calls, {} write calls; read {:.1}s, apply {:.1}s).",
        summary.desired,
        report.calls.reads,
        report.calls.writes,
        report.timings.read_ms as f64 / 1000.0,
        report.timings.apply_ms as f64 / 1000.0
    );
    out
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Serializing plain data structs cannot fail; a failure would be a bug worth seeing.
    serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot render JSON: {e}\"}}"))
}
