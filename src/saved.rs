//! Saved plans: what `plan --out` writes and `apply PLAN` carries out, so what is applied is
//! exactly what was reviewed. A [`SavedPlan`] holds, per target, the changes (ids, the names the
//! catalog gave them, and the manifest location that declared each) and the observed state of
//! the *planned scope*: every association on each artifact a change touches, as read when the
//! plan was made. Applying re-reads that scope first; if anything there moved (an association
//! added or removed out of band), the plan no longer describes what it would do, and it is
//! refused before any write, naming what changed.
//!
//! The file is JSON with a format marker and version, and a SHA-256 digest over its own content:
//! a truncated, corrupt, hand-edited or foreign file is refused the same way, before any call.

use crate::actions::{ActionPlan, ActionStep, Place, PlannedAction, pending_id};
use crate::manifest::Location;
use crate::observe::{ScopeError, read_planned_scope};
use crate::pipeline::Planning;
use crate::plan::Plan;
use crate::progress::Reporter;
use crate::resolve::{Names, Resolved};
use crate::run::{Planned, Prepared};
use crate::seam::Connect;
use crate::settings::Settings;
use crate::target::{Access, AssumeRole, TargetSpec};
use crate::triple::Triple;
use serde::{Deserialize, Serialize};

mod check;
pub use crate::drift::{CheckError, Drift};
pub use check::check;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The `format` field of every plan file.
pub const PLAN_FORMAT: &str = "sc-assoc plan";
/// The plan file version this build writes and reads.
pub const PLAN_FORMAT_VERSION: u32 = 1;

/// A plan as written to a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedPlan {
    /// Always [`PLAN_FORMAT`]: what tells a plan file from any other JSON.
    pub format: String,
    pub format_version: u32,
    /// The sc-assoc that wrote it.
    pub created_by: String,
    /// Seconds since the Unix epoch when it was written.
    pub created_at: u64,
    /// The manifests it was planned from.
    pub manifests: ManifestsDigest,
    /// Whether removals were planned (`--prune`).
    pub prune: bool,
    /// What each organisational unit of the manifests stood for when the plan was made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organizational_units: Vec<crate::org::UnitExpansion>,
    /// The slice of the run's targets the plan is (`--shard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::document::ShardBody>,
    pub targets: Vec<SavedTarget>,
    /// SHA-256 (hex) of the file's content with this field empty: a changed byte anywhere is
    /// seen.
    pub digest: String,
}

/// The manifests a plan came from: their paths, and one SHA-256 over their paths and bytes in
/// load order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestsDigest {
    pub files: Vec<String>,
    pub sha256: String,
}

/// One target's part of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedTarget {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub region: Option<String>,
    pub access: SavedAccess,
    /// Removals first, then additions, each sorted: the order apply makes them in.
    pub changes: Vec<Change>,
    /// Every association on each artifact a change touches, as read at plan time, sorted.
    pub observed: Vec<Triple>,
    /// The service actions the plan creates, updates or deletes, made before the associations
    /// (deletes after); associations to an action it creates name it by its pending id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<SavedAction>,
    /// The account and region the actions' roles and tokens were made for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_place: Option<Place>,
}

/// One planned service-action change, with where it was declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedAction {
    pub name: String,
    pub declared_at: String,
    #[serde(flatten)]
    pub step: ActionStep,
}

/// How the target is reached. Unlike [`Access`] in output, the external id is kept: applying
/// needs it (the manifest the plan came from holds it too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum SavedAccess {
    Default,
    Role {
        role_arn: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        external_id: Option<String>,
        session_name: String,
    },
    Profile {
        profile: String,
    },
}

/// One planned change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub op: Op,
    #[serde(flatten)]
    pub triple: Triple,
    /// What the catalog calls the product, artifact and action, where resolution learned it.
    #[serde(default, skip_serializing_if = "ChangeNames::is_empty")]
    pub names: ChangeNames,
    /// The manifest location that declared the triple (additions; removals have none).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub declared_at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Op {
    Add,
    Remove,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeNames {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub product: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub artifact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub action: Option<String>,
}

impl ChangeNames {
    fn is_empty(&self) -> bool {
        self.product.is_none() && self.artifact.is_none() && self.action.is_none()
    }
}

/// Why a plan file cannot be used. Nothing is called or written in any of these cases.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanFileError {
    #[error("cannot read the plan file {path}")]
    Unreadable {
        path: String,
        #[source]
        error: std::io::Error,
    },
    #[error("{path} is not a valid plan file (truncated or corrupt): {detail}")]
    Corrupt { path: String, detail: String },
    #[error("{path} is not an sc-assoc plan file (its format is `{format}`)")]
    Foreign { path: String, format: String },
    #[error(
        "{path} is a plan file of format version {version}; this sc-assoc reads version {PLAN_FORMAT_VERSION}"
    )]
    Version { path: String, version: u64 },
    #[error("{path} was changed after sc-assoc wrote it (its digest does not match its content)")]
    Modified { path: String },
}

