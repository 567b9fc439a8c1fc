//! The speed benchmark: how close sc-assoc runs to the floor its environment allows.
//!
//! A migration is bounded by the calls the account may make per second. Nothing can beat
//! `(minimal read calls + write calls − burst) / rate` — the throttle floor: the bucket's initial
//! burst is free, every other call waits for a token. Each cell starts a local catalog with
//! latency and a token-bucket rate limit, seeds a generated catalog with a fraction of the
//! manifest already present, reconciles through the library (the same code path as `sc-assoc
//! apply`, real SDK, real HTTP) and records wall time and throttled requests. The matrix crosses
//! server rates with concurrencies, for sc-assoc with its default flags (adaptive pacing) and for
//! the AWS SDK's own adaptive retry mode as the client, with verification off so the floor
//! counts every call. Two last rows measure a 100k-triple manifest as whole processes: the bench
//! itself validating and planning it in memory, and the release binary's `validate`.
//!
//! Run: `cargo build --release && cargo run --release --example bench` (flags: `--help`).

mod cell;
mod workload;

use cell::{Cell, Client};
use clap::Parser;
use sc_assoc::settings::Strategy;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;
use workload::{minimal_reads, workload, write_large_manifest};

#[derive(Debug, Parser)]
#[command(about = "Benchmark sc-assoc against the local catalog's throttle floor")]
struct Args {
    /// Server rates (calls per second, burst equal to the rate) of the matrix.
    #[arg(long, value_delimiter = ',', default_values_t = [5.0, 10.0, 25.0, 100.0, 200.0])]
    rates: Vec<f64>,
    /// Concurrencies of the matrix.
    #[arg(long, value_delimiter = ',', default_values_t = [4, 16, 64])]
    concurrencies: Vec<usize>,
    /// Clients of the matrix: `sc-assoc` (default flags), `sdk-adaptive` (the SDK's adaptive
    /// retry mode, no pacer), `fixed` (`--rate R`), `unlimited` (`--rate unlimited`).
    #[arg(long, value_delimiter = ',', default_values_t = ["sc-assoc".to_string(), "sdk-adaptive".to_string()])]
    clients: Vec<String>,
    /// Each cell's floor lasts at least this long: the manifest grows with the rate.
    #[arg(long, default_value_t = 20.0)]
    seconds: f64,
    /// Service actions; each artifact gets every one of them.
    #[arg(long, default_value_t = 10)]
    actions: usize,
    /// Fraction of the manifest already associated before the run.
    #[arg(long, default_value_t = 0.4)]
    present: f64,
    /// Server latency per call, milliseconds.
    #[arg(long, default_value_t = 30)]
    latency_ms: u64,
    /// Extra uniform latency 0..N ms.
    #[arg(long, default_value_t = 10)]
    jitter_ms: u64,
    /// Skip the matrix (only the batch and whole-process rows).
    #[arg(long)]
    no_matrix: bool,
    /// Skip the batch row and the whole-process rows.
    #[arg(long)]
    matrix_only: bool,
    /// Triples in the whole-process rows.
    #[arg(long, default_value_t = 100_000)]
    large_triples: usize,
    /// Internal: validate and plan this manifest (the whole-process row's child).
    #[arg(long, hide = true)]
    plan_only: Option<PathBuf>,
}

