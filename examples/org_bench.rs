//! The organisation benchmark: what targeting by organisational unit costs, and whether a
//! pipeline matrix of `--shard` jobs covers an organisation once.
//!
//! An in-process local catalog holds an organisation of `--accounts` accounts (default 1,000)
//! spread over `--units` OUs (default 50: 5 below the root, the rest below those), 1 in 50
//! suspended, each active account with its own catalog (one product, `--artifacts` versions, one
//! action), its own token bucket (`--rate` calls/s, as AWS's limits are per account and region)
//! and a role the management account may assume. The manifest names the root. Measured with the
//! release binary as a whole process, default flags, `plan`:
//!
//! 1. One job over the whole organisation: wall, peak RSS, Organizations calls (the expansion),
//!    targets planned; beside it, a job that keeps one target (`--target`: what every job pays
//!    before its targets) and the expansion alone timed in process through the same SDK client.
//! 2. `--shard I/N` for I = 1..N (default N = 10), one job after another as a matrix would run
//!    them side by side: each job's targets and wall, and a check that every target was planned by
//!    exactly one job.
//!
//! Run: `cargo build --release && cargo run --release --example org_bench` (flags: `--help`).

#[path = "support/child.rs"]
mod child;

use clap::Parser;
use sc_assoc::aws::{AwsBase, AwsOptions, StaticCredentials};
use sc_assoc::local::{CatalogConfig, Faults, LocalCatalog, SeedFile};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(about = "Benchmark sc-assoc over an organisation's units, whole and sharded")]
struct Args {
    /// The sc-assoc binary to run.
    #[arg(long, default_value = "target/release/sc-assoc")]
    bin: PathBuf,
    /// Accounts in the organisation (besides the management account).
    #[arg(long, default_value_t = 1000)]
    accounts: usize,
    /// Organisational units (5 below the root, the others below those).
    #[arg(long, default_value_t = 50)]
    units: usize,
    /// Provisioning artifacts of each account's product (one association each).
    #[arg(long, default_value_t = 2)]
    artifacts: usize,
    /// Each account's rate, calls per second (burst equal to it).
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Server latency per call, milliseconds.
    #[arg(long, default_value_t = 30)]
    latency_ms: u64,
    /// Shards of the second row (0 skips it).
    #[arg(long, default_value_t = 10)]
    shards: u32,
}

const MANAGEMENT: &str = "100000000000";
const REGION: &str = "us-east-1";
const ROOT: &str = "r-bnch";

fn account(i: usize) -> String {
    format!("2{i:011}")
}

fn unit(u: usize) -> String {
    format!("ou-bnch-{u:08}")
}

fn seed(args: &Args) -> String {
    let mut out = String::from("accounts:\n");
    let _ = writeln!(
        out,
        "  - id: \"{MANAGEMENT}\"\n    name: management\n    access_keys: [AKIDBENCHMGMT]\n    regions:\n      {REGION}:\n        products:\n          - id: prod-{MANAGEMENT}\n            name: Web Server\n            artifacts: [{{id: pa-{MANAGEMENT}-0, name: v0}}]\n        actions:\n          - {{id: act-{MANAGEMENT}, name: Restart}}\n    roles:\n      - name: BenchAdmin"
    );
    for i in 0..args.accounts {
        let id = account(i);
        let _ = writeln!(
            out,
            "  - id: \"{id}\"\n    name: member-{i}\n    regions:\n      {REGION}:\n        products:\n          - id: prod-{id}\n            name: Web Server\n            artifacts:"
        );
        for a in 0..args.artifacts {
            let _ = writeln!(out, "              - {{id: pa-{id}-{a}, name: v{a}}}");
        }
        let _ = writeln!(
            out,
            "        actions:\n          - {{id: act-{id}, name: Restart}}\n    roles:\n      - name: BenchAdmin\n        trusted_accounts: [\"{MANAGEMENT}\"]"
        );
    }
    let _ = writeln!(
        out,
        "organization:\n  management_account: \"{MANAGEMENT}\"\n  root: {ROOT}\n  units:"
    );
    let top = args.units.min(5);
    for u in 0..args.units {
        let parent = match u < top {
            true => String::new(),
            false => format!(", parent: {}", unit(u % top)),
        };
        let _ = writeln!(out, "    - {{id: {}, name: Unit {u}{parent}}}", unit(u));
    }
    let _ = writeln!(out, "  members:\n    - {{account: \"{MANAGEMENT}\"}}");
    for i in 0..args.accounts {
        let status = if i % 50 == 49 { "SUSPENDED" } else { "ACTIVE" };
        let _ = writeln!(
            out,
            "    - {{account: \"{}\", parent: {}, status: {status}}}",
            account(i),
            unit(i % args.units.max(1))
        );
    }
    out
}

const MANIFEST: &str = "version: 1
targets:
  - organizational_units: [r-bnch]
    regions: [us-east-1]
    role: arn:aws:iam::{account}:role/BenchAdmin
associations:
  - product: {name: Web Server}
    artifacts: all
    action: {name: Restart}
";

struct Job {
    wall: Duration,
    peak_mb: f64,
    code: i32,
    targets: Vec<String>,
    total: u64,
    org_calls: u64,
}

impl Job {
    /// The job's line of the table; a slice's targets are "n of all".
    fn row(&self, name: &str) {
        let targets = match self.total as usize == self.targets.len() {
            true => self.targets.len().to_string(),
            false => format!("{} of {}", self.targets.len(), self.total),
        };
        println!(
            "| {name} | {} | {targets} | {:.1} s | {} | {:.0} MB |",
            self.code,
            self.wall.as_secs_f64(),
            self.org_calls,
            self.peak_mb
        );
    }
}

