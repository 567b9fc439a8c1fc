//! Saved plans, as a pipeline uses them: `plan --out plan.json` on the merge request, `show`
//! for the review, `apply plan.json` after approval. Applying makes exactly the planned writes;
//! a plan whose scope moved since, or whose file was damaged, edited, or is not a plan of this
//! version, is refused before any write; a plan made in one account is never applied in another.

use crate::support::{
    Run, SMALL_SEED, accounts_catalog, sc_assoc, sc_assoc_env, start_catalog, write_file,
};
use sc_assoc::local::LocalCatalog;
use sc_assoc::triple::Triple;

const BY_NAMES: &str = "version: 1
associations:
  - product: {name: Web Server}
    artifacts: all
    actions: [{name: Restart}, {name: Patch}]
";

struct Planned {
    _dir: tempfile::TempDir,
    manifest: String,
    plan: String,
}

/// Writes the manifest, runs `plan --out`, and returns where both are.
async fn plan_to_file(catalog: &LocalCatalog, manifest: &str, extra: &[&str]) -> (Planned, Run) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_file(dir.path(), "web.yaml", manifest);
    let plan = dir.path().join("plan.json");
    let (manifest, plan) = (
        path.to_str().expect("utf-8").to_string(),
        plan.to_str().expect("utf-8").to_string(),
    );
    let mut args = vec!["plan", manifest.as_str(), "--out", plan.as_str()];
    args.extend(extra);
    let run = sc_assoc(Some(&catalog.endpoint()), &args).await;
    (
        Planned {
            _dir: dir,
            manifest,
            plan,
        },
        run,
    )
}

#[tokio::test]
async fn apply_of_a_saved_plan_makes_exactly_the_planned_writes_once() {
    let catalog = start_catalog(SMALL_SEED).await;
    let (planned, run) = plan_to_file(&catalog, BY_NAMES, &[]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("Saved the plan to"), "{run:?}");

    let show = sc_assoc(None, &["show", &planned.plan]).await;
    assert_eq!(show.code, 0, "{show:?}");
    assert!(
        show.stdout.contains(
            "  Web Server (prod-web)\n    v1 (pa-web-v1)\n      + Patch (act-patch)\n    v2 (pa-web-v2)\n      + Patch (act-patch)\n      + Restart (act-restart)\n"
        ),
        "the plan's tree, names beside the ids: {show:?}"
    );
    assert!(
        show.stdout.contains("Plan: 3 to add, 0 to remove."),
        "{show:?}"
    );
    let json = sc_assoc(None, &["show", &planned.plan, "--output", "json"]).await;
    assert!(
        json.stdout.contains("\"declared_at\": \""),
        "where each was declared: {json:?}"
    );

    catalog.reset_stats();
    let apply = sc_assoc(Some(&catalog.endpoint()), &["apply", &planned.plan]).await;
    assert_eq!(apply.code, 0, "{apply:?}");
    let stats = catalog.stats();
    assert_eq!(
        stats.write_calls(),
        3,
        "one write per planned change: {stats:?}"
    );
    let mut expected = vec![
        Triple::new("prod-web", "pa-web-v1", "act-patch"),
        Triple::new("prod-web", "pa-web-v1", "act-restart"),
        Triple::new("prod-web", "pa-web-v2", "act-patch"),
        Triple::new("prod-web", "pa-web-v2", "act-restart"),
    ];
    expected.sort();
    assert_eq!(catalog.associations(), expected);
    // No resolution or planning at apply: only the scope re-read, the writes and verification.
    for listing in [
        "SearchProductsAsAdmin",
        "ListServiceActions",
        "ListProvisioningArtifacts",
    ] {
        assert_eq!(
            stats.calls.get(listing).copied().unwrap_or(0),
            0,
            "{stats:?}"
        );
    }

    // The plan is in place now: applying it again is refused, and says why.
    catalog.reset_stats();
    let again = sc_assoc(Some(&catalog.endpoint()), &["apply", &planned.plan]).await;
    assert_eq!(again.code, 1, "{again:?}");
    assert!(
        again.stderr.contains("has already been applied"),
        "{again:?}"
    );
    assert_eq!(catalog.stats().write_calls(), 0);
    catalog.shutdown().await;
}

