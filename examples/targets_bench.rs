//! The many-targets benchmark: does a run over N accounts take about as long as its slowest
//! account, not the sum, and how far does one process go?
//!
//! Each account has its own token bucket (AWS's rate limits are per account and region), so the
//! floor of one target is `(calls it needed − burst) / rate`: its accepted calls, counted by the
//! local catalog for that target, with the bucket's initial burst free. A run over targets can
//! at best take as long as the slowest target's floor. Two rows, each the release binary run as
//! a whole process with default flags (adaptive pacing, verification on, the default
//! `--target-concurrency`) against an in-process local catalog of a hub account and N spokes,
//! each spoke's role trusted by the hub, the manifest naming products and actions (so every
//! target resolves its own ids):
//!
//! 1. 8 targets × 300 missing triples at 20 calls/s, 30 ms latency: wall ÷ the slowest target's
//!    floor (target ≤ 1.15), next to the sum of the floors (what one target after another costs).
//! 2. 200 targets × 25 triples: wall and peak memory of the process (target < 300 MB).
//! 3. 8 targets whose accounts have none of the service actions yet: the manifest declares 10
//!    (`actions:`), and the run creates them in every target and makes 500 associations each:
//!    wall ÷ the slowest target's floor, as in row 1, with listings 1 s behind the writes.
//!
//! Run: `cargo build --release && cargo run --release --example targets_bench` (flags: `--help`;
//! `--bin target/debug/sc-assoc` measures a debug build).

#[path = "support/child.rs"]
mod child;

use clap::Parser;
use sc_assoc::local::{CatalogConfig, Faults, LocalCatalog, SeedFile};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(about = "Benchmark sc-assoc over many accounts against per-account throttle floors")]
struct Args {
    /// The sc-assoc binary to run.
    #[arg(long, default_value = "target/release/sc-assoc")]
    bin: PathBuf,
    /// Targets of the first row.
    #[arg(long, default_value_t = 8)]
    targets: usize,
    /// Missing triples per target in the first row (products × artifacts × 10 actions).
    #[arg(long, default_value_t = 300)]
    triples: usize,
    /// Each account's rate, calls per second (burst equal to it).
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Server latency per call, milliseconds.
    #[arg(long, default_value_t = 30)]
    latency_ms: u64,
    /// Targets of the second row.
    #[arg(long, default_value_t = 200)]
    many_targets: usize,
    /// Triples per target in the second row (one product × 5 artifacts × 5 actions = 25).
    #[arg(long, default_value_t = 25)]
    many_triples: usize,
    /// Skip the second row.
    #[arg(long)]
    skip_many: bool,
    /// Skip the first row.
    #[arg(long)]
    skip_few: bool,
    /// Associations per target in the third row (10 declared actions on each artifact).
    #[arg(long, default_value_t = 500)]
    declared_triples: usize,
    /// Skip the third row.
    #[arg(long)]
    skip_declared: bool,
    /// How long the listings lag the writes in the third row, milliseconds (as AWS's do).
    #[arg(long, default_value_t = 1000)]
    listing_lag_ms: u64,
}

const HUB: &str = "100000000000";
const REGION: &str = "us-east-1";

/// The account id of spoke `i` (1-based).
fn spoke(i: usize) -> String {
    format!("2{i:011}")
}

/// One account's catalog: `products` products named `Product N`, each with `artifacts`
/// versions, and `actions` actions named `Action N`, all ids unique to the account.
fn region_seed(out: &mut String, account: &str, products: usize, artifacts: usize, actions: usize) {
    // A region with no action yet: the run creates them (row 3).
    let _ = writeln!(out, "      {REGION}:\n        products:");
    for p in 0..products {
        let _ = writeln!(
            out,
            "          - id: prod-{account}-{p}\n            name: Product {p}\n            artifacts:"
        );
        for a in 0..artifacts {
            let _ = writeln!(
                out,
                "              - {{id: pa-{account}-{p}-{a}, name: v{a}}}"
            );
        }
    }
    if actions == 0 {
        return;
    }
    let _ = writeln!(out, "        actions:");
    for k in 0..actions {
        let _ = writeln!(
            out,
            "          - {{id: act-{account}-{k}, name: Action {k}}}"
        );
    }
}

