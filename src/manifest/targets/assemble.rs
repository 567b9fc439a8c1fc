//! The `targets:` sections of a run's files, together: the targets in first-declared order, a
//! target reached two ways refused, and one merge per target of exactly the files naming it
//! (a file without `targets:` names [`TargetSpec::current`]). A file feeding several targets is
//! cloned for all but the last; a run without targets is the single merge it always was, with
//! the files moved into it. What makes two targets the same ([`Identity`]) and how a conflict
//! between them is told ([`conflict`]) live here too, since the walk of one file asks the same.

use crate::manifest::declaration::Located;
use crate::manifest::diagnostic::{Diagnostic, Location, ManifestErrors, Severity};
use crate::manifest::merge::{self, Language};
use crate::manifest::validate::{At, ManifestFile};
use crate::manifest::{TargetDesired, Targeted};
use crate::org::UnitExpansion;
use crate::target::{Access, TargetSpec};
use std::collections::BTreeMap;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// What makes two targets the same place: the account (or, without one, the profile that picks
/// it), and the region. How it is reached is not part of it — that is what must agree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Identity {
    account: Option<String>,
    profile: Option<String>,
    region: Option<String>,
}

impl Identity {
    pub(super) fn of(target: &TargetSpec) -> Self {
        let profile = match (&target.account, &target.access) {
            (None, Access::Profile(profile)) => Some(profile.clone()),
            _ => None,
        };
        Self {
            account: target.account.clone(),
            profile,
            region: target.region.clone(),
        }
    }
}

/// The error for `target` reached here with its access but with `first` at `first_at`; `None`
/// when both are the same. Says what differs without showing an external id.
pub(super) fn conflict(target: &TargetSpec, first: &Access, first_at: &str) -> Option<String> {
    if target.access == *first {
        return None;
    }
    let difference = match (&target.access, first) {
        (Access::Role(here), Access::Role(there)) if here.role_arn != there.role_arn => format!(
            "assumes role `{}` here but `{}` at {first_at}",
            here.role_arn, there.role_arn
        ),
        (Access::Role(here), Access::Role(there)) if here.session_name != there.session_name => {
            format!(
                "uses session name `{}` here but `{}` at {first_at}",
                here.session_name, there.session_name
            )
        }
        (Access::Role(_), Access::Role(_)) => {
            format!("is given a different external id here than at {first_at}")
        }
        (here, there) => format!(
            "is reached through {} here but through {} at {first_at}",
            reached(here),
            reached(there)
        ),
    };
    Some(format!(
        "target `{target}` {difference}; a target is reached one way in a run"
    ))
}

fn reached(access: &Access) -> String {
    match access {
        Access::Default => "the default credentials".to_string(),
        Access::Role(role) => format!("role `{}`", role.role_arn),
        Access::Profile(profile) => format!("profile `{profile}`"),
    }
}

/// An error for each file `manifest::load` cannot read as meant: one with `targets:`, whose
/// associations belong to other accounts and regions than the one `load` reconciles.
pub(in crate::manifest) fn refuse_targets(files: &[ManifestFile]) -> Vec<Diagnostic> {
    files
        .iter()
        .filter_map(|file| {
            let key = file.targets.as_ref()?.key;
            Some(Diagnostic::error(
                Some(Location::new(&file.file, key.line, key.column)),
                "this file declares `targets`; read it with `manifest::load_targets`, which keeps \
                 each target's associations apart (`manifest::load` would merge them into one \
                 set for the current account)",
            ))
        })
        .collect()
}

/// A target being assembled: the files that name it, by index into the run's files.
struct Slot {
    target: TargetSpec,
    location: Option<Location>,
    files: Vec<usize>,
}

