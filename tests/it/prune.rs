//! `--prune`: associations the manifest does not declare are removed, but only on the artifacts
//! the manifest names or selects. Everything else in the account is out of its reach.

use crate::support::{client, sc_assoc, start_catalog, write_file};
use sc_assoc::apply::Status;
use sc_assoc::progress::NoProgress;
use sc_assoc::run::{Target, execute, prepare_target};
use sc_assoc::settings::{Settings, Strategy, Verify};
use sc_assoc::triple::Triple;
use std::collections::BTreeSet;

/// Web Server v1 carries Restart (declared) and Backup and Stop (not declared); v2, which the
/// manifest never mentions, carries Backup; so does the Database.
const SEED: &str = r#"
products:
  - id: prod-web
    name: Web Server
    artifacts:
      - {id: pa-web-v1, name: v1}
      - {id: pa-web-v2, name: v2}
  - id: prod-db
    name: Database
    artifacts:
      - {id: pa-db-v1, name: v1}
actions:
  - {id: act-restart, name: Restart}
  - {id: act-patch, name: Patch}
  - {id: act-backup, name: Backup}
  - {id: act-stop, name: Stop}
associations:
  - {product: prod-web, artifact: pa-web-v1, action: act-restart}
  - {product: prod-web, artifact: pa-web-v1, action: act-backup}
  - {product: prod-web, artifact: pa-web-v1, action: act-stop}
  - {product: prod-web, artifact: pa-web-v2, action: act-backup}
  - {product: prod-db, artifact: pa-db-v1, action: act-backup}
"#;

const MANIFEST: &str = "version: 1\nassociations:\n  - product: prod-web\n    artifact: pa-web-v1\n    \
                        actions: [act-restart, act-patch]\n";

fn t(product: &str, artifact: &str, action: &str) -> Triple {
    Triple::new(product, artifact, action)
}

fn calls(catalog: &sc_assoc::local::LocalCatalog, operation: &str) -> u64 {
    catalog.stats().calls.get(operation).copied().unwrap_or(0)
}

/// What the catalog holds outside the manifest's one artifact, which prune must leave alone.
fn outside_scope() -> [Triple; 2] {
    [
        t("prod-web", "pa-web-v2", "act-backup"),
        t("prod-db", "pa-db-v1", "act-backup"),
    ]
}

