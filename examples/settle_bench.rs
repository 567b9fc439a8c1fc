//! The listing-lag benchmark: what waiting for the listings costs an apply, and whether it costs
//! any writes.
//!
//! AWS's listings lag its writes; `apply` waits (`--settle`) until they show what it did, so a
//! plan right after finds nothing to do. Each row runs the release binary as a whole process,
//! with default flags, against an in-process local catalog whose listings show a write only
//! `lag` after it (`--lag-jitter-ms` adds a random part), rate-limited like an account
//! (token bucket, burst equal to the rate) and with latency, on the bench's generated workload
//! (every artifact gets every action, a fraction already there). It records:
//! - wall time against the throttle floor `(minimal reads + writes + one read-back − burst) /
//!   rate` plus the lag: the least any tool that confirms its writes in the listings can take
//!   (one read-back: the cheaper direction over the written triples, once),
//! - read and write calls against the run with no lag (writes beyond the plan's changes are
//!   probes),
//! - the exit code of the apply, and of a `plan --detailed-exitcode` started the moment apply
//!   returns (0: the listings already show everything).
//!
//! Run: `cargo build --release && cargo run --release --example settle_bench` (flags: `--help`).

#[path = "bench/workload.rs"]
#[expect(
    dead_code,
    reason = "the bench's 100k-triple manifest writer is not used here"
)]
mod workload;

#[path = "support/child.rs"]
#[expect(
    dead_code,
    reason = "no run here is timed: the bench reads the catalog's counters"
)]
mod child;

use clap::Parser;
use sc_assoc::local::{CatalogConfig, Faults, LocalCatalog};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use workload::{minimal_reads, workload};

#[derive(Debug, Parser)]
#[command(about = "Benchmark sc-assoc's apply against listings that lag the writes")]
struct Args {
    /// The sc-assoc binary to run.
    #[arg(long, default_value = "target/release/sc-assoc")]
    bin: PathBuf,
    /// Listing lags to measure, milliseconds (the first should be 0: the baseline).
    #[arg(long, value_delimiter = ',', default_values_t = [0u64, 1000, 5000])]
    lags_ms: Vec<u64>,
    /// Declared triples (artifacts × actions).
    #[arg(long, default_value_t = 2000)]
    triples: usize,
    /// Service actions; each artifact gets every one of them.
    #[arg(long, default_value_t = 10)]
    actions: usize,
    /// Fraction of the manifest already associated before the run.
    #[arg(long, default_value_t = 0.4)]
    present: f64,
    /// The account's rate, calls per second (burst equal to it).
    #[arg(long, default_value_t = 50.0)]
    rate: f64,
    /// Server latency per call, milliseconds (plus up to a third as much at random).
    #[arg(long, default_value_t = 30)]
    latency_ms: u64,
    /// Extra listing lag drawn per write call from 0..N ms (0: every write lags exactly the
    /// row's lag, so `floor + lag` is the bound).
    #[arg(long, default_value_t = 0)]
    lag_jitter_ms: u64,
    /// Also measure `--strategy batch`.
    #[arg(long)]
    batch: bool,
}

struct Row {
    lag_ms: u64,
    strategy: &'static str,
    code: i32,
    wall: Duration,
    reads: u64,
    writes: u64,
    throttled: u64,
    plan_code: i32,
}

