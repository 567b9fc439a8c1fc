//! `sc-assoc local-catalog`: a catalog seeded from a file, served until SIGINT or SIGTERM,
//! printing where it listens and the environment that points a client at it.

use super::{CatalogConfig, DEFAULT_REGION, Faults, LocalCatalog, SeedFile};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

/// What `sc-assoc local-catalog` passes to [`serve_standalone`].
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub seed_path: PathBuf,
    pub faults: Faults,
}

/// The access key the environment [`serve_standalone`] prints uses: the first base key an
/// accounts-form seed gives (only its keys are known), or any key for the original form.
fn access_key_for(seed: &SeedFile) -> String {
    match seed {
        SeedFile::Accounts(accounts, _) => accounts
            .iter()
            .flat_map(|a| a.access_keys.iter())
            .next()
            .cloned()
            .unwrap_or_else(|| "AKIDLOCALCATALOG".to_string()),
        SeedFile::Single(_) => "AKIDLOCALCATALOG".to_string(),
    }
}

/// Serves a catalog seeded from a file until SIGINT or SIGTERM. The first line on stdout is
/// exactly `listening on http://HOST:PORT`, so a parent process can read the port; then, on
/// stdout too, the shell lines that point sc-assoc, the AWS CLI or boto3 at it (the catalog
/// checks that requests are signed, not the secret, but the SDKs will not sign without keys and
/// a region).
pub async fn serve_standalone(opts: ServeOptions) -> anyhow::Result<()> {
    let seed = SeedFile::from_file(&opts.seed_path)?;
    let key = access_key_for(&seed);
    let organization = matches!(&seed, SeedFile::Accounts(_, Some(_)));
    let region = match &seed {
        SeedFile::Accounts(accounts, _) => accounts
            .iter()
            .find_map(|a| a.regions.0.first().map(|(r, _)| r.clone()))
            .unwrap_or_else(|| DEFAULT_REGION.to_string()),
        SeedFile::Single(_) => DEFAULT_REGION.to_string(),
    };
    let config = CatalogConfig {
        faults: opts.faults,
        ..CatalogConfig::from_seed_file(seed)
    };
    let catalog = LocalCatalog::start(config, opts.listen).await?;
    let endpoint = catalog.endpoint();
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {endpoint}")?;
        writeln!(
            out,
            "# point sc-assoc (or the AWS CLI, boto3) at it: no real credentials are used\n\
             export AWS_ENDPOINT_URL={endpoint} AWS_REGION={region} \
             AWS_ACCESS_KEY_ID={key} AWS_SECRET_ACCESS_KEY=local-catalog-secret\n\
             # inspect it: curl {endpoint}/_state ; curl {endpoint}/_stats\n\
             # change it behind the API's back: curl -X POST {endpoint}/_state \\\n\
             #   -d '{{\"op\": \"remove\", \"product\": \"prod-…\", \"artifact\": \"pa-…\", \"action\": \"act-…\"}}'"
        )?;
        if organization {
            writeln!(
                out,
                "# an account joins the organisation: curl -X POST {endpoint}/_organization \\\n\
                 #   -d '{{\"account\": \"444444444444\", \"parent\": \"ou-…\"}}'"
            )?;
        }
        out.flush()?;
    }
    wait_for_signal().await?;
    catalog.shutdown().await;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}

#[cfg(not(unix))]
async fn wait_for_signal() -> anyhow::Result<()> {
    tokio::signal::ctrl_c().await?;
    Ok(())
}
