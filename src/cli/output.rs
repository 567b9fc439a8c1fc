//! Rendering results for people and for programs: the plan and the apply report as text (to
//! stdout, failures with their reasons) or as one stable JSON document. Nothing here decides an
//! exit code or touches the network.

use sc_assoc::apply::Status;
use sc_assoc::control::StopReason;
use sc_assoc::resolve::{ArtifactName, Expansion};
use sc_assoc::run::{Prepared, Report};
use sc_assoc::triple::Triple;
use serde::Serialize;
use std::fmt::Write;

/// The version of every JSON document sc-assoc prints (plan, report, validation, errors). It
/// changes when a field is removed or changes meaning; new fields may appear without a change.
pub const FORMAT_VERSION: u32 = 1;

/// The plan as JSON: stable field names, sorted lists.
#[derive(Serialize)]
struct PlanDocument<'a> {
    format_version: u32,
    direction: &'a sc_assoc::observe::DirectionChoice,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    selectors: Vec<SelectorEntry<'a>>,
    to_add: &'a [Triple],
    to_remove: &'a [Triple],
    already_present: &'a [Triple],
    unreadable: Vec<UnreadableEntry<'a>>,
    quota_violations: &'a [sc_assoc::plan::QuotaViolation],
    summary: PlanSummary,
}

/// What one `artifacts: all | active` stood for at this run.
#[derive(Serialize)]
struct SelectorEntry<'a> {
    at: String,
    product: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    product_name: Option<&'a str>,
    selector: sc_assoc::manifest::ArtifactSelector,
    artifacts: &'a [ArtifactName],
}

#[derive(Serialize)]
struct UnreadableEntry<'a> {
    #[serde(flatten)]
    triple: &'a Triple,
    error: sc_assoc::apply::Failure,
}

#[derive(Serialize)]
struct PlanSummary {
    desired: usize,
    to_add: usize,
    to_remove: usize,
    already_present: usize,
    unreadable: usize,
}

pub fn plan_json(prepared: &Prepared, expansions: &[Expansion]) -> String {
    to_json(&plan_document(prepared, expansions))
}

/// The plan's fields without `format_version`, for a target's section of a larger document.
pub fn plan_value(prepared: &Prepared, expansions: &[Expansion]) -> serde_json::Value {
    without_version(serde_json::to_value(plan_document(prepared, expansions)))
}

/// A serialized document with its `format_version` taken out (the enclosing document has one).
fn without_version(value: Result<serde_json::Value, serde_json::Error>) -> serde_json::Value {
    let mut value = value.unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.remove("format_version");
    }
    value
}

fn plan_document<'a>(prepared: &'a Prepared, expansions: &'a [Expansion]) -> PlanDocument<'a> {
    PlanDocument {
        format_version: FORMAT_VERSION,
        direction: &prepared.direction,
        selectors: expansions
            .iter()
            .map(|e| SelectorEntry {
                at: e.location.to_string(),
                product: &e.product,
                product_name: e.product_name.as_deref(),
                selector: e.selector,
                artifacts: &e.artifacts,
            })
            .collect(),
        to_add: &prepared.plan.to_add,
        to_remove: &prepared.plan.to_remove,
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
            to_remove: prepared.plan.to_remove.len(),
            already_present: prepared.plan.present.len(),
            unreadable: prepared.unreadable.len(),
        },
    }
}

pub fn plan_text(prepared: &Prepared, expansions: &[Expansion]) -> String {
    let mut out = String::new();
    if !expansions.is_empty() {
        out.push_str("Selectors expanded to the products' current provisioning artifacts:\n");
        for expansion in expansions {
            let _ = writeln!(out, "  {}", selector_line(expansion));
        }
        out.push('\n');
    }
    let plan = &prepared.plan;
    match (plan.to_add.is_empty(), plan.to_remove.is_empty()) {
        (false, true) => out.push_str("sc-assoc will associate these service actions:\n\n"),
        (true, false) => out.push_str("sc-assoc will disassociate these service actions:\n\n"),
        (false, false) => out.push_str(
            "sc-assoc will associate (+) and disassociate (-) these service actions:\n\n",
        ),
        (true, true) => {}
    }
    for (triple, error) in &prepared.unreadable {
        let _ = writeln!(out, "  ! {triple}: could not read current state: {error}");
    }
    if !prepared.unreadable.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "{}", prepared.plan);
    if !prepared.unreadable.is_empty() {
        // Without this, "No changes." above would read as a clean bill of health.
        let _ = writeln!(
            out,
            "Incomplete: {} declared association(s) could not be read and are left out of this plan.",
            prepared.unreadable.len()
        );
    }
    out
}

