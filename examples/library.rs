//! sc-assoc as a library: load a manifest, resolve its names and selectors, plan with prune,
//! apply, and read the report — the same steps the CLI takes. It runs offline against a local
//! catalog it starts itself, seeded with the demo account:
//!
//! ```sh
//! cargo run --example library
//! ```
//!
//! Against AWS, build `AwsOptions` from your profile and region instead of the local endpoint.

use sc_assoc::aws::{AwsCatalog, AwsOptions, StaticCredentials};
use sc_assoc::local::{CatalogConfig, LocalCatalog, Seed};
use sc_assoc::progress::NoProgress;
use sc_assoc::run::{execute, plan_manifest};
use sc_assoc::settings::Settings;
use std::net::SocketAddr;
use std::path::Path;

const SEED: &str = include_str!("demo-catalog.yaml");
const MANIFEST: &str = include_str!("manifests/selectors.yaml");

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = CatalogConfig {
        seed: Seed::from_yaml_str(SEED)?,
        ..CatalogConfig::default()
    };
    let local = LocalCatalog::start(config, SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let catalog = AwsCatalog::connect(&AwsOptions {
        endpoint_url: Some(local.endpoint()),
        region: Some("us-east-1".to_string()),
        static_credentials: Some(StaticCredentials {
            access_key_id: "AKIDLIBRARYEXAMPLE".to_string(),
            secret_access_key: "library-example-secret".to_string(),
        }),
        ..AwsOptions::default()
    })
    .await?;

    // 1. Load and validate offline; every problem comes back at once, located.
    let desired = sc_assoc::manifest::parse_str(Path::new("selectors.yaml"), MANIFEST)?;
    // 2. Resolve names and selectors, read the state of the manifest's scope, prove its ids
    //    exist, plan. With prune, undeclared associations on the selected artifacts go.
    let settings = Settings {
        concurrency: 8,
        prune: true,
        ..Settings::default()
    };
    let planned = plan_manifest(&catalog, &desired, &settings, &NoProgress).await?;
    for expansion in &planned.resolved.expansions {
        let ids: Vec<&str> = expansion.artifacts.iter().map(|a| a.id.as_str()).collect();
        println!(
            "{}: artifacts: {} → {}",
            expansion.product,
            expansion.selector,
            ids.join(", ")
        );
    }
    let prepared = &planned.prepared;
    println!("\n{}\n", prepared.plan);
    // 3. Apply and settle (wait for the listings to show it), under the same settings and stop
    //    switch as the plan (interrupts, deadline).
    let report = execute(&catalog, prepared, &settings, &NoProgress).await;
    let summary = &report.summary;
    println!(
        "created {}, removed {}, already present {}, failed {}; {} write call(s)",
        summary.created,
        summary.removed,
        summary.already_present,
        summary.failed,
        report.calls.writes
    );
    local.shutdown().await;
    anyhow::ensure!(report.converged(), "some associations failed");
    Ok(())
}
