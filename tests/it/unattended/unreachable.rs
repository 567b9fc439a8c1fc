//! An endpoint that cannot be reached, or credentials that are wrong, fail the run in seconds
//! with one message naming the cause, never a `Debug` dump and never "No changes".

use super::{assert_no_debug_dump, timed};
use crate::support::{SMALL_SEED, start_catalog, write_file};
use std::time::Duration;

const GUARD: Duration = Duration::from_secs(60);

/// A port nothing listens on: bound, then released.
fn refused_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    format!("http://{address}")
}

#[tokio::test]
async fn a_refused_connection_fails_within_seconds_with_one_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "m.yaml", crate::hostile::MANIFEST);
    let endpoint = refused_endpoint();
    for command in ["plan", "apply"] {
        let (run, took) = timed(
            Some(&endpoint),
            &[command, path.to_str().unwrap()],
            &[],
            GUARD,
        )
        .await;
        assert_eq!(run.code, 1, "{run:?}");
        assert!(took < Duration::from_secs(10), "{command} took {took:?}");
        let expected = format!("cannot reach {endpoint}: connection refused");
        assert_eq!(
            run.stderr.matches(&expected).count(),
            1,
            "one message, once: {run:?}"
        );
        assert!(run.stderr.contains("hint: "), "{run:?}");
        assert!(!run.stdout.contains("No changes"), "{run:?}");
        assert_no_debug_dump(&run);
    }
}

#[tokio::test]
async fn an_unknown_profile_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "m.yaml", crate::hostile::MANIFEST);
    let config = write_file(dir.path(), "config", "[profile ops]\nregion = eu-west-1\n");
    let (run, _) = timed(
        None,
        &["plan", path.to_str().unwrap(), "--profile", "nosuch"],
        &[
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_REGION", ""),
        ],
        GUARD,
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("the AWS profile `nosuch` is not defined"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("ops"),
        "lists the profiles there are: {run:?}"
    );
    assert!(!run.stderr.contains("NoRegion"), "{run:?}");
}

#[tokio::test]
async fn log_lines_carry_no_colour_off_a_terminal() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nassociations:\n  - {product: prod-web, artifact: pa-web-v1, action: act-patch}\n",
    );
    let (run, _) = timed(
        Some(&catalog.endpoint()),
        &["plan", path.to_str().unwrap(), "-vv"],
        &[("NO_COLOR", "")],
        GUARD,
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("INFO") || run.stderr.contains("DEBUG"),
        "{run:?}"
    );
    assert!(
        !run.stderr.contains('\u{1b}'),
        "ANSI escape in a pipe: {run:?}"
    );
}

#[tokio::test]
async fn progress_is_plain_lines_in_ci_and_on_a_dumb_terminal() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nassociations:\n  - {product: prod-web, artifact: pa-web-v1, action: act-patch}\n",
    );
    for env in [("CI", "true"), ("TERM", "dumb")] {
        let (run, _) = timed(
            Some(&catalog.endpoint()),
            &["apply", path.to_str().unwrap()],
            &[env],
            GUARD,
        )
        .await;
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stderr.contains("reading: "), "{env:?}: {run:?}");
        assert!(run.stderr.contains("applying: "), "{env:?}: {run:?}");
    }
}
