//! Reading manifests for a command: `validate`'s report, and the load every command that
//! reconciles starts with (targets included; warnings on stderr). Nothing here calls AWS.

use super::{EXIT_OK, GlobalArgs, OutputFormat, emit, errors};
use sc_assoc::manifest::{self, Targeted};
use std::path::PathBuf;

pub fn validate(global: &GlobalArgs, paths: &[PathBuf]) -> anyhow::Result<u8> {
    let targeted = load(global, paths)?;
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
    let pending: usize = targeted
        .targets
        .iter()
        .map(|t| t.desired.declarations.len())
        .sum();
    let for_targets = if targeted.declared {
        format!(" for {} target(s)", targeted.targets.len())
    } else {
        String::new()
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
            if targeted.declared {
                document["targets"] = targeted
                    .targets
                    .iter()
                    .map(|t| t.target.to_string())
                    .collect::<Vec<_>>()
                    .into();
            }
            emit(&format!("{document}\n"))?
        }
    }
    Ok(EXIT_OK)
}

/// Loads and validates manifests, targets included; nothing is sent anywhere when this fails.
pub fn load(global: &GlobalArgs, paths: &[PathBuf]) -> anyhow::Result<Targeted> {
    let targeted = manifest::load_targets(paths).map_err(errors::ManifestInvalid)?;
    if !global.quiet {
        for warning in &targeted.warnings {
            eprintln!("{warning}");
        }
    }
    Ok(targeted)
}
