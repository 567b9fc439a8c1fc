//! The real binary against the local catalog over HTTP: what a pipeline sees (exit codes,
//! stdout, stderr) when it plans and applies manifests.

use crate::support::{SMALL_SEED, sc_assoc, start_catalog, write_file};
use serde_json::json;

const MANIFEST: &str = r#"version: 1
associations:
  - product: prod-web
    artifacts: [pa-web-v1, pa-web-v2]
    actions: [act-restart, act-patch]
  - product: prod-db
    artifact: pa-db-v1
    action: act-backup
"#;

#[tokio::test]
async fn apply_converges_and_a_second_run_makes_no_write_calls() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", MANIFEST);
    let path = manifest.to_str().unwrap();
    let endpoint = catalog.endpoint();

    let first = sc_assoc(Some(&endpoint), &["apply", path, "--output", "json"]).await;
    assert_eq!(first.code, 0, "{first:?}");
    let report = first.json();
    assert_eq!(
        report["summary"],
        json!({"desired": 5, "created": 4, "already_present": 1, "adopted": 0, "healed": 0, "removed": 0, "already_absent": 0, "failed": 0, "not_attempted": 0, "unknown": 0, "not_visible": 0})
    );
    assert_eq!(catalog.associations().len(), 5);

    catalog.reset_stats();
    let second = sc_assoc(Some(&endpoint), &["apply", path, "--output", "json"]).await;
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(second.json()["summary"]["already_present"], 5);
    assert_eq!(second.json()["calls"]["writes"], 0);
    let stats = catalog.stats();
    assert_eq!(
        stats.write_calls(),
        0,
        "the catalog saw write calls: {:?}",
        stats.calls
    );
}

#[tokio::test]
async fn plan_detailed_exitcode_is_2_before_apply_and_0_after() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", MANIFEST);
    let path = manifest.to_str().unwrap();
    let endpoint = catalog.endpoint();

    let before = sc_assoc(Some(&endpoint), &["plan", path, "--detailed-exitcode"]).await;
    assert_eq!(before.code, 2, "{before:?}");
    assert_eq!(
        before.stdout,
        "sc-assoc will associate these service actions:\n\n\
         \x20 prod-db\n\
         \x20   pa-db-v1\n\
         \x20     + act-backup\n\
         \x20 prod-web\n\
         \x20   pa-web-v1\n\
         \x20     + act-patch\n\
         \x20   pa-web-v2\n\
         \x20     + act-patch\n\
         \x20     + act-restart\n\
         \n\
         Plan: 4 to add, 1 already present.\n"
    );
    let plain = sc_assoc(Some(&endpoint), &["plan", path]).await;
    assert_eq!(plain.code, 0, "without the flag, changes are not an error");

    let applied = sc_assoc(Some(&endpoint), &["apply", path, "-q"]).await;
    assert_eq!(applied.code, 0, "{applied:?}");
    let after = sc_assoc(Some(&endpoint), &["plan", path, "--detailed-exitcode"]).await;
    assert_eq!(after.code, 0, "{after:?}");
    assert_eq!(
        after.stdout,
        "No changes. 5 association(s) already present.\n"
    );
}

#[tokio::test]
async fn plan_json_is_stable() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", MANIFEST);
    let run = sc_assoc(
        Some(&catalog.endpoint()),
        &["plan", manifest.to_str().unwrap(), "--output", "json"],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.json(),
        json!({
            "direction": {"direction": "by_artifact", "by_artifact_calls": 3, "by_action_calls": 3},
            "to_add": [
                {"product": "prod-db", "artifact": "pa-db-v1", "action": "act-backup"},
                {"product": "prod-web", "artifact": "pa-web-v1", "action": "act-patch"},
                {"product": "prod-web", "artifact": "pa-web-v2", "action": "act-patch"},
                {"product": "prod-web", "artifact": "pa-web-v2", "action": "act-restart"}
            ],
            "to_remove": [],
            "already_present": [
                {"product": "prod-web", "artifact": "pa-web-v1", "action": "act-restart"}
            ],
            "unreadable": [],
            "quota_violations": [],
            "summary": {"in_sync": false, "desired": 5, "to_add": 4, "to_remove": 0, "already_present": 1, "unreadable": 0},
            "format_version": 1
        })
    );
}

/// Ids the catalog does not have are found while planning (issue 9: the plan says what apply
/// will do), so apply stops before any write instead of failing those triples one by one.
#[tokio::test]
async fn unknown_ids_stop_apply_before_any_write_each_named_at_its_place() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        r#"version: 1
associations:
  - {product: prod-web, artifact: pa-web-v2, action: act-patch}
  - {product: prod-web, artifact: pa-missing, action: act-patch}
  - {product: prod-db, artifact: pa-web-v1, action: act-stop}
  - {product: prod-db, artifact: pa-db-v2, action: act-nope}
  - {product: prod-db, artifact: pa-db-v2, action: act-stop}
