//! An endpoint that accepts connections and never answers (a black-holed proxy, a stuck load
//! balancer). Per-attempt timeouts and `--deadline` must turn it into a clear error, exit 1, in
//! bounded time — never a hang, never a panic.

use super::GUARD;
use crate::support::{Run, sc_assoc, write_file};
use std::net::TcpListener;

const MANIFEST: &str =
    "version: 1\nassociations:\n  - {product: prod-web, artifact: pa-web-v1, action: act-patch}\n";

/// Accepts every connection and holds it open without reading or writing. The thread and the
/// sockets live until the test binary exits, which is the point.
fn black_hole() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    format!("http://{address}")
}

async fn run_against_black_hole(args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", MANIFEST);
    let mut full = vec![args[0], manifest.to_str().unwrap()];
    full.extend_from_slice(&args[1..]);
    let run = tokio::time::timeout(GUARD, sc_assoc(Some(&black_hole()), &full))
        .await
        .expect("a hung endpoint does not hang sc-assoc");
    assert!(!run.stderr.contains("panicked"), "{run:?}");
    run
}

#[tokio::test]
async fn a_hung_endpoint_ends_at_the_deadline_with_a_clear_error_and_nothing_applied() {
    let run = run_against_black_hole(&["apply", "--call-timeout", "1", "--deadline", "3"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "\nerror: the deadline was reached while reading the current associations; \
             nothing was applied\n"
        ),
        "{run:?}"
    );
}

#[tokio::test]
async fn a_hung_endpoint_without_a_deadline_ends_when_the_call_timeouts_run_out() {
    // Each attempt gives up after --call-timeout; the call as a whole after its retries
    // (10 attempts' worth). An endpoint that does not answer fails every call alike, so the
    // run stops at the first with one message naming the endpoint and the bound.
    let run = run_against_black_hole(&["plan", "--call-timeout", "1"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "error: reading the current associations failed; nothing was applied: Timeout: no answer from http://127.0.0.1:"
        ),
        "{run:?}"
    );
    assert!(run.stderr.contains("(--call-timeout)"), "{run:?}");
    assert_eq!(run.stdout, "", "no plan: {run:?}");
}
