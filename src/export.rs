//! The reverse of a run: the current associations of some products, written as a manifest that
//! applies to exactly that state. Each product becomes compact entries, one per distinct set of
//! actions, listing the artifacts that carry that set, so a product whose versions all share
//! Restart and Patch exports as one entry. Ids are the values (they are what the API checks);
//! names ride along as YAML comments for the reader. Only reads are made.

mod by_name;
pub use by_name::{read_actions, render_by_name};

use crate::seam::{ApiError, ArtifactDetail, Catalog, ErrorKind, ProductKey, ProductSummary};
use crate::target::{Access, TargetSpec};
use crate::triple::check_id;
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// One product's associations as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductState {
    pub product: ProductSummary,
    /// Every provisioning artifact with the actions on it (id, name), in the API's order.
    pub artifacts: Vec<ArtifactState>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactState {
    pub id: String,
    pub name: Option<String>,
    /// Action id to its name.
    pub actions: BTreeMap<String, Option<String>>,
}

/// Why a product could not be found by the text given for it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum FindError {
    #[error("no product has the id or the name `{key}`{}", .closest.as_ref().map(|c| format!("; did you mean {c}?")).unwrap_or_default())]
    Missing {
        key: String,
        /// The product whose name is closest, if one is close: `` `Web Server` (`prod-web`) ``.
        closest: Option<String>,
    },
    #[error("{count} products are named `{name}`: {ids}; give the id instead")]
    Ambiguous {
        name: String,
        count: usize,
        ids: String,
    },
    #[error("looking the product up failed")]
    Api(#[from] ApiError),
}

