//! Reading manifests for a command: `validate`'s report, and the load every command that
//! reconciles starts with (targets included; warnings on stderr). Nothing here calls AWS.

use super::{EXIT_OK, GlobalArgs, OutputFormat, emit, errors};
use sc_assoc::manifest::{self, Targeted};
use std::path::PathBuf;

pub fn validate(global: &GlobalArgs, paths: &[PathBuf]) -> anyhow::Result<u8> {
    let targeted =
        load(global, paths).map_err(|error| match error.downcast::<errors::ManifestInvalid>() {
            Ok(invalid) => anyhow::Error::new(errors::ValidationFailed(invalid.0)),
            Err(other) => other,
        })?;
    if global.quiet && global.output == OutputFormat::Text {
        return Ok(EXIT_OK);
    }
    let files = targeted.files.len();
    // Per target the same file may count again; the totals are over targets.
    let declared: usize = targeted
        .targets
        .iter()
        .map(|t| t.desired.triples.len())
        .sum();
    // An entry is one place in a file, however many targets it applies to.
    let pending = targeted
        .targets
        .iter()
        .flat_map(|t| t.desired.declarations.iter().map(|d| &d.location))
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let for_targets = match (targeted.declared, targeted.units.len()) {
        (false, _) => String::new(),
        (true, 0) => format!(" (over {} target(s))", targeted.targets.len()),
        (true, units) => format!(
            " (over {} target(s), and the accounts of {units} organizational unit(s), found at \
             plan time)",
            targeted.targets.len()
        ),
    };
    match global.output {
        OutputFormat::Text if pending == 0 => emit(&format!(
            "{declared} association(s) declared in {files} file(s){for_targets}: valid.\n"
        ))?,
        OutputFormat::Text => emit(&format!(
            "{declared} association(s) declared with ids, and {pending} entr{} with names or \
             selectors that plan resolves, in {files} file(s){for_targets}: valid.\n",
            if pending == 1 { "y" } else { "ies" }
        ))?,
        OutputFormat::Json => {
            let mut document = serde_json::json!({
                "format_version": sc_assoc::document::FORMAT_VERSION,
                "valid": true,
                "files": targeted.files,
                "associations": declared,
            });
            if pending > 0 {
                document["entries_to_resolve"] = pending.into();
            }
            if !targeted.units.is_empty() {
                document["organizational_units"] = targeted
                    .units
                    .iter()
                    .map(|u| u.value.clone())
                    .collect::<Vec<_>>()
                    .into();
            }
            if targeted.declared {
                document["targets"] = targeted
                    .targets
                    .iter()
                    .map(|t| t.target.to_string())
                    .collect::<Vec<_>>()
                    .into();
            }
            emit(&format!("{document:#}\n"))?
        }
    }
    Ok(EXIT_OK)
}

/// Warnings printed before the rest are counted instead of shown.
const SHOWN_WARNINGS: usize = 20;

/// Loads and validates manifests, targets included; nothing is sent anywhere when this fails.
/// A saved plan given among them is told for what it is, not read as a manifest with a dozen
/// unknown keys.
pub fn load(global: &GlobalArgs, paths: &[PathBuf]) -> anyhow::Result<Targeted> {
    if let Some(plan) = paths
        .iter()
        .find(|p| super::saved::is_plan_file(std::slice::from_ref(p)))
    {
        anyhow::bail!(
            "{0} is a saved plan, not a manifest: review it with `sc-assoc show {0}`, apply it \
             with `sc-assoc apply {0}` (alone)",
            plan.display()
        );
    }
    let targeted = manifest::load_targets(paths).map_err(errors::ManifestInvalid)?;
    if !global.quiet {
        for warning in targeted.warnings.iter().take(SHOWN_WARNINGS) {
            eprintln!("{warning}");
        }
        // 300k duplicates would be 300k lines: the first ones say what they are.
        if targeted.warnings.len() > SHOWN_WARNINGS {
            eprintln!(
                "... and {} more warning(s) like these",
                targeted.warnings.len() - SHOWN_WARNINGS
            );
        }
    }
    Ok(targeted)
}