impl SavedPlan {
    /// The plan's digest: SHA-256 over its JSON with `digest` empty.
    fn compute_digest(&self) -> String {
        let mut unsigned = self.clone();
        unsigned.digest = String::new();
        let bytes = serde_json::to_vec(&unsigned).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }

    /// The file's text: pretty JSON, digest filled in, trailing newline.
    pub fn to_file_text(&self) -> String {
        let mut signed = self.clone();
        signed.digest = signed.compute_digest();
        let mut text = serde_json::to_string_pretty(&signed).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads and checks a plan file: format, version, digest.
    pub fn read(path: &Path) -> Result<SavedPlan, PlanFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| PlanFileError::Unreadable {
            path: shown.clone(),
            error,
        })?;
        Self::parse(&shown, &text)
    }

    /// [`SavedPlan::read`] on text already read; `path` names it in errors.
    pub fn parse(path: &str, text: &str) -> Result<SavedPlan, PlanFileError> {
        let corrupt = |detail: String| PlanFileError::Corrupt {
            path: path.to_string(),
            detail,
        };
        // The envelope first, so a foreign or newer file is named as such rather than as a
        // shape error in some field.
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
        let format = value.get("format").and_then(|f| f.as_str()).unwrap_or("");
        if format != PLAN_FORMAT {
            return Err(PlanFileError::Foreign {
                path: path.to_string(),
                format: format.to_string(),
            });
        }
        let version = value
            .get("format_version")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        if version != u64::from(PLAN_FORMAT_VERSION) {
            return Err(PlanFileError::Version {
                path: path.to_string(),
                version,
            });
        }
        let plan: SavedPlan = serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
        if plan.digest != plan.compute_digest() {
            return Err(PlanFileError::Modified {
                path: path.to_string(),
            });
        }
        for target in &plan.targets {
            let created: BTreeSet<String> = target
                .actions
                .iter()
                .filter(|a| matches!(a.step, ActionStep::Create { .. }))
                .map(|a| pending_id(&a.name))
                .collect();
            for change in &target.changes {
                let triple = &change.triple;
                for id in [&triple.product, &triple.artifact, &triple.action] {
                    // An action the plan creates is named by its pending id until then.
                    if id == &triple.action && created.contains(id) {
                        continue;
                    }
                    crate::triple::check_id(id).map_err(|e| corrupt(format!("{triple}: {e}")))?;
                }
            }
        }
        Ok(plan)
    }

    /// True when a file's text starts like a plan file (a JSON object with a `format` key,
    /// which no manifest has): `apply PATH` tells plan files from manifests by this, so a
    /// truncated plan, or another tool's, is refused as a plan file rather than read as a
    /// manifest.
    pub fn looks_like_plan(text: &str) -> bool {
        let head: String = text.chars().take(512).collect();
        head.trim_start().starts_with('{') && head.contains("\"format\"")
    }
}

/// The manifests' digest: SHA-256 over each file's path and bytes, in load order.
pub fn digest_manifests(files: &[std::path::PathBuf]) -> std::io::Result<ManifestsDigest> {
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(file.display().to_string().as_bytes());
        hasher.update([0]);
        hasher.update(std::fs::read(file)?);
        hasher.update([0]);
    }
    Ok(ManifestsDigest {
        files: files.iter().map(|f| f.display().to_string()).collect(),
        sha256: hex::encode(hasher.finalize()),
    })
}

impl SavedTarget {
    /// The target this part of the plan is for.
    pub fn spec(&self) -> TargetSpec {
        TargetSpec {
            account: self.account.clone(),
            region: self.region.clone(),
            access: match &self.access {
                SavedAccess::Default => Access::Default,
                SavedAccess::Role {
                    role_arn,
                    external_id,
                    session_name,
                } => Access::Role(AssumeRole {
                    role_arn: role_arn.clone(),
                    external_id: external_id.clone(),
                    session_name: session_name.clone(),
                }),
                SavedAccess::Profile { profile } => Access::Profile(profile.clone()),
            },
        }
    }