#[tokio::test]
async fn a_change_in_the_planned_scope_since_the_plan_is_refused_naming_it_and_nothing_is_written()
{
    let catalog = start_catalog(SMALL_SEED).await;
    let (planned, run) = plan_to_file(&catalog, BY_NAMES, &[]).await;
    assert_eq!(run.code, 0, "{run:?}");
    // Someone adds an action to a planned artifact in the console meanwhile.
    let meanwhile = Triple::new("prod-web", "pa-web-v2", "act-stop");
    catalog.insert_association_out_of_band(&meanwhile);
    catalog.reset_stats();

    let apply = sc_assoc(Some(&catalog.endpoint()), &["apply", &planned.plan]).await;
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(
        apply.stderr.contains(
            "the planned scope changed since the plan was made; associated since the plan: prod-web / pa-web-v2 / act-stop"
        ),
        "{apply:?}"
    );
    assert!(apply.stderr.contains("nothing was written"), "{apply:?}");
    assert_eq!(catalog.stats().write_calls(), 0);
    // With JSON, the refusal is one document a pipeline can parse.
    let json = sc_assoc(
        Some(&catalog.endpoint()),
        &["apply", &planned.plan, "--output", "json"],
    )
    .await;
    assert_eq!(json.code, 1, "{json:?}");
    let document = json.json();
    assert_eq!(document["targets"][0]["status"], "refused", "{document:#}");
    assert!(
        document["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("nothing was written")),
        "{document:#}"
    );

    // A removal out of band is drift too.
    let (planned, run) = plan_to_file(&catalog, BY_NAMES, &[]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(catalog.remove_association_out_of_band(&meanwhile));
    let apply = sc_assoc(Some(&catalog.endpoint()), &["apply", &planned.plan]).await;
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(apply.stderr.contains("removed since the plan"), "{apply:?}");

    // A change outside the planned scope (another product) does not matter.
    let (planned, run) = plan_to_file(&catalog, BY_NAMES, &[]).await;
    assert_eq!(run.code, 0, "{run:?}");
    catalog.insert_association_out_of_band(&Triple::new("prod-db", "pa-db-v1", "act-stop"));
    let apply = sc_assoc(Some(&catalog.endpoint()), &["apply", &planned.plan]).await;
    assert_eq!(apply.code, 0, "{apply:?}");
    catalog.shutdown().await;
}

#[tokio::test]
async fn corrupt_truncated_edited_and_foreign_plan_files_are_refused_before_any_call() {
    let catalog = start_catalog(SMALL_SEED).await;
    let (planned, run) = plan_to_file(&catalog, BY_NAMES, &[]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let text = std::fs::read_to_string(&planned.plan).expect("written");
    let cases = [
        (
            "truncated",
            text[..text.len() / 2].to_string(),
            "truncated or corrupt",
        ),
        (
            "edited",
            text.replacen("act-restart", "act-backup", 1),
            "was changed after sc-assoc wrote it",
        ),
        (
            "foreign",
            text.replace("\"sc-assoc plan\"", "\"terraform plan\""),
            "is not an sc-assoc plan file",
        ),
        (
            "newer",
            text.replace("\"format_version\": 1", "\"format_version\": 9"),
            "format version 9",
        ),
    ];
    for (what, bad, message) in cases {
        std::fs::write(&planned.plan, &bad).expect("written");
        catalog.reset_stats();
        let apply = sc_assoc(Some(&catalog.endpoint()), &["apply", &planned.plan]).await;
        assert_eq!(apply.code, 1, "{what}: {apply:?}");
        assert!(apply.stderr.contains(message), "{what}: {apply:?}");
        assert!(
            apply.stderr.contains("nothing was written"),
            "{what}: {apply:?}"
        );
        assert_eq!(catalog.stats().total_calls, 0, "{what}: no call at all");
        let show = sc_assoc(None, &["show", &planned.plan]).await;
        assert_eq!(show.code, 1, "{what}: {show:?}");
    }
    // The manifest itself is still a manifest, not taken for a plan.
    let apply = sc_assoc(Some(&catalog.endpoint()), &["apply", &planned.manifest]).await;
    assert_eq!(apply.code, 0, "{apply:?}");
    catalog.shutdown().await;
}

#[tokio::test]
async fn show_as_json_has_a_summary_per_target_for_drift_monitors() {
    let catalog = start_catalog(SMALL_SEED).await;
    let (planned, run) = plan_to_file(&catalog, BY_NAMES, &[]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let show = sc_assoc(None, &["show", &planned.plan, "--output", "json"]).await;
    assert_eq!(show.code, 0, "{show:?}");
    let document = show.json();
    let target = &document["targets"][0];
    assert_eq!(
        target["target"], "111111111111/us-east-1",
        "account and region pinned"
    );
    assert_eq!(target["summary"]["to_add"], 3, "{document:#}");
    assert_eq!(target["summary"]["in_sync"], false, "{document:#}");
    assert_eq!(target["changes"][0]["names"]["product"], "Web Server");
    catalog.shutdown().await;
}

async fn with_keys(catalog: &LocalCatalog, key: &str, args: &[&str]) -> Run {
    let env = [
        ("AWS_ACCESS_KEY_ID", key),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ];
    sc_assoc_env(Some(&catalog.endpoint()), args, &env).await
}

#[tokio::test]
async fn a_plan_made_in_one_account_is_not_applied_with_another_accounts_credentials() {
    let catalog = accounts_catalog().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = write_file(
        dir.path(),
        "hub.yaml",
        "version: 1\nassociations:\n  - product: {name: Web Server}\n    artifacts: all\n    action: {name: Restart}\n",
    );
    let plan = dir.path().join("plan.json");
    let (manifest, plan) = (manifest.to_str().unwrap(), plan.to_str().unwrap());
    // The hub's eu-west-1 has one thing to add.
    let made = with_keys(
        &catalog,
        "AKIDHUB",
        &["plan", manifest, "--out", plan, "--region", "eu-west-1"],
    )
    .await;
    assert_eq!(made.code, 0, "{made:?}");
    let show = sc_assoc(None, &["show", plan]).await;
    assert!(
        show.stdout.contains("== 111111111111/eu-west-1 =="),
        "{show:?}"
    );

    let elsewhere = with_keys(&catalog, "AKIDSPOKEB", &["apply", plan]).await;
    assert_eq!(elsewhere.code, 1, "{elsewhere:?}");
    assert!(
        elsewhere.stderr.contains(
            "the plan is for account 111111111111, but the credentials belong to account 333333333333"
        ),
        "{elsewhere:?}"
    );
    let hub = with_keys(&catalog, "AKIDHUB", &["apply", plan]).await;
    assert_eq!(hub.code, 0, "{hub:?}");
    assert_eq!(
        catalog
            .associations_in("111111111111", "eu-west-1")
            .map(|a| a.len()),
        Some(1)
    );
    catalog.shutdown().await;
}

#[tokio::test]
async fn a_plan_over_targets_round_trips_and_is_not_written_when_a_target_fails() {
    let catalog = accounts_catalog().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let fleet = "version: 1
targets:
  - accounts: [\"222222222222\"]
    regions: [us-east-1]
    role: arn:aws:iam::{account}:role/ServiceCatalogAdmin
  - accounts: [\"333333333333\"]
    regions: [eu-west-1]
    role: arn:aws:iam::{account}:role/ServiceCatalogAdmin
    external_id: hub-7f3a
associations:
  - product: {name: Web Server}
    artifacts: all
    action: {name: Restart}
";
    let manifest = write_file(dir.path(), "fleet.yaml", fleet);
    let plan = dir.path().join("plan.json");
    let (manifest_path, plan_path) = (manifest.to_str().unwrap(), plan.to_str().unwrap());
    let made = with_keys(
        &catalog,
        "AKIDHUB",
        &["plan", manifest_path, "--out", plan_path],
    )
    .await;
    assert_eq!(made.code, 0, "{made:?}");
    let show = sc_assoc(None, &["show", plan_path, "--output", "json"]).await;
    assert!(
        !show.stdout.contains("hub-7f3a"),
        "show never prints the external id: {show:?}"
    );
    let applied = with_keys(&catalog, "AKIDHUB", &["apply", plan_path]).await;
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(
        catalog
            .associations_in("222222222222", "us-east-1")
            .map(|a| a.len()),
        Some(2)
    );
    assert_eq!(
        catalog
            .associations_in("333333333333", "eu-west-1")
            .map(|a| a.len()),
        Some(1)
    );

    // A target that cannot be planned: no file at all, so nothing half-reviewed is applied.
    std::fs::remove_file(&plan).expect("removed");
    let broken = write_file(
        dir.path(),
        "fleet.yaml",
        &fleet.replace("hub-7f3a", "wrong-id"),
    );
    let made = with_keys(
        &catalog,
        "AKIDHUB",
        &["plan", broken.to_str().unwrap(), "--out", plan_path],
    )
    .await;
    assert_eq!(made.code, 1, "{made:?}");
    assert!(made.stderr.contains("no plan file was written"), "{made:?}");
    assert!(!plan.exists());
    catalog.shutdown().await;
}
