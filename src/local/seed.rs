//! The initial contents of a local catalog: products with their provisioning artifacts, service
//! actions and associations, read from YAML (JSON is valid YAML) or built in code by tests and
//! benchmarks. Unknown keys and dangling references are errors here, so a typo in a fixture fails
//! loudly instead of producing a catalog that silently lacks something.

use super::LocalError;
use super::faults::Faults;
use crate::triple::{Triple, check_id};
use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::time::Duration;

/// Everything the catalog starts with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    #[serde(default)]
    pub products: Vec<SeedProduct>,
    #[serde(default)]
    pub actions: Vec<SeedAction>,
    #[serde(default)]
    pub associations: Vec<SeedAssociation>,
    /// Fault knobs of this catalog (a region's, in the accounts form), each in place of the
    /// server's (the command line's) where it is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<Box<SeedFaults>>,
}

/// The `faults:` section of a seed: the knobs of [`Faults`], in milliseconds and probabilities,
/// each optional.
///
/// ```yaml
/// faults: {listing_lag_ms: 1000, listing_lag_jitter_ms: 500, rate: 20, burst: 20}
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFaults {
    pub latency_ms: Option<u64>,
    pub jitter_ms: Option<u64>,
    pub rate: Option<f64>,
    pub burst: Option<u32>,
    pub error_rate: Option<f64>,
    pub lost_reply_rate: Option<f64>,
    pub throttle_rate: Option<f64>,
    pub batch_item_throttle_rate: Option<f64>,
    pub listing_lag_ms: Option<u64>,
    pub listing_lag_jitter_ms: Option<u64>,
    pub rng_seed: Option<u64>,
}

impl SeedFaults {
    /// `base` with the knobs this section gives.
    pub fn over(&self, base: &Faults) -> Faults {
        let ms = |v: Option<u64>, d: Duration| v.map_or(d, Duration::from_millis);
        Faults {
            latency: ms(self.latency_ms, base.latency),
            jitter: ms(self.jitter_ms, base.jitter),
            rate: self.rate.or(base.rate),
            burst: self.burst.unwrap_or(base.burst),
            error_rate: self.error_rate.unwrap_or(base.error_rate),
            lost_reply_rate: self.lost_reply_rate.unwrap_or(base.lost_reply_rate),
            throttle_rate: self.throttle_rate.unwrap_or(base.throttle_rate),
            batch_item_throttle_rate: self
                .batch_item_throttle_rate
                .unwrap_or(base.batch_item_throttle_rate),
            listing_lag: ms(self.listing_lag_ms, base.listing_lag),
            listing_lag_jitter: ms(self.listing_lag_jitter_ms, base.listing_lag_jitter),
            rng_seed: self.rng_seed.unwrap_or(base.rng_seed),
        }
    }

    fn check(&self) -> anyhow::Result<()> {
        for (name, p) in [
            ("error_rate", self.error_rate),
            ("lost_reply_rate", self.lost_reply_rate),
            ("throttle_rate", self.throttle_rate),
            ("batch_item_throttle_rate", self.batch_item_throttle_rate),
        ] {
            if let Some(p) = p
                && !(0.0..=1.0).contains(&p)
            {
                bail!("faults: {name} {p} is not a probability from 0 to 1");
            }
        }
        if let Some(rate) = self.rate
            && !(rate.is_finite() && rate > 0.0)
        {
            bail!("faults: rate {rate} is not a positive number of calls per second");
        }
        Ok(())
    }
}

/// A product (`prod-…`) and its provisioning artifacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedProduct {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Model enum `ProductType`; default `CLOUD_FORMATION_TEMPLATE`.
    #[serde(default = "default_product_type")]
    pub product_type: String,
    #[serde(default)]
    pub artifacts: Vec<SeedArtifact>,
}

/// A provisioning artifact (`pa-…`), one version of a product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedArtifact {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default = "default_true")]
    pub active: bool,
    /// Model enum `ProvisioningArtifactGuidance`: `DEFAULT` or `DEPRECATED`.
    #[serde(default = "default_guidance")]
    pub guidance: String,
}

