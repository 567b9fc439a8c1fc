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

async fn export<C: Catalog>(catalog: &C, args: &ExportArgs) -> anyhow::Result<String> {
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
    render(&states, &args.schema_ref).ok_or_else(|| {
        anyhow::anyhow!(
            "none of the {} product(s) has a service action associated; there is nothing to export",
            states.len()
        )
    })
}
