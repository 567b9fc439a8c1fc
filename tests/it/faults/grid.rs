//! The soak's world, shared by the test suite and `examples/soak.rs` (which includes this file by
//! path): a catalog of products × artifacts × actions, a manifest declaring 20 actions on every
//! artifact, a sprinkling of associations that exist before the run (some declared, some not),
//! and the comparison that decides whether a run converged: nothing missing, nothing extra.
//!
//! Only `std` and `sc_assoc` are used here, so the example can compile it without the test
//! harness.

use sc_assoc::local::{Seed, SeedAction, SeedArtifact, SeedAssociation, SeedProduct};
use sc_assoc::triple::Triple;
use std::collections::BTreeSet;

/// Actions declared on every artifact; the quota is 25, so 5 remain for undeclared ones.
pub const DECLARED_ACTIONS: usize = 20;
/// Actions in the catalog: the declared ones plus a few the manifest never mentions.
pub const TOTAL_ACTIONS: usize = 25;
/// Artifacts per product: one compact manifest entry per product.
pub const ARTIFACTS_PER_PRODUCT: usize = 25;
/// Every `PRE_EVERY`th artifact starts with one declared and one undeclared association.
const PRE_EVERY: usize = 7;

/// A grid of `artifacts` artifacts with 20 declared actions each.
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    pub artifacts: usize,
}

fn product_id(p: usize) -> String {
    format!("prod-soak{p:04}")
}

fn artifact_id(a: usize) -> String {
    format!("pa-soak{a:05}")
}

fn action_id(s: usize) -> String {
    format!("act-soak{s:02}")
}

impl Grid {
    /// The smallest grid declaring at least `triples` triples (a multiple of 20).
    pub fn for_triples(triples: usize) -> Grid {
        Grid {
            artifacts: triples.div_ceil(DECLARED_ACTIONS).max(1),
        }
    }

    pub fn declared(&self) -> usize {
        self.artifacts * DECLARED_ACTIONS
    }

    fn products(&self) -> usize {
        self.artifacts.div_ceil(ARTIFACTS_PER_PRODUCT)
    }

    fn triple(a: usize, s: usize) -> Triple {
        Triple::new(
            product_id(a / ARTIFACTS_PER_PRODUCT),
            artifact_id(a),
            action_id(s),
        )
    }

    /// What the manifest declares.
    pub fn desired(&self) -> BTreeSet<Triple> {
        (0..self.artifacts)
            .flat_map(|a| (0..DECLARED_ACTIONS).map(move |s| Grid::triple(a, s)))
            .collect()
    }

    /// Associations present before the run: one declared (to be reported `already_present`)
    /// and one undeclared (which no run may touch) on every seventh artifact.
    pub fn pre_existing(&self) -> BTreeSet<Triple> {
        (0..self.artifacts)
            .step_by(PRE_EVERY)
            .flat_map(|a| {
                [
                    Grid::triple(a, a % DECLARED_ACTIONS),
                    Grid::triple(a, DECLARED_ACTIONS + a % (TOTAL_ACTIONS - DECLARED_ACTIONS)),
                ]
            })
            .collect()
    }

    /// The state a converged run leaves: everything declared plus what was there before.
    pub fn expected(&self) -> BTreeSet<Triple> {
        self.desired()
            .union(&self.pre_existing())
            .cloned()
            .collect()
    }

    pub fn seed(&self) -> Seed {
        let products = (0..self.products())
            .map(|p| SeedProduct {
                id: product_id(p),
                name: format!("Soak product {p}"),
                description: None,
                owner: None,
                product_type: "CLOUD_FORMATION_TEMPLATE".to_string(),
                artifacts: (p * ARTIFACTS_PER_PRODUCT
                    ..((p + 1) * ARTIFACTS_PER_PRODUCT).min(self.artifacts))
                    .map(|a| SeedArtifact {
                        id: artifact_id(a),
                        name: format!("v{a}"),
                        description: None,
                        active: true,
                        guidance: "DEFAULT".to_string(),
                    })
                    .collect(),
            })
            .collect();
        let actions = (0..TOTAL_ACTIONS)
            .map(|s| SeedAction {
                id: action_id(s),
                name: format!("Soak action {s}"),
                description: None,
                definition_type: "SSM_AUTOMATION".to_string(),
                definition: None,
            })
            .collect();
        let associations = self
            .pre_existing()
            .into_iter()
            .map(|t| SeedAssociation {
                product: t.product,
                artifact: t.artifact,
                action: t.action,
            })
            .collect();
        Seed {
            products,
            actions,
            associations,
            faults: None,
        }
    }

    /// The manifest, in compact form: one entry per product, all its artifacts × 20 actions.
    pub fn manifest(&self) -> String {
        let actions: Vec<String> = (0..DECLARED_ACTIONS).map(action_id).collect();
        let mut text = String::from("version: 1\nassociations:\n");
        for p in 0..self.products() {
            let artifacts: Vec<String> = (p * ARTIFACTS_PER_PRODUCT
                ..((p + 1) * ARTIFACTS_PER_PRODUCT).min(self.artifacts))
                .map(artifact_id)
                .collect();
            text.push_str(&format!(
                "  - product: {}\n    artifacts: [{}]\n    actions: [{}]\n",
                product_id(p),
                artifacts.join(", "),
                actions.join(", ")
            ));
        }
        text
    }
}

/// How far a catalog's state is from what was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Drift {
    /// Expected associations the catalog lacks.
    pub missing: usize,
    /// Associations the catalog holds that nobody declared or pre-seeded.
    pub extra: usize,
}

pub fn drift(expected: &BTreeSet<Triple>, actual: &[Triple]) -> Drift {
    let actual: BTreeSet<&Triple> = actual.iter().collect();
    Drift {
        missing: expected.iter().filter(|t| !actual.contains(t)).count(),
        extra: actual.iter().filter(|t| !expected.contains(**t)).count(),
    }
}