/// The workload's shape for `triples` per target: (products, artifacts, actions).
fn shape(triples: usize) -> (usize, usize, usize) {
    if triples.is_multiple_of(100) {
        (triples / 100, 10, 10)
    } else {
        let side = (triples as f64).sqrt().round().max(1.0) as usize;
        (1, side, triples.div_ceil(side))
    }
}

/// `declared`: the accounts start without actions, which the manifest declares.
fn seed(targets: usize, triples: usize, declared: bool) -> String {
    let (products, artifacts, actions) = shape(triples);
    let actions = if declared { 0 } else { actions };
    let mut out = String::from("accounts:\n");
    let _ = writeln!(
        out,
        "  - id: \"{HUB}\"\n    name: hub\n    access_keys: [AKIDBENCHHUB]\n    regions:\n      {REGION}: {{}}"
    );
    for i in 1..=targets {
        let account = spoke(i);
        let _ = writeln!(out, "  - id: \"{account}\"\n    regions:");
        region_seed(&mut out, &account, products, artifacts, actions);
        let _ = writeln!(
            out,
            "    roles:\n      - name: BenchAdmin\n        trusted_accounts: [\"{HUB}\"]"
        );
    }
    out
}

fn manifest(targets: usize, triples: usize, declared: bool) -> String {
    let (products, _, actions) = shape(triples);
    let accounts: Vec<String> = (1..=targets).map(|i| format!("\"{}\"", spoke(i))).collect();
    let mut out = format!(
        "version: 1\ntargets:\n  - accounts: [{}]\n    regions: [{REGION}]\n    role: arn:aws:iam::{{account}}:role/BenchAdmin\n",
        accounts.join(", ")
    );
    if declared {
        out.push_str("actions:\n");
        for k in 0..actions {
            let _ = writeln!(
                out,
                "  - name: Action-{k}\n    document: AWS-RestartEC2Instance\n    version: 1\n    \
                 assume_role: \"arn:aws:iam::{{account}}:role/SelfService\"\n    \
                 parameters: [{{name: InstanceId, type: TARGET}}]"
            );
        }
    }
    out.push_str("associations:\n");
    let names: Vec<String> = (0..actions)
        .map(|k| match declared {
            true => format!("{{name: Action-{k}}}"),
            false => format!("{{name: Action {k}}}"),
        })
        .collect();
    for p in 0..products {
        let _ = writeln!(
            out,
            "  - product: {{name: Product {p}}}\n    artifacts: all\n    actions: [{}]",
            names.join(", ")
        );
    }
    out
}

struct Measured {
    wall: Duration,
    peak_mb: f64,
    code: i32,
    /// Per target: accepted calls and throttled ones, as the catalog counted them.
    per_target: Vec<(String, u64, u64)>,
}