    /// One target's part, from its plan and the planned scope's state read for it.
    pub fn new(target: &TargetSpec, planned: &Planned, observed: BTreeSet<Triple>) -> Self {
        let access = match &target.access {
            Access::Role(role) => SavedAccess::Role {
                role_arn: role.role_arn.clone(),
                external_id: role.external_id.clone(),
                session_name: role.session_name.clone(),
            },
            Access::Profile(profile) => SavedAccess::Profile {
                profile: profile.clone(),
            },
            _ => SavedAccess::Default,
        };
        let names = &planned.resolved.names;
        let change = |op: Op, triple: &Triple| Change {
            op,
            triple: triple.clone(),
            names: ChangeNames {
                product: names.product(&triple.product).map(str::to_string),
                artifact: names
                    .artifact(&triple.product, &triple.artifact)
                    .map(str::to_string),
                action: names.action(&triple.action).map(str::to_string),
            },
            declared_at: planned.resolved.triples.get(triple).map(|l| l.to_string()),
        };
        let plan = &planned.prepared.plan;
        let mut changes: Vec<Change> = plan
            .to_remove
            .iter()
            .map(|t| change(Op::Remove, t))
            .collect();
        changes.extend(plan.to_add.iter().map(|t| change(Op::Add, t)));
        let action_plan = &planned.prepared.actions;
        let actions: Vec<SavedAction> = action_plan
            .actions
            .iter()
            .filter(|a| a.changes())
            .map(|a| SavedAction {
                name: a.name.clone(),
                declared_at: a.location.to_string(),
                step: a.step.clone(),
            })
            .collect();
        SavedTarget {
            account: target.account.clone(),
            region: target.region.clone(),
            access,
            changes,
            observed: observed.into_iter().collect(),
            action_place: (!actions.is_empty()).then(|| action_plan.place.clone()),
            actions,
        }
    }

    /// The planned action changes as the apply phase takes them.
    pub fn action_plan(&self) -> ActionPlan {
        ActionPlan {
            actions: self
                .actions
                .iter()
                .map(|saved| PlannedAction {
                    name: saved.name.clone(),
                    location: Location::parse(&saved.declared_at)
                        .unwrap_or_else(|| Location::new(&saved.declared_at, 0, 0)),
                    step: saved.step.clone(),
                })
                .collect(),
            place: self.action_place.clone().unwrap_or_default(),
        }
    }

    /// The triples to add and to remove.
    pub fn plan(&self) -> Plan {
        let of = |op: Op| -> Vec<Triple> {
            self.changes
                .iter()
                .filter(|c| c.op == op)
                .map(|c| c.triple.clone())
                .collect()
        };
        Plan {
            to_add: of(Op::Add),
            to_remove: of(Op::Remove),
            present: Vec::new(),
            prune: self.changes.iter().any(|c| c.op == Op::Remove),
        }
    }

    /// The plan as the apply phase takes it: nothing unreadable, no quota problem (the plan was
    /// refused at plan time if it had one), the names the plan file kept, and no read direction
    /// (the state was not read for it in this run).
    pub fn planned(&self) -> Planned {
        let plan = self.plan();
        let mut names = Names::default();
        for change in &self.changes {
            let (t, n) = (&change.triple, &change.names);
            names.insert_product(&t.product, n.product.as_deref());
            names.insert_artifact(&t.product, &t.artifact, n.artifact.as_deref());
            names.insert_action(&t.action, n.action.as_deref());
        }
        Planned {
            resolved: Resolved {
                names,
                ..Resolved::default()
            },
            prepared: Prepared {
                direction: None,
                desired_count: plan.to_add.len(),
                plan,
                unreadable: BTreeMap::new(),
                quota_violations: Vec::new(),
                actions: self.action_plan(),
                read_time: std::time::Duration::ZERO,
                read_calls: 0,
            },
        }
    }
}

/// Why no plan file was written. Nothing was written in any of these cases.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SaveError {
    /// A target has no complete plan (its error is on its own run).
    #[error("no plan file was written: target {target} has no complete plan")]
    Incomplete { target: String },
    /// A target's planned scope could not be read, or its account learned.
    #[error("no plan file was written: target {target}")]
    Scope {
        target: String,
        #[source]
        error: Box<ScopeError>,
    },
    #[error("no plan file was written: cannot read the manifests again")]
    Manifests(#[source] std::io::Error),
    #[error("cannot write the plan file {path}")]
    Write {
        path: String,
        #[source]
        error: std::io::Error,
    },
}

