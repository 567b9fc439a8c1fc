//! The JSON documents sc-assoc prints, as types: the plan and the apply report of one target, a
//! run over targets with a section per target, and the fields of a failure. Every document
//! carries [`FORMAT_VERSION`]; a section inside a larger document does not repeat it. An embedder
//! serialises these to produce exactly what the command line prints. The plan file is
//! [`crate::saved::SavedPlan`], versioned on its own.

use crate::actions::{ActionCounts, PlannedAction};
use crate::apply::Failure;
use crate::control::StopReason;
use crate::manifest::{ArtifactSelector, Diagnostic};
use crate::observe::DirectionChoice;
use crate::pipeline::TargetRun;
use crate::plan::QuotaViolation;
use crate::redact::redact;
use crate::resolve::{ArtifactName, Expansion};
use crate::run::{Prepared, Report};
use crate::target::Access;
use crate::triple::Triple;
use serde::{Deserialize, Serialize};

/// The version of every JSON document sc-assoc prints (plan, report, validation, errors). It
/// changes when a field is removed or changes meaning; new fields may appear without a change.
pub const FORMAT_VERSION: u32 = 1;

/// A document: its body with [`FORMAT_VERSION`] first.
#[derive(Debug, Serialize)]
pub struct Versioned<T> {
    pub format_version: u32,
    #[serde(flatten)]
    pub body: T,
}

impl<T: Serialize> Versioned<T> {
    pub fn new(body: T) -> Self {
        Versioned {
            format_version: FORMAT_VERSION,
            body,
        }
    }

    /// Pretty JSON and a newline, as printed.
    pub fn to_text(&self) -> String {
        // Serializing plain data cannot fail; a failure would be a bug worth seeing.
        let mut text = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"cannot render JSON: {e}\"}}"));
        text.push('\n');
        text
    }
}

/// One target's plan: stable field names, sorted lists.
#[derive(Debug, Serialize)]
pub struct PlanBody<'a> {
    /// How the state was read; absent for a plan read back from a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<&'a DirectionChoice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub selectors: Vec<SelectorEntry<'a>>,
    pub to_add: &'a [Triple],
    pub to_remove: &'a [Triple],
    pub already_present: &'a [Triple],
    pub unreadable: Vec<UnreadableEntry<'a>>,
    pub quota_violations: &'a [QuotaViolation],
    /// The declared service actions and each one's step, made before the associations.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub actions: &'a [PlannedAction],
    pub summary: PlanSummary,
}

/// What one `artifacts: all | active` stood for at this run.
#[derive(Debug, Serialize)]
pub struct SelectorEntry<'a> {
    pub at: String,
    pub product: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_name: Option<&'a str>,
    pub selector: ArtifactSelector,
    pub artifacts: &'a [ArtifactName],
}

#[derive(Debug, Serialize)]
pub struct UnreadableEntry<'a> {
    #[serde(flatten)]
    pub triple: &'a Triple,
    pub error: Failure,
}

#[derive(Debug, Serialize)]
pub struct PlanSummary {
    /// Nothing to add or remove: what a scheduled drift check alerts on when false.
    pub in_sync: bool,
    pub desired: usize,
    pub to_add: usize,
    pub to_remove: usize,
    pub already_present: usize,
    pub unreadable: usize,
    /// Declared service actions by step; absent when the manifests declare none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<ActionCounts>,
}

impl<'a> PlanBody<'a> {
    pub fn new(prepared: &'a Prepared, expansions: &'a [Expansion]) -> Self {
        PlanBody {
            direction: prepared.direction.as_ref(),
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
            actions: &prepared.actions.actions,
            summary: PlanSummary {
                actions: (!prepared.actions.actions.is_empty()).then(|| prepared.actions.counts()),
                in_sync: !prepared.has_changes(),
                desired: prepared.desired_count,
                to_add: prepared.plan.to_add.len(),
                to_remove: prepared.plan.to_remove.len(),
                already_present: prepared.plan.present.len(),
                unreadable: prepared.unreadable.len(),
            },
        }
    }
}

/// Why a run stopped early, worded once for every document and message.
#[derive(Debug, Serialize)]
pub struct Stopped {
    /// `interrupted`, `deadline` or `fatal_error`.
    pub reason: &'static str,
    pub message: String,
}

impl Stopped {
    pub fn new(reason: &StopReason) -> Self {
        Stopped {
            reason: match reason {
                StopReason::Interrupted => "interrupted",
                StopReason::Deadline => "deadline",
                StopReason::Fatal(_) => "fatal_error",
            },
            message: redact(&reason.to_string()).into_owned(),
        }
    }
}

/// One target's apply report, with why its run stopped early, if it did.
#[derive(Debug, Serialize)]
pub struct ReportBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Stopped>,
    #[serde(flatten)]
    pub report: &'a Report,
}

impl<'a> ReportBody<'a> {
    pub fn new(report: &'a Report, stop: Option<&StopReason>) -> Self {
        ReportBody {
            stopped: stop.map(Stopped::new),
            report,
        }
    }
}

