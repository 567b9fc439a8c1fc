//! Unattended runs, read as a spec: what a pipeline sees when things go wrong with no flags set.
//! A usage error never exits 2 (the code for "there are changes"); every wait is bounded and the
//! bound is named; an unreachable endpoint fails fast with one message; nothing secret is
//! printed, whoever wrote the text; manifest directories are read strictly; the plan proves the
//! ids it names; JSON output is one document for every outcome. The hostile endpoints are in
//! [`crate::hostile`]; the tests are in the submodules by promise.

mod bounded;
mod exit_codes;
mod ids;
mod json;
mod report;
mod secrets;
mod strict;
mod unreachable;

use crate::support::Run;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Runs the binary with `args` against `endpoint` and returns the run and its wall time.
/// `guard` fails the test instead of hanging it.
pub async fn timed(
    endpoint: Option<&str>,
    args: &[&str],
    env: &[(&str, &str)],
    guard: Duration,
) -> (Run, Duration) {
    let mut command = crate::support::command(endpoint, args);
    for (key, value) in env {
        if value.is_empty() {
            command.env_remove(key);
        } else {
            command.env(key, value);
        }
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = Instant::now();
    let child = command.spawn().expect("the binary runs");
    let output = tokio::time::timeout(guard, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("sc-assoc {args:?} did not end within {guard:?}"))
        .expect("the binary runs");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    (run, started.elapsed())
}

/// No SDK `Debug` structure reaches the user at default verbosity.
pub fn assert_no_debug_dump(run: &Run) {
    for marker in [
        "DispatchFailure(",
        "ConnectorError",
        "SdkBody",
        "ProviderError(",
        "raw: Response",
        "Request {",
    ] {
        assert!(
            !run.stderr.contains(marker) && !run.stdout.contains(marker),
            "`{marker}` printed:\n{run:?}"
        );
    }
}
