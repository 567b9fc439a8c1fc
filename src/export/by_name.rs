//! The export meant for other accounts (`export --by-name`): products, artifacts and actions
//! named rather than given by id (ids differ in every account), and an `actions:` section with
//! the definition of every action the exported associations use, so that applying the file to a
//! spoke creates the hub's self-service actions there and associates them. A role ARN in the
//! exporting account becomes `{account}`, filled per target when applied. A name that is
//! missing, or shared by two of the things exported, cannot say which one it means: it is an
//! error naming them, not a file that would apply to the wrong thing.

use super::{ExportError, ProductState};
use crate::actions::{Definition, Parameters};
use crate::seam::{ActionDetail, Catalog};
use crate::target::ACCOUNT_PLACEHOLDER;
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// The definition of every action the associations of `products` use, in id order.
pub async fn read_actions<C: Catalog>(
    catalog: &C,
    products: &[ProductState],
    concurrency: usize,
) -> Result<Vec<ActionDetail>, ExportError> {
    let used: BTreeSet<&str> = products
        .iter()
        .flat_map(|p| &p.artifacts)
        .flat_map(|a| a.actions.keys())
        .map(String::as_str)
        .collect();
    futures::stream::iter(used)
        .map(|id| async move {
            catalog
                .describe_service_action(id)
                .await
                .map_err(|error| ExportError::Action {
                    id: id.to_string(),
                    error,
                })
        })
        .buffered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// The manifest text, or `None` when nothing is associated. `account` is the exporting
/// account: a role ARN in it is written with `{account}`.
pub fn render_by_name(
    products: &[ProductState],
    actions: &[ActionDetail],
    account: Option<&str>,
    schema: &str,
) -> Result<Option<String>, ExportError> {
    let action_names = unique_names(
        "service action",
        actions
            .iter()
            .map(|a| (a.summary.id.as_str(), a.summary.name.as_deref())),
    )?;
    let exported: Vec<&ProductState> = products
        .iter()
        .filter(|p| p.artifacts.iter().any(|a| !a.actions.is_empty()))
        .collect();
    if exported.is_empty() {
        return Ok(None);
    }
    let product_names = unique_names(
        "product",
        exported
            .iter()
            .map(|p| (p.product.id.as_str(), p.product.name.as_deref())),
    )?;
    let mut out = String::new();
    let _ = writeln!(out, "# yaml-language-server: $schema={schema}");
    let _ = writeln!(
        out,
        "# The self-service actions of {} product(s), by name, and the {} service action(s) they use,",
        exported.len(),
        actions.len()
    );
    out.push_str(
        "# exported by sc-assoc to apply in other accounts: add their `targets:` (ids differ per\n\
         # account; names do not). `{account}` in a role is filled with each target's account.\n",
    );
    out.push_str("version: 1\nactions:\n");
    for action in actions {
        let name = &action_names[action.summary.id.as_str()];
        let definition = Definition::observed(action);
        let _ = writeln!(out, "  - name: {}", quoted(name));
        if !definition.description.is_empty() {
            let _ = writeln!(out, "    description: {}", quoted(&definition.description));
        }
        let _ = writeln!(out, "    document: {}", quoted(&definition.document));
        let _ = writeln!(out, "    version: {}", quoted(&definition.version));
        if let Some(role) = &definition.assume_role {
            let role = match account {
                Some(account) => role.replace(
                    &format!(":iam::{account}:"),
                    &format!(":iam::{ACCOUNT_PLACEHOLDER}:"),
                ),
                None => role.clone(),
            };
            let _ = writeln!(out, "    assume_role: {}", quoted(&role));
        }
        match &definition.parameters {
            Parameters::Listed(listed) if listed.is_empty() => {}
            Parameters::Listed(listed) => {
                out.push_str("    parameters:\n");
                for (parameter, kind) in listed {
                    let _ = writeln!(
                        out,
                        "      - {{name: {}, type: {}}}",
                        quoted(parameter),
                        quoted(kind)
                    );
                }
            }
            Parameters::Unreadable(text) => {
                return Err(ExportError::NotByName(format!(
                    "service action `{name}` ({}) has parameters a manifest cannot state: {text}",
                    action.summary.id
                )));
            }
        }
    }
    out.push_str("associations:\n");
    for state in exported {
        let artifact_names = unique_names(
            &format!("provisioning artifact of product `{}`", state.product.id),
            state
                .artifacts
                .iter()
                .map(|a| (a.id.as_str(), a.name.as_deref())),
        )?;
        // Artifacts grouped by their exact set of actions, as the id export groups them.
        let mut groups: BTreeMap<BTreeSet<&str>, Vec<&str>> = BTreeMap::new();
        for artifact in state.artifacts.iter().filter(|a| !a.actions.is_empty()) {
            let set = artifact.actions.keys().map(String::as_str).collect();
            groups
                .entry(set)
                .or_default()
                .push(artifact_names[artifact.id.as_str()]);
        }
        for (set, artifacts) in groups {
            let product = product_names[state.product.id.as_str()];
            let _ = writeln!(out, "  - product: {{name: {}}}", quoted(product));
            out.push_str("    artifacts:\n");
            for artifact in artifacts {
                let _ = writeln!(out, "      - {{name: {}}}", quoted(artifact));
            }
            out.push_str("    actions:\n");
            for id in set {
                let name = action_names.get(id).ok_or_else(|| {
                    ExportError::NotByName(format!("service action `{id}` could not be read"))
                })?;
                let _ = writeln!(out, "      - {{name: {}}}", quoted(name));
            }
        }
    }
    Ok(Some(out))
}

/// Each id's name, when every one has a name of its own.
fn unique_names<'a>(
    what: &str,
    items: impl Iterator<Item = (&'a str, Option<&'a str>)>,
) -> Result<BTreeMap<&'a str, &'a str>, ExportError> {
    let mut names = BTreeMap::new();
    let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, name) in items {
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return Err(ExportError::NotByName(format!(
                "{what} `{id}` has no name; export it by id instead"
            )));
        };
        names.insert(id, name);
        by_name.entry(name).or_default().push(id);
    }
    if let Some((name, ids)) = by_name.iter().find(|(_, ids)| ids.len() > 1) {
        return Err(ExportError::NotByName(format!(
            "{} {what}s are named `{name}` ({}): a name cannot tell them apart; rename one, or \
             export by id",
            ids.len(),
            ids.join(", ")
        )));
    }
    Ok(names)
}

/// A YAML double-quoted scalar: JSON's string escapes are YAML's too.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string())
}