/// A run over targets: a section per target, in the order they were given, and totals.
#[derive(Debug, Serialize)]
pub struct TargetsBody<'a> {
    /// The plan file applied, for `apply PLANFILE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_file: Option<String>,
    /// Why nothing was applied at all (a saved plan refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
    /// What each organisational unit of the manifests stood for at this run.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub organizational_units: &'a [crate::org::UnitExpansion],
    /// Accounts of those units that `exclude_accounts` left out, with where.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded_accounts: Vec<ExcludedBody>,
    /// The slice of the targets this run is (`--shard`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardBody>,
    pub targets: Vec<TargetSection<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<&'a Totals>,
}

/// An account of the units left out by `exclude_accounts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExcludedBody {
    pub account: String,
    /// `file:line:col` of the exclusion.
    pub at: String,
}

impl ExcludedBody {
    /// The exclusions of a run, as the manifests place them.
    pub fn of(excluded: &[crate::manifest::Located<String>]) -> Vec<ExcludedBody> {
        excluded
            .iter()
            .map(|e| ExcludedBody {
                account: e.value.clone(),
                at: e.location.to_string(),
            })
            .collect()
    }
}

/// `--shard I/N`: which slice, of how many targets in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardBody {
    /// 1-based.
    pub index: u32,
    pub count: u32,
    /// Targets of the whole run, every shard together.
    pub targets_total: usize,
}

impl ShardBody {
    /// `Shard 2/10: 61 of the run's 600 target(s).`, for a slice of `targets` targets.
    pub fn line(&self, targets: usize) -> String {
        format!(
            "Shard {}/{}: {targets} of the run's {} target(s).",
            self.index, self.count, self.targets_total
        )
    }
}

/// Counts over every target of a run, for its total line, its JSON summary and its exit code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub targets: usize,
    pub failed: usize,
    pub with_changes: usize,
    pub to_add: usize,
    pub to_remove: usize,
    /// The failed targets' labels, for the message that names them.
    #[serde(skip)]
    pub failed_labels: Vec<String>,
}

impl Totals {
    pub fn of<'r>(runs: impl IntoIterator<Item = &'r TargetRun>) -> Self {
        let mut totals = Totals::default();
        for run in runs {
            totals.targets += 1;
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

/// How one target ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SectionStatus {
    Ok,
    Failed,
    /// A saved plan's target that did not check out: nothing was applied anywhere.
    Refused,
}

/// One target's section: who it is, then its plan and report, or its error.
#[derive(Debug, Serialize)]
pub struct TargetSection<'a> {
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<&'a str>,
    pub access: &'a Access,
    pub elapsed_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_at: Option<String>,
    pub status: SectionStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_sync: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanBody<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ReportBody<'a>>,
    /// Why the target stopped early, when it has no report to say it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Its failure, when it has no plan.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureFields>,
}

impl<'a> TargetSection<'a> {
    /// The section of `run`; `failure` is its error's fields when it has no plan (the caller
    /// words errors and their hints).
    pub fn new(run: &'a TargetRun, failure: Option<FailureFields>, refused: bool) -> Self {
        let mut section = TargetSection {
            target: run.target.to_string(),
            account: run.target.account.as_deref(),
            region: run.target.region.as_deref(),
            access: &run.target.access,
            elapsed_ms: run.elapsed.as_millis() as u64,
            declared_at: run.location.as_ref().map(ToString::to_string),
            status: if refused {
                SectionStatus::Refused
            } else if run.failed() {
                SectionStatus::Failed
            } else {
                SectionStatus::Ok
            },
            in_sync: None,
            plan: None,
            report: None,
            stopped: None,
            failure,
        };
        if let Ok(planned) = &run.planned {
            section.in_sync = Some(!planned.prepared.has_changes());
            section.plan = Some(PlanBody::new(
                &planned.prepared,
                &planned.resolved.expansions,
            ));
            match &run.report {
                Some(report) => section.report = Some(ReportBody::new(report, run.stop.as_ref())),
                None => {
                    section.stopped = run
                        .stop
                        .as_ref()
                        .map(|reason| redact(&reason.to_string()).into_owned())
                }
            }
        }
        section
    }
}

/// A failure's fields, for a document of its own or a target's section.
#[derive(Debug, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum FailureFields {
    /// Anything but an invalid manifest.
    Error { error: ErrorBody },
    /// Manifests that failed validation, or names and ids the catalog does not know.
    Invalid {
        valid: bool,
        error: ErrorBody,
        diagnostics: Vec<DiagnosticEntry>,
    },
}

/// What went wrong, its causes, and what to do.
#[derive(Debug, Default, Serialize)]
pub struct ErrorBody {
    pub message: String,
    pub caused_by: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// AWS's error code, when the service said one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<&'static str>,
    /// clap's whole message, for a usage error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<String>,
}

/// One manifest problem, at its location, with a hint where there is one.
#[derive(Debug, Serialize)]
pub struct DiagnosticEntry {
    pub severity: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl From<&Diagnostic> for DiagnosticEntry {
    fn from(diagnostic: &Diagnostic) -> Self {
        DiagnosticEntry {
            severity: diagnostic.severity.to_string(),
            message: redact(&diagnostic.message).into_owned(),
            file: diagnostic
                .location
                .as_ref()
                .map(|l| l.file.display().to_string()),
            line: diagnostic.location.as_ref().map(|l| l.line),
            column: diagnostic.location.as_ref().map(|l| l.column),
            hint: diagnostic.hint.as_deref().map(|h| redact(h).into_owned()),
        }
    }
}