async fn sc_assoc(bin: &Path, endpoint: &str, args: &[&str]) -> anyhow::Result<i32> {
    let output = tokio::process::Command::new(bin)
        .args(args)
        .args(["--endpoint-url", endpoint, "--quiet"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(child::env("AKIDBENCH", "us-east-1"))
        .output()
        .await?;
    let code = output.status.code().unwrap_or(-1);
    if code != 0 && code != 2 {
        eprintln!(
            "`sc-assoc {}` exited {code}:\n{}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(code)
}

fn manifest(work: &workload::Workload) -> String {
    let mut text = String::from("version: 1\nassociations:\n");
    for t in &work.desired {
        let _ = writeln!(
            text,
            "  - {{product: {}, artifact: {}, action: {}}}",
            t.product, t.artifact, t.action
        );
    }
    text
}

async fn measure(args: &Args, lag_ms: u64, strategy: &'static str) -> anyhow::Result<Row> {
    let work = workload(args.triples, args.actions, args.present);
    let config = CatalogConfig {
        faults: Faults {
            latency: Duration::from_millis(args.latency_ms),
            jitter: Duration::from_millis(args.latency_ms / 3),
            rate: Some(args.rate),
            burst: args.rate as u32,
            listing_lag: Duration::from_millis(lag_ms),
            listing_lag_jitter: Duration::from_millis(if lag_ms == 0 {
                0
            } else {
                args.lag_jitter_ms
            }),
            rng_seed: 1,
            ..Faults::default()
        },
        ..CatalogConfig::new(work.seed.clone())
    };
    let catalog = LocalCatalog::start(config, ([127, 0, 0, 1], 0).into()).await?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.yaml");
    std::fs::write(&path, manifest(&work))?;
    let path = path.to_string_lossy().into_owned();
    let endpoint = catalog.endpoint();
    let started = Instant::now();
    let code = sc_assoc(
        &args.bin,
        &endpoint,
        &["apply", &path, "--strategy", strategy],
    )
    .await?;
    let wall = started.elapsed();
    let stats = catalog.stats();
    let plan_code = sc_assoc(
        &args.bin,
        &endpoint,
        &["plan", &path, "--detailed-exitcode"],
    )
    .await?;
    let writes = stats.write_calls();
    catalog.shutdown().await;
    Ok(Row {
        lag_ms,
        strategy,
        code,
        wall,
        reads: stats.total_calls - writes,
        writes,
        throttled: stats.throttled,
        plan_code,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    child::require(&args.bin)?;
    let work = workload(args.triples, args.actions, args.present);
    let missing: std::collections::BTreeSet<_> =
        work.desired.difference(&work.present).cloned().collect();
    let read_back = {
        let choice = sc_assoc::observe::choose_direction_knowing(&missing, &work.present);
        choice.by_artifact_calls.min(choice.by_action_calls) as u64
    };
    let reads = minimal_reads(&work.desired, &work.present) + read_back;
    let floor_of = |strategy: &str| {
        let writes = match strategy {
            "batch" => work.missing().div_ceil(50),
            _ => work.missing(),
        };
        ((reads + writes) as f64 - args.rate).max(0.0) / args.rate
    };
    println!(
        "binary {}; {} triples, {} to add; {}/s (burst {}), {} ms latency; default flags; \
         floor {:.1} s ({reads} reads with one read-back + {} writes)\n",
        args.bin.display(),
        work.desired.len(),
        work.missing(),
        args.rate,
        args.rate,
        args.latency_ms,
        floor_of("single"),
        work.missing()
    );
    println!(
        "| lag | strategy | apply exit | wall | floor + lag | wall / (floor + lag) | reads (vs no lag) | writes (vs no lag) | throttled | plan right after |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let strategies: &[&'static str] = if args.batch {
        &["single", "batch"]
    } else {
        &["single"]
    };
    for &strategy in strategies {
        let mut baseline: Option<(u64, u64)> = None;
        for &lag_ms in &args.lags_ms {
            let row = measure(&args, lag_ms, strategy).await?;
            let base = *baseline.get_or_insert((row.reads, row.writes));
            // The last write's lag is what apply must wait out at least.
            let bound = floor_of(strategy) + lag_ms as f64 / 1000.0;
            println!(
                "| {:.1} s | {} | {} | {:.1} s | {:.1} s | {:.2}× | {} ({:+}) | {} ({:+}) | {} | exit {} |",
                row.lag_ms as f64 / 1000.0,
                row.strategy,
                row.code,
                row.wall.as_secs_f64(),
                bound,
                row.wall.as_secs_f64() / bound,
                row.reads,
                row.reads as i64 - base.0 as i64,
                row.writes,
                row.writes as i64 - base.1 as i64,
                row.throttled,
                row.plan_code
            );
        }
    }
    Ok(())
}
