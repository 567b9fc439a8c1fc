//! The plan says what apply will do: an id the catalog does not have is an error at the
//! manifest location that names it, before any write, at a few extra read calls.

use crate::support::{SMALL_SEED, sc_assoc, start_catalog, write_file};

#[tokio::test]
async fn unknown_ids_are_errors_at_their_location_and_nothing_is_written() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "m.yaml",
        "version: 1
associations:
  - product: prod-web
    artifact: pa-web-v2
    action: act-nosuchaction
  - product: prod-web
    artifact: pa-db-v1
    action: act-patch
  - product: prod-web
    artifact: pa-nosuch
    action: act-patch
  - product: prod-db
    artifact: pa-db-v1
    action: act-patch
",
    );
    let path = path.to_str().unwrap();
    for command in ["plan", "apply"] {
        let mut args = vec![command, path];
        if command == "plan" {
            // Without the check the plan would promise `+ …/act-nosuchaction` and exit 2.
            args.push("--detailed-exitcode");
        }
        let run = sc_assoc(Some(&catalog.endpoint()), &args).await;
        assert_eq!(run.code, 1, "{command}: {run:?}");
        assert!(
            run.stderr.contains(&format!(
                "{path}:5:13: error: service action `act-nosuchaction` does not exist"
            )),
            "{run:?}"
        );
        assert!(
            run.stderr.contains(&format!(
                "{path}:7:15: error: product `prod-web` has no provisioning artifact `pa-db-v1`"
            )),
            "an artifact of another product: {run:?}"
        );
        assert!(
            run.stderr.contains(&format!(
                "{path}:10:15: error: product `prod-web` has no provisioning artifact `pa-nosuch`"
            )),
            "{run:?}"
        );
        assert!(run.stderr.contains("nothing was applied"), "{run:?}");
        assert!(!run.stdout.contains("+ "), "no plan is shown: {run:?}");
        assert_eq!(catalog.stats().write_calls(), 0);
    }
}

/// Many artifacts sharing few actions are read per action, which proves nothing about the
/// artifacts: one ListProvisioningArtifacts per product does.
#[tokio::test]
async fn unknown_artifacts_are_found_when_state_is_read_per_action() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "m.yaml",
        "version: 1
associations:
  - product: prod-web
    artifacts: [pa-web-v1, pa-web-v2, pa-web-v9]
    actions: [act-patch]
  - product: prod-nosuch
    artifacts: [pa-1, pa-2]
    actions: [act-patch]
",
    );
    let run = sc_assoc(
        Some(&catalog.endpoint()),
        &["plan", path.to_str().unwrap(), "--output", "json"],
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    let document = run.json();
    let messages: Vec<&str> = document["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["message"].as_str())
        .collect();
    assert!(
        messages.contains(&"product `prod-web` has no provisioning artifact `pa-web-v9`"),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"no product `prod-nosuch`"),
        "{messages:?}"
    );
    let stats = catalog.stats();
    assert_eq!(
        stats
            .calls
            .get("ListProvisioningArtifactsForServiceAction")
            .copied(),
        Some(1),
        "read per action: {:?}",
        stats.calls
    );
}