/// The valid files of a run (in load order), the problems found reading them and the files
/// read, to one desired set per target. Problems from several targets' merges are reported
/// once.
pub(in crate::manifest) fn assemble(
    mut valid: Vec<ManifestFile>,
    mut diagnostics: Vec<Diagnostic>,
    files: Vec<PathBuf>,
    expanded: Option<&[UnitExpansion]>,
) -> Result<Targeted, ManifestErrors> {
    // Units' accounts become targets of their file once known; until then the files are kept
    // to assemble again with them.
    let units = named_units(&valid);
    let mut excluded = Vec::new();
    let pending = match expanded {
        None if !units.is_empty() => Some(Box::new(super::super::PendingUnits {
            valid: valid.clone(),
            diagnostics: diagnostics.clone(),
            files: files.clone(),
        })),
        None => None,
        Some(expanded) => {
            excluded = add_unit_targets(&mut valid, expanded, &mut diagnostics);
            None
        }
    };
    if valid.iter().all(|file| file.targets.is_none()) {
        // The run as before targets: one merge, the files moved into it.
        let desired = crate::manifest::merge_all(valid, diagnostics, files.clone())?;
        return Ok(Targeted {
            warnings: desired.warnings.clone(),
            accept_language: desired.accept_language,
            targets: vec![TargetDesired {
                target: TargetSpec::current(),
                location: None,
                desired,
            }],
            declared: false,
            files,
            units,
            expanded: Vec::new(),
            excluded,
            pending,
        });
    }

    // One language for the run, not one per target: checked once, over every file.
    let mut language = Language::default();
    for file in &mut valid {
        if let Some(At { value, pos }) = file.accept_language.take() {
            let at = Location::new(&file.file, pos.line, pos.column);
            diagnostics.extend(language.add(value, at));
        }
    }
    let accept_language = language.agreed();

    let mut slots: Vec<Slot> = Vec::new();
    let mut index: HashMap<Identity, usize> = HashMap::new();
    for (file_index, file) in valid.iter_mut().enumerate() {
        let named: Vec<(TargetSpec, Option<Location>)> = match file.targets.take() {
            None => vec![(TargetSpec::current(), None)],
            Some(section) => section
                .targets
                .into_iter()
                .map(|At { value, pos }| {
                    let at = Location::new(&file.file, pos.line, pos.column);
                    (value, Some(at))
                })
                .collect(),
        };
        for (target, location) in named {
            let identity = Identity::of(&target);
            let Some(&slot_index) = index.get(&identity) else {
                index.insert(identity, slots.len());
                slots.push(Slot {
                    target,
                    location,
                    files: vec![file_index],
                });
                continue;
            };
            let slot = &mut slots[slot_index];
            let first_at = match &slot.location {
                Some(at) => at.to_string(),
                None => "a file without `targets`".to_string(),
            };
            if let Some(message) = conflict(&target, &slot.target.access, &first_at) {
                let at = location.unwrap_or_else(|| Location::start_of(&file.file));
                diagnostics.push(Diagnostic::error(Some(at), message));
                continue;
            }
            if slot.location.is_none() {
                slot.location = location;
            }
            if slot.files.last() != Some(&file_index) {
                slot.files.push(file_index);
            }
        }
    }

    // A file is cloned once per extra target it feeds; its last target takes it.
    let mut uses = vec![0usize; valid.len()];
    for slot in &slots {
        for &file_index in &slot.files {
            uses[file_index] += 1;
        }
    }
    let mut valid: Vec<Option<ManifestFile>> = valid.into_iter().map(Some).collect();
    let mut reported = Reported::default();
    let mut targets = Vec::with_capacity(slots.len());
    for slot in slots {
        let mut merged = Vec::with_capacity(slot.files.len());
        for file_index in slot.files {
            let (Some(count), Some(file)) = (uses.get_mut(file_index), valid.get_mut(file_index))
            else {
                continue;
            };
            *count -= 1;
            let file = if *count == 0 {
                file.take()
            } else {
                file.clone()
            };
            merged.extend(file);
        }
        let (mut desired, errors) = merge::merge(merged);
        merge::sort_diagnostics(&mut desired.warnings, &files);
        desired.accept_language = accept_language;
        for diagnostic in errors.into_iter().chain(desired.warnings.iter().cloned()) {
            reported.add(diagnostic, &mut diagnostics);
        }
        targets.push(TargetDesired {
            target: slot.target,
            location: slot.location,
            desired,
        });
    }

    merge::sort_diagnostics(&mut diagnostics, &files);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(ManifestErrors { diagnostics });
    }
    Ok(Targeted {
        targets,
        declared: true,
        files,
        // Only warnings are left: any error returned above.
        warnings: diagnostics,
        accept_language,
        units,
        expanded: Vec::new(),
        excluded,
        pending,
    })
}

/// Every unit the files' `targets:` name, each once, where it is first named.
fn named_units(valid: &[ManifestFile]) -> Vec<Located<String>> {
    let mut units: Vec<Located<String>> = Vec::new();
    for file in valid {
        let Some(section) = &file.targets else {
            continue;
        };
        for unit in section.units.iter().flat_map(|entry| &entry.units) {
            if !units.iter().any(|u| u.value == unit.value) {
                units.push(Located {
                    value: unit.value.clone(),
                    location: Location::new(&file.file, unit.pos.line, unit.pos.column),
                });
            }
        }
    }
    units
}

/// Each file's unit entries made targets of the file, from what each unit expanded to. An
/// account the file names already (by id, or through another unit) stays one target; reached
/// another way, it is the conflict any target reached two ways is.
fn add_unit_targets(
    valid: &mut [ManifestFile],
    expanded: &[UnitExpansion],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Located<String>> {
    let mut excluded = Vec::new();
    let by_unit: BTreeMap<&str, &UnitExpansion> =
        expanded.iter().map(|e| (e.unit.as_str(), e)).collect();
    for file in valid.iter_mut() {
        let Some(section) = file.targets.as_mut() else {
            continue;
        };
        let entries = std::mem::take(&mut section.units);
        for entry in &entries {
            for account in entry.excluded(&by_unit) {
                excluded.push(Located {
                    location: Location::new(&file.file, account.pos.line, account.pos.column),
                    value: account.value,
                });
            }
            for target in entry.targets(&by_unit) {
                let identity = Identity::of(&target.value);
                match section
                    .targets
                    .iter()
                    .find(|t| Identity::of(&t.value) == identity)
                {
                    None => section.targets.push(target),
                    Some(first) => {
                        let first_at =
                            Location::new(&file.file, first.pos.line, first.pos.column).to_string();
                        if let Some(message) =
                            conflict(&target.value, &first.value.access, &first_at)
                        {
                            let at = Location::new(&file.file, target.pos.line, target.pos.column);
                            diagnostics.push(Diagnostic::error(Some(at), message));
                        }
                    }
                }
            }
        }
        section.units = entries;
    }
    excluded
}

/// Diagnostics already reported, so a problem of a file that feeds several targets is told
/// once.
#[derive(Default)]
struct Reported {
    seen: HashSet<(Severity, Option<Location>, String)>,
}

impl Reported {
    fn add(&mut self, diagnostic: Diagnostic, into: &mut Vec<Diagnostic>) {
        let key = (
            diagnostic.severity,
            diagnostic.location.clone(),
            diagnostic.message.clone(),
        );
        if self.seen.insert(key) {
            into.push(diagnostic);
        }
    }
}
