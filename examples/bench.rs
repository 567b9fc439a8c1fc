//! The speed benchmark: how close sc-assoc runs to the floor its environment allows.
//!
//! A migration is bounded by the calls the account may make per second. Nothing can beat
//! `(minimal read calls + write calls) / rate` — the throttle floor — and, unthrottled, nothing can
//! beat `calls × latency / concurrency`. Each scenario starts a local catalog with latency and a
//! token-bucket rate limit, seeds a generated catalog with a fraction of the manifest already
//! present, reconciles through the library (the same code path as `sc-assoc apply`, real SDK,
//! real HTTP), and prints one table: wall time, calls, throttled replies, the floor and the ratio.
//! A last row measures validating and planning a 100k-triple manifest (time and peak RSS) in a
//! child process, so its memory figure is its own.
//!
//! Run: `cargo run --release --example bench` (flags: `--help`).

use clap::Parser;
use sc_assoc::apply::{ApplyOptions, Strategy};
use sc_assoc::aws::{AwsCatalog, AwsOptions, StaticCredentials};
use sc_assoc::local::{CatalogConfig, Faults, LocalCatalog, Seed};
use sc_assoc::pace::Pacer;
use sc_assoc::progress::NoProgress;
use sc_assoc::run::{Verify, execute, prepare};
use sc_assoc::seam::Catalog;
use sc_assoc::triple::Triple;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(about = "Benchmark sc-assoc against the local catalog's throttle floor")]
struct Args {
    /// Triples in the manifest.
    #[arg(long, default_value_t = 5_000)]
    triples: usize,
    /// Service actions; each artifact gets every one of them.
    #[arg(long, default_value_t = 10)]
    actions: usize,
    /// Fraction of the manifest already associated before the run.
    #[arg(long, default_value_t = 0.4)]
    present: f64,
    /// Server rate limit (calls per second) in the throttled scenarios.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Server token-bucket burst.
    #[arg(long, default_value_t = 10)]
    burst: u32,
    /// Server latency per call, milliseconds.
    #[arg(long, default_value_t = 30)]
    latency_ms: u64,
    /// Extra uniform latency 0..N ms in the throttled scenarios.
    #[arg(long, default_value_t = 10)]
    jitter_ms: u64,
    /// Calls in flight in the throttled scenarios.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Calls in flight in the unthrottled scenario.
    #[arg(long, default_value_t = 32)]
    unthrottled_concurrency: usize,
    /// Triples in the plan-only scenario.
    #[arg(long, default_value_t = 100_000)]
    large_triples: usize,
    /// Run only scenarios whose name contains this.
    #[arg(long)]
    only: Option<String>,
    /// Internal: validate and plan this manifest and print time and peak RSS.
    #[arg(long, hide = true)]
    plan_only: Option<PathBuf>,
}

/// How a scenario paces itself.
#[derive(Debug, Clone, Copy)]
enum ClientRate {
    None,
    Fixed(f64),
    Auto,
}

struct Scenario {
    name: &'static str,
    strategy: Strategy,
    server_rate: Option<f64>,
    client: ClientRate,
    jitter_ms: u64,
    concurrency: usize,
    verify: bool,
}

/// The generated account and manifest.
struct Workload {
    seed: Seed,
    desired: BTreeSet<Triple>,
    present: BTreeSet<Triple>,
}

/// Deterministic pseudo-random fraction in [0, 1) for an index (SplitMix64).
fn unit(index: u64) -> f64 {
    let mut z = index.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as f64 / u64::MAX as f64
}