/// A service action (`act-…`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedAction {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Model enum `ServiceActionDefinitionType`; only `SSM_AUTOMATION` exists.
    #[serde(default = "default_definition_type")]
    pub definition_type: String,
    /// `ServiceActionDefinitionMap` (keys Name, Version, AssumeRole, Parameters). Default:
    /// `{Name: <action name>, Version: "1"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<BTreeMap<String, String>>,
}

/// One association present at start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedAssociation {
    pub product: String,
    pub artifact: String,
    pub action: String,
}

fn default_true() -> bool {
    true
}
fn default_guidance() -> String {
    "DEFAULT".to_string()
}
fn default_product_type() -> String {
    "CLOUD_FORMATION_TEMPLATE".to_string()
}
fn default_definition_type() -> String {
    "SSM_AUTOMATION".to_string()
}

const GUIDANCE: &[&str] = &["DEFAULT", "DEPRECATED"];
const PRODUCT_TYPES: &[&str] = &[
    "CLOUD_FORMATION_TEMPLATE",
    "MARKETPLACE",
    "TERRAFORM_OPEN_SOURCE",
    "TERRAFORM_CLOUD",
    "EXTERNAL",
];
const DEFINITION_KEYS: &[&str] = &["Name", "Version", "AssumeRole", "Parameters"];

impl SeedAssociation {
    pub fn triple(&self) -> Triple {
        Triple::new(&self.product, &self.artifact, &self.action)
    }
}

impl Seed {
    /// Parses and validates a YAML (or JSON) seed.
    pub fn from_yaml_str(s: &str) -> Result<Seed, LocalError> {
        let seed: Seed = serde_yaml::from_str(s)
            .context("invalid catalog seed")
            .map_err(LocalError::seed)?;
        seed.validate()?;
        Ok(seed)
    }

    /// Reads, parses and validates a seed file.
    pub fn from_file(p: &Path) -> Result<Seed, LocalError> {
        let text = std::fs::read_to_string(p).map_err(|source| LocalError::ReadSeed {
            path: p.to_path_buf(),
            source,
        })?;
        Seed::from_yaml_str(&text)
            .with_context(|| format!("in catalog seed {}", p.display()))
            .map_err(LocalError::seed)
    }

    /// Adds a product with `(id, name)` artifacts (active, guidance DEFAULT).
    pub fn add_product<I, N>(
        &mut self,
        id: impl Into<String>,
        name: impl Into<String>,
        artifacts: impl IntoIterator<Item = (I, N)>,
    ) -> &mut Self
    where
        I: Into<String>,
        N: Into<String>,
    {
        self.products.push(SeedProduct {
            id: id.into(),
            name: name.into(),
            description: None,
            owner: None,
            product_type: default_product_type(),
            artifacts: artifacts
                .into_iter()
                .map(|(id, name)| SeedArtifact {
                    id: id.into(),
                    name: name.into(),
                    description: None,
                    active: true,
                    guidance: default_guidance(),
                })
                .collect(),
        });
        self
    }

    /// Adds an SSM_AUTOMATION service action.
    pub fn add_action(&mut self, id: impl Into<String>, name: impl Into<String>) -> &mut Self {
        self.actions.push(SeedAction {
            id: id.into(),
            name: name.into(),
            description: None,
            definition_type: default_definition_type(),
            definition: None,
        });
        self
    }

    /// Adds an association present at start.
    pub fn add_association(&mut self, t: Triple) -> &mut Self {
        self.associations.push(SeedAssociation {
            product: t.product,
            artifact: t.artifact,
            action: t.action,
        });
        self
    }

    /// Checks ids, enums, uniqueness and references. Product names and artifact names within a
    /// product must be unique so lookups by name (which the API offers) have one answer.
    pub fn validate(&self) -> Result<(), LocalError> {
        self.check().map_err(LocalError::seed)
    }