"#,
    );
    let path = manifest.to_str().unwrap();
    let run = sc_assoc(Some(&catalog.endpoint()), &["apply", path]).await;
    assert_eq!(run.code, 1, "{run:?}");
    for (line, column, message) in [
        // Each id at its own place: the artifact where the artifact is written.
        (
            4,
            35,
            "product `prod-web` has no provisioning artifact `pa-missing`",
        ),
        (
            5,
            34,
            "product `prod-db` has no provisioning artifact `pa-web-v1`",
        ),
        (6, 52, "service action `act-nope` does not exist"),
    ] {
        let expected = format!("{path}:{line}:{column}: error: {message}");
        assert!(run.stderr.contains(&expected), "{expected}\n{run:?}");
    }
    assert_eq!(catalog.stats().write_calls(), 0, "nothing was written");
}

#[tokio::test]
async fn an_invalid_manifest_exits_non_zero_and_makes_no_calls() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(
        dir.path(),
        "bad.yaml",
        "version: 1\nassociations:\n  - {product: prod-web, artifact: pa-web-v2, action: act-patch}\n  - {product: prod-web, artifact: 'pa web', action: act-patch}\n",
    );
    for command in ["plan", "apply"] {
        let run = sc_assoc(
            Some(&catalog.endpoint()),
            &[command, manifest.to_str().unwrap()],
        )
        .await;
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains("bad.yaml:4:"), "{run:?}");
        assert!(run.stderr.contains("nothing was applied"), "{run:?}");
    }
    assert_eq!(catalog.stats().total_calls, 0);
    assert!(catalog.associations().len() == 1);
}

#[tokio::test]
async fn the_same_triple_sends_the_same_token_on_every_run() {
    // Observed through AWS's replay rule: after an out-of-band removal, a re-run's Associate
    // carries the token of the first run, so the catalog replays the old success.
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nassociations:\n  - {product: prod-db, artifact: pa-db-v1, action: act-stop}\n",
    );
    let path = manifest.to_str().unwrap();
    let first = sc_assoc(Some(&catalog.endpoint()), &["apply", path, "-q"]).await;
    assert_eq!(first.code, 0, "{first:?}");
    let triple = sc_assoc::triple::Triple::new("prod-db", "pa-db-v1", "act-stop");
    assert!(catalog.remove_association_out_of_band(&triple));
    let second = sc_assoc(
        Some(&catalog.endpoint()),
        &["apply", path, "--output", "json", "--no-verify"],
    )
    .await;
    assert_eq!(second.json()["summary"]["created"], 1, "{second:?}");
    assert!(
        !catalog.associations().contains(&triple),
        "a replayed token must not associate again"
    );
}

#[tokio::test]
async fn verification_heals_an_association_hidden_by_a_replayed_token() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nassociations:\n  - {product: prod-db, artifact: pa-db-v1, action: act-stop}\n  - {product: prod-db, artifact: pa-db-v2, action: act-stop}\n",
    );
    let path = manifest.to_str().unwrap();
    let first = sc_assoc(Some(&catalog.endpoint()), &["apply", path, "-q"]).await;
    assert_eq!(first.code, 0, "{first:?}");
    let removed = sc_assoc::triple::Triple::new("prod-db", "pa-db-v1", "act-stop");
    assert!(catalog.remove_association_out_of_band(&removed));

    let second = sc_assoc(
        Some(&catalog.endpoint()),
        &["apply", path, "--output", "json"],
    )
    .await;
    assert_eq!(second.code, 0, "{second:?}");
    let report = second.json();
    assert_eq!(report["summary"]["healed"], 1, "{second:?}");
    assert_eq!(report["summary"]["already_present"], 1);
    assert!(catalog.associations().contains(&removed));
    assert!(
        second.stderr.contains("re-applied with fresh tokens"),
        "{second:?}"
    );
}

#[tokio::test]
async fn validate_reports_the_declared_count_offline() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", MANIFEST);
    let run = sc_assoc(None, &["validate", manifest.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "5 association(s) declared in 1 file(s): valid.\n"
    );
}

#[tokio::test]
async fn missing_credentials_fail_first_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", MANIFEST);
    let run = crate::support::sc_assoc_env(
        Some("http://127.0.0.1:9"),
        &["plan", manifest.to_str().unwrap()],
        &[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "")],
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .starts_with("error: cannot set up the AWS client"),
        "{run:?}"
    );
    assert!(run.stderr.contains("hint: log in"), "{run:?}");
}

