//! The pacing benchmark of the runs pipelines make most (issue 26), each the release binary as a
//! whole process with default flags against an in-process local catalog, beside `--rate
//! unlimited` (what a user tries when pacing seems to be in the way):
//!
//! 1. **Room to spare**: `plan` of a 100k-triple manifest (400 products × 10 versions × 25
//!    actions, nothing associated: 427 read calls) against an endpoint that never throttles.
//!    Cold (no rate cache), warm (the cache one and two earlier runs left: a run that never
//!    throttles remembers the rate it reached, and the next goes on from there), then `--rate
//!    unlimited`: wall and peak RSS of each, the median of `--repeat` runs.
//! 2. **Throttles that are not ours**: `apply examples/manifests/demo.yaml` (129 writes) against
//!    the README's local catalog (30 ms + 0–10 ms latency, a bucket of 100/s with burst 10, 1%
//!    server errors, 10% lost replies) that also throttles a share P of calls at random, for P
//!    of 10, 20 and 30% and `--seeds` fault seeds: wall, exit code and throttled share, default
//!    flags against `--rate unlimited`.
//!
//! Run: `cargo build --release && cargo run --release --example pacing_bench` (flags: `--help`).

#[path = "support/child.rs"]
mod child;
#[path = "bench/workload.rs"]
#[expect(
    dead_code,
    reason = "only the bench's 100k-triple manifest writer is used here"
)]
mod workload;

use clap::Parser;
use sc_assoc::local::{CatalogConfig, Faults, LocalCatalog, Seed, SeedFile};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(about = "Pacing where real accounts live: short plans and foreign throttling")]
struct Args {
    /// The sc-assoc binary to run.
    #[arg(long, default_value = "target/release/sc-assoc")]
    bin: PathBuf,
    /// Runs of each row of the first table (the median is shown).
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Fault seeds of each cell of the second table.
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// Skip the first table.
    #[arg(long)]
    skip_plan: bool,
    /// Skip the second table.
    #[arg(long)]
    skip_foreign: bool,
}

/// One whole-process run: wall seconds, peak RSS in MB, exit code, stdout.
struct Run {
    wall: f64,
    peak_mb: f64,
    code: i32,
    stdout: String,
}