/// The product with id `key`, or else the one product named exactly `key`. An id is tried first
/// because ids are unique; a name that happens to look like an id still works, one call later.
pub async fn find_product<C: Catalog>(catalog: &C, key: &str) -> Result<ProductSummary, FindError> {
    if check_id(key).is_ok() {
        match catalog
            .describe_product(&ProductKey::Id(key.to_string()))
            .await
        {
            Ok((product, _)) => return Ok(product),
            Err(error)
                if matches!(
                    error.kind,
                    ErrorKind::NotFound | ErrorKind::InvalidParameters
                ) => {}
            Err(error) => return Err(error.into()),
        }
    }
    let mut named: Vec<ProductSummary> = catalog
        .search_products(Some(key))
        .await?
        .into_iter()
        .filter(|p| p.name.as_deref() == Some(key))
        .collect();
    match named.len() {
        0 => Err(FindError::Missing {
            key: key.to_string(),
            closest: closest_product(catalog, key).await?,
        }),
        1 => Ok(named.remove(0)),
        count => Err(FindError::Ambiguous {
            name: key.to_string(),
            count,
            ids: named
                .iter()
                .map(|p| format!("`{}`", p.id))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Which products an export reads.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Products {
    /// Every product of the catalog (SearchProductsAsAdmin).
    All,
    /// These, each by id or exact name.
    Named(Vec<String>),
}

/// Why an export could not be read, or has nothing to say.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    #[error("cannot list the products")]
    List(#[source] ApiError),
    #[error("cannot find product `{key}`")]
    Find {
        key: String,
        #[source]
        error: FindError,
    },
    #[error("cannot read the associations of product `{id}`")]
    Read {
        id: String,
        #[source]
        error: ApiError,
    },
    #[error(
        "none of the {0} product(s) has a service action associated; there is nothing to export"
    )]
    Nothing(usize),
    #[error("cannot read service action `{id}`")]
    Action {
        id: String,
        #[source]
        error: ApiError,
    },
    /// `--by-name`, but a name is missing or shared.
    #[error("cannot export by name: {0}")]
    NotByName(String),
    #[error("cannot tell which account the credentials belong to")]
    Account(#[source] ApiError),
}

impl ExportError {
    /// The service's error behind this one, if any.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            ExportError::List(error)
            | ExportError::Read { error, .. }
            | ExportError::Action { error, .. }
            | ExportError::Account(error) => Some(error),
            ExportError::Find {
                error: FindError::Api(error),
                ..
            } => Some(error),
            _ => None,
        }
    }
}

/// The products asked for and their associations, each product once.
pub async fn read_states<C: Catalog>(
    catalog: &C,
    products: &Products,
    concurrency: usize,
) -> Result<Vec<ProductState>, ExportError> {
    let found = match products {
        Products::All => catalog
            .search_products(None)
            .await
            .map_err(ExportError::List)?,
        Products::Named(keys) => {
            let mut found = Vec::with_capacity(keys.len());
            let mut seen = BTreeSet::new();
            for key in keys {
                let product =
                    find_product(catalog, key)
                        .await
                        .map_err(|error| ExportError::Find {
                            key: key.clone(),
                            error,
                        })?;
                if seen.insert(product.id.clone()) {
                    found.push(product);
                }
            }
            found
        }
    };
    let mut states = Vec::with_capacity(found.len());
    for product in found {
        let id = product.id.clone();
        states.push(
            read_product(catalog, product, concurrency)
                .await
                .map_err(|error| ExportError::Read { id, error })?,
        );
    }
    Ok(states)
}

/// The product whose name is closest to `key` by spelling (ignoring case), when one is close
/// enough to be a typo: one more paged listing, made only when nothing matched.
async fn closest_product<C: Catalog>(catalog: &C, key: &str) -> Result<Option<String>, FindError> {
    let wanted = key.to_lowercase();
    let threshold = (wanted.chars().count() / 3).max(1);
    let closest = catalog
        .search_products(None)
        .await?
        .into_iter()
        .filter_map(|p| {
            let name = p.name.clone()?;
            let distance = crate::manifest::edit_distance(&name.to_lowercase(), &wanted);
            (distance <= threshold).then_some((distance, name, p.id))
        })
        .min();
    Ok(closest.map(|(_, name, id)| format!("`{name}` (`{id}`)")))
}

/// Reads every artifact of `product` and the actions on each, `concurrency` calls at a time.
pub async fn read_product<C: Catalog>(
    catalog: &C,
    product: ProductSummary,
    concurrency: usize,
) -> Result<ProductState, ApiError> {
    let artifacts: Vec<ArtifactDetail> = catalog.list_provisioning_artifacts(&product.id).await?;
    let product_id = product.id.as_str();
    let read: Vec<Result<ArtifactState, ApiError>> = futures::stream::iter(artifacts)
        .map(|artifact| async move {
            let actions = catalog
                .list_actions_for_artifact(product_id, &artifact.id)
                .await?;
            Ok(ArtifactState {
                id: artifact.id,
                name: artifact.name,
                actions: actions.into_iter().map(|a| (a.id, a.name)).collect(),
            })
        })
        // `buffered` keeps the API's artifact order, so exports are stable.
        .buffered(concurrency.max(1))
        .collect()
        .await;
    Ok(ProductState {
        artifacts: read.into_iter().collect::<Result<_, _>>()?,
        product,
    })
}

/// The manifest text for `products`, or `None` when none of them has an association (a
/// manifest must declare at least one). `schema` is the `$schema` reference of the first line.
pub fn render(products: &[ProductState], schema: &str) -> Option<String> {
    render_in(products, schema, None)
}

/// [`render`] for one target of a run over several: the manifest also carries a `targets:`
/// section naming exactly that account and region, reached the same way, so applying the file
/// goes to the account it came from (ids are only valid there). An assumed role's external id
/// is written too: without it the file could not be applied.
pub fn render_for_target(
    products: &[ProductState],
    schema: &str,
    target: &TargetSpec,
) -> Option<String> {
    render_in(products, schema, Some(target))
}

/// The `targets:` section for `target`; `None` for the default account in the default region,
/// which a manifest means without one.
fn targets_section(target: &TargetSpec) -> Option<String> {
    if target.account.is_none() && target.region.is_none() && target.access == Access::Default {
        return None;
    }
    let mut keys = Vec::new();
    if let Some(account) = &target.account {
        keys.push(format!("accounts: [\"{account}\"]"));
    }
    if let Some(region) = &target.region {
        keys.push(format!("regions: [{region}]"));
    }
    match &target.access {
        Access::Role(role) => {
            keys.push(format!("role: {}", quoted(&role.role_arn)));
            if let Some(external_id) = &role.external_id {
                keys.push(format!("external_id: {}", quoted(external_id)));
            }
            if role.session_name != crate::target::DEFAULT_SESSION_NAME {
                keys.push(format!("session_name: {}", quoted(&role.session_name)));
            }
        }
        Access::Profile(profile) => keys.push(format!("profile: {}", quoted(profile))),
        _ => {}
    }
    let mut out = String::from("targets:\n");
    for (i, key) in keys.iter().enumerate() {
        let _ = writeln!(out, "{}{key}", if i == 0 { "  - " } else { "    " });
    }
    Some(out)
}

/// A string as a single-quoted YAML scalar (a quote inside is doubled).
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn render_in(
    products: &[ProductState],
    schema: &str,
    target: Option<&TargetSpec>,
) -> Option<String> {
    let mut entries = String::new();
    let mut exported = 0;
    for state in products {
        // Artifacts grouped by their exact set of actions; artifacts without any are left out.
        let mut groups: BTreeMap<BTreeSet<&str>, Vec<&ArtifactState>> = BTreeMap::new();
        for artifact in state.artifacts.iter().filter(|a| !a.actions.is_empty()) {
            let set = artifact.actions.keys().map(String::as_str).collect();
            groups.entry(set).or_default().push(artifact);
        }
        if !groups.is_empty() {
            exported += 1;
        }
        for (actions, artifacts) in &groups {
            let product = &state.product;
            let _ = writeln!(
                entries,
                "  - product: {}{}",
                scalar(&product.id),
                comment(product.name.as_deref())
            );
            entries.push_str("    artifacts:\n");
            for artifact in artifacts {
                let _ = writeln!(
                    entries,
                    "      - {}{}",
                    scalar(&artifact.id),
                    comment(artifact.name.as_deref())
                );
            }
            entries.push_str("    actions:\n");
            for action in actions {
                // Every artifact of the group names the action the same way; take the first.
                let name = artifacts[0].actions.get(*action).cloned().flatten();
                let _ = writeln!(
                    entries,
                    "      - {}{}",
                    scalar(action),
                    comment(name.as_deref())
                );
            }
        }
    }
    if entries.is_empty() {
        return None;
    }
    let mut out = String::new();
    let _ = writeln!(out, "# yaml-language-server: $schema={schema}");
    let _ = writeln!(
        out,
        "# The current service-action associations of {exported} product(s), exported by sc-assoc."
    );
    out.push_str(
        "# Ids are what counts; names are comments. Applying this file changes nothing.\n",
    );
    out.push_str("version: 1\n");
    if let Some(section) = target.and_then(targets_section) {
        out.push_str(&section);
    }
    out.push_str("associations:\n");
    out.push_str(&entries);
    Some(out)
}

/// An id as a YAML scalar that reads back as the same string: plain when YAML would not take it
/// for a number, boolean or null, single-quoted otherwise. Ids hold only `[a-zA-Z0-9_-]`, so no
/// quote ever needs escaping.
fn scalar(id: &str) -> String {
    let starts_with_letter = id.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    let reserved = matches!(
        id.to_ascii_lowercase().as_str(),
        "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
    );
    if starts_with_letter && !reserved {
        id.to_string()
    } else {
        format!("'{id}'")
    }
}

/// `  # name`, with anything that would end the comment line replaced by a space.
fn comment(name: Option<&str>) -> String {
    match name {
        Some(name) if !name.trim().is_empty() => {
            let clean: String = name
                .chars()
                .map(|c| {
                    if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                        ' '
                    } else {
                        c
                    }
                })
                .collect();
            format!("  # {}", clean.trim())
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_export_names_its_account_region_and_role() {
        let state = ProductState {
            product: ProductSummary {
                id: "prod-1".to_string(),
                name: None,
            },
            artifacts: vec![artifact("pa-1", &["act-x"])],
        };
        let target = TargetSpec {
            account: Some("222222222222".into()),
            region: Some("eu-west-1".into()),
            access: Access::Role(crate::target::AssumeRole {
                role_arn: "arn:aws:iam::222222222222:role/Admin".into(),
                external_id: Some("it's".into()),
                session_name: "sc-assoc".into(),
            }),
        };
        let text =
            render_for_target(std::slice::from_ref(&state), "s.json", &target).expect("exported");
        assert!(
            text.contains(
                "version: 1\ntargets:\n  - accounts: [\"222222222222\"]\n    regions: [eu-west-1]\n    role: 'arn:aws:iam::222222222222:role/Admin'\n    external_id: 'it''s'\nassociations:\n"
            ),
            "{text}"
        );
        let plain =
            render_for_target(&[state], "s.json", &TargetSpec::current()).expect("exported");
        assert!(plain.contains("version: 1\nassociations:\n"), "{plain}");
    }

    fn artifact(id: &str, actions: &[&str]) -> ArtifactState {
        ArtifactState {
            id: id.to_string(),
            name: Some(format!("{id} name")),
            actions: actions
                .iter()
                .map(|a| (a.to_string(), Some(a.to_uppercase())))
                .collect(),
        }
    }

    #[test]
    fn artifacts_sharing_an_action_set_share_an_entry() {
        let state = ProductState {
            product: ProductSummary {
                id: "prod-1".to_string(),
                name: Some("Web\nServer".to_string()),
            },
            artifacts: vec![
                artifact("pa-1", &["act-x", "act-y"]),
                artifact("pa-2", &["act-y"]),
                artifact("pa-3", &["act-y", "act-x"]),
                artifact("pa-4", &[]),
            ],
        };
        let text = render(&[state], "s.json").expect("some associations");
        assert_eq!(
            text,
            "# yaml-language-server: $schema=s.json\n\
             # The current service-action associations of 1 product(s), exported by sc-assoc.\n\
             # Ids are what counts; names are comments. Applying this file changes nothing.\n\
             version: 1\nassociations:\n\
             \x20 - product: prod-1  # Web Server\n    artifacts:\n      - pa-1  # pa-1 name\n      - pa-3  # pa-3 name\n    actions:\n      - act-x  # ACT-X\n      - act-y  # ACT-Y\n\
             \x20 - product: prod-1  # Web Server\n    artifacts:\n      - pa-2  # pa-2 name\n    actions:\n      - act-y  # ACT-Y\n"
        );
    }

    #[test]
    fn ids_yaml_would_misread_are_quoted() {
        assert_eq!(scalar("pa-1"), "pa-1");
        assert_eq!(scalar("123"), "'123'");
        assert_eq!(scalar("true"), "'true'");
        assert_eq!(scalar("-1"), "'-1'");
    }

    #[test]
    fn nothing_associated_renders_nothing() {
        let state = ProductState {
            product: ProductSummary {
                id: "p".to_string(),
                name: None,
            },
            artifacts: vec![artifact("a", &[])],
        };
        assert_eq!(render(&[state], "s.json"), None);
    }
}
