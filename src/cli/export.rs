//! `sc-assoc export`: finds the products asked for (by id or exact name, or all of them), reads
//! their associations and prints them as a manifest on stdout, for the current account or for
//! each target of a manifest. Only reads are made.

use super::runs;
use super::{EXIT_INTERRUPTED, EXIT_OK, GlobalArgs, OutputFormat, Tuning, emit};
use anyhow::Context;
use clap::{ArgGroup, Args};
use sc_assoc::aws::AwsConnector;
use sc_assoc::control::StopReason;
use sc_assoc::document::Versioned;
use sc_assoc::export::{
    ExportError, Products, read_actions, read_states, render, render_by_name, render_for_target,
};
use sc_assoc::pipeline::{TargetError, for_each_target, guarded};
use sc_assoc::seam::Catalog;
use sc_assoc::target::TargetSpec;
use serde::Serialize;
use std::path::PathBuf;

/// Where the first line points editors for the schema: right for a manifest kept in a folder
/// next to this repository's `schema/`; `--schema-ref` sets another path or a URL.
const DEFAULT_SCHEMA_REF: &str = "../schema/manifest.schema.json";

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").args(["products", "all_products"])))]
pub struct ExportArgs {
    /// A product to export, by id or exact name; repeat for several.
    #[arg(long = "product", value_name = "ID_OR_NAME")]
    pub products: Vec<String>,
    /// Export every product in the catalog (SearchProductsAsAdmin); with --targets-from, the
    /// default.
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
    /// Name products, artifacts and actions instead of giving ids, and declare the actions the
    /// associations use with their definitions (a role in this account written `{account}`):
    /// the form to apply in other accounts, such as a hub's setup copied to its spokes.
    #[arg(long)]
    pub by_name: bool,
    #[command(flatten)]
    pub tuning: Tuning,
}

