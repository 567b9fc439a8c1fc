//! The catalog's contents and the rules of changing them: which products, artifacts and actions
//! exist, which associations hold, the per-artifact quota, the idempotency memory that
//! replays the first answer for a token, and what the listings show while they lag the API's
//! writes. Everything here is synchronous and is called with the server's lock held for the
//! duration of one operation, so each operation is atomic.
//!
//! Listings lag writes in AWS (`../shared/api/SERVICE-CATALOG.md`, "Listings lag writes"): a
//! write is seen at once by the next write (associating a triple made a moment ago answers
//! `DuplicateResourceException`), while the `List*` calls may show the old state for a while.
//! So the state here is the truth every write judges against, and an API write made with a lag
//! also leaves an [`Unlisted`] note; a listing shows, for each noted triple, the last of its
//! writes whose time has come, or the state before the first of them. Out-of-band changes (the
//! console, another tool, a test) are shown at once and clear a triple's notes.

use super::seed::Seed;
use super::wire::{Answer, Op, ServiceError};
use crate::triple::Triple;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;
use tokio::time::Instant;

/// 2026-01-01T00:00:00Z: creation times are this plus a minute per seeded object, so answers are
/// reproducible.
const EPOCH_BASE: i64 = 1_767_225_600;

#[derive(Debug, Clone)]
pub struct Product {
    pub id: String,
    /// The product view id (`prodview-…`) AWS reports beside the product id.
    pub view_id: String,
    pub name: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub product_type: String,
    pub created: i64,
    /// In creation (seed) order.
    pub artifacts: Vec<Artifact>,
}

#[derive(Debug, Clone)]
pub struct Artifact {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub active: bool,
    pub guidance: String,
    pub created: i64,
}

#[derive(Debug, Clone)]
pub struct Action {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub definition_type: String,
    pub definition: BTreeMap<String, String>,
}

/// One API write of an association as the listings will show it, from `visible_at` on.
#[derive(Debug, Clone, Copy)]
struct Unlisted {
    visible_at: Instant,
    /// The write associated (true) or disassociated (false) the triple.
    associated: bool,
}

/// What a listing shows of one triple with pending writes `writes` (oldest first): the last
/// write whose time has come, or, when none has, the state before the first.
fn listed_state(writes: &[Unlisted], now: Instant) -> bool {
    match writes.iter().rev().find(|w| w.visible_at <= now) {
        Some(write) => write.associated,
        None => writes.first().is_some_and(|w| !w.associated),
    }
}

/// The whole catalog.
#[derive(Debug)]
pub struct CatalogState {
    pub products: BTreeMap<String, Product>,
    product_by_name: HashMap<String, String>,
    /// artifact id → product id (artifact ids are account-wide).
    artifact_owner: HashMap<String, String>,
    pub actions: BTreeMap<String, Action>,
    /// artifact id → associated action ids.
    pub by_artifact: HashMap<String, BTreeSet<String>>,
    /// action id → associated (product id, artifact id).
    pub by_action: HashMap<String, BTreeSet<(String, String)>>,
    /// (operation, token) → the first answer given for it.
    tokens: HashMap<(Op, String), Answer>,
    pub max_actions_per_artifact: usize,
    /// API writes the listings do not show yet, per triple in the order they were made.
    unlisted: BTreeMap<Triple, Vec<Unlisted>>,
    /// Service actions created or deleted through the API that `ListServiceActions` does not
    /// show (or still shows) yet ([`super::actions`]).
    pub(super) unlisted_actions: BTreeMap<String, super::actions::UnlistedAction>,
    /// The quota on service actions in this region (`LimitExceededException` beyond it).
    pub max_actions_per_region: usize,
    /// Service actions created through the API so far: the next id is drawn from it.
    pub(super) created_actions: u64,
    /// Whose catalog this is: ARNs name them, and page tokens are bound to them.
    pub account: String,
    pub region: String,
}

/// A deterministic product view id: AWS's are `prodview-` plus 13 lowercase alphanumerics.
fn view_id(product_id: &str) -> String {
    deterministic_id("prodview-", product_id)
}