impl SavedPlan {
    /// A plan file's content from a [`Planning`] of the manifests `files` (every target must
    /// have planned): for each target its changes, the state of its planned scope (read now,
    /// with its own client) and the account its credentials belong to.
    pub async fn capture<K: Connect>(
        connector: &K,
        planning: &Planning<K::Catalog>,
        files: &[PathBuf],
        settings: &Settings,
        reporter: &dyn Reporter,
    ) -> Result<SavedPlan, SaveError> {
        let manifests = digest_manifests(files).map_err(SaveError::Manifests)?;
        let alone = planning.targets.len() == 1;
        let captured: Vec<Result<SavedTarget, SaveError>> =
            futures::stream::iter(planning.targets.iter())
                .map(|(run, client)| async move {
                    let label = run.target.to_string();
                    let incomplete = || SaveError::Incomplete {
                        target: label.clone(),
                    };
                    let (Ok(planned), Some((catalog, control))) = (&run.planned, client) else {
                        return Err(incomplete());
                    };
                    if run.stop.is_some() {
                        return Err(incomplete());
                    }
                    let scope = |error| SaveError::Scope {
                        target: label.clone(),
                        error: Box::new(error),
                    };
                    let guarded = crate::control::Guarded::new(catalog, control.clone());
                    // Targets read side by side: only a lone target draws its reads.
                    let reporter =
                        crate::pipeline::TargetReporter::of(reporter, &run.target, alone);
                    let observed = read_planned_scope(
                        &guarded,
                        &planned.prepared.plan,
                        settings.concurrency,
                        &reporter,
                    )
                    .await
                    .map_err(scope)?;
                    let mut spec = run.target.clone();
                    if spec.account.is_none() {
                        spec.account = connector
                            .caller_account(catalog)
                            .await
                            .map_err(|e| scope(ScopeError::Account(e)))?;
                    }
                    Ok(SavedTarget::new(&spec, planned, observed))
                })
                .buffered(settings.target_concurrency.max(1))
                .collect()
                .await;
        Ok(SavedPlan {
            format: PLAN_FORMAT.to_string(),
            format_version: PLAN_FORMAT_VERSION,
            created_by: format!("sc-assoc {}", crate::VERSION),
            created_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default(),
            manifests,
            prune: settings.prune,
            organizational_units: Vec::new(),
            shard: None,
            targets: captured.into_iter().collect::<Result<_, _>>()?,
            digest: String::new(),
        })
    }

    /// Writes the plan to `path` whole or not at all (a temporary file renamed into place).
    pub fn write(&self, path: &Path) -> Result<(), SaveError> {
        let temporary = path.with_extension("json.partial");
        std::fs::write(&temporary, self.to_file_text())
            .and_then(|()| std::fs::rename(&temporary, path))
            .map_err(|error| SaveError::Write {
                path: path.display().to_string(),
                error,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SavedPlan {
        SavedPlan {
            format: PLAN_FORMAT.to_string(),
            format_version: PLAN_FORMAT_VERSION,
            created_by: "sc-assoc test".to_string(),
            created_at: 1,
            manifests: ManifestsDigest {
                files: vec!["m.yaml".into()],
                sha256: "00".into(),
            },
            prune: false,
            organizational_units: vec![],
            shard: None,
            targets: vec![SavedTarget {
                account: None,
                region: Some("us-east-1".into()),
                access: SavedAccess::Default,
                changes: vec![Change {
                    op: Op::Add,
                    triple: Triple::new("prod-1", "pa-1", "act-1"),
                    names: ChangeNames::default(),
                    declared_at: Some("m.yaml:3:5".into()),
                }],
                observed: vec![],
                actions: vec![],
                action_place: None,
            }],
            digest: String::new(),
        }
    }

    #[test]
    fn a_written_plan_reads_back_the_same() {
        let text = sample().to_file_text();
        assert!(SavedPlan::looks_like_plan(&text));
        let read = SavedPlan::parse("p.json", &text).expect("reads");
        let mut expected = sample();
        expected.digest = read.digest.clone();
        assert_eq!(read, expected);
    }

    #[test]
    fn any_edit_truncation_or_foreign_format_is_refused() {
        let text = sample().to_file_text();
        let edited = text.replace("act-1", "act-2");
        assert!(matches!(
            SavedPlan::parse("p.json", &edited),
            Err(PlanFileError::Modified { .. })
        ));
        let truncated = &text[..text.len() / 2];
        assert!(SavedPlan::looks_like_plan(truncated));
        assert!(matches!(
            SavedPlan::parse("p.json", truncated),
            Err(PlanFileError::Corrupt { .. })
        ));
        let foreign = text.replace(PLAN_FORMAT, "terraform plan");
        assert!(matches!(
            SavedPlan::parse("p.json", &foreign),
            Err(PlanFileError::Foreign { .. })
        ));
        let newer = text.replace("\"format_version\": 1", "\"format_version\": 2");
        assert!(matches!(
            SavedPlan::parse("p.json", &newer),
            Err(PlanFileError::Version { version: 2, .. })
        ));
    }
}
