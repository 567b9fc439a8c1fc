//! sc-assoc as a library: load a manifest, resolve its names and selectors, plan with prune,
//! apply, and read the report — the same steps the CLI takes. It runs offline against a local
//! catalog it starts itself, seeded with the demo account:
//!
//! ```sh
//! cargo run --example library
//! ```
//!
//! Against AWS, build `AwsOptions` from your profile and region instead of the local endpoint.

use sc_assoc::apply::ApplyOptions;
use sc_assoc::aws::{AwsCatalog, AwsOptions, StaticCredentials};
use sc_assoc::local::{CatalogConfig, LocalCatalog, Seed};
use sc_assoc::progress::NoProgress;
use sc_assoc::run::{Target, Verify, execute, prepare_target};
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
    // 2. Resolve names and selectors through the catalog (reads only).
    let resolved = sc_assoc::resolve::resolve(&catalog, &desired, 8).await?;
    for expansion in &resolved.expansions {
        let ids: Vec<&str> = expansion.artifacts.iter().map(|a| a.id.as_str()).collect();
        println!(
            "{}: artifacts: {} → {}",
            expansion.product,
            expansion.selector,
            ids.join(", ")
        );
    }
    // 3. Read and plan; with prune, undeclared associations on the selected artifacts go.
    let target = Target::from_resolved(&resolved, true);
    let prepared = prepare_target(&catalog, &target, 8, &NoProgress).await?;
    println!("\n{}\n", prepared.plan);
    // 4. Apply and verify.
    let verify = Verify::On {
        salt: "library-example".to_string(),
    };
    let report = execute(
        &catalog,
        &prepared,
        &ApplyOptions::default(),
        &verify,
        &NoProgress,
    )
    .await;
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