async fn measure(
    args: &Args,
    targets: usize,
    triples: usize,
    declared: bool,
) -> anyhow::Result<Measured> {
    let file = SeedFile::from_yaml_str(&seed(targets, triples, declared))?;
    let mut config = CatalogConfig::from_seed_file(file);
    config.faults = Faults {
        latency: Duration::from_millis(args.latency_ms),
        rate: Some(args.rate),
        burst: args.rate as u32,
        listing_lag: match declared {
            true => Duration::from_millis(args.listing_lag_ms),
            false => Duration::ZERO,
        },
        ..Faults::default()
    };
    let catalog = LocalCatalog::start(config, ([127, 0, 0, 1], 0).into()).await?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("fleet.yaml");
    std::fs::write(&path, manifest(targets, triples, declared))?;
    let started = Instant::now();
    let output = child::timed(&args.bin, "AKIDBENCHHUB", REGION)
        .arg("apply")
        .arg(&path)
        .args(["--endpoint-url", &catalog.endpoint(), "--quiet"])
        .output()
        .await?;
    let wall = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code().unwrap_or(-1);
    if code != 0 {
        eprintln!(
            "the run exited {code}:\n{}\n{stderr}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    let mut per_target = Vec::with_capacity(targets);
    for i in 1..=targets {
        let account = spoke(i);
        let stats = catalog
            .stats_in(&account, REGION)
            .ok_or_else(|| anyhow::anyhow!("no target {account}"))?;
        let missing = catalog
            .associations_in(&account, REGION)
            .map_or(0, |a| triples.saturating_sub(a.len()));
        if missing > 0 {
            eprintln!("{account}: {missing} triple(s) not associated after the run");
        }
        let actions = catalog.actions_in(Some((&account, REGION))).len();
        if declared && actions != shape(triples).2 {
            eprintln!("{account}: {actions} service action(s) after the run");
        }
        per_target.push((
            account,
            stats.total_calls - stats.throttled,
            stats.throttled,
        ));
    }
    catalog.shutdown().await;
    Ok(Measured {
        wall,
        peak_mb: child::peak_mb(&output.stderr),
        code,
        per_target,
    })
}

fn floor(accepted: u64, rate: f64) -> f64 {
    (accepted as f64 - rate).max(0.0) / rate
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    child::require(&args.bin)?;
    println!(
        "binary {}; each account {}/s (burst {}), {} ms latency; default flags\n",
        args.bin.display(),
        args.rate,
        args.rate,
        args.latency_ms
    );
    if !args.skip_few {
        let m = measure(&args, args.targets, args.triples, false).await?;
        let floors: Vec<f64> = m.per_target.iter().map(|t| floor(t.1, args.rate)).collect();
        let slowest = floors.iter().cloned().fold(0.0, f64::max);
        let sum: f64 = floors.iter().sum();
        let calls: u64 = m.per_target.iter().map(|t| t.1 + t.2).sum();
        let throttled: u64 = m.per_target.iter().map(|t| t.2).sum();
        println!(
            "| targets × triples | exit | wall | slowest target's floor | wall / slowest floor | sum of floors | throttled | peak RSS |"
        );
        println!("|---|---|---|---|---|---|---|---|");
        println!(
            "| {} × {} | {} | {:.1} s | {:.1} s | {:.2}× | {:.1} s | {:.1}% ({throttled}/{calls}) | {:.0} MB |",
            args.targets,
            args.triples,
            m.code,
            m.wall.as_secs_f64(),
            slowest,
            m.wall.as_secs_f64() / slowest,
            sum,
            100.0 * throttled as f64 / calls.max(1) as f64,
            m.peak_mb
        );
    }
    if !args.skip_many {
        let m = measure(&args, args.many_targets, args.many_triples, false).await?;
        let calls: u64 = m.per_target.iter().map(|t| t.1 + t.2).sum();
        let throttled: u64 = m.per_target.iter().map(|t| t.2).sum();
        let slowest = m
            .per_target
            .iter()
            .map(|t| floor(t.1, args.rate))
            .fold(0.0, f64::max);
        println!(
            "\n| targets × triples | exit | wall | slowest target's floor | throttled | peak RSS |"
        );
        println!("|---|---|---|---|---|---|");
        println!(
            "| {} × {} | {} | {:.1} s | {:.1} s | {:.1}% ({throttled}/{calls}) | {:.0} MB |",
            args.many_targets,
            args.many_triples,
            m.code,
            m.wall.as_secs_f64(),
            slowest,
            100.0 * throttled as f64 / calls.max(1) as f64,
            m.peak_mb
        );
    }
    if !args.skip_declared {
        let triples = args.declared_triples;
        let m = measure(&args, args.targets, triples, true).await?;
        let floors: Vec<f64> = m.per_target.iter().map(|t| floor(t.1, args.rate)).collect();
        let slowest = floors.iter().cloned().fold(0.0, f64::max);
        let calls: u64 = m.per_target.iter().map(|t| t.1 + t.2).sum();
        let throttled: u64 = m.per_target.iter().map(|t| t.2).sum();
        println!("\nlistings {} ms behind the writes", args.listing_lag_ms);
        println!(
            "| targets × (actions created + associations) | exit | wall | slowest target's floor | wall / slowest floor | throttled | peak RSS |"
        );
        println!("|---|---|---|---|---|---|---|");
        println!(
            "| {} × ({} + {triples}) | {} | {:.1} s | {:.1} s | {:.2}× | {:.1}% ({throttled}/{calls}) | {:.0} MB |",
            args.targets,
            shape(triples).2,
            m.code,
            m.wall.as_secs_f64(),
            slowest,
            m.wall.as_secs_f64() / slowest,
            100.0 * throttled as f64 / calls.max(1) as f64,
            m.peak_mb
        );
    }
    Ok(())
}
