//! The generated account and manifest a benchmark cell reconciles, the fewest read calls that
//! state allows, and the 100k-triple manifest of the whole-process rows.

use sc_assoc::local::Seed;
use sc_assoc::triple::Triple;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The generated account and manifest.
pub struct Workload {
    pub seed: Seed,
    pub desired: BTreeSet<Triple>,
    pub present: BTreeSet<Triple>,
}

impl Workload {
    /// Triples the run has to create.
    pub fn missing(&self) -> u64 {
        (self.desired.len() - self.present.len()) as u64
    }
}

/// Deterministic pseudo-random fraction in [0, 1) for an index (SplitMix64).
fn unit(index: u64) -> f64 {
    let mut z = index.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as f64 / u64::MAX as f64
}

/// `triples / actions` artifacts spread over products of 10 versions each, every artifact
/// declared with every action, a `present` fraction already associated.
pub fn workload(triples: usize, actions: usize, present: f64) -> Workload {
    let artifacts = triples.div_ceil(actions);
    let mut seed = Seed::default();
    for product in 0..artifacts.div_ceil(10) {
        let versions = (product * 10..(product * 10 + 10).min(artifacts))
            .map(|a| (format!("pa-bench{a:06}"), format!("v{a}")));
        seed.add_product(
            format!("prod-bench{product:04}"),
            format!("Product {product}"),
            versions,
        );
    }
    for action in 0..actions {
        seed.add_action(format!("act-bench{action:03}"), format!("Action {action}"));
    }
    let mut desired = BTreeSet::new();
    let mut already = BTreeSet::new();
    for (index, (artifact, action)) in (0..artifacts)
        .flat_map(|a| (0..actions).map(move |x| (a, x)))
        .take(triples)
        .enumerate()
    {
        let triple = Triple::new(
            format!("prod-bench{:04}", artifact / 10),
            format!("pa-bench{artifact:06}"),
            format!("act-bench{action:03}"),
        );
        if unit(index as u64) < present {
            seed.add_association(triple.clone());
            already.insert(triple.clone());
        }
        desired.insert(triple);
    }
    Workload {
        seed,
        desired,
        present: already,
    }
}

/// The fewest list calls that can read the state of `desired` given what is `present`: the
/// cheaper of one listing per artifact and one per action, at 20 items a page.
pub fn minimal_reads(desired: &BTreeSet<Triple>, present: &BTreeSet<Triple>) -> u64 {
    let pages = |n: usize| n.div_ceil(20).max(1) as u64;
    let mut per_artifact: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut per_action: BTreeMap<&str, usize> = BTreeMap::new();
    for t in desired {
        per_artifact.entry((&t.product, &t.artifact)).or_default();
        per_action.entry(&t.action).or_default();
    }
    for t in present {
        *per_artifact.entry((&t.product, &t.artifact)).or_default() += 1;
        *per_action.entry(&t.action).or_default() += 1;
    }
    let by_artifact: u64 = per_artifact.values().map(|&n| pages(n)).sum();
    let by_action: u64 = per_action.values().map(|&n| pages(n)).sum();
    by_artifact.min(by_action)
}

/// Writes a manifest of `triples` one-triple entries (the bulkiest form per triple) into a new
/// directory, as `large.yaml`.
pub fn write_large_manifest(triples: usize) -> anyhow::Result<(tempfile::TempDir, PathBuf)> {
    use std::fmt::Write;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("large.yaml");
    let mut text = String::from("version: 1\nassociations:\n");
    for i in 0..triples {
        let _ = writeln!(
            text,
            "  - {{product: prod-large{:05}, artifact: pa-large{:07}, action: act-large{:02}}}",
            i / 250,
            i / 25,
            i % 25
        );
    }
    std::fs::write(&path, text)?;
    Ok((dir, path))
}