#[tokio::test]
async fn the_plan_shows_removals_as_minus_lines_only_with_prune() {
    let catalog = start_catalog(SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", MANIFEST);
    let path = manifest.to_str().unwrap();
    let endpoint = catalog.endpoint();

    let pruning = sc_assoc(
        Some(&endpoint),
        &["plan", path, "--prune", "--detailed-exitcode"],
    )
    .await;
    assert_eq!(pruning.code, 2, "{pruning:?}");
    assert_eq!(
        pruning.stdout,
        "sc-assoc will associate (+) and disassociate (-) these service actions:\n\n\
         \x20 prod-web\n\
         \x20   pa-web-v1\n\
         \x20     - act-backup\n\
         \x20     + act-patch\n\
         \x20     - act-stop\n\
         \n\
         Plan: 1 to add, 2 to remove, 1 already present.\n"
    );
    let json = sc_assoc(
        Some(&endpoint),
        &["plan", path, "--prune", "--output", "json"],
    )
    .await;
    assert_eq!(
        json.json()["to_remove"],
        serde_json::json!([
            {"product": "prod-web", "artifact": "pa-web-v1", "action": "act-backup"},
            {"product": "prod-web", "artifact": "pa-web-v1", "action": "act-stop"}
        ])
    );
    assert_eq!(json.json()["summary"]["to_remove"], 2);

    let plain = sc_assoc(Some(&endpoint), &["plan", path]).await;
    assert_eq!(
        plain.stdout,
        "sc-assoc will associate these service actions:\n\n\
         \x20 prod-web\n\
         \x20   pa-web-v1\n\
         \x20     + act-patch\n\
         \n\
         Plan: 1 to add, 1 already present.\n"
    );
}

#[tokio::test]
async fn prune_never_touches_an_artifact_the_manifest_does_not_name() {
    let catalog = start_catalog(SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", MANIFEST);
    let path = manifest.to_str().unwrap();
    let endpoint = catalog.endpoint();

    let run = sc_assoc(
        Some(&endpoint),
        &["apply", path, "--prune", "--yes", "--output", "json"],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let summary = &run.json()["summary"];
    assert_eq!(
        (summary["removed"].as_u64(), summary["created"].as_u64()),
        (Some(2), Some(1))
    );

    let state: BTreeSet<Triple> = catalog.associations().into_iter().collect();
    let expected: BTreeSet<Triple> = [
        t("prod-web", "pa-web-v1", "act-restart"),
        t("prod-web", "pa-web-v1", "act-patch"),
    ]
    .into_iter()
    .chain(outside_scope())
    .collect();
    assert_eq!(state, expected);
    // Nothing outside the scope was even read: prune lists per artifact, in scope only.
    assert_eq!(
        calls(&catalog, "ListProvisioningArtifactsForServiceAction"),
        0
    );

    let again = sc_assoc(
        Some(&endpoint),
        &["plan", path, "--prune", "--detailed-exitcode"],
    )
    .await;
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(
        again.stdout,
        "No changes. 2 association(s) already present.\n"
    );
}

#[tokio::test]
async fn a_selector_puts_every_selected_artifact_in_scope_and_no_other_product() {
    let catalog = start_catalog(SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nassociations:\n  - product: {name: Web Server}\n    artifacts: all\n    \
         action: act-restart\n",
    );
    let run = sc_assoc(
        Some(&catalog.endpoint()),
        &[
            "apply",
            manifest.to_str().unwrap(),
            "--prune",
            "--yes",
            "-q",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let state: BTreeSet<Triple> = catalog.associations().into_iter().collect();
    assert_eq!(
        state,
        BTreeSet::from([
            t("prod-web", "pa-web-v1", "act-restart"),
            t("prod-web", "pa-web-v2", "act-restart"),
            t("prod-db", "pa-db-v1", "act-backup"),
        ])
    );
}

#[tokio::test]
async fn batch_mode_prunes_with_batch_disassociate() {
    let catalog = start_catalog(SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", MANIFEST);
    let run = sc_assoc(
        Some(&catalog.endpoint()),
        &[
            "apply",
            manifest.to_str().unwrap(),
            "--prune",
            "--yes",
            "--strategy",
            "batch",
            "--output",
            "json",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["summary"]["removed"], 2);
    assert_eq!(
        calls(
            &catalog,
            "BatchDisassociateServiceActionFromProvisioningArtifact"
        ),
        1
    );
    assert_eq!(
        calls(
            &catalog,
            "DisassociateServiceActionFromProvisioningArtifact"
        ),
        0
    );
    assert!(
        !catalog
            .associations()
            .contains(&t("prod-web", "pa-web-v1", "act-stop"))
    );
}

#[tokio::test]
async fn an_association_removed_by_someone_else_before_the_write_counts_as_already_absent() {
    for strategy in [Strategy::Single, Strategy::Batch] {
        let catalog = start_catalog(SEED).await;
        let sdk = client(&catalog).await;
        let target = Target {
            desired: BTreeSet::from([t("prod-web", "pa-web-v1", "act-restart")]),
            prune: Some(BTreeSet::from([(
                "prod-web".to_string(),
                "pa-web-v1".to_string(),
            )])),
        };
        let prepared = prepare_target(&sdk, &target, 4, &NoProgress).await.unwrap();
        let raced = t("prod-web", "pa-web-v1", "act-stop");
        assert!(prepared.plan.to_remove.contains(&raced));
        assert!(catalog.remove_association_out_of_band(&raced));
        let options = Settings {
            strategy,
            verify: Verify::Off,
            ..Settings::default()
        };
        let report = execute(&sdk, &prepared, &options, &NoProgress).await;
        assert!(report.converged(), "{strategy:?}: {report:?}");
        let outcome = report.outcomes.iter().find(|o| o.triple == raced).unwrap();
        assert_eq!(outcome.status, Status::AlreadyAbsent, "{strategy:?}");
        assert_eq!(
            (report.summary.removed, report.summary.already_absent),
            (1, 1)
        );
    }
}

#[tokio::test]
async fn verification_heals_a_removal_hidden_by_a_replayed_disassociate_token() {
    // AWS replays a token's first answer: after an out-of-band re-association, a second prune
    // sends the first run's Disassociate token, hears "success", and removes nothing.
    let catalog = start_catalog(SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", MANIFEST);
    let path = manifest.to_str().unwrap();
    let endpoint = catalog.endpoint();
    let first = sc_assoc(Some(&endpoint), &["apply", path, "--prune", "--yes", "-q"]).await;
    assert_eq!(first.code, 0, "{first:?}");
    let back = t("prod-web", "pa-web-v1", "act-stop");
    catalog.insert_association_out_of_band(&back);

    let unverified = sc_assoc(
        Some(&endpoint),
        &[
            "apply",
            path,
            "--prune",
            "--yes",
            "--no-verify",
            "--output",
            "json",
        ],
    )
    .await;
    assert_eq!(unverified.json()["summary"]["removed"], 1, "{unverified:?}");
    assert!(
        catalog.associations().contains(&back),
        "the replayed token removed nothing"
    );

    let verified = sc_assoc(
        Some(&endpoint),
        &["apply", path, "--prune", "--yes", "--output", "json"],
    )
    .await;
    assert_eq!(verified.code, 0, "{verified:?}");
    assert_eq!(verified.json()["summary"]["healed"], 1, "{verified:?}");
    assert!(!catalog.associations().contains(&back));
}