async fn plan(
    args: &Args,
    catalog: &LocalCatalog,
    manifest: &Path,
    shard: Option<String>,
    extra: &[&str],
) -> anyhow::Result<Job> {
    let before: u64 = catalog.organization_calls().values().sum();
    let started = Instant::now();
    let mut command = child::timed(&args.bin, "AKIDBENCHMGMT", REGION);
    command.arg("plan").arg(manifest).args([
        "--endpoint-url",
        &catalog.endpoint(),
        "--output",
        "json",
    ]);
    if let Some(shard) = &shard {
        command.args(["--shard", shard]);
    }
    command.args(extra);
    let output = command.output().await?;
    let wall = started.elapsed();
    let code = output.status.code().unwrap_or(-1);
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
    if code != 0 {
        // What failed, per target, from the JSON document.
        let failed: Vec<String> = document["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["status"] != "ok")
            .map(|t| format!("{}: {}", t["target"], t["error"]))
            .collect();
        eprintln!("the run exited {code}: {}", failed.join("\n"));
    }
    let targets: Vec<String> = document["targets"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .filter_map(|t| t["target"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let total = document["shard"]["targets_total"]
        .as_u64()
        .unwrap_or(targets.len() as u64);
    let after: u64 = catalog.organization_calls().values().sum();
    Ok(Job {
        wall,
        peak_mb: child::peak_mb(&output.stderr),
        code,
        targets,
        total,
        org_calls: after - before,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    child::require(&args.bin)?;
    let file = SeedFile::from_yaml_str(&seed(&args))?;
    let mut config = CatalogConfig::from_seed_file(file);
    config.faults = Faults {
        latency: Duration::from_millis(args.latency_ms),
        rate: Some(args.rate),
        burst: args.rate as u32,
        ..Faults::default()
    };
    let catalog = LocalCatalog::start(config, ([127, 0, 0, 1], 0).into()).await?;
    let dir = tempfile::tempdir()?;
    let manifest = dir.path().join("org.yaml");
    std::fs::write(&manifest, MANIFEST)?;
    println!(
        "binary {}; {} accounts in {} OUs (1 in 50 suspended); each account {}/s, {} ms latency; \
         `plan`, default flags\n",
        args.bin.display(),
        args.accounts,
        args.units,
        args.rate,
        args.latency_ms
    );

    // The expansion alone, in process, through the shipped SDK client.
    let base = AwsBase::load(&AwsOptions {
        endpoint_url: Some(catalog.endpoint()),
        region: Some(REGION.to_string()),
        static_credentials: Some(StaticCredentials {
            access_key_id: "AKIDBENCHMGMT".to_string(),
            secret_access_key: "bench-secret".to_string(),
        }),
        ..AwsOptions::default()
    })
    .await?;
    let org = base.organization(None);
    let before = catalog.organization_calls();
    let started = Instant::now();
    let expanded = sc_assoc::org::expand(&org, &[ROOT.to_string()], 16).await?;
    let expansion = started.elapsed();
    let calls: BTreeMap<&str, u64> = catalog
        .organization_calls()
        .into_iter()
        .map(|(op, n)| (op, n - before.get(op).copied().unwrap_or(0)))
        .collect();
    println!(
        "expansion in process: {} active, {} skipped, {} units visited, {:.2} s, calls {calls:?}\n",
        expanded[0].accounts.len(),
        expanded[0].skipped.len(),
        expanded[0].units_visited,
        expansion.as_secs_f64()
    );

    // What every job pays before its targets: the process, the expansion, one target.
    let one = plan(&args, &catalog, &manifest, None, &["--target", MANAGEMENT]).await?;
    let unpaced = plan(
        &args,
        &catalog,
        &manifest,
        None,
        &["--target", MANAGEMENT, "--rate", "unlimited"],
    )
    .await?;
    let whole = plan(&args, &catalog, &manifest, None, &[]).await?;
    println!("| job | exit | targets | wall | Organizations calls | peak RSS |");
    println!("|---|---|---|---|---|---|");
    one.row(&format!("one target (`--target {MANAGEMENT}`)"));
    unpaced.row("the same, `--rate unlimited`");
    whole.row("whole organisation");
    if args.shards == 0 {
        catalog.shutdown().await;
        return Ok(());
    }
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    let mut walls = Vec::new();
    for index in 1..=args.shards {
        let shard = format!("{index}/{}", args.shards);
        let job = plan(&args, &catalog, &manifest, Some(shard.clone()), &[]).await?;
        job.row(&format!("--shard {shard}"));
        walls.push(job.wall.as_secs_f64());
        for target in job.targets {
            *seen.entry(target).or_default() += 1;
        }
    }
    let twice = seen.values().filter(|&&n| n > 1).count();
    let missed = whole
        .targets
        .iter()
        .filter(|t| !seen.contains_key(*t))
        .count();
    let slowest = walls.iter().cloned().fold(0.0, f64::max);
    println!(
        "\n{} shards: {} distinct targets planned ({} by more than one job, {} of the whole run's \
         missed); slowest job {:.1} s = {:.2}× the whole run ÷ {}",
        args.shards,
        seen.len(),
        twice,
        missed,
        slowest,
        slowest / (whole.wall.as_secs_f64() / f64::from(args.shards)),
        args.shards
    );
    catalog.shutdown().await;
    Ok(())
}