async fn run(bin: &Path, endpoint: &str, args: &[&str]) -> anyhow::Result<Run> {
    let started = Instant::now();
    let output = child::timed(bin, "AKIDBENCH", "us-east-1")
        .args(args)
        .args(["--endpoint-url", endpoint, "--no-progress"])
        .output()
        .await?;
    let wall = started.elapsed().as_secs_f64();
    Ok(Run {
        wall,
        peak_mb: child::peak_mb(&output.stderr),
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The account the 100k-triple manifest of [`workload::write_large_manifest`] names: 400
/// products of 10 versions, 25 actions.
fn large_account() -> Seed {
    let mut seed = Seed::default();
    for p in 0..400 {
        seed.add_product(
            format!("prod-large{p:05}"),
            format!("Large {p}"),
            (0..10).map(|a| (format!("pa-large{:07}", p * 10 + a), format!("v{a}"))),
        );
    }
    for x in 0..25 {
        seed.add_action(format!("act-large{x:02}"), format!("Action {x}"));
    }
    seed
}

async fn plan_table(args: &Args) -> anyhow::Result<()> {
    let (dir, manifest) = workload::write_large_manifest(100_000)?;
    let config = CatalogConfig {
        seed: large_account(),
        ..CatalogConfig::default()
    };
    let catalog = LocalCatalog::start(config, ([127, 0, 0, 1], 0).into()).await?;
    let endpoint = catalog.endpoint();
    let manifest = manifest.to_str().unwrap_or_default();
    println!("plan of 100,000 triples (427 read calls), an endpoint that never throttles\n");
    println!(
        "| run | wall s (median of {}) | peak RSS MB | exit |",
        args.repeat
    );
    println!("|---|---|---|---|");
    // (row, runs before it that fill its rate cache, flags)
    let rows: [(&str, usize, &[&str]); 4] = [
        (
            "default flags, no rate cache (a first run)",
            0,
            &["--rate-cache", "off"],
        ),
        ("default flags, the rate cache one run left", 1, &[]),
        ("default flags, the rate cache two runs left", 2, &[]),
        ("`--rate unlimited`", 0, &["--rate", "unlimited"]),
    ];
    for (row, (name, before, extra)) in rows.into_iter().enumerate() {
        let (mut walls, mut peaks, mut code) = (Vec::new(), Vec::new(), 0);
        for i in 0..args.repeat {
            let cache = dir.path().join(format!("rates-{row}-{i}.json"));
            let cache = cache.to_str().unwrap_or_default();
            let mut argv = vec!["plan", manifest, "--quiet"];
            if before > 0 {
                argv.extend(["--rate-cache", cache]);
                for _ in 0..before {
                    run(&args.bin, &endpoint, &argv).await?;
                }
            }
            argv.extend(extra);
            let r = run(&args.bin, &endpoint, &argv).await?;
            walls.push(r.wall);
            peaks.push(r.peak_mb);
            code = code.max(r.code);
        }
        println!(
            "| {name} | {:.2} | {:.0} | {code} |",
            median(walls),
            median(peaks)
        );
    }
    catalog.shutdown().await;
    Ok(())
}

async fn foreign_table(args: &Args) -> anyhow::Result<()> {
    let text = std::fs::read_to_string("examples/demo-catalog.yaml")?;
    println!(
        "\napply examples/manifests/demo.yaml (129 writes): latency 30 ms + 0–10, bucket 100/s \
         burst 10, 1% errors, 10% lost replies, and a share P throttled at random\n"
    );
    println!(
        "| P | seed | default: exit | wall s | throttled | unlimited: exit | wall s | throttled | default ÷ unlimited |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for share in [0.1, 0.2, 0.3] {
        for rng in 1..=args.seeds {
            let mut cells = Vec::new();
            for rate in ["auto", "unlimited"] {
                let mut config = CatalogConfig::from_seed_file(SeedFile::from_yaml_str(&text)?);
                config.faults = Faults {
                    latency: Duration::from_millis(30),
                    jitter: Duration::from_millis(10),
                    rate: Some(100.0),
                    burst: 10,
                    error_rate: 0.01,
                    lost_reply_rate: 0.1,
                    throttle_rate: share,
                    rng_seed: rng,
                    ..Faults::default()
                };
                let catalog = LocalCatalog::start(config, ([127, 0, 0, 1], 0).into()).await?;
                let r = run(
                    &args.bin,
                    &catalog.endpoint(),
                    &[
                        "apply",
                        "examples/manifests/demo.yaml",
                        "--rate",
                        rate,
                        "--rate-cache",
                        "off",
                        "--quiet",
                    ],
                )
                .await?;
                let stats = catalog.stats();
                let calls: u64 = stats.calls.values().sum();
                if r.code != 0 {
                    eprintln!(
                        "P={share} seed {rng} --rate {rate}: exit {}\n{}",
                        r.code, r.stdout
                    );
                }
                cells.push((r, stats.throttled, calls));
                catalog.shutdown().await;
            }
            let [(auto, at, ac), (unlimited, ut, uc)] = &cells[..] else {
                unreachable!("two runs per cell");
            };
            println!(
                "| {:.0}% | {rng} | {} | {:.1} | {:.0}% ({at}/{ac}) | {} | {:.1} | {:.0}% ({ut}/{uc}) | **{:.2}×** |",
                share * 100.0,
                auto.code,
                auto.wall,
                100.0 * *at as f64 / *ac as f64,
                unlimited.code,
                unlimited.wall,
                100.0 * *ut as f64 / *uc as f64,
                auto.wall / unlimited.wall,
            );
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    child::require(&args.bin)?;
    if !args.skip_plan {
        plan_table(&args).await?;
    }
    if !args.skip_foreign {
        foreign_table(&args).await?;
    }
    Ok(())
}
