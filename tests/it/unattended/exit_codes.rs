//! The exit-code contract: 0 success, 1 any error (usage errors included), 2 only for
//! `plan --detailed-exitcode` with changes, 130 after an interrupt. A closed stdout ends any
//! command quietly.

use crate::support::sc_assoc;
use std::process::Stdio;

/// Every subcommand (the list the help snapshots are taken of, less the top level).
const SUBCOMMANDS: &[&str] = crate::help::COMMANDS.split_at(1).1;

#[tokio::test]
async fn a_usage_error_exits_1_never_2_for_every_subcommand() {
    for subcommand in SUBCOMMANDS {
        let run = sc_assoc(None, &[subcommand, "--no-such-flag"]).await;
        assert_eq!(run.code, 1, "sc-assoc {subcommand} --no-such-flag: {run:?}");
        assert!(run.stderr.contains("error:"), "{run:?}");
    }
    for args in [
        &["plna"][..],
        &["plan", "m/", "--detailed-exitcode", "--no-progres"],
        &["plan", "m/", "--rate", "0"],
        &["plan", "m/", "--concurrency", "0"],
        &["apply", "m/", "--deadline", "0"],
        &["plan", "m/", "--endpoint-url", "not a url"],
        &["plan", "m/", "--endpoint-url", "ftp://example.com"],
        &["plan"],
        &[],
    ] {
        let run = sc_assoc(None, args).await;
        assert_eq!(run.code, 1, "sc-assoc {args:?}: {run:?}");
    }
}

#[tokio::test]
async fn help_and_version_exit_0_on_stdout() {
    let version = sc_assoc(None, &["--version"]).await;
    assert_eq!(version.code, 0, "{version:?}");
    assert!(version.stdout.starts_with("sc-assoc "), "{version:?}");
    for subcommand in SUBCOMMANDS {
        let run = sc_assoc(None, &[subcommand, "--help"]).await;
        assert_eq!(run.code, 0, "sc-assoc {subcommand} --help: {run:?}");
        assert!(run.stdout.contains("Usage:"), "{run:?}");
    }
}

#[tokio::test]
async fn a_malformed_endpoint_url_is_refused_before_anything_runs() {
    let run = sc_assoc(
        None,
        &["plan", "nowhere/", "--endpoint-url", "localhost:4566"],
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("--endpoint-url"), "{run:?}");
    assert!(run.stderr.contains("localhost:4566"), "{run:?}");
}

/// `sc-assoc … | head -1`: the reader goes away after one line.
#[tokio::test]
async fn a_closed_stdout_ends_the_command_quietly() {
    for args in [
        &["completions", "fish"][..],
        &["schema"],
        &["completions", "bash"],
    ] {
        let mut child = crate::support::command(None, args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        // Close our end of the pipe before the child writes.
        drop(child.stdout.take());
        let output = child.wait_with_output().await.expect("wait");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "sc-assoc {args:?}: {stderr}");
        assert_eq!(output.status.code(), Some(0), "sc-assoc {args:?}: {stderr}");
    }
}