/// `prefix` and 13 lowercase alphanumerics drawn from `seed`, as AWS's ids look.
pub(super) fn deterministic_id(prefix: &str, seed: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::from(prefix);
    for _ in 0..13 {
        out.push(char::from(ALPHABET[(h % 36) as usize]));
        h /= 36;
        h ^= h.rotate_left(29).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    out
}

impl CatalogState {
    /// Builds the catalog of `account` in `region`; the seed must already be valid except
    /// against the quota, checked here.
    pub fn new(
        seed: &Seed,
        max_actions_per_artifact: usize,
        account: &str,
        region: &str,
    ) -> anyhow::Result<CatalogState> {
        seed.validate()?;
        let mut clock = EPOCH_BASE;
        let mut tick = || {
            clock += 60;
            clock
        };
        let mut catalog = CatalogState {
            products: BTreeMap::new(),
            product_by_name: HashMap::new(),
            artifact_owner: HashMap::new(),
            actions: BTreeMap::new(),
            by_artifact: HashMap::new(),
            by_action: HashMap::new(),
            tokens: HashMap::new(),
            max_actions_per_artifact,
            unlisted: BTreeMap::new(),
            unlisted_actions: BTreeMap::new(),
            max_actions_per_region: super::DEFAULT_MAX_ACTIONS_PER_REGION,
            created_actions: 0,
            account: account.to_string(),
            region: region.to_string(),
        };
        for p in &seed.products {
            let created = tick();
            let artifacts = p
                .artifacts
                .iter()
                .map(|a| Artifact {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    description: a.description.clone(),
                    active: a.active,
                    guidance: a.guidance.clone(),
                    created: tick(),
                })
                .collect::<Vec<_>>();
            for a in &artifacts {
                catalog.artifact_owner.insert(a.id.clone(), p.id.clone());
            }
            catalog.product_by_name.insert(p.name.clone(), p.id.clone());
            catalog.products.insert(
                p.id.clone(),
                Product {
                    id: p.id.clone(),
                    view_id: view_id(&p.id),
                    name: p.name.clone(),
                    description: p.description.clone(),
                    owner: p.owner.clone(),
                    product_type: p.product_type.clone(),
                    created,
                    artifacts,
                },
            );
        }
        for a in &seed.actions {
            let definition = a.definition.clone().unwrap_or_else(|| {
                BTreeMap::from([
                    ("Name".to_string(), a.name.clone()),
                    ("Version".to_string(), "1".to_string()),
                ])
            });
            catalog.actions.insert(
                a.id.clone(),
                Action {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    description: a.description.clone(),
                    definition_type: a.definition_type.clone(),
                    definition,
                },
            );
        }
        for assoc in &seed.associations {
            catalog.link(&assoc.triple());
        }
        if let Some((artifact, actions)) = catalog
            .by_artifact
            .iter()
            .find(|(_, a)| a.len() > max_actions_per_artifact)
        {
            anyhow::bail!(
                "seed associates {} actions with artifact {artifact:?}, above the limit of {max_actions_per_artifact}",
                actions.len()
            );
        }
        Ok(catalog)
    }

    fn link(&mut self, t: &Triple) -> bool {
        let new = self
            .by_artifact
            .entry(t.artifact.clone())
            .or_default()
            .insert(t.action.clone());
        self.by_action
            .entry(t.action.clone())
            .or_default()
            .insert((t.product.clone(), t.artifact.clone()));
        new
    }

    fn unlink(&mut self, t: &Triple) -> bool {
        let removed = self
            .by_artifact
            .get_mut(&t.artifact)
            .is_some_and(|s| s.remove(&t.action));
        if let Some(s) = self.by_action.get_mut(&t.action) {
            s.remove(&(t.product.clone(), t.artifact.clone()));
        }
        removed
    }

    pub fn is_associated(&self, t: &Triple) -> bool {
        self.artifact_owner.get(&t.artifact) == Some(&t.product)
            && self
                .by_artifact
                .get(&t.artifact)
                .is_some_and(|s| s.contains(&t.action))
    }

    pub fn product(&self, id: &str) -> Result<&Product, ServiceError> {
        self.products
            .get(id)
            .ok_or_else(|| ServiceError::not_found(format!("Product {id} not found.")))
    }

    pub fn product_named(&self, name: &str) -> Result<&Product, ServiceError> {
        self.product_by_name
            .get(name)
            .and_then(|id| self.products.get(id))
            .ok_or_else(|| ServiceError::not_found(format!("Product with name {name} not found.")))
    }

    /// The artifact, if it exists and belongs to `product`.
    pub fn artifact<'a>(
        &self,
        product: &'a Product,
        id: &str,
    ) -> Result<&'a Artifact, ServiceError> {
        product
            .artifacts
            .iter()
            .find(|a| a.id == id)
            .ok_or_else(|| {
                ServiceError::not_found(format!(
                    "Provisioning artifact {id} not found for product {}.",
                    product.id
                ))
            })
    }

    pub fn action(&self, id: &str) -> Result<&Action, ServiceError> {
        self.actions
            .get(id)
            .ok_or_else(|| ServiceError::not_found(format!("Service action {id} not found.")))
    }

    /// Product, artifact-of-product and action all exist.
    fn resolve(&self, t: &Triple) -> Result<(), ServiceError> {
        let product = self.product(&t.product)?;
        self.artifact(product, &t.artifact)?;
        self.action(&t.action)?;
        Ok(())
    }

    pub fn associate(&mut self, t: &Triple) -> Result<(), ServiceError> {
        self.resolve(t)?;
        let current = self.by_artifact.get(&t.artifact);
        if current.is_some_and(|s| s.contains(&t.action)) {
            return Err(ServiceError::duplicate(format!(
                "Service action {} is already associated with provisioning artifact {}.",
                t.action, t.artifact
            )));
        }
        if current.map_or(0, BTreeSet::len) >= self.max_actions_per_artifact {
            return Err(ServiceError::limit_exceeded(format!(
                "Provisioning artifact {} already has the maximum of {} service actions.",
                t.artifact, self.max_actions_per_artifact
            )));
        }
        self.link(t);
        Ok(())
    }

    pub fn disassociate(&mut self, t: &Triple) -> Result<(), ServiceError> {
        self.resolve(t)?;
        if !self.unlink(t) {
            return Err(ServiceError::not_found(format!(
                "Service action {} is not associated with provisioning artifact {}.",
                t.action, t.artifact
            )));
        }
        Ok(())
    }

    /// Out-of-band changes (the console, another tool): no quota, no tokens. Unknown ids are
    /// ignored because the catalog cannot hold an association to something that does not exist.
    /// Out-of-band changes are listed at once, earlier API writes of the triple included.
    pub fn insert_out_of_band(&mut self, t: &Triple) -> bool {
        self.unlisted.remove(t);
        self.resolve(t).is_ok() && self.link(t)
    }

    pub fn remove_out_of_band(&mut self, t: &Triple) -> bool {
        self.unlisted.remove(t);
        self.is_associated(t) && self.unlink(t)
    }

    /// Notes an API write that changed `t` (associated or not), to be listed only `lag` from
    /// now. A triple's writes become visible in the order they were made, so a later write is
    /// never listed before an earlier one. Notes whose time has come are dropped here, where the
    /// lock is held for writing.
    pub fn note_write(&mut self, t: &Triple, associated: bool, lag: Duration) {
        let now = Instant::now();
        self.unlisted
            .retain(|_, writes| writes.last().is_some_and(|w| w.visible_at > now));
        if lag.is_zero() {
            // Listed at once, but only after the writes before it.
            if !self.unlisted.contains_key(t) {
                return;
            }
        }
        let writes = self.unlisted.entry(t.clone()).or_default();
        let after_previous = writes.last().map_or(now, |w| w.visible_at);
        writes.push(Unlisted {
            visible_at: (now + lag).max(after_previous),
            associated,
        });
    }

    /// The actions ListServiceActionsForProvisioningArtifact shows on `artifact` now.
    pub fn listed_actions_of(&self, artifact: &str) -> Cow<'_, BTreeSet<String>> {
        static EMPTY: BTreeSet<String> = BTreeSet::new();
        let current = self.by_artifact.get(artifact).unwrap_or(&EMPTY);
        let now = Instant::now();
        let mut shown = Cow::Borrowed(current);
        for (t, writes) in self.unlisted.iter().filter(|(t, _)| t.artifact == artifact) {
            if listed_state(writes, now) != current.contains(&t.action) {
                let set = shown.to_mut();
                if !set.remove(&t.action) {
                    set.insert(t.action.clone());
                }
            }
        }
        shown
    }

    /// The (product, artifact) pairs ListProvisioningArtifactsForServiceAction shows for
    /// `action` now.
    pub fn listed_artifacts_of(&self, action: &str) -> Cow<'_, BTreeSet<(String, String)>> {
        static EMPTY: BTreeSet<(String, String)> = BTreeSet::new();
        let current = self.by_action.get(action).unwrap_or(&EMPTY);
        let now = Instant::now();
        let mut shown = Cow::Borrowed(current);
        for (t, writes) in self.unlisted.iter().filter(|(t, _)| t.action == action) {
            let pair = (t.product.clone(), t.artifact.clone());
            if listed_state(writes, now) != current.contains(&pair) {
                let set = shown.to_mut();
                if !set.remove(&pair) {
                    set.insert(pair);
                }
            }
        }
        shown
    }

    /// Every association, sorted.
    pub fn associations(&self) -> Vec<Triple> {
        let mut all: Vec<Triple> = self
            .by_action
            .iter()
            .flat_map(|(action, pairs)| {
                pairs
                    .iter()
                    .map(move |(p, a)| Triple::new(p.clone(), a.clone(), action.clone()))
            })
            .collect();
        all.sort();
        all
    }

    /// What page tokens of this catalog are bound to, so one from another account or region
    /// is refused like a forged one instead of resuming a list it never belonged to.
    pub fn scope(&self) -> String {
        format!("{}/{}", self.account, self.region)
    }

    pub fn remembered(&self, op: Op, token: &str) -> Option<&Answer> {
        self.tokens.get(&(op, token.to_string()))
    }

    pub fn remember(&mut self, op: Op, token: &str, answer: &Answer) {
        self.tokens
            .entry((op, token.to_string()))
            .or_insert_with(|| answer.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(limit: usize) -> CatalogState {
        let mut seed = Seed::default();
        seed.add_product("prod-1", "One", [("pa-1", "v1")])
            .add_product("prod-2", "Two", [("pa-2", "v1")])
            .add_action("act-1", "A1")
            .add_action("act-2", "A2");
        CatalogState::new(&seed, limit, "111111111111", "us-east-1").expect("valid")
    }

    #[test]
    fn associate_checks_existence_duplicates_and_quota() {
        let mut c = catalog(1);
        let t = Triple::new("prod-1", "pa-1", "act-1");
        assert_eq!(c.associate(&t), Ok(()));
        assert_eq!(
            c.associate(&t).map_err(|e| e.code),
            Err("DuplicateResourceException")
        );
        let wrong_product = Triple::new("prod-2", "pa-1", "act-2");
        assert_eq!(
            c.associate(&wrong_product).map_err(|e| e.code),
            Err("ResourceNotFoundException")
        );
        let second = Triple::new("prod-1", "pa-1", "act-2");
        assert_eq!(
            c.associate(&second).map_err(|e| e.code),
            Err("LimitExceededException")
        );
        assert_eq!(c.associations(), vec![t.clone()]);
        assert_eq!(c.disassociate(&t), Ok(()));
        assert_eq!(
            c.disassociate(&t).map_err(|e| e.code),
            Err("ResourceNotFoundException")
        );
    }

    #[test]
    fn view_ids_look_like_aws_ones_and_are_stable() {
        let v = view_id("prod-1");
        assert_eq!(v, view_id("prod-1"));
        assert_eq!(v.len(), "prodview-".len() + 13);
        assert_ne!(v, view_id("prod-2"));
    }
}