#[tokio::test]
async fn no_secret_session_token_or_signature_appears_at_any_verbosity() {
    use crate::support::{SECRET_KEY, SESSION_TOKEN, sc_assoc_env};
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nassociations:\n  - {product: prod-db, artifact: pa-db-v1, action: act-stop}\n  - {product: prod-db, artifact: pa-nope, action: act-stop}\n",
    );
    let path = manifest.to_str().unwrap();
    let mut outputs = Vec::new();
    for verbosity in ["-v", "-vv"] {
        for command in ["plan", "apply"] {
            outputs.push(
                sc_assoc_env(
                    Some(&catalog.endpoint()),
                    &[command, path, verbosity],
                    &[("AWS_SESSION_TOKEN", SESSION_TOKEN)],
                )
                .await,
            );
        }
    }
    assert!(
        outputs.iter().any(|run| run.stderr.contains("DEBUG")),
        "-vv logs at debug"
    );
    for run in &outputs {
        for secret in [
            SECRET_KEY,
            SESSION_TOKEN,
            "Signature=",
            "x-amz-security-token",
        ] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "`{secret}` leaked:\n{run:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_json_report_is_stable() {
    // The catalog allows one action per artifact, below the 25 sc-assoc checks for, so the
    // plan passes and the second write on pa-web-v2 fails with AWS's LimitExceededException.
    let catalog = crate::support::start_config(sc_assoc::local::CatalogConfig {
        max_actions_per_artifact: 1,
        ..sc_assoc::local::CatalogConfig::new(
            sc_assoc::local::Seed::from_yaml_str(SMALL_SEED).unwrap(),
        )
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nassociations:\n  - {product: prod-web, artifacts: [pa-web-v1, pa-web-v2], action: act-restart}\n  - {product: prod-web, artifact: pa-web-v2, action: act-patch}\n",
    );
    let run = sc_assoc(
        Some(&catalog.endpoint()),
        &[
            "apply",
            manifest.to_str().unwrap(),
            "--output",
            "json",
            // One call at a time: act-patch (sorted first) takes the artifact's only slot.
            "--concurrency",
            "1",
        ],
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    let mut report = run.json();
    // Timings and request ids differ run to run; everything else is fixed by the inputs.
    for timing in ["read_ms", "apply_ms", "verify_ms"] {
        report["timings"][timing] = json!(0);
    }
    report["settle"]["waited_ms"] = json!(0);
    for outcome in report["outcomes"].as_array_mut().unwrap() {
        if let Some(error) = outcome.get_mut("error") {
            error["request_id"] = json!("<request id>");
        }
    }
    assert_eq!(
        report,
        json!({
            "format_version": 1,
            "direction": {"direction": "by_artifact", "by_artifact_calls": 2, "by_action_calls": 2},
            "summary": {"desired": 3, "created": 1, "already_present": 1, "adopted": 0, "healed": 0,
                        "removed": 0, "already_absent": 0, "failed": 1, "not_attempted": 0, "unknown": 0,
                        "not_visible": 0},
            "outcomes": [
                {"product": "prod-web", "artifact": "pa-web-v1", "action": "act-restart", "status": "already_present"},
                {"product": "prod-web", "artifact": "pa-web-v2", "action": "act-patch", "status": "created",
                 "confirmed_by": "listing"},
                {"product": "prod-web", "artifact": "pa-web-v2", "action": "act-restart", "status": "failed",
                 "error": {"kind": "limit_exceeded",
                           "operation": "AssociateServiceActionWithProvisioningArtifact",
                           "code": "LimitExceededException",
                           "message": run_limit_message(&run),
                           "request_id": "<request id>"}}
            ],
            // One read per artifact to plan, one ListServiceActions to prove the actions, one
            // read of the created triple's artifact to verify.
            "calls": {"reads": 4, "writes": 2, "by_operation": {
                "AssociateServiceActionWithProvisioningArtifact": 2,
                "ListServiceActions": 1,
                "ListServiceActionsForProvisioningArtifact": 3
            }, "wire": {"attempts": 6, "retries": 0, "throttled": 0, "server_errors": 0,
                        "timeouts": 0, "transport_errors": 0}},
            "timings": {"read_ms": 0, "apply_ms": 0, "verify_ms": 0},
            "settle": {"window_ms": 60000, "waited_ms": 0, "rounds": 0, "reads": 1, "probes": 0,
                       "complete": true}
        })
    );
}

/// The catalog's own wording of the quota error, whatever it is.
fn run_limit_message(run: &crate::support::Run) -> String {
    run.json()["outcomes"][2]["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn the_demo_plans_applies_and_converges_with_no_aws_account() {
    // No endpoint, no credentials: the demo must never reach for a real account.
    let run = crate::support::sc_assoc_env(
        None,
        &["demo", "--latency-ms", "1"],
        &[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "")],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("Plan: 129 to add, 9 already present."),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("Apply: 129 created, 9 already present, 0 adopted, 0 failed"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("No changes. 138 association(s) already present."),
        "{run:?}"
    );
}
