//! One catalog per target, a target being an (account, region) pair, as in AWS: each has its own
//! contents, idempotency memory and page-token scope ([`CatalogState`]), its own fault knobs, random
//! sequence and token bucket (rate limits are per account and region, so two targets at rate R
//! each serve 2R together), and its own counters.
//!
//! An accounts-form seed creates every target it lists up front; any other region of those
//! accounts is not enabled. An original-form seed stands for the default account in every
//! region: its default region exists from the start, and any other well-formed region is
//! created from the same contents on its first request (up to [`MAX_OPEN_REGIONS`], so a client
//! inventing region names cannot grow the server without bound).

use super::accounts::{DEFAULT_ACCOUNT, DEFAULT_REGION, SeedAccount, is_region_name};
use super::faults::{Bucket, Dice, Faults};
use super::seed::Seed;
use super::state::CatalogState;
use super::stats::{Counters, TargetStats};
use crate::triple::Triple;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Most regions an original-form seed materialises; AWS has fewer than this.
pub const MAX_OPEN_REGIONS: usize = 64;

/// One account's catalog in one region, with its own faults and counters.
#[derive(Debug)]
pub struct Target {
    pub account: String,
    pub region: String,
    pub catalog: RwLock<CatalogState>,
    faults: RwLock<Faults>,
    pub dice: Dice,
    pub bucket: Bucket,
    pub counters: Counters,
}

impl Target {
    fn new(
        account: &str,
        region: &str,
        seed: &Seed,
        max_actions: usize,
        faults: &Faults,
    ) -> anyhow::Result<Target> {
        // The seed's own knobs, where it gives any, in place of the server's.
        let faults = seed
            .faults
            .as_ref()
            .map_or_else(|| faults.clone(), |own| own.over(faults));
        Ok(Target {
            account: account.to_string(),
            region: region.to_string(),
            catalog: RwLock::new(CatalogState::new(seed, max_actions, account, region)?),
            bucket: Bucket::new(&faults),
            faults: RwLock::new(faults),
            dice: Dice::default(),
            counters: Counters::default(),
        })
    }

    pub fn faults(&self) -> Faults {
        self.faults
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the knobs; the random sequence and the token bucket start afresh.
    pub fn set_faults(&self, f: &Faults) {
        self.bucket.reconfigure(f);
        *self.faults.write().unwrap_or_else(|e| e.into_inner()) = f.clone();
        self.dice.restart();
    }

    pub fn associations(&self) -> Vec<Triple> {
        self.catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .associations()
    }

    pub fn stats(&self) -> TargetStats {
        TargetStats {
            account: self.account.clone(),
            region: self.region.clone(),
            stats: self.counters.snapshot(),
        }
    }
}

#[derive(Debug, Default)]
struct Table {
    /// Creation order: seed order, then first use.
    list: Vec<Arc<Target>>,
    index: HashMap<(String, String), usize>,
}

/// Every target of the server.
#[derive(Debug)]
pub struct Targets {
    table: RwLock<Table>,
    /// Original form: what every region of the default account starts from.
    template: Option<Seed>,
    max_actions: usize,
    /// The knobs a target created later starts with (the last [`Targets::set_faults`]).
    faults: RwLock<Faults>,
    default: (String, String),
}

impl Targets {
    /// The targets of an original-form seed: [`DEFAULT_ACCOUNT`], every region.
    pub fn open(seed: &Seed, max_actions: usize, faults: &Faults) -> anyhow::Result<Targets> {
        let targets = Targets {
            table: RwLock::default(),
            template: Some(seed.clone()),
            max_actions,
            faults: RwLock::new(faults.clone()),
            default: (DEFAULT_ACCOUNT.to_string(), DEFAULT_REGION.to_string()),
        };
        // Created now so a seed over the quota fails at start, not on the first request.
        targets.add(Target::new(
            DEFAULT_ACCOUNT,
            DEFAULT_REGION,
            seed,
            max_actions,
            faults,
        )?);
        Ok(targets)
    }

    /// The targets an accounts-form seed lists; the first region of the first account that has
    /// one is the default target.
    pub fn of(
        accounts: &[SeedAccount],
        max_actions: usize,
        faults: &Faults,
    ) -> anyhow::Result<Targets> {
        let first = accounts
            .iter()
            .find_map(|a| a.regions.0.first().map(|(r, _)| (a.id.clone(), r.clone())));
        let fallback = accounts
            .first()
            .map_or(DEFAULT_ACCOUNT.to_string(), |a| a.id.clone());
        let targets = Targets {
            table: RwLock::default(),
            template: None,
            max_actions,
            faults: RwLock::new(faults.clone()),
            default: first.unwrap_or((fallback, DEFAULT_REGION.to_string())),
        };
        for a in accounts {
            for (region, seed) in &a.regions.0 {
                let t = Target::new(&a.id, region, seed, max_actions, faults).map_err(|e| {
                    anyhow::anyhow!("account {} ({}), region {region}: {e:#}", a.id, a.name())
                })?;
                targets.add(t);
            }
        }
        Ok(targets)
    }

    fn add(&self, t: Target) -> Arc<Target> {
        let mut table = self.table.write().unwrap_or_else(|e| e.into_inner());
        let key = (t.account.clone(), t.region.clone());
        if let Some(&i) = table.index.get(&key) {
            return table.list[i].clone();
        }
        let t = Arc::new(t);
        let i = table.list.len();
        table.list.push(t.clone());
        table.index.insert(key, i);
        t
    }

    /// The target, if that region is enabled for that account (creating it on first use for an
    /// original-form seed).
    pub fn get(&self, account: &str, region: &str) -> Option<Arc<Target>> {
        {
            let table = self.table.read().unwrap_or_else(|e| e.into_inner());
            if let Some(&i) = table.index.get(&(account.to_string(), region.to_string())) {
                return table.list.get(i).cloned();
            }
            if table.list.len() >= MAX_OPEN_REGIONS {
                return None;
            }
        }
        let template = self.template.as_ref()?;
        if account != DEFAULT_ACCOUNT || !is_region_name(region) {
            return None;
        }
        let faults = self
            .faults
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        // The template already made the default region's catalog, so this cannot fail; if it
        // somehow did, the region simply stays unavailable.
        let t = Target::new(account, region, template, self.max_actions, &faults).ok()?;
        Some(self.add(t))
    }

    /// The target `associations()` and `/_state` report when none is named.
    pub fn default_target(&self) -> Option<Arc<Target>> {
        self.get(&self.default.0, &self.default.1)
    }

    /// Every target created so far, in creation order.
    pub fn all(&self) -> Vec<Arc<Target>> {
        self.table
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .list
            .clone()
    }

    /// New knobs for every target, and for targets created later.
    pub fn set_faults(&self, f: &Faults) {
        *self.faults.write().unwrap_or_else(|e| e.into_inner()) = f.clone();
        for t in self.all() {
            t.set_faults(f);
        }
    }
}
