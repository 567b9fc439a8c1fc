//! Targets by organisational unit, as a user runs them: the binary against the demo's hub and
//! spokes (examples/hub-and-spoke-catalog.yaml), whose spokes sit in one OU of the hub's
//! organisation. A unit stands for its ACTIVE accounts at plan time, the plan says what it stood
//! for, an account reached twice is one target (or a refused conflict), an account that joins
//! is planned by the next run, and `--shard I/N` slices the expanded targets so N jobs cover
//! them once. Errors (rules offline; an OU that does not exist; credentials of a member or of
//! an account in no organisation) are one message with a hint, and nothing is applied.

use crate::support::{Run, sc_assoc_env, write_file};
use sc_assoc::local::{CatalogConfig, LocalCatalog, SeedFile};
use std::collections::BTreeSet;
use std::path::Path;

const SPOKES: &str = "ou-d3m0-spokes01";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn demo_seed() -> String {
    std::fs::read_to_string(root().join("examples/hub-and-spoke-catalog.yaml")).expect("seed")
}

async fn catalog_of(seed: &str) -> LocalCatalog {
    catalog_lagging(seed, std::time::Duration::ZERO).await
}

/// The catalog whose listings show a write only `lag` after it, as AWS's do.
async fn catalog_lagging(seed: &str, lag: std::time::Duration) -> LocalCatalog {
    let file = SeedFile::from_yaml_str(seed).expect("the seed parses");
    let mut config = CatalogConfig::from_seed_file(file);
    config.faults.listing_lag = lag;
    crate::support::start_config(config).await
}

/// The binary with the key `key` (the hub's is the demo's).
async fn run_as(catalog: &LocalCatalog, key: &str, args: &[&str]) -> Run {
    let env = [
        ("AWS_ACCESS_KEY_ID", key),
        ("AWS_SECRET_ACCESS_KEY", "local-demo-secret"),
    ];
    sc_assoc_env(Some(&catalog.endpoint()), args, &env).await
}

async fn as_hub(catalog: &LocalCatalog, args: &[&str]) -> Run {
    run_as(catalog, "AKIDLOCALDEMO", args).await
}

/// The demo's manifest with its targets replaced by `targets` (YAML of the `targets:` list).
fn manifest_with(dir: &Path, targets: &str) -> String {
    let demo = std::fs::read_to_string(root().join("examples/manifests/hub-and-spoke.yaml"))
        .expect("demo manifest");
    let start = demo.find("targets:\n").expect("targets");
    let end = demo.find("actions:\n").expect("actions");
    let text = format!("{}targets:\n{targets}{}", &demo[..start], &demo[end..]);
    write_file(dir, "org.yaml", &text)
        .to_str()
        .expect("utf-8")
        .to_string()
}

fn demo_manifest() -> String {
    root()
        .join("examples/manifests/hub-and-spoke.yaml")
        .to_str()
        .expect("utf-8")
        .to_string()
}