/// `m.yaml:4:16: prod-web (Web Server) artifacts: active → pa-1 (v1), pa-2 (v2)`.
fn selector_line(expansion: &Expansion) -> String {
    let product = match &expansion.product_name {
        Some(name) => format!("{} ({name})", expansion.product),
        None => expansion.product.clone(),
    };
    let artifacts: Vec<String> = expansion
        .artifacts
        .iter()
        .map(|a| match &a.name {
            Some(name) => format!("{} ({name})", a.id),
            None => a.id.clone(),
        })
        .collect();
    let artifacts = if artifacts.is_empty() {
        "(none)".to_string()
    } else {
        artifacts.join(", ")
    };
    format!(
        "{}: {product} artifacts: {} → {artifacts}",
        expansion.location, expansion.selector
    )
}

/// The apply report as JSON, with why the run stopped early, if it did.
pub fn report_json(report: &Report, stop: Option<&StopReason>) -> String {
    to_json(&report_document(report, stop))
}

/// The report's fields without `format_version`, for a target's section.
pub fn report_value(report: &Report, stop: Option<&StopReason>) -> serde_json::Value {
    without_version(serde_json::to_value(report_document(report, stop)))
}

fn report_document<'a>(report: &'a Report, stop: Option<&StopReason>) -> impl Serialize + 'a {
    #[derive(Serialize)]
    struct ReportDocument<'a> {
        format_version: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        stopped: Option<StopDocument>,
        #[serde(flatten)]
        report: &'a Report,
    }
    #[derive(Serialize)]
    struct StopDocument {
        reason: &'static str,
        message: String,
    }
    let stopped = stop.map(|reason| StopDocument {
        reason: match reason {
            StopReason::Interrupted => "interrupted",
            StopReason::Deadline => "deadline",
            StopReason::Fatal(_) => "fatal_error",
            _ => "other",
        },
        message: sc_assoc::redact::redact(&reason.to_string()).into_owned(),
    });
    ReportDocument {
        format_version: FORMAT_VERSION,
        stopped,
        report,
    }
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
    let unknown: Vec<_> = report
        .outcomes
        .iter()
        .filter(|o| o.status == Status::Unknown)
        .collect();
    if !unknown.is_empty() {
        let _ = writeln!(
            out,
            "Unknown (in flight when the run stopped; the change may or may not have been made):"
        );
        for outcome in &unknown {
            let _ = writeln!(out, "  ? {}", outcome.triple);
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
    if summary.removed > 0 || summary.already_absent > 0 {
        let _ = write!(out, ", {} removed", summary.removed);
    }
    if summary.already_absent > 0 {
        let _ = write!(out, ", {} already absent", summary.already_absent);
    }
    if summary.healed > 0 {
        let _ = write!(out, ", {} healed", summary.healed);
    }
    if not_attempted > 0 {
        let _ = write!(out, ", {not_attempted} not attempted");
    }
    if summary.unknown > 0 {
        let _ = write!(out, ", {} unknown", summary.unknown);
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
    let wire = &report.calls.wire;
    if wire.retries > 0 || wire.throttled > 0 || wire.server_errors > 0 || wire.timeouts > 0 {
        let _ = writeln!(
            out,
            "On the wire: {} HTTP attempts, {} retried; {} throttled, {} answered 5xx, {} timed out, {} failed to connect.",
            wire.attempts,
            wire.retries,
            wire.throttled,
            wire.server_errors,
            wire.timeouts,
            wire.transport_errors
        );
    }
    out
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Serializing plain data structs cannot fail; a failure would be a bug worth seeing.
    serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot render JSON: {e}\"}}"))
}
