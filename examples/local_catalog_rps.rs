//! Measures how many requests per second a local catalog serves, so benchmarks can tell whether
//! the stand-in or the client is the bottleneck. Many concurrent keep-alive connections send
//! signed-looking AWS JSON 1.1 requests for a fixed time; the answer is completed requests per
//! second and how many were not HTTP 200.
//!
//! ```text
//! cargo run --release -- local-catalog --seed tests/fixtures/catalog/basic.yaml --listen 127.0.0.1:8642 &
//! cargo run --example local_catalog_rps -- http://127.0.0.1:8642 64 10 list
//! ```
//! Arguments: endpoint, connections (64), seconds (5), operation (`list` =
//! ListServiceActionsForProvisioningArtifact, `describe` = DescribeProductAsAdmin, `write` =
//! Associate then Disassociate with fresh tokens). Without an endpoint it starts an in-process
//! catalog on the fixture seed.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sc_assoc::local::{CatalogConfig, LocalCatalog, Seed};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/servicecatalog/aws4_request, SignedHeaders=host, Signature=abc";

fn request(endpoint: &str, op: &str, n: u64) -> (String, String) {
    let triple = r#""ProductId":"prod-web","ProvisioningArtifactId":"pa-web-v2","ServiceActionId":"act-patch""#;
    match op {
        "describe" => (
            "DescribeProductAsAdmin".into(),
            r#"{"Id":"prod-web"}"#.into(),
        ),
        "write" if n.is_multiple_of(2) => (
            "AssociateServiceActionWithProvisioningArtifact".into(),
            format!(
                r#"{{{triple},"IdempotencyToken":"a{n}-{endpoint_len}"}}"#,
                endpoint_len = endpoint.len()
            ),
        ),
        "write" => (
            "DisassociateServiceActionFromProvisioningArtifact".into(),
            format!(
                r#"{{{triple},"IdempotencyToken":"d{n}-{endpoint_len}"}}"#,
                endpoint_len = endpoint.len()
            ),
        ),
        _ => (
            "ListServiceActionsForProvisioningArtifact".into(),
            r#"{"ProductId":"prod-web","ProvisioningArtifactId":"pa-web-v1"}"#.into(),
        ),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut in_process = None;
    let endpoint = match args.first().filter(|a| a.starts_with("http")) {
        Some(e) => e.clone(),
        None => {
            let seed = Seed::from_file(std::path::Path::new("tests/fixtures/catalog/basic.yaml"))?;
            let catalog =
                LocalCatalog::start(CatalogConfig::new(seed), "127.0.0.1:0".parse()?).await?;
            let e = catalog.endpoint();
            in_process = Some(catalog);
            e
        }
    };
    let connections: usize = args.get(1).map(|a| a.parse()).transpose()?.unwrap_or(64);
    let seconds: u64 = args.get(2).map(|a| a.parse()).transpose()?.unwrap_or(5);
    let op = args.get(3).cloned().unwrap_or_else(|| "list".into());

    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(connections)
        .build_http();
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..connections)
        .map(|w| {
            let (client, endpoint, op) = (client.clone(), endpoint.clone(), op.clone());
            let (done, failed) = (done.clone(), failed.clone());
            tokio::spawn(async move {
                let mut n = w as u64 * 1_000_000_000;
                while Instant::now() < deadline {
                    n += 1;
                    let (target, body) = request(&endpoint, &op, n);
                    let req = hyper::Request::post(format!("{endpoint}/"))
                        .header("content-type", "application/x-amz-json-1.1")
                        .header(
                            "x-amz-target",
                            format!("AWS242ServiceCatalogService.{target}"),
                        )
                        .header("x-amz-date", "20260101T000000Z")
                        .header("authorization", AUTH)
                        .body(Full::new(Bytes::from(body)));
                    let Ok(req) = req else { break };
                    match client.request(req).await {
                        Ok(resp) => {
                            let ok = resp.status().is_success();
                            let _ = resp.into_body().collect().await;
                            done.fetch_add(1, Ordering::Relaxed);
                            if !ok {
                                failed.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Err(_) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = done.load(Ordering::Relaxed);
    println!(
        "{op}: {total} requests in {elapsed:.2}s over {connections} connections = {:.0} req/s ({} not 200){}",
        total as f64 / elapsed,
        failed.load(Ordering::Relaxed),
        if in_process.is_some() {
            " [in-process server]"
        } else {
            ""
        }
    );
    if let Some(c) = in_process {
        println!("server max_in_flight: {}", c.stats().max_in_flight);
        c.shutdown().await;
    }
    Ok(())
}
