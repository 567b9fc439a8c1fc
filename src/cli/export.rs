//! `sc-assoc export`: finds the products asked for (by id or exact name, or all of them), reads
//! their associations and prints them as a manifest on stdout. Only reads are made.

use super::{EXIT_INTERRUPTED, EXIT_OK, GlobalArgs, Tuning, emit};
use anyhow::Context;
use clap::{ArgGroup, Args};
use sc_assoc::aws::AwsCatalog;
use sc_assoc::control::{Guarded, RunControl, StopReason};
use sc_assoc::export::{find_product, read_product, render};
use sc_assoc::seam::Catalog;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Where the first line points editors for the schema: right for a manifest kept in a folder
/// next to this repository's `schema/`; `--schema-ref` sets another path or a URL.
const DEFAULT_SCHEMA_REF: &str = "../schema/manifest.schema.json";

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["products", "all_products"])))]
pub struct ExportArgs {
    /// A product to export, by id or exact name; repeat for several.
    #[arg(long = "product", value_name = "ID_OR_NAME")]
    pub products: Vec<String>,
    /// Export every product in the catalog (SearchProductsAsAdmin).
    #[arg(long)]
    pub all_products: bool,
    /// The `$schema` reference written on the first line, for editors.
    #[arg(long, value_name = "PATH_OR_URL", default_value = DEFAULT_SCHEMA_REF)]
    pub schema_ref: String,
    /// Export every target of this manifest's `targets:` section (or the `--target` subset),
    /// each into a manifest of its own that names its target.
    #[arg(long, value_name = "MANIFEST")]
    pub targets_from: Option<PathBuf>,
    /// With --targets-from: write one file per target here, named ACCOUNT-REGION.yaml
    /// (required when there is more than one target).
    #[arg(long, value_name = "DIR", requires = "targets_from")]
    pub out_dir: Option<PathBuf>,
    #[command(flatten)]
    pub tuning: Tuning,
}

/// Exports under the run's control: the deadline and an interrupt end it like any other run,
/// with nothing printed on stdout (half a manifest would read as the whole).
pub async fn run(
    global: &GlobalArgs,
    catalog: &AwsCatalog,
    args: &ExportArgs,
    control: &RunControl,
) -> anyhow::Result<u8> {
    if !args.tuning.targets.is_empty() {
        anyhow::bail!("--target picks targets of a manifest: give it with --targets-from MANIFEST");
    }
    let guarded = Guarded::new(catalog, control.clone());
    let exported = export(&guarded, args).await;
    match control.reason() {
        Some(StopReason::Interrupted) => {
            super::errors::report(
                global.output,
                &anyhow::anyhow!("interrupted; nothing was exported"),
            );
            return Ok(EXIT_INTERRUPTED);
        }
        Some(StopReason::Deadline) => {
            anyhow::bail!("the deadline was reached; nothing was exported")
        }
        _ => {}
    }
    // The manifest is the command's result, so even `--quiet` prints it.
    emit(&exported?)?;
    Ok(EXIT_OK)
}

