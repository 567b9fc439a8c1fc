//! sc-assoc keeps AWS Service Catalog service-action associations in the state a manifest
//! declares. The library is layered: [`manifest`] reads and validates what is desired, [`plan`]
//! compares it with what is observed (pure), [`apply`] carries the plan out through the
//! [`seam::Catalog`] trait, whose only AWS implementation is [`aws`]. [`local`] is a faithful
//! stand-in for the service, used by tests, benchmarks and the demo.
//!
//! # Entry points
//!
//! A run is two calls, the same two the `sc-assoc` command line makes:
//! 1. [`run::plan_manifest`]: resolve names and selectors, read the current associations of the
//!    manifest's scope, prove its ids exist, and plan. Nothing is written.
//! 2. [`run::execute`]: apply the plan, verify it, and return a [`run::Report`] with every
//!    triple's outcome.
//!
//! Both answer to one [`control::RunControl`] (interrupts, a deadline, failures every further
//! call would repeat), passed in [`run::RunSettings`] and [`apply::ApplyOptions`]. Manifests
//! come from [`manifest::load`] (files and directories) or [`manifest::parse_str`]; the AWS side
//! from [`aws::AwsCatalog::connect`], or any other [`seam::Catalog`].
//!
//! ```
//! use sc_assoc::apply::ApplyOptions;
//! use sc_assoc::aws::{AwsCatalog, AwsOptions, StaticCredentials};
//! use sc_assoc::local::{CatalogConfig, LocalCatalog, Seed};
//! use sc_assoc::progress::NoProgress;
//! use sc_assoc::run::{RunSettings, Verify, execute, plan_manifest};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> anyhow::Result<()> {
//! // A local stand-in for Service Catalog, so this runs anywhere; against AWS, leave out
//! // `endpoint_url` and `static_credentials` and the default credential chain is used.
//! let seed = Seed::from_yaml_str(
//!     "products: [{id: prod-web, name: Web, artifacts: [{id: pa-v1, name: v1}]}]\n\
//!      actions: [{id: act-restart, name: Restart}]\n",
//! )?;
//! let config = CatalogConfig { seed, ..CatalogConfig::default() };
//! let local = LocalCatalog::start(config, ([127, 0, 0, 1], 0).into()).await?;
//! let catalog = AwsCatalog::connect(&AwsOptions {
//!     endpoint_url: Some(local.endpoint()),
//!     region: Some("us-east-1".to_string()),
//!     static_credentials: Some(StaticCredentials {
//!         access_key_id: "AKIDDOCEXAMPLE".to_string(),
//!         secret_access_key: "doc-example-secret".to_string(),
//!     }),
//!     ..AwsOptions::default()
//! })
//! .await?;
//!
//! let desired = sc_assoc::manifest::parse_str(
//!     std::path::Path::new("web.yaml"),
//!     "version: 1\nassociations:\n  - {product: {name: Web}, artifacts: all, action: act-restart}\n",
//! )?;
//! let settings = RunSettings::default();
//! let planned = plan_manifest(&catalog, &desired, &settings, &NoProgress).await?;
//! assert_eq!(planned.prepared.plan.to_add.len(), 1);
//!
//! let options = ApplyOptions { control: settings.control.clone(), ..ApplyOptions::default() };
//! let verify = Verify::default();
//! let report = execute(&catalog, &planned.prepared, &options, &verify, &NoProgress).await;
//! assert!(report.converged());
//! assert_eq!(report.summary.created, 1);
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
//! The entry points above, the [`seam::Catalog`] trait and the report types ([`run::Report`],
//! [`apply::Outcome`], [`apply::Status`]) are the API meant for other tools; enums a caller
//! matches on are `#[non_exhaustive]`, so new variants are not breaking. The JSON the reports
//! serialize to is versioned by the CLI's `format_version`. Everything else public (the
//! building blocks: [`observe`], [`verify`], [`pace`], [`check`], the local catalog's internals)
//! may change between minor versions while the crate is at 0.x.

pub mod apply;
pub mod aws;
pub mod check;
pub mod control;
pub mod dispatch;
pub mod export;
pub mod fleet;
#[cfg(feature = "local-catalog")]
pub mod local;
pub mod manifest;
pub mod observe;
pub mod pace;
pub mod plan;
pub mod progress;
pub mod redact;
pub mod resolve;
pub mod run;
pub mod saved;
pub mod seam;
pub mod target;
pub mod triple;
pub mod verify;