fn target_labels(document: &serde_json::Value) -> BTreeSet<String> {
    document["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| t["target"].as_str().expect("label").to_string())
        .collect()
}

#[tokio::test]
async fn a_unit_stands_for_its_active_accounts_and_the_plan_says_what_it_stood_for() {
    let catalog = catalog_of(&demo_seed()).await;
    // Spoke C joins the unit suspended: named, and skipped.
    assert!(catalog.join_organization("444444444444", Some(SPOKES), "SUSPENDED"));
    let run = as_hub(&catalog, &["plan", &demo_manifest(), "--detailed-exitcode"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stdout.contains(
            "Organizational units expanded to their active accounts:\n  ou-d3m0-spokes01 → \
             222222222222 (spoke-a), 333333333333 (spoke-b); skipped: 444444444444 (spoke-c) \
             SUSPENDED\n"
        ),
        "{run:?}"
    );
    for heading in [
        "== 222222222222/us-east-1 (role arn:aws:iam::222222222222:role/ServiceCatalogAdmin) ==",
        "== 333333333333/eu-west-1 (role arn:aws:iam::333333333333:role/ServiceCatalogAdmin) ==",
    ] {
        assert!(run.stdout.contains(heading), "{heading}\n{run:?}");
    }
    assert!(!run.stdout.contains("== 444444444444"), "{run:?}");
    assert!(
        run.stdout.contains("Total: 6 target(s), 0 failed;"),
        "{run:?}"
    );

    // JSON records the expansion, suspended account included.
    let json = as_hub(&catalog, &["plan", &demo_manifest(), "--output", "json"]).await;
    let document = json.json();
    let unit = &document["organizational_units"][0];
    assert_eq!(unit["unit"], SPOKES, "{document:#}");
    assert_eq!(unit["accounts"][0]["id"], "222222222222");
    assert_eq!(unit["accounts"][1]["name"], "spoke-b");
    assert_eq!(unit["skipped"][0]["status"], "SUSPENDED");
    assert_eq!(document["summary"]["targets"], 6);
    catalog.shutdown().await;
}

#[tokio::test]
async fn an_account_that_joins_the_unit_is_planned_by_the_next_run_and_converges() {
    // Listings behind the writes, as in AWS: apply waits for them, so a plan right after
    // finds nothing.
    let catalog = catalog_lagging(&demo_seed(), std::time::Duration::from_millis(400)).await;
    let manifest = demo_manifest();
    let apply = as_hub(&catalog, &["apply", &manifest]).await;
    assert_eq!(apply.code, 0, "{apply:?}");
    let again = as_hub(&catalog, &["plan", &manifest, "--detailed-exitcode"]).await;
    assert_eq!(again.code, 0, "converged: {again:?}");

    assert!(catalog.join_organization("444444444444", Some(SPOKES), "ACTIVE"));
    let drift = as_hub(
        &catalog,
        &["plan", &manifest, "--detailed-exitcode", "--output", "json"],
    )
    .await;
    assert_eq!(drift.code, 2, "the new account has changes: {drift:?}");
    let document = drift.json();
    assert_eq!(document["summary"]["targets"], 8, "{document:#}");
    let changed: BTreeSet<String> = document["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter(|t| t["plan"]["summary"]["to_add"].as_u64().unwrap_or(0) > 0)
        .map(|t| t["target"].as_str().expect("label").to_string())
        .collect();
    assert_eq!(
        changed,
        BTreeSet::from([
            "444444444444/eu-west-1".to_string(),
            "444444444444/us-east-1".to_string()
        ]),
        "{document:#}"
    );
    let apply = as_hub(&catalog, &["apply", &manifest]).await;
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(
        catalog
            .associations_in("444444444444", "us-east-1")
            .expect("spoke-c us-east-1")
            .len(),
        3,
        "Web Server v1 with Restart and Patch, Database v1 with Restart"
    );
    catalog.shutdown().await;
}

#[tokio::test]
async fn an_account_reached_by_id_and_through_a_unit_is_one_target_and_exclusions_hold() {
    let catalog = catalog_of(&demo_seed()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    // The root reaches the hub too, the same way as its own entry: one target each region.
    let manifest = manifest_with(
        dir.path(),
        "  - accounts: [\"111111111111\"]\n    regions: [us-east-1]\n    role: arn:aws:iam::{account}:role/ServiceCatalogAdmin\n    external_id: hub-7f3a\n  - organizational_units: [r-d3m0]\n    exclude_accounts: [\"333333333333\"]\n    regions: [us-east-1]\n    role: arn:aws:iam::{account}:role/ServiceCatalogAdmin\n    external_id: hub-7f3a\n",
    );
    let run = as_hub(&catalog, &["plan", &manifest, "--output", "json"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    // The exclusion is named with its place, so the unit's line does not mislead.
    let excluded = &run.json()["excluded_accounts"];
    assert_eq!(excluded[0]["account"], "333333333333", "{run:?}");
    assert!(
        excluded[0]["at"]
            .as_str()
            .is_some_and(|at| at.ends_with("org.yaml:15:24")),
        "{run:?}"
    );
    let text = as_hub(&catalog, &["plan", &manifest]).await;
    assert!(
        text.stdout
            .contains("  left out by `exclude_accounts`: 333333333333 ("),
        "{text:?}"
    );
    assert_eq!(
        target_labels(&run.json()),
        BTreeSet::from([
            "111111111111/us-east-1".to_string(),
            "222222222222/us-east-1".to_string()
        ]),
        "{run:?}"
    );

    // The same account reached with another external id is refused, at the unit.
    let conflict = manifest_with(
        dir.path(),
        "  - accounts: [\"111111111111\"]\n    regions: [us-east-1]\n    role: arn:aws:iam::{account}:role/ServiceCatalogAdmin\n  - organizational_units: [r-d3m0]\n    regions: [us-east-1]\n    role: arn:aws:iam::{account}:role/ServiceCatalogAdmin\n    external_id: hub-7f3a\n",
    );
    let refused = as_hub(&catalog, &["apply", &conflict]).await;
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused.stderr.contains(
            "org.yaml:13:28: error: target `111111111111/us-east-1` is given a different \
             external id here than at"
        ),
        "{refused:?}"
    );
    assert!(
        refused.stderr.contains("nothing was applied"),
        "{refused:?}"
    );
    for account in ["111111111111", "222222222222", "333333333333"] {
        let made = catalog
            .associations_in(account, "us-east-1")
            .expect("known");
        assert!(made.len() <= 1, "nothing new in {account}: {made:?}");
    }
    catalog.shutdown().await;
}

#[tokio::test]
async fn a_unit_that_does_not_exist_is_one_located_error_and_nothing_is_read() {
    let catalog = catalog_of(&demo_seed()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = manifest_with(
        dir.path(),
        "  - organizational_units: [ou-d3m0-nothere1]\n    role: arn:aws:iam::{account}:role/ServiceCatalogAdmin\n",
    );
    let run = as_hub(&catalog, &["apply", &manifest]).await;
    assert_eq!(run.code, 1, "{run:?}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        lines[0]
            .starts_with("error: cannot expand the organizational unit `ou-d3m0-nothere1` (at ")
            && lines[0].ends_with("org.yaml:10:28); nothing was applied"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains(
            "caused by: organisational unit `ou-d3m0-nothere1` does not exist in this organisation"
        ),
        "{run:?}"
    );
    assert!(run.stderr.contains("ParentNotFoundException"), "{run:?}");
    assert!(
        run.stderr
            .contains("hint: OU ids look like ou-ab12-cd34ef56"),
        "{run:?}"
    );
    assert_eq!(run.stderr.matches("error:").count(), 1, "{run:?}");
    // No target was reached: Service Catalog was never asked.
    let stats = catalog.stats();
    assert_eq!(stats.total_calls, 0, "{stats:?}");
    catalog.shutdown().await;
}

#[tokio::test]
async fn a_member_account_or_no_organisation_is_one_error_with_what_to_do() {
    // Spoke A gets keys of its own: a member may not list the organisation.
    let seed = demo_seed().replace(
        "    name: spoke-a\n",
        "    name: spoke-a\n    access_keys: [AKIDSPOKEA]\n",
    );
    let catalog = catalog_of(&seed).await;
    let run = run_as(&catalog, "AKIDSPOKEA", &["plan", &demo_manifest()]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "caused by: AWS Organizations refused to list `ou-d3m0-spokes01`: only the management \
             account or a delegated administrator can list"
        ),
        "{run:?}"
    );
    assert!(run.stderr.contains("AccessDeniedException"), "{run:?}");
    assert!(
        run.stderr.contains(
            "hint: run with the management account's credentials, or a delegated \
             administrator's, allowed organizations:ListOrganizationalUnitsForParent and \
             organizations:ListAccountsForParent"
        ),
        "{run:?}"
    );
    // Refused credentials are not a permissions question.
    let refused = run_as(&catalog, "AKIDNOBODY", &["plan", &demo_manifest()]).await;
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("caused by: AWS Organizations refused the credentials"),
        "{refused:?}"
    );
    assert!(
        refused
            .stderr
            .contains("hint: the credentials were refused"),
        "{refused:?}"
    );
    catalog.shutdown().await;

    // No organisation at all.
    let seed = demo_seed();
    let without = &seed[..seed.find("\norganization:").expect("section")];
    let catalog = catalog_of(without).await;
    let run = as_hub(&catalog, &["plan", &demo_manifest()]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("caused by: the credentials' account is not in an AWS organisation"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("AWSOrganizationsNotInUseException"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("hint: run with the management"),
        "{run:?}"
    );
    catalog.shutdown().await;
}

#[tokio::test]
async fn shards_cover_every_target_once_and_say_which_slice_they_ran() {
    let catalog = catalog_of(&demo_seed()).await;
    let manifest = demo_manifest();
    let mut seen: Vec<String> = Vec::new();
    for index in 1..=3 {
        let shard = format!("{index}/3");
        let run = as_hub(
            &catalog,
            &["plan", &manifest, "--shard", &shard, "--output", "json"],
        )
        .await;
        assert_eq!(run.code, 0, "{run:?}");
        let document = run.json();
        let labels = target_labels(&document);
        assert_eq!(document["shard"]["index"], index, "{document:#}");
        assert_eq!(document["shard"]["count"], 3);
        assert_eq!(document["shard"]["targets_total"], 6);
        assert_eq!(document["summary"]["targets"], labels.len());
        let text = as_hub(&catalog, &["plan", &manifest, "--shard", &shard]).await;
        assert!(
            text.stdout.contains(&format!(
                "Shard {shard}: {} of the run's 6 target(s).",
                labels.len()
            )),
            "{text:?}"
        );
        seen.extend(labels);
    }
    seen.sort();
    let every: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), 6, "each target in exactly one shard: {seen:?}");
    assert_eq!(every.len(), 6);

    // An account that joins adds targets to some slices and moves none of the others.
    let before: Vec<BTreeSet<String>> = shard_labels(&catalog, &manifest).await;
    assert!(catalog.join_organization("444444444444", Some(SPOKES), "ACTIVE"));
    let after = shard_labels(&catalog, &manifest).await;
    for (was, is) in before.iter().zip(&after) {
        assert!(was.is_subset(is), "{was:?} → {is:?}");
        assert!(
            is.difference(was)
                .all(|label| label.starts_with("444444444444/")),
            "{was:?} → {is:?}"
        );
    }

    // A saved plan keeps its slice, and `show` says it.
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("plan.json");
    let out = out.to_str().expect("utf-8");
    let save = as_hub(
        &catalog,
        &["plan", &manifest, "--shard", "2/3", "--out", out],
    )
    .await;
    assert_eq!(save.code, 0, "{save:?}");
    let show = as_hub(&catalog, &["show", out]).await;
    assert!(
        show.stdout.contains("Shard 2/3: ")
            && show.stdout.contains(" of the run's 8 target(s).")
            && show
                .stdout
                .contains("ou-d3m0-spokes01 → 222222222222 (spoke-a)"),
        "{show:?}"
    );
    catalog.shutdown().await;
}

async fn shard_labels(catalog: &LocalCatalog, manifest: &str) -> Vec<BTreeSet<String>> {
    let mut slices = Vec::new();
    for index in 1..=3 {
        let shard = format!("{index}/3");
        let run = as_hub(
            catalog,
            &["plan", manifest, "--shard", &shard, "--output", "json"],
        )
        .await;
        assert_eq!(run.code, 0, "{run:?}");
        slices.push(target_labels(&run.json()));
    }
    slices
}

#[tokio::test]
async fn unit_rules_are_checked_offline_each_at_its_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = manifest_with(
        dir.path(),
        "  - organizational_units: [ou-bad, \"222222222222\"]\n    role: arn:aws:iam::{account}:role/ServiceCatalogAdmin\n  - organizational_units: [r-d3m0]\n  - accounts: [\"111111111111\"]\n    exclude_accounts: [\"222222222222\"]\n  - organizational_units: [r-d3m0]\n    role: arn:aws:iam::111111111111:role/Admin\n    exclude_accounts: [\"2222\"]\n",
    );
    let run = crate::support::sc_assoc(None, &["validate", &manifest]).await;
    assert_eq!(run.code, 1, "{run:?}");
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains(": error: "))
        .collect();
    let expected = [
        ("10:28", "`ou-bad`"),
        ("10:36", "an account id goes in `accounts`"),
        ("12:5", "`organizational_units` needs `role:"),
        ("13:5", "`accounts` needs a way to reach them"),
        (
            "14:5",
            "`exclude_accounts` only goes with `organizational_units`",
        ),
        ("16:11", "write `{account}` where the account id goes"),
        ("17:24", "`2222`"),
    ];
    assert_eq!(errors.len(), expected.len(), "{run:?}");
    for ((at, text), line) in expected.iter().zip(&errors) {
        assert!(
            line.contains(&format!("org.yaml:{at}: error: ")) && line.contains(text),
            "{at} {text}\n{run:?}"
        );
    }
}
