//! The full soak of issue 5: 10k triples (by default) applied against the local catalog while a
//! share of calls is throttled, another fails with HTTP 500 and every answer is jittered — with
//! the SDK's real retry policy (10 attempts, standard mode, backoff up to 20 s), as a user runs
//! it. It applies until a run converges (the first almost always does; a call whose 10 attempts
//! were all faulted fails its triple, and the re-run must pick it up), checks the catalog holds
//! exactly the manifest plus what was there before, then applies once more and requires zero
//! write calls. Prints a Markdown table for TESTING.md and exits 1 if any promise broke.
//!
//! ```sh
//! cargo run --release --example soak -- --triples 10000 --throttle-rate 0.2 --error-rate 0.05
//! ```
//!
//! The world (seed, manifest, expected state) is the test suite's, shared by path, so the small
//! soak in `cargo test` and this one check the same thing.

// The tests also write the manifest to disk for the binary; the example needs no file.
#[allow(dead_code)]
#[path = "../tests/it/faults/grid.rs"]
mod grid;

use clap::Parser;
use grid::{Grid, drift};
use sc_assoc::aws::{AwsCatalog, AwsOptions, StaticCredentials};
use sc_assoc::local::{CatalogConfig, Faults, LocalCatalog};
use sc_assoc::progress::NoProgress;
use sc_assoc::run::{self, Target};
use sc_assoc::settings::{Settings, Strategy};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
struct Args {
    /// Declared triples (rounded up to a multiple of 20).
    #[arg(long, default_value_t = 10_000)]
    triples: usize,
    /// Probability a call is answered 400 ThrottlingException.
    #[arg(long, default_value_t = 0.2)]
    throttle_rate: f64,
    /// Probability a call is answered 500 InternalFailure (not performed).
    #[arg(long, default_value_t = 0.05)]
    error_rate: f64,
    /// Probability a write is performed but answered 500.
    #[arg(long, default_value_t = 0.0)]
    lost_reply_rate: f64,
    #[arg(long, default_value_t = 2)]
    latency_ms: u64,
    #[arg(long, default_value_t = 8)]
    jitter_ms: u64,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// `single` or `batch`.
    #[arg(long, value_parser = parse_strategy, default_value = "single")]
    strategy: Strategy,
    #[arg(long, default_value_t = 1)]
    rng_seed: u64,
    /// Runs allowed to converge before the soak counts as failed.
    #[arg(long, default_value_t = 3)]
    max_runs: u32,
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    let grid = Grid::for_triples(args.triples);
    let faults = Faults {
        latency: Duration::from_millis(args.latency_ms),
        jitter: Duration::from_millis(args.jitter_ms),
        throttle_rate: args.throttle_rate,
        error_rate: args.error_rate,
        lost_reply_rate: args.lost_reply_rate,
        rng_seed: args.rng_seed,
        ..Faults::default()
    };
    let config = CatalogConfig {
        faults,
        ..CatalogConfig::new(grid.seed())
    };
    let catalog = LocalCatalog::start(config, SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    // The SDK's own retry policy, untouched: what a user's run meets.
    let client = AwsCatalog::connect(&AwsOptions {
        endpoint_url: Some(catalog.endpoint()),
        region: Some("us-east-1".to_string()),
        static_credentials: Some(StaticCredentials {
            access_key_id: "AKIDSOAK".to_string(),
            secret_access_key: "soak-secret".to_string(),
        }),
        ..AwsOptions::default()
    })
    .await?;
    let desired = grid.desired();
    let settings = Settings {
        concurrency: args.concurrency,
        strategy: args.strategy,
        ..Settings::default()
    };

    println!(
        "soak: {} triples on {} artifacts, {} pre-existing, throttle {:.0}%, 5xx {:.0}%, lost replies {:.0}%, latency {}+0..{} ms, {:?}, concurrency {}, rng seed {}\n",
        grid.declared(),
        grid.artifacts,
        grid.pre_existing().len(),
        args.throttle_rate * 100.0,
        args.error_rate * 100.0,
        args.lost_reply_rate * 100.0,
        args.latency_ms,
        args.jitter_ms,
        args.strategy,
        args.concurrency,
        args.rng_seed,
    );
    println!(
        "| run | to add | created | adopted | healed | failed | requests | throttled | 5xx | lost | write requests | seconds |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut converged = false;
    let mut run_number = 0;
    while run_number < args.max_runs + 1 {
        run_number += 1;
        // The last pass is the check: after convergence, a run that must write nothing.
        let check = converged;
        catalog.reset_stats();
        let started = Instant::now();
        let prepared = run::prepare_target(
            &client,
            &Target::of(&desired),
            args.concurrency,
            &NoProgress,
        )
        .await?;
        let report = run::execute(&client, &prepared, &settings, &NoProgress).await;
        let stats = catalog.stats();
        let s = &report.summary;
        println!(
            "| {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} |",
            run_number,
            if check { " (re-run)" } else { "" },
            prepared.plan.to_add.len(),
            s.created,
            s.adopted,
            s.healed,
            s.failed,
            stats.total_calls,
            stats.throttled,
            stats.injected_errors,
            stats.lost_replies,
            stats.write_calls(),
            started.elapsed().as_secs_f64(),
        );
        if check {
            let left = drift(&grid.expected(), &catalog.associations());
            let quiet = stats.write_calls() == 0 && report.converged();
            println!(
                "\nconverged after {} run(s); missing {}, extra {}; re-run write requests {}",
                run_number - 1,
                left.missing,
                left.extra,
                stats.write_calls()
            );
            let ok = left.missing == 0 && left.extra == 0 && quiet;
            println!("{}", if ok { "PASS" } else { "FAIL" });
            catalog.shutdown().await;
            return Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        converged = report.converged();
    }
    println!("\nFAIL: not converged after {} runs", args.max_runs);
    catalog.shutdown().await;
    Ok(ExitCode::FAILURE)
}

/// The library's `Strategy` carries no clap derive (clap stays in the command line), so the
/// example spells it itself.
fn parse_strategy(text: &str) -> Result<Strategy, String> {
    match text {
        "single" => Ok(Strategy::Single),
        "batch" => Ok(Strategy::Batch),
        _ => Err(format!("`{text}` is neither `single` nor `batch`")),
    }
}
