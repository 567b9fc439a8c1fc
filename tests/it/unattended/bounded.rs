//! Everything is bounded: `--deadline` covers every phase and the calls in flight, interrupts
//! work in every phase, paging cannot go on forever, and with no flags at all an endpoint that
//! never answers fails the run in about 100 s, naming the endpoint and the bound.

use super::timed;
use crate::hostile::{Answer, Hostile, MANIFEST, healthy};
use crate::support::write_file;
use serde_json::json;
use std::time::Duration;

const GUARD: Duration = Duration::from_secs(60);
/// The deadline plus the 2 s grace, plus room for process start and a loaded machine.
const SLACK: Duration = Duration::from_secs(4);

/// A manifest naming its product, so that plan must resolve it (SearchProductsAsAdmin).
const NAMED: &str =
    "version: 1\nassociations:\n  - product: {name: Web}\n    artifact: pa-1\n    action: act-1\n";

/// An endpoint whose product search never answers: name resolution hangs.
async fn resolution_hangs() -> Hostile {
    Hostile::start(|request| match request.operation.as_str() {
        "SearchProductsAsAdmin" => Answer::Hang,
        _ => healthy(request),
    })
    .await
}

fn manifest(dir: &tempfile::TempDir, text: &str) -> String {
    write_file(dir.path(), "m.yaml", text)
        .to_string_lossy()
        .into_owned()
}

#[tokio::test]
async fn the_deadline_bounds_writes_in_flight_and_reports_them_unknown() {
    let endpoint = Hostile::start(|request| match request.operation.as_str() {
        "AssociateServiceActionWithProvisioningArtifact" => Answer::Hang,
        _ => healthy(request),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = manifest(&dir, MANIFEST);
    let args = [
        "apply",
        &path,
        "--deadline",
        "3",
        "--call-timeout",
        "30",
        "--concurrency",
        "2",
        "--output",
        "json",
    ];
    let (run, took) = timed(Some(&endpoint.endpoint), &args, &[], GUARD).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(took < Duration::from_secs(3) + SLACK, "took {took:?}");
    let report = run.json();
    assert_eq!(report["stopped"]["reason"], "deadline", "{run:?}");
    assert_eq!(
        report["summary"]["unknown"], 2,
        "two calls were in flight: {run:?}"
    );
    assert_eq!(report["summary"]["not_attempted"], 2, "{run:?}");
    let unknown: Vec<_> = report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["status"] == "unknown")
        .collect();
    assert!(
        unknown.iter().all(|o| o["error"]["code"] == "Abandoned"),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn the_deadline_bounds_name_resolution() {
    let endpoint = resolution_hangs().await;
    let dir = tempfile::tempdir().unwrap();
    let path = manifest(&dir, NAMED);
    let (run, took) = timed(
        Some(&endpoint.endpoint),
        &["plan", &path, "--deadline", "2"],
        &[],
        GUARD,
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(took < Duration::from_secs(2) + SLACK, "took {took:?}");
    assert!(
        run.stderr
            .contains("the deadline was reached while resolving the manifest's names"),
        "{run:?}"
    );
    assert_eq!(run.stdout, "", "no plan is printed: {run:?}");
}

#[tokio::test]
async fn the_deadline_bounds_verification() {
    // The first read answers; the read-back after the writes never does.
    let endpoint = Hostile::start(|request| match request.operation.as_str() {
        "ListServiceActionsForProvisioningArtifact" if request.call > 2 => Answer::Hang,
        _ => healthy(request),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = manifest(&dir, MANIFEST);
    let (run, took) = timed(
        Some(&endpoint.endpoint),
        &["apply", &path, "--deadline", "3", "--output", "json"],
        &[],
        GUARD,
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(took < Duration::from_secs(3) + SLACK, "took {took:?}");
    assert_eq!(run.json()["summary"]["created"], 4, "{run:?}");
    assert!(run.stderr.contains("verification stopped"), "{run:?}");
}

#[cfg(unix)]
#[tokio::test]
async fn an_interrupt_during_name_resolution_exits_130_at_once() {
    let endpoint = resolution_hangs().await;
    let dir = tempfile::tempdir().unwrap();
    let path = manifest(&dir, NAMED);
    let mut command = crate::support::command(Some(&endpoint.endpoint), &["plan", &path]);
    command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = command.spawn().expect("spawn");
    let pid = child.id().expect("pid");
    for _ in 0..200 {
        if endpoint.calls("SearchProductsAsAdmin") > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        endpoint.calls("SearchProductsAsAdmin") > 0,
        "resolution started"
    );
    let started = std::time::Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let output = tokio::time::timeout(GUARD, child.wait_with_output())
        .await
        .expect("ends")
        .expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(started.elapsed() < SLACK, "took {:?}", started.elapsed());
    assert!(stderr.contains("interrupted while resolving"), "{stderr}");
}

#[tokio::test]
async fn a_paging_loop_is_an_error_at_once_naming_the_operation_and_resource() {
    let endpoint = Hostile::start(|request| match request.operation.as_str() {
        "ListServiceActionsForProvisioningArtifact" => Answer::Ok(json!({
            "ServiceActionSummaries": [], "NextPageToken": "same-token-again"})),
        _ => healthy(request),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = manifest(&dir, MANIFEST);
    let (run, _) = timed(Some(&endpoint.endpoint), &["plan", &path], &[], GUARD).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("already returned"), "{run:?}");
    assert!(
        run.stderr.contains("product `prod-1` artifact `pa-"),
        "{run:?}"
    );
    assert!(!run.stdout.contains("No changes"), "{run:?}");
    // Two pages per artifact at most: the first, and the one that repeats the token.
    assert!(
        endpoint.calls("ListServiceActionsForProvisioningArtifact") <= 4,
        "{}",
        endpoint.calls("ListServiceActionsForProvisioningArtifact")
    );
}

#[tokio::test]
async fn endless_fresh_page_tokens_stop_at_the_cap() {
    let endpoint = Hostile::start(|request| match request.operation.as_str() {
        "ListServiceActionsForProvisioningArtifact" => Answer::Ok(json!({
            "ServiceActionSummaries": [],
            "NextPageToken": format!("token-{}", request.call)})),
        _ => healthy(request),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = manifest(&dir, MANIFEST);
    let (run, _) = timed(
        Some(&endpoint.endpoint),
        &["plan", &path, "--concurrency", "1"],
        &[],
        GUARD,
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("more than the API's limits allow"),
        "{run:?}"
    );
    // The first listing reaches the cap and ends the run: the second is never read.
    assert_eq!(
        endpoint.calls("ListServiceActionsForProvisioningArtifact"),
        50,
        "{run:?}"
    );
}

/// The bound a user gets with no flags at all: ten 10-second attempts per call. Slow by nature
/// (about 100 s), so it runs alongside the rest of the suite.
#[tokio::test]
async fn with_default_flags_a_silent_endpoint_fails_the_run_within_two_minutes() {
    let endpoint = Hostile::start(|_| Answer::Hang).await;
    let dir = tempfile::tempdir().unwrap();
    let path = manifest(&dir, MANIFEST);
    let (run, took) = timed(
        Some(&endpoint.endpoint),
        &["plan", &path],
        &[],
        Duration::from_secs(150),
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(took < Duration::from_secs(125), "took {took:?}");
    assert!(
        run.stderr.contains(&endpoint.endpoint),
        "names the endpoint: {run:?}"
    );
    assert!(
        run.stderr.contains("--call-timeout"),
        "names the bound: {run:?}"
    );
    super::assert_no_debug_dump(&run);
}
