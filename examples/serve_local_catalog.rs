//! Runs the local Service Catalog from a seed file until Ctrl-C, for the boto3 conformance
//! script and manual poking before the CLI subcommand exists.
//!
//! `cargo run --example serve_local_catalog -- tests/fixtures/catalog/basic.yaml 8642`
//! (port 0 or absent picks a free port; the first stdout line says which).

use sc_assoc::local::{Faults, ServeOptions, serve_standalone};
use std::net::SocketAddr;
use std::path::PathBuf;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let seed_path = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "tests/fixtures/catalog/basic.yaml".to_string()),
    );
    let port: u16 = args.next().map(|p| p.parse()).transpose()?.unwrap_or(0);
    serve_standalone(ServeOptions {
        listen: SocketAddr::from(([127, 0, 0, 1], port)),
        seed_path,
        faults: Faults::default(),
    })
    .await
}