/// `export --targets-from`: every selected target exported on its own, concurrently; a target
/// that fails is reported and the others are still written. One target without `--out-dir`
/// goes to stdout.
pub async fn run_targets(global: &GlobalArgs, args: &ExportArgs) -> anyhow::Result<u8> {
    use futures::StreamExt;
    use sc_assoc::fleet::Connect;
    let Some(source) = &args.targets_from else {
        anyhow::bail!("--targets-from is required here");
    };
    let targeted = super::manifests::load(global, std::slice::from_ref(source))?;
    let reporter = std::sync::Arc::new(super::reporter(global));
    let control = super::commands::watch(reporter.clone(), args.tuning.deadline());
    let options = super::aws_options(global, targeted.accept_language, &args.tuning);
    let base = tokio::select! {
        base = sc_assoc::aws::AwsBase::load(&options) => base.context("cannot set up the AWS client")?,
        () = control.stopped() => anyhow::bail!("stopped while setting up the AWS client; nothing was exported"),
    };
    let targets: Vec<_> = super::fleet::select(
        targeted.targets,
        base.default_region(),
        &args.tuning.targets,
    )?
    .into_iter()
    .map(|t| t.target)
    .collect();
    if targets.len() > 1 && args.out_dir.is_none() {
        anyhow::bail!(
            "{} targets to export: give --out-dir DIR for one file each (or --target to pick one)",
            targets.len()
        );
    }
    let make_pacer = || args.tuning.pacer();
    let connector = sc_assoc::aws::AwsConnector {
        base: &base,
        pacer: &make_pacer,
    };
    let exported: Vec<(sc_assoc::target::TargetSpec, anyhow::Result<String>)> =
        futures::stream::iter(targets)
            .map(|target| {
                let (connector, control) = (&connector, control.child());
                async move {
                    let text = async {
                        let catalog = connector
                            .connect(&target)
                            .await
                            .context("cannot set up the client for this target")?;
                        let guarded = Guarded::new(&catalog, control.clone());
                        let states = read_states(&guarded, args).await?;
                        sc_assoc::export::render_for_target(&states, &args.schema_ref, &target)
                            .ok_or_else(|| nothing_to_export(states.len()))
                    }
                    .await;
                    (target, text)
                }
            })
            .buffer_unordered(args.tuning.target_concurrency as usize)
            .collect()
            .await;
    if matches!(control.reason(), Some(StopReason::Interrupted)) {
        super::errors::report(
            global.output,
            &anyhow::anyhow!("interrupted; nothing was exported"),
        );
        return Ok(EXIT_INTERRUPTED);
    }
    let mut failed = 0;
    for (target, text) in exported {
        match (text, &args.out_dir) {
            (Ok(text), None) => emit(&text)?,
            (Ok(text), Some(dir)) => {
                let name = match &target.account {
                    Some(account) => account.clone(),
                    None => "current".to_string(),
                };
                let region = target.region.clone().unwrap_or_default();
                let path = dir.join(format!("{name}-{region}.yaml"));
                std::fs::create_dir_all(dir)
                    .and_then(|()| std::fs::write(&path, text))
                    .with_context(|| format!("cannot write {}", path.display()))?;
                if !global.quiet {
                    eprintln!("{target}: wrote {}", path.display());
                }
            }
            (Err(error), _) => {
                failed += 1;
                let error = error.context(format!("target {target}: nothing was exported"));
                super::errors::report(super::OutputFormat::Text, &error);
            }
        }
    }
    Ok(if failed > 0 {
        super::EXIT_FAILURE
    } else {
        EXIT_OK
    })
}

fn nothing_to_export(products: usize) -> anyhow::Error {
    anyhow::anyhow!(
        "none of the {products} product(s) has a service action associated; there is nothing to export"
    )
}

async fn export<C: Catalog>(catalog: &C, args: &ExportArgs) -> anyhow::Result<String> {
    let states = read_states(catalog, args).await?;
    render(&states, &args.schema_ref).ok_or_else(|| nothing_to_export(states.len()))
}

/// The asked-for products and their associations.
async fn read_states<C: Catalog>(
    catalog: &C,
    args: &ExportArgs,
) -> anyhow::Result<Vec<sc_assoc::export::ProductState>> {
    let concurrency = args.tuning.concurrency as usize;
    let products = if args.all_products {
        catalog
            .search_products(None)
            .await
            .context("cannot list the products")?
    } else {
        let mut found = Vec::with_capacity(args.products.len());
        let mut seen = BTreeSet::new();
        for key in &args.products {
            let product = find_product(catalog, key)
                .await
                .with_context(|| format!("cannot find product `{key}`"))?;
            if seen.insert(product.id.clone()) {
                found.push(product);
            }
        }
        found
    };
    let mut states = Vec::with_capacity(products.len());
    for product in products {
        let id = product.id.clone();
        states.push(
            read_product(catalog, product, concurrency)
                .await
                .with_context(|| format!("cannot read the associations of product `{id}`"))?,
        );
    }
    Ok(states)
}