/// The smallest manifest (in steps of the action count) whose floor at `rate` lasts `seconds`.
fn triples_for(args: &Args, rate: f64) -> usize {
    let mut triples = args.actions * 10;
    loop {
        let work = workload(triples, args.actions, args.present);
        let calls = minimal_reads(&work.desired, &work.present) + work.missing();
        if (calls as f64 - rate) / rate >= args.seconds {
            return triples;
        }
        triples += args.actions * (1 + triples / 200);
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    100.0 * part as f64 / whole.max(1) as f64
}

async fn matrix(args: &Args) -> anyhow::Result<()> {
    let clients: Vec<Client> = args
        .clients
        .iter()
        .map(|c| c.parse())
        .collect::<Result<_, _>>()?;
    println!(
        "Matrix: burst = rate, L={} ms (+0..{} ms jitter), {:.0}% of each manifest present, \
         verify off; floor = (minimal reads + missing writes − burst) / rate\n",
        args.latency_ms,
        args.jitter_ms,
        100.0 * args.present
    );
    let mut header = String::from("| rate/s | concurrency | triples | calls | floor s |");
    let mut rule = String::from("|---|---|---|---|---|");
    for client in &clients {
        header.push_str(&format!(
            " {0} wall s | {0} wall/floor | {0} throttled |",
            client.label()
        ));
        rule.push_str("---|---|---|");
    }
    println!("{header}\n{rule}");
    for &rate in &args.rates {
        let triples = triples_for(args, rate);
        let work = workload(triples, args.actions, args.present);
        for &concurrency in &args.concurrencies {
            let mut line = String::new();
            let mut floor = 0.0;
            let mut calls = 0;
            for &client in &clients {
                let cell = Cell {
                    rate,
                    burst: rate.ceil() as u32,
                    latency_ms: args.latency_ms,
                    jitter_ms: args.jitter_ms,
                    concurrency,
                    strategy: Strategy::Single,
                    client,
                };
                let row = cell.run(&work).await?;
                floor = row.floor.as_secs_f64();
                calls = row.minimal_calls;
                line.push_str(&format!(
                    " {:.2}{} | **{:.3}** | {} ({:.1}%) |",
                    row.wall.as_secs_f64(),
                    if row.converged { "" } else { " NOT CONVERGED" },
                    row.wall.as_secs_f64() / floor,
                    row.throttled,
                    percent(row.throttled, row.requests)
                ));
            }
            println!(
                "| {rate} | {concurrency} | {} | {calls} | {floor:.2} |{line}",
                work.desired.len()
            );
        }
    }
    Ok(())
}

/// The issue-4 batch scenario: 5,000 triples, 40% present, R=100/s burst 10, default flags.
async fn batch_row(args: &Args) -> anyhow::Result<()> {
    let work = workload(5_000, 10, 0.4);
    let cell = Cell {
        rate: 100.0,
        burst: 10,
        latency_ms: args.latency_ms,
        jitter_ms: args.jitter_ms,
        concurrency: 16,
        strategy: Strategy::Batch,
        client: Client::ScAssoc,
    };
    let row = cell.run(&work).await?;
    println!(
        "\n| batch, default flags, N=5000 (40% present), R=100/s burst 10, concurrency 16 | wall \
         {:.2} s | floor {:.2} s | **{:.3}×** | {} read + {} write calls | throttled {} ({:.1}%) | \
         converged {} |",
        row.wall.as_secs_f64(),
        row.floor.as_secs_f64(),
        row.wall.as_secs_f64() / row.floor.as_secs_f64(),
        row.reads,
        row.writes,
        row.throttled,
        percent(row.throttled, row.requests),
        row.converged
    );
    Ok(())
}

/// Child-process mode: load and validate the manifest, plan it against an in-memory observed
/// state (half of it present), print the number of triples planned.
fn plan_only(path: &Path) -> anyhow::Result<()> {
    let desired =
        sc_assoc::manifest::load(&[path.to_path_buf()]).map_err(|e| anyhow::anyhow!("{e}"))?;
    let observed: BTreeSet<_> = desired.triples.keys().step_by(2).cloned().collect();
    let plan = sc_assoc::plan::plan(desired.triples.keys(), &observed);
    println!("{}", plan.to_add.len() + plan.present.len());
    Ok(())
}

/// Runs `command` under `/usr/bin/time`: whole-process wall seconds and peak RSS in MB.
fn whole_process(command: std::process::Command) -> anyhow::Result<(f64, f64)> {
    let program = command.get_program().to_owned();
    let mut timed = std::process::Command::new("/usr/bin/time");
    timed.arg("-f").arg("%e %M").arg(program);
    timed.args(command.get_args());
    let started = Instant::now();
    let output = timed.output()?;
    let wall = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    anyhow::ensure!(output.status.success(), "{stderr}");
    let peak_kib: f64 = stderr
        .lines()
        .last()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    Ok((wall, peak_kib / 1024.0))
}

fn whole_process_rows(args: &Args) -> anyhow::Result<()> {
    let (dir, path) = write_large_manifest(args.large_triples)?;
    let bench = std::env::current_exe()?;
    let mut child = std::process::Command::new(&bench);
    child.arg("--plan-only").arg(&path);
    let (wall, peak) = whole_process(child)?;
    println!(
        "\n| whole process, {} triples one entry each | wall s | peak RSS MB |\n|---|---|---|\n\
         | bench child: validate + plan with state in memory | **{wall:.3}** | **{peak:.0}** |",
        args.large_triples
    );
    // target/release/examples/bench → target/release/sc-assoc
    let binary = bench
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("sc-assoc"))
        .filter(|b| b.exists());
    match binary {
        Some(binary) => {
            let mut validate = std::process::Command::new(binary);
            validate.arg("validate").arg(dir.path());
            let (wall, peak) = whole_process(validate)?;
            println!("| `sc-assoc validate` (release binary) | **{wall:.3}** | **{peak:.0}** |");
        }
        None => println!("| `sc-assoc validate`: run `cargo build --release` first | | |"),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(path) = &args.plan_only {
        return plan_only(path);
    }
    if !args.no_matrix {
        matrix(&args).await?;
    }
    if !args.matrix_only {
        batch_row(&args).await?;
        whole_process_rows(&args)?;
    }
    Ok(())
}