/// `sc-assoc export`: the current account and region, or every target of `--targets-from`
/// (or the `--target` subset), each exported on its own through the one target loop, under the
/// run's control: the deadline and an interrupt end it like any other run, with nothing printed
/// on stdout (half a manifest would read as the whole). A target that fails is reported and the
/// others are still written; one target without `--out-dir` goes to stdout.
pub async fn run(global: &GlobalArgs, args: &ExportArgs) -> anyhow::Result<u8> {
    if args.products.is_empty() && !args.all_products && args.targets_from.is_none() {
        anyhow::bail!(
            "give the products to export: --product ID_OR_NAME (repeat for several) or --all-products"
        );
    }
    let targeted = match &args.targets_from {
        Some(source) => Some(super::manifests::load(
            global,
            std::slice::from_ref(source),
        )?),
        None if !args.tuning.targets.is_empty() => anyhow::bail!(
            "--target picks targets of a manifest: give it with --targets-from MANIFEST"
        ),
        None => None,
    };
    let reporter = std::sync::Arc::new(super::reporter(global));
    let control = super::signals::watch(reporter.clone(), args.tuning.deadline());
    let language = targeted.as_ref().and_then(|t| t.accept_language);
    let base = runs::base(
        global,
        language,
        &args.tuning,
        &control,
        "nothing was exported",
    )
    .await?;
    let targets: Vec<TargetSpec> = match targeted {
        Some(targeted) => {
            let targeted = runs::expand_units(&base, targeted, &args.tuning, &control).await?;
            runs::Job::resolve(targeted, base.default_region(), &args.tuning.targets)?
                .shard(args.tuning.shard)
                .targets
                .into_iter()
                .map(|t| t.target)
                .collect()
        }
        None => vec![TargetSpec::current()],
    };
    let named = args.targets_from.is_some();
    if targets.len() > 1 && args.out_dir.is_none() {
        anyhow::bail!(
            "{} targets to export: give --out-dir DIR for one file each (or --target to pick one)",
            targets.len()
        );
    }
    let settings = runs::settings(&args.tuning, false, None, control.clone());
    let pacers = args.tuning.pacers();
    let make_pacer = |key: Option<&str>| pacers.pacer(key);
    let connector = AwsConnector {
        base: &base,
        pacer: &make_pacer,
    };
    // With --targets-from and no product named, every product (checked above).
    let products = if args.all_products || args.products.is_empty() {
        Products::All
    } else {
        Products::Named(args.products.clone())
    };
    let visits = for_each_target(
        &connector,
        &targets,
        &settings,
        reporter.as_ref(),
        |index, reached| {
            let (products, target) = (&products, &targets[index]);
            async move {
                let catalog = guarded(&reached);
                let states = read_states(&catalog, products, settings.concurrency)
                    .await
                    .map_err(TargetError::Export)?;
                let rendered = if args.by_name {
                    let actions = read_actions(&catalog, &states, settings.concurrency)
                        .await
                        .map_err(TargetError::Export)?;
                    let account = match &target.account {
                        Some(account) => Some(account.clone()),
                        None => catalog
                            .account()
                            .await
                            .map_err(|e| TargetError::Export(ExportError::Account(e)))?,
                    };
                    render_by_name(&states, &actions, account.as_deref(), &args.schema_ref)
                        .map_err(TargetError::Export)?
                } else if named {
                    render_for_target(&states, &args.schema_ref, target)
                } else {
                    render(&states, &args.schema_ref)
                };
                rendered.ok_or(TargetError::Export(ExportError::Nothing(states.len())))
            }
        },
    )
    .await;
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
    let json = global.output == OutputFormat::Json;
    let mut failed = 0;
    let mut exported = Vec::new();
    for (target, visit) in targets.iter().zip(visits) {
        let text = match visit.outcome {
            Ok(text) => text,
            Err(error) if !named => return Err(single_error(error)),
            Err(error) => {
                failed += 1;
                let error = anyhow::Error::new(error)
                    .context(format!("target {target}: nothing was exported"));
                super::errors::report(OutputFormat::Text, &error);
                continue;
            }
        };
        let written = match &args.out_dir {
            None => None,
            Some(dir) => {
                let name = target.account.as_deref().unwrap_or("current");
                let region = target.region.clone().unwrap_or_default();
                let path = dir.join(format!("{name}-{region}.yaml"));
                std::fs::create_dir_all(dir)
                    .and_then(|()| std::fs::write(&path, &text))
                    .with_context(|| format!("cannot write {}", path.display()))?;
                if !global.quiet {
                    eprintln!("{target}: wrote {}", path.display());
                }
                Some(path.display().to_string())
            }
        };
        match (json, &written) {
            // The manifest is the command's result, so even `--quiet` prints it.
            (false, None) => emit(&text)?,
            (false, Some(_)) => {}
            (true, _) => exported.push(Exported {
                target: named.then(|| target.to_string()),
                file: written,
                manifest: serde_yaml::from_str(&text)
                    .context("the exported manifest does not read back")?,
            }),
        }
    }
    if json {
        // JSON means JSON: the manifests as data (a manifest may be JSON: this one applies).
        emit(
            &Versioned::new(ExportBody {
                manifests: exported,
            })
            .to_text(),
        )?;
    }
    Ok(if failed > 0 {
        super::EXIT_FAILURE
    } else {
        EXIT_OK
    })
}

/// `export --output json`: the manifests written or printed, as data.
#[derive(Serialize)]
struct ExportBody {
    manifests: Vec<Exported>,
}

#[derive(Serialize)]
struct Exported {
    /// The target it is of, when exported from a manifest's `targets:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    /// Where it was written, with `--out-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    manifest: serde_json::Value,
}

/// The current account's failure, as a one-account export tells it.
fn single_error(error: TargetError) -> anyhow::Error {
    match error {
        TargetError::Connect(setup) => {
            anyhow::Error::new(setup).context("cannot set up the AWS client")
        }
        TargetError::Export(error) => anyhow::Error::new(error),
        other => anyhow::Error::new(other),
    }
}