/// `triples / actions` artifacts spread over products of 10 versions each, every artifact
/// declared with every action, a `present` fraction already associated.
fn workload(triples: usize, actions: usize, present: f64) -> Workload {
    let artifacts = triples.div_ceil(actions);
    let mut seed = Seed::default();
    for product in 0..artifacts.div_ceil(10) {
        let versions = (product * 10..(product * 10 + 10).min(artifacts))
            .map(|a| (format!("pa-bench{a:06}"), format!("v{a}")));
        seed.add_product(
            format!("prod-bench{product:04}"),
            format!("Product {product}"),
            versions,
        );
    }
    for action in 0..actions {
        seed.add_action(format!("act-bench{action:03}"), format!("Action {action}"));
    }
    let mut desired = BTreeSet::new();
    let mut already = BTreeSet::new();
    for (index, (artifact, action)) in (0..artifacts)
        .flat_map(|a| (0..actions).map(move |x| (a, x)))
        .take(triples)
        .enumerate()
    {
        let triple = Triple::new(
            format!("prod-bench{:04}", artifact / 10),
            format!("pa-bench{artifact:06}"),
            format!("act-bench{action:03}"),
        );
        if unit(index as u64) < present {
            seed.add_association(triple.clone());
            already.insert(triple.clone());
        }
        desired.insert(triple);
    }
    Workload {
        seed,
        desired,
        present: already,
    }
}

/// The fewest list calls that can read the state of `desired` given what is `present`: the
/// cheaper of one listing per artifact and one per action, at 20 items a page.
fn minimal_reads(desired: &BTreeSet<Triple>, present: &BTreeSet<Triple>) -> u64 {
    let pages = |n: usize| n.div_ceil(20).max(1) as u64;
    let mut per_artifact: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut per_action: BTreeMap<&str, usize> = BTreeMap::new();
    for t in desired {
        per_artifact.entry((&t.product, &t.artifact)).or_default();
        per_action.entry(&t.action).or_default();
    }
    for t in present {
        *per_artifact.entry((&t.product, &t.artifact)).or_default() += 1;
        *per_action.entry(&t.action).or_default() += 1;
    }
    let by_artifact: u64 = per_artifact.values().map(|&n| pages(n)).sum();
    let by_action: u64 = per_action.values().map(|&n| pages(n)).sum();
    by_artifact.min(by_action)
}

struct Row {
    name: String,
    wall: Duration,
    /// Read phase and apply phase, as the report times them.
    phases: (u64, u64),
    reads: u64,
    minimal_reads: u64,
    writes: u64,
    throttled: u64,
    /// HTTP requests the server saw, retries and throttled ones included.
    requests: u64,
    floor: Duration,
    /// The floor with the latency calls really saw (differs from `floor` only unthrottled).
    measured_floor: Duration,
    converged: bool,
}

async fn connect(catalog: &LocalCatalog, pacer: Option<Arc<Pacer>>) -> anyhow::Result<AwsCatalog> {
    Ok(AwsCatalog::connect(&AwsOptions {
        endpoint_url: Some(catalog.endpoint()),
        region: Some("us-east-1".into()),
        static_credentials: Some(StaticCredentials {
            access_key_id: "AKIDBENCH".into(),
            secret_access_key: "bench-secret".into(),
        }),
        pacer,
        ..AwsOptions::default()
    })
    .await?)
}

