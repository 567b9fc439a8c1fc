//! sc-assoc keeps AWS Service Catalog service-action associations in the state a manifest
//! declares, in one account and region or in many. The library is layered: [`manifest`] reads
//! and validates what is desired, [`plan`] compares it with what is observed (pure), [`apply`]
//! carries the plan out and [`verify`] settles it, all through the [`seam`] (`Catalog` for one
//! account and region, `Connect` for the targets of a run), whose AWS implementations are in
//! [`aws`]. [`pipeline`] runs any number of targets in two phases; [`local`] is a faithful
//! stand-in for the service, used by tests, benchmarks and the demo.
//!
//! # Entry points
//!
//! A run is two phases, the same two the `sc-assoc` command line goes through for every kind of
//! run (one account, many, a saved plan):
//! 1. [`pipeline::plan`]: for each target, connect (an assumed role, a profile, the default
//!    credentials), resolve names and selectors, read the current associations of the manifest's
//!    scope, prove its ids exist, and plan. Nothing is written. The [`pipeline::Planning`] holds
//!    every target's plan; [`saved::SavedPlan::capture`] turns it into a plan file.
//! 2. [`pipeline::Planning::apply`]: apply every planned target, settle it (wait, bounded, for
//!    the listings to show it; heal what a replayed token hid), and return a
//!    [`pipeline::TargetRun`] per target with its [`run::Report`].
//!
//! [`saved::check`] makes a `Planning` from a plan file, re-checked against the world, for the
//! same second phase. Both phases read one [`settings::Settings`], whose
//! [`control::RunControl`] (interrupts, a deadline, failures every further call would repeat)
//! bounds them. For one account and region with a client already made, [`run::plan_manifest`]
//! and [`run::execute`] are the per-target steps. Manifests come from [`manifest::load_targets`]
//! (files and directories) or [`manifest::parse_str_targets`]; the AWS side from
//! [`aws::AwsBase`] and [`aws::AwsConnector`], or any other [`seam::Connect`]. The JSON the
//! command line prints is [`document`]'s types, versioned by [`document::FORMAT_VERSION`].
//!
//! ```
//! use sc_assoc::aws::{AwsBase, AwsConnector, AwsOptions, StaticCredentials};
//! use sc_assoc::local::{CatalogConfig, LocalCatalog, SeedFile};
//! use sc_assoc::{pipeline, progress::NoProgress, saved::SavedPlan, settings::Settings};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> anyhow::Result<()> {
//! // A local stand-in for a hub account and a spoke whose role the hub may assume, so this runs
//! // anywhere; against AWS, leave out `endpoint_url` and `static_credentials`.
//! let seed = SeedFile::from_yaml_str(r#"
//! accounts:
//!   - id: "111111111111"
//!     access_keys: [AKIDHUB]
//!     regions:
//!       us-east-1: &catalog
//!         products: [{id: prod-web, name: Web, artifacts: [{id: pa-v1, name: v1}]}]
//!         actions: [{id: act-restart, name: Restart}]
//!     roles: [{name: Admin}]
//!   - id: "222222222222"
//!     regions: {us-east-1: *catalog}
//!     roles: [{name: Admin, trusted_accounts: ["111111111111"]}]
//! "#)?;
//! let local = LocalCatalog::start(CatalogConfig::from_seed_file(seed), ([127, 0, 0, 1], 0).into()).await?;
//! let base = AwsBase::load(&AwsOptions {
//!     endpoint_url: Some(local.endpoint()),
//!     region: Some("us-east-1".to_string()),
//!     static_credentials: Some(StaticCredentials {
//!         access_key_id: "AKIDHUB".to_string(),
//!         secret_access_key: "hub-secret".to_string(),
//!     }),
//!     ..AwsOptions::default()
//! })
//! .await?;
//! // Each target gets a pacer of its own (rates are per account), given what names its rate
//! // budget (`sc_assoc::pace::RateBook::pacer` shares what they learn); none here.
//! let pacer = |_: Option<&str>| None;
//! let connector = AwsConnector { base: &base, pacer: &pacer };
//!
//! let manifest = sc_assoc::manifest::parse_str_targets(
//!     std::path::Path::new("web.yaml"),
//!     r#"version: 1
//! targets:
//!   - accounts: ["111111111111", "222222222222"]
//!     regions: [us-east-1]
//!     role: arn:aws:iam::{account}:role/Admin
//! associations:
//!   - {product: {name: Web}, artifacts: all, action: {name: Restart}}
//! "#,
//! )?;
//! let settings = Settings::default();
//! // Phase 1: plan every target; nothing is written.
//! let planning = pipeline::plan(&connector, &manifest.targets, &settings, &NoProgress).await;
//! // Between the phases, the plan file a reviewer reads (`sc-assoc show`) and a pipeline
//! // applies (`sc-assoc apply plan.json`). It records a digest of the manifests' files: none
//! // here, the manifest was parsed from a string.
//! let dir = tempfile::tempdir()?;
//! SavedPlan::capture(&connector, &planning, &[], &settings, &NoProgress)
//!     .await?
//!     .write(&dir.path().join("plan.json"))?;
//! // Phase 2: apply every planned target, and wait for the listings to show it.
//! let runs = planning.apply(&settings, &NoProgress).await;
//! assert!(runs.iter().all(|run| !run.failed()));
//! let created: usize = runs.iter().filter_map(|r| r.report.as_ref()).map(|r| r.summary.created).sum();
//! assert_eq!(created, 2);
//! # local.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//!
//! `cli` (the `sc-assoc` binary: clap, indicatif, logs) and `local-catalog` (the stand-in
//! server, axum) are on by default. A library user who only reconciles against AWS depends on
//! `sc-assoc` with `default-features = false` and compiles neither. The example above needs
//! `local-catalog`.
//!
//! # What is stable
//!
//! The entry points above, the [`seam`] traits, [`settings`], the report types ([`run::Report`],
//! [`apply::Outcome`], [`apply::Status`], [`pipeline::TargetRun`]), [`document`] and the plan
//! file ([`saved::SavedPlan`]) are the API meant for other tools; enums a caller matches on are
//! `#[non_exhaustive]`, so new variants are not breaking. The other public modules are building
//! blocks (reading state, choosing a direction, the pure plan, the manifest's serde form) that
//! may change between minor versions while the crate is at 0.x; the local catalog's internals
//! are private.

/// The package version and the commit it was built from (`build.rs`; "unknown" outside a git
/// checkout of this package): what `--version` prints and what a saved plan records.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("SC_ASSOC_COMMIT"),
    ")"
);

pub mod actions;
pub mod apply;
pub mod aws;
mod check;
pub mod control;
mod dispatch;
pub mod document;
pub mod drift;
pub mod export;
#[cfg(feature = "local-catalog")]
pub mod local;
pub mod manifest;
pub mod observe;
pub mod org;
pub mod pace;
pub mod pipeline;
pub mod plan;
pub mod progress;
pub mod redact;
pub mod resolve;
pub mod run;
pub mod saved;
pub mod seam;
pub mod settings;
pub mod target;
pub mod triple;
pub mod verify;

/// The README's Rust examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