    fn check(&self) -> anyhow::Result<()> {
        if let Some(faults) = &self.faults {
            faults.check()?;
        }
        let mut product_ids = HashSet::new();
        let mut product_names = HashSet::new();
        let mut artifact_owner = std::collections::HashMap::new();
        for p in &self.products {
            check_id(&p.id).with_context(|| format!("product id {:?}", p.id))?;
            if !product_ids.insert(p.id.as_str()) {
                bail!("product id {:?} appears twice", p.id);
            }
            if !product_names.insert(p.name.as_str()) {
                bail!("product name {:?} appears twice", p.name);
            }
            if !PRODUCT_TYPES.contains(&p.product_type.as_str()) {
                bail!(
                    "product {:?}: product_type {:?} is not one of {PRODUCT_TYPES:?}",
                    p.id,
                    p.product_type
                );
            }
            let mut names = HashSet::new();
            for a in &p.artifacts {
                check_id(&a.id).with_context(|| format!("artifact id {:?}", a.id))?;
                // Artifact ids are account-wide in AWS, so two products cannot share one.
                if artifact_owner
                    .insert(a.id.as_str(), p.id.as_str())
                    .is_some()
                {
                    bail!("artifact id {:?} appears twice", a.id);
                }
                if !names.insert(a.name.as_str()) {
                    bail!(
                        "product {:?}: artifact name {:?} appears twice",
                        p.id,
                        a.name
                    );
                }
                if !GUIDANCE.contains(&a.guidance.as_str()) {
                    bail!(
                        "artifact {:?}: guidance {:?} is not DEFAULT or DEPRECATED",
                        a.id,
                        a.guidance
                    );
                }
            }
        }
        let mut action_ids = HashSet::new();
        for a in &self.actions {
            check_id(&a.id).with_context(|| format!("action id {:?}", a.id))?;
            if !action_ids.insert(a.id.as_str()) {
                bail!("action id {:?} appears twice", a.id);
            }
            if a.name.is_empty() || a.name.chars().count() > 256 {
                bail!("action {:?}: name must be 1..=256 characters", a.id);
            }
            if a.definition_type != "SSM_AUTOMATION" {
                bail!(
                    "action {:?}: definition_type {:?} is not SSM_AUTOMATION",
                    a.id,
                    a.definition_type
                );
            }
            if let Some(def) = &a.definition {
                if def.is_empty() {
                    bail!("action {:?}: definition must not be empty", a.id);
                }
                if let Some(k) = def.keys().find(|k| !DEFINITION_KEYS.contains(&k.as_str())) {
                    bail!(
                        "action {:?}: definition key {k:?} is not one of {DEFINITION_KEYS:?}",
                        a.id
                    );
                }
            }
        }
        let mut seen = BTreeSet::new();
        for assoc in &self.associations {
            let t = assoc.triple();
            if !product_ids.contains(t.product.as_str()) {
                bail!("association {t}: unknown product {:?}", t.product);
            }
            match artifact_owner.get(t.artifact.as_str()) {
                None => bail!("association {t}: unknown artifact {:?}", t.artifact),
                Some(owner) if *owner != t.product => bail!(
                    "association {t}: artifact {:?} belongs to product {owner:?}",
                    t.artifact
                ),
                Some(_) => {}
            }
            if !action_ids.contains(t.action.as_str()) {
                bail!("association {t}: unknown action {:?}", t.action);
            }
            if !seen.insert(t.clone()) {
                bail!("association {t} appears twice");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_shape_with_defaults() {
        let seed = Seed::from_yaml_str(
            "products:\n  - id: prod-web\n    name: Web Server\n    artifacts:\n      - {id: pa-web-v1, name: v1}\nactions:\n  - {id: act-restart, name: Restart}\nassociations:\n  - {product: prod-web, artifact: pa-web-v1, action: act-restart}\n",
        )
        .expect("valid seed");
        let a = &seed.products[0].artifacts[0];
        assert!(a.active);
        assert_eq!(a.guidance, "DEFAULT");
        assert_eq!(seed.actions[0].definition_type, "SSM_AUTOMATION");
    }

    #[test]
    fn rejects_unknown_keys_and_dangling_references() {
        assert!(Seed::from_yaml_str("productz: []").is_err());
        let err = Seed::from_yaml_str(
            "actions: [{id: act-1, name: A}]\nassociations: [{product: p, artifact: pa, action: act-1}]",
        )
        .expect_err("dangling");
        assert!(format!("{err:#}").contains("unknown product"));
    }
}