async fn run(args: &Args, scenario: &Scenario, work: &Workload) -> anyhow::Result<Row> {
    let faults = Faults {
        latency: Duration::from_millis(args.latency_ms),
        jitter: Duration::from_millis(scenario.jitter_ms),
        rate: scenario.server_rate,
        burst: args.burst,
        rng_seed: 42,
        ..Faults::default()
    };
    let catalog = LocalCatalog::start(
        CatalogConfig {
            faults,
            ..CatalogConfig::new(work.seed.clone())
        },
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await?;
    let pacer = match scenario.client {
        ClientRate::None => None,
        ClientRate::Fixed(rate) => Some(Arc::new(Pacer::fixed(rate))),
        ClientRate::Auto => Some(Arc::new(Pacer::adaptive(50.0, 1.0, 2_000.0))),
    };
    let probe = connect(&catalog, None).await?;
    // The latency a call really sees: the catalog's timer rounds its sleep up by a millisecond or
    // two, which is the harness's doing, not sc-assoc's. Measured with sequential calls before
    // the run, so the unthrottled floor can be stated both ways.
    let calibration = Instant::now();
    const PROBES: u32 = 20;
    for _ in 0..PROBES {
        probe.list_service_actions().await?;
    }
    let measured_latency = calibration.elapsed() / PROBES;
    catalog.reset_stats();
    let client = connect(&catalog, pacer).await?;
    let started = Instant::now();
    let prepared = prepare(&client, &work.desired, scenario.concurrency, &NoProgress).await?;
    let options = ApplyOptions {
        concurrency: scenario.concurrency,
        strategy: scenario.strategy,
        ..ApplyOptions::default()
    };
    let verify = if scenario.verify {
        Verify::On {
            salt: "bench".into(),
        }
    } else {
        Verify::Off
    };
    let report = execute(&client, &prepared, &options, &verify, &NoProgress).await;
    let wall = started.elapsed();
    let stats = catalog.stats();
    let final_state: BTreeSet<Triple> = catalog.associations().into_iter().collect();
    catalog.shutdown().await;

    let missing = (work.desired.len() - work.present.len()) as u64;
    let minimal_writes = match scenario.strategy {
        Strategy::Single => missing,
        Strategy::Batch => missing.div_ceil(50),
    };
    let mut minimal = minimal_reads(&work.desired, &work.present);
    if scenario.verify {
        // Verification reads back what was created: its minimal cost is a read of the final state.
        minimal += minimal_reads(&work.desired, &work.desired);
    }
    let calls = minimal + minimal_writes;
    let (floor, measured_floor) = match scenario.server_rate {
        Some(rate) => {
            let floor = Duration::from_secs_f64(calls as f64 / rate);
            (floor, floor)
        }
        None => (
            Duration::from_secs_f64(
                calls as f64 * args.latency_ms as f64 / 1000.0 / scenario.concurrency as f64,
            ),
            measured_latency * calls as u32 / scenario.concurrency as u32,
        ),
    };
    Ok(Row {
        name: scenario.name.to_string(),
        wall,
        phases: (report.timings.read_ms, report.timings.apply_ms),
        reads: report.calls.reads,
        minimal_reads: minimal,
        writes: report.calls.writes,
        throttled: stats.throttled,
        requests: stats.total_calls,
        floor,
        measured_floor,
        converged: report.converged() && work.desired.is_subset(&final_state),
    })
}

/// Child-process mode: load and validate the manifest, plan it against an in-memory observed
/// state (half of it present), print `seconds peak_rss_kib triples`.
fn plan_only(path: &PathBuf) -> anyhow::Result<()> {
    let started = Instant::now();
    let desired =
        sc_assoc::manifest::load(std::slice::from_ref(path)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let observed: BTreeSet<Triple> = desired.triples.keys().step_by(2).cloned().collect();
    let plan = sc_assoc::plan::plan(desired.triples.keys(), &observed);
    let elapsed = started.elapsed();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0);
    println!(
        "{:.3} {} {}",
        elapsed.as_secs_f64(),
        peak_kib,
        plan.to_add.len() + plan.present.len()
    );
    Ok(())
}

/// Writes a manifest of `triples` one-triple entries (the largest form per triple).
fn write_large_manifest(triples: usize) -> anyhow::Result<(tempfile::TempDir, PathBuf)> {
    use std::fmt::Write;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("large.yaml");
    let mut text = String::from("version: 1\nassociations:\n");
    for i in 0..triples {
        let _ = writeln!(
            text,
            "  - {{product: prod-large{:05}, artifact: pa-large{:07}, action: act-large{:02}}}",
            i / 250,
            i / 25,
            i % 25
        );
    }
    std::fs::write(&path, text)?;
    Ok((dir, path))
}

fn large_row(args: &Args) -> anyhow::Result<String> {
    let (_dir, path) = write_large_manifest(args.large_triples)?;
    let output = std::process::Command::new(std::env::current_exe()?)
        .arg("--plan-only")
        .arg(&path)
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<&str> = text.split_whitespace().collect();
    anyhow::ensure!(
        output.status.success() && fields.len() == 3,
        "plan-only child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(format!(
        "| plan only, {} triples (validate + plan, in memory) | {} s | peak RSS {:.0} MB |",
        fields[2],
        fields[0],
        fields[1].parse::<f64>().unwrap_or(0.0) / 1024.0
    ))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(path) = &args.plan_only {
        return plan_only(path);
    }
    let scenarios = [
        Scenario {
            name: "single, --rate R",
            strategy: Strategy::Single,
            server_rate: Some(args.rate),
            client: ClientRate::Fixed(args.rate),
            jitter_ms: args.jitter_ms,
            concurrency: args.concurrency,
            verify: false,
        },
        Scenario {
            name: "single, --rate auto",
            strategy: Strategy::Single,
            server_rate: Some(args.rate),
            client: ClientRate::Auto,
            jitter_ms: args.jitter_ms,
            concurrency: args.concurrency,
            verify: false,
        },
        Scenario {
            name: "single, unpaced (SDK retries only)",
            strategy: Strategy::Single,
            server_rate: Some(args.rate),
            client: ClientRate::None,
            jitter_ms: args.jitter_ms,
            concurrency: args.concurrency,
            verify: false,
        },
        Scenario {
            name: "single, --rate R, verify on",
            strategy: Strategy::Single,
            server_rate: Some(args.rate),
            client: ClientRate::Fixed(args.rate),
            jitter_ms: args.jitter_ms,
            concurrency: args.concurrency,
            verify: true,
        },
        Scenario {
            name: "batch, --rate R",
            strategy: Strategy::Batch,
            server_rate: Some(args.rate),
            client: ClientRate::Fixed(args.rate),
            jitter_ms: args.jitter_ms,
            concurrency: args.concurrency,
            verify: false,
        },
        Scenario {
            name: "unthrottled",
            strategy: Strategy::Single,
            server_rate: None,
            client: ClientRate::None,
            jitter_ms: 0,
            concurrency: args.unthrottled_concurrency,
            verify: false,
        },
    ];
    let work = workload(args.triples, args.actions, args.present);
    println!(
        "N={} triples over {} artifacts and {} actions, {} present ({:.0}%); server R={}/s burst {}, L={} ms (+0..{} ms jitter when throttled)\n",
        work.desired.len(),
        work.desired.len().div_ceil(args.actions),
        args.actions,
        work.present.len(),
        100.0 * work.present.len() as f64 / work.desired.len() as f64,
        args.rate,
        args.burst,
        args.latency_ms,
        args.jitter_ms
    );
    println!(
        "| scenario | wall s (read + apply) | read calls (minimal) | write calls | throttled (% of requests) | floor s | wall/floor | wall/floor at measured latency | converged |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for scenario in &scenarios {
        if args
            .only
            .as_deref()
            .is_some_and(|o| !scenario.name.contains(o))
        {
            continue;
        }
        let row = run(&args, scenario, &work).await?;
        println!(
            "| {} | {:.2} ({:.2} + {:.2}) | {} ({}) | {} | {} ({:.1}%) | {:.2} | {:.3} | {:.3} | {} |",
            row.name,
            row.wall.as_secs_f64(),
            row.phases.0 as f64 / 1000.0,
            row.phases.1 as f64 / 1000.0,
            row.reads,
            row.minimal_reads,
            row.writes,
            row.throttled,
            100.0 * row.throttled as f64 / row.requests.max(1) as f64,
            row.floor.as_secs_f64(),
            row.wall.as_secs_f64() / row.floor.as_secs_f64(),
            row.wall.as_secs_f64() / row.measured_floor.as_secs_f64(),
            if row.converged { "yes" } else { "NO" }
        );
    }
    if args.only.as_deref().is_none_or(|o| "plan only".contains(o)) {
        println!("\n{}", large_row(&args)?);
    }
    Ok(())
}
