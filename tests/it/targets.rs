//! Many accounts and regions in one run, as a user runs it: the binary against the local
//! catalog's hub and two spokes (tests/fixtures/catalog/accounts.yaml), the base credentials the
//! hub's. Each target assumes its role, resolves the manifest's names to its own ids, plans,
//! applies and verifies on its own; a target that cannot be reached or resolved fails alone;
//! `--target` runs a subset; output is grouped by target; the external id never shows.

use crate::support::{Run, accounts_catalog, sc_assoc_env, write_file};
use sc_assoc::local::LocalCatalog;
use sc_assoc::triple::Triple;

const HUB: &str = "111111111111";
const SPOKE_A: &str = "222222222222";
const SPOKE_B: &str = "333333333333";

/// The hub in both its regions, spoke A in us-east-1 and spoke B in eu-west-1 (whose role wants
/// an external id): every name is `Web Server` / `Restart`, with different ids in each.
pub const HUB_AND_SPOKES: &str = r#"version: 1
targets:
  - accounts: ["111111111111", "222222222222"]
    regions: [us-east-1]
    role: arn:aws:iam::{account}:role/ServiceCatalogAdmin
  - accounts: ["111111111111"]
    regions: [eu-west-1]
    role: arn:aws:iam::{account}:role/ServiceCatalogAdmin
  - accounts: ["333333333333"]
    regions: [eu-west-1]
    role: arn:aws:iam::{account}:role/ServiceCatalogAdmin
    external_id: hub-7f3a
associations:
  - product: {name: Web Server}
    artifacts: all
    action: {name: Restart}
"#;

/// The binary with the hub's base credentials.
pub async fn as_hub(catalog: &LocalCatalog, args: &[&str]) -> Run {
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDHUB"),
        ("AWS_SECRET_ACCESS_KEY", "hub-secret"),
    ];
    sc_assoc_env(Some(&catalog.endpoint()), args, &env).await
}

fn in_target(catalog: &LocalCatalog, account: &str, region: &str) -> Vec<Triple> {
    catalog
        .associations_in(account, region)
        .unwrap_or_else(|| panic!("{account}/{region} is a target of the fixture"))
}

fn section<'a>(document: &'a serde_json::Value, target: &str) -> &'a serde_json::Value {
    document["targets"]
        .as_array()
        .expect("a targets array")
        .iter()
        .find(|s| s["target"] == target)
        .unwrap_or_else(|| panic!("no section for {target} in {document:#}"))
}

#[tokio::test]
async fn one_manifest_converges_a_hub_and_two_spokes_each_with_its_own_ids() {
    let catalog = accounts_catalog().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = write_file(dir.path(), "fleet.yaml", HUB_AND_SPOKES);
    let manifest = manifest.to_str().expect("utf-8");

    let run = as_hub(&catalog, &["apply", manifest, "--output", "json"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let document = run.json();
    assert_eq!(document["summary"]["targets"], 4, "{document:#}");
    assert_eq!(document["summary"]["failed"], 0, "{document:#}");
    let spoke_a = section(&document, "222222222222/us-east-1");
    assert_eq!(spoke_a["status"], "ok");
    assert_eq!(spoke_a["report"]["summary"]["created"], 2, "{spoke_a:#}");
    assert_eq!(
        spoke_a["access"]["role"]["role_arn"],
        "arn:aws:iam::222222222222:role/ServiceCatalogAdmin"
    );
    // The hub's us-east-1 already had its association; nothing else was there.
    let hub = section(&document, "111111111111/us-east-1");
    assert_eq!(hub["report"]["summary"]["already_present"], 1, "{hub:#}");

    // Names resolved to each target's own ids.
    assert_eq!(
        in_target(&catalog, SPOKE_A, "us-east-1"),
        vec![
            Triple::new("prod-a-web", "pa-a-web-v1", "act-a-restart"),
            Triple::new("prod-a-web", "pa-a-web-v2", "act-a-restart"),
        ]
    );
    assert_eq!(
        in_target(&catalog, HUB, "eu-west-1"),
        vec![Triple::new(
            "prod-hubeu-web",
            "pa-hubeu-web-v1",
            "act-hubeu-restart"
        )]
    );
    assert_eq!(
        in_target(&catalog, SPOKE_B, "eu-west-1"),
        vec![Triple::new("prod-b-web", "pa-b-web-v1", "act-b-restart")]
    );

    // A second run has nothing to do anywhere.
    let again = as_hub(&catalog, &["plan", manifest, "--detailed-exitcode"]).await;
    assert_eq!(again.code, 0, "{again:?}");
    catalog.shutdown().await;
}

#[tokio::test]
async fn the_plan_is_grouped_by_target_with_a_line_per_target_and_a_total() {
    let catalog = accounts_catalog().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = write_file(dir.path(), "fleet.yaml", HUB_AND_SPOKES);
    let manifest = manifest.to_str().expect("utf-8");

    let run = as_hub(&catalog, &["plan", manifest, "--detailed-exitcode"]).await;
    assert_eq!(run.code, 2, "changes in some targets: {run:?}");
    for heading in [
        "== 111111111111/us-east-1 (role arn:aws:iam::111111111111:role/ServiceCatalogAdmin) ==",
        "== 222222222222/us-east-1 (role arn:aws:iam::222222222222:role/ServiceCatalogAdmin) ==",
        "== 333333333333/eu-west-1 (role arn:aws:iam::333333333333:role/ServiceCatalogAdmin) ==",
    ] {
        assert!(run.stdout.contains(heading), "{heading}\n{run:?}");
    }
    assert!(
        run.stdout
            .contains("222222222222/us-east-1  2 to add, 0 to remove, 0 already present"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("111111111111/us-east-1  0 to add, 0 to remove, 1 already present"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("Total: 4 target(s), 0 failed; 4 to add, 0 to remove."),
        "{run:?}"
    );
    // Nothing was written by plan.
    assert!(in_target(&catalog, SPOKE_A, "us-east-1").is_empty());
    catalog.shutdown().await;
}

#[tokio::test]
async fn a_role_that_cannot_be_assumed_fails_its_target_alone() {
    let catalog = accounts_catalog().await;
    let dir = tempfile::tempdir().expect("temp dir");
    // Spoke A's `Locked` role trusts spoke B only, so the hub is refused.
    let text = HUB_AND_SPOKES.replace(
        "  - accounts: [\"111111111111\"]\n    regions: [eu-west-1]",
        "  - accounts: [\"222222222222\"]\n    regions: [us-east-1]\n    role: arn:aws:iam::{account}:role/Locked\n  - accounts: [\"111111111111\"]\n    regions: [eu-west-1]",
    );
    let text = text.replace(
        "  - accounts: [\"111111111111\", \"222222222222\"]",
        "  - accounts: [\"111111111111\"]",
    );
    let manifest = write_file(dir.path(), "fleet.yaml", &text);
    let manifest = manifest.to_str().expect("utf-8");

    let run = as_hub(&catalog, &["apply", manifest]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains("cannot assume the role `arn:aws:iam::222222222222:role/Locked`"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("AccessDenied: User: arn:aws:iam::111111111111:user/hub is not authorized to perform: sts:AssumeRole"),
        "STS's code and message, not a Debug dump: {run:?}"
    );
    assert!(!run.stdout.contains("Error {"), "{run:?}");
    assert!(
        !run.stderr.contains("WARN"),
        "no log line repeats it: {run:?}"
    );
    assert!(
        run.stdout.contains("hint: check that the role exists"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("error: 1 of 4 target(s) failed: 222222222222/us-east-1"),
        "{run:?}"
    );
    // The others went ahead.
    assert_eq!(in_target(&catalog, HUB, "eu-west-1").len(), 1);
    assert_eq!(in_target(&catalog, SPOKE_B, "eu-west-1").len(), 1);
    assert!(in_target(&catalog, SPOKE_A, "us-east-1").is_empty());
    catalog.shutdown().await;
}

#[tokio::test]
async fn a_region_the_account_has_not_enabled_fails_that_target_alone() {
    let catalog = accounts_catalog().await;
    let dir = tempfile::tempdir().expect("temp dir");
    // Spoke A has enabled us-east-1 only.
    let text = HUB_AND_SPOKES.replace(
        "  - accounts: [\"111111111111\", \"222222222222\"]\n    regions: [us-east-1]",
        "  - accounts: [\"111111111111\", \"222222222222\"]\n    regions: [us-east-1, eu-west-1]",
    );
    let text = text.replace(
        "  - accounts: [\"111111111111\"]\n    regions: [eu-west-1]\n    role: arn:aws:iam::{account}:role/ServiceCatalogAdmin\n",
        "",
    );
    let manifest = write_file(dir.path(), "fleet.yaml", &text);
    let manifest = manifest.to_str().expect("utf-8");

    let run = as_hub(&catalog, &["apply", manifest, "--output", "json"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    let document = run.json();
    assert_eq!(document["summary"]["failed"], 1, "{document:#}");
    let failed = section(&document, "222222222222/eu-west-1");
    assert_eq!(failed["status"], "failed", "{failed:#}");
    let text = failed.to_string();
    assert!(text.contains("UnrecognizedClientException"), "{failed:#}");
    assert!(
        text.contains("region is enabled"),
        "the hint says why: {failed:#}"
    );
    assert_eq!(section(&document, "222222222222/us-east-1")["status"], "ok");
    assert_eq!(in_target(&catalog, SPOKE_A, "us-east-1").len(), 2);
    assert_eq!(in_target(&catalog, HUB, "eu-west-1").len(), 1);
    catalog.shutdown().await;
}

#[tokio::test]
async fn names_that_do_not_resolve_in_one_target_fail_that_target_at_their_location() {
    let catalog = accounts_catalog().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let all = write_file(dir.path(), "a-all.yaml", HUB_AND_SPOKES);
    // Only spoke A is asked for a product it does not have.
    let spoke_only = write_file(
        dir.path(),
        "b-spoke.yaml",
        "version: 1\ntargets:\n  - accounts: [\"222222222222\"]\n    regions: [us-east-1]\n    role: arn:aws:iam::{account}:role/ServiceCatalogAdmin\nassociations:\n  - product: {name: Database}\n    artifacts: all\n    action: {name: Restart}\n",
    );
    let run = as_hub(
        &catalog,
        &[
            "apply",
            all.to_str().expect("utf-8"),
            spoke_only.to_str().expect("utf-8"),
        ],
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    let location = format!("{}:7:14", spoke_only.display());
    assert!(run.stdout.contains(&location), "{location}\n{run:?}");
    assert!(run.stdout.contains("Database"), "{run:?}");
    // Nothing was applied in the failed target, everything elsewhere.
    assert!(in_target(&catalog, SPOKE_A, "us-east-1").is_empty());
    assert_eq!(in_target(&catalog, SPOKE_B, "eu-west-1").len(), 1);
    assert_eq!(in_target(&catalog, HUB, "eu-west-1").len(), 1);
    catalog.shutdown().await;
}

#[tokio::test]
async fn target_runs_a_subset_and_a_filter_that_matches_nothing_is_an_error() {
    let catalog = accounts_catalog().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = write_file(dir.path(), "fleet.yaml", HUB_AND_SPOKES);
    let manifest = manifest.to_str().expect("utf-8");

    let run = as_hub(&catalog, &["apply", manifest, "--target", "222222222222"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("Total: 1 target(s), 0 failed"),
        "{run:?}"
    );
    assert_eq!(in_target(&catalog, SPOKE_A, "us-east-1").len(), 2);
    assert!(
        in_target(&catalog, HUB, "eu-west-1").is_empty(),
        "not selected"
    );
    let untouched = catalog.stats_in(SPOKE_B, "eu-west-1").expect("a target");
    assert_eq!(
        untouched.total_calls, 0,
        "no call reached an unselected target"
    );

    let run = as_hub(
        &catalog,
        &["apply", manifest, "--target", "111111111111/eu-west-1"],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(in_target(&catalog, HUB, "eu-west-1").len(), 1);

    let run = as_hub(&catalog, &["plan", manifest, "--target", "999999999999"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("--target 999999999999 matches none of the manifests' targets"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("222222222222/us-east-1"),
        "lists them: {run:?}"
    );

    let run = as_hub(&catalog, &["plan", manifest, "--target", "2222"]).await;
    assert_eq!(run.code, 1, "a malformed filter is a usage error: {run:?}");
    catalog.shutdown().await;
}

#[tokio::test]
async fn the_external_id_and_issued_credentials_never_show() {
    let catalog = accounts_catalog().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = write_file(dir.path(), "fleet.yaml", HUB_AND_SPOKES);
    let manifest = manifest.to_str().expect("utf-8");
    for args in [
        vec!["apply", manifest, "-vv"],
        vec!["plan", manifest, "--output", "json", "-vv"],
    ] {
        let run = as_hub(&catalog, &args).await;
        assert_eq!(run.code, 0, "{run:?}");
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(!all.contains("hub-7f3a"), "external id printed: {run:?}");
        assert!(!all.contains("hub-secret"), "secret printed: {run:?}");
        assert!(
            !all.contains("ASIA"),
            "an issued access key printed: {run:?}"
        );
    }
    catalog.shutdown().await;
}

#[tokio::test]
async fn manifests_without_targets_keep_their_meaning_and_output() {
    let catalog = accounts_catalog().await;
    let dir = tempfile::tempdir().expect("temp dir");
    // The hub's own account and region: the base credentials' account, AWS_REGION.
    let manifest = write_file(
        dir.path(),
        "plain.yaml",
        "version: 1\nassociations:\n  - product: {name: Web Server}\n    artifacts: all\n    action: {name: Restart}\n",
    );
    let run = as_hub(
        &catalog,
        &[
            "plan",
            manifest.to_str().expect("utf-8"),
            "--output",
            "json",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let document = run.json();
    assert!(
        document.get("targets").is_none(),
        "the single-target shape: {document:#}"
    );
    assert_eq!(document["summary"]["already_present"], 1, "{document:#}");
    assert_eq!(
        document["summary"]["in_sync"], true,
        "for drift checks: {document:#}"
    );
    catalog.shutdown().await;
}

/// The library's pipeline, driven directly: one client, pacer and set of counters per target,
/// so a throttled spoke's backing off is its own.
#[tokio::test]
async fn each_target_has_its_own_pacer_and_its_throttling_stays_its_own() {
    use sc_assoc::aws::{AwsBase, AwsConnector, AwsOptions, StaticCredentials};
    use sc_assoc::local::Faults;
    use sc_assoc::pace::Pacer;
    use sc_assoc::settings::Settings;
    use std::sync::{Arc, Mutex};

    let catalog = accounts_catalog().await;
    // Spoke B's account allows 2 calls a second, one at a time; the others are unlimited.
    let tight = Faults {
        rate: Some(2.0),
        burst: 1,
        ..Faults::default()
    };
    assert!(catalog.set_faults_in(SPOKE_B, "eu-west-1", tight));
    let targeted =
        sc_assoc::manifest::parse_str_targets(std::path::Path::new("fleet.yaml"), HUB_AND_SPOKES)
            .expect("valid");
    let base = AwsBase::load(&AwsOptions {
        endpoint_url: Some(catalog.endpoint()),
        region: Some("us-east-1".into()),
        static_credentials: Some(StaticCredentials {
            access_key_id: "AKIDHUB".into(),
            secret_access_key: "hub-secret".into(),
        }),
        ..AwsOptions::default()
    })
    .await
    .expect("base credentials");
    let made: Mutex<Vec<Arc<Pacer>>> = Mutex::new(Vec::new());
    let pacer = |_: Option<&str>| {
        let pacer = Arc::new(Pacer::adaptive());
        made.lock().expect("lock").push(pacer.clone());
        Some(pacer)
    };
    let settings = Settings {
        concurrency: 4,
        target_concurrency: 4,
        ..Settings::default()
    };
    let connector = AwsConnector {
        base: &base,
        pacer: &pacer,
    };
    let progress = sc_assoc::progress::NoProgress;
    let planning =
        sc_assoc::pipeline::plan(&connector, &targeted.targets, &settings, &progress).await;
    let runs = planning.apply(&settings, &progress).await;
    assert_eq!(runs.len(), 4);
    let pacers = made.lock().expect("lock").clone();
    assert_eq!(pacers.len(), 4, "one pacer per target");
    for (i, a) in pacers.iter().enumerate() {
        for b in &pacers[i + 1..] {
            assert!(!Arc::ptr_eq(a, b), "targets share no pacer");
        }
    }
    for run in &runs {
        assert!(!run.failed(), "{}: {:?}", run.target, run.planned);
        let report = run.report.as_ref().expect("applied");
        let throttled = report.calls.wire.throttled;
        if run.target.account.as_deref() == Some(SPOKE_B) {
            assert!(
                throttled > 0,
                "spoke B is throttled: {:?}",
                report.calls.wire
            );
        } else {
            assert_eq!(throttled, 0, "{}: {:?}", run.target, report.calls.wire);
        }
    }
    catalog.shutdown().await;
}

#[tokio::test]
async fn export_writes_one_manifest_per_target_each_naming_its_target_and_applying_as_a_no_op() {
    let catalog = accounts_catalog().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = write_file(dir.path(), "fleet.yaml", HUB_AND_SPOKES);
    let manifest = manifest.to_str().expect("utf-8");
    assert_eq!(as_hub(&catalog, &["apply", manifest]).await.code, 0);

    let out = dir.path().join("exported");
    let out_dir = out.to_str().expect("utf-8");
    let several = as_hub(
        &catalog,
        &["export", "--all-products", "--targets-from", manifest],
    )
    .await;
    assert_eq!(
        several.code, 1,
        "several targets need --out-dir: {several:?}"
    );
    assert!(several.stderr.contains("--out-dir"), "{several:?}");

    let run = as_hub(
        &catalog,
        &[
            "export",
            "--all-products",
            "--targets-from",
            manifest,
            "--out-dir",
            out_dir,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let spoke_b =
        std::fs::read_to_string(out.join("333333333333-eu-west-1.yaml")).expect("written");
    assert!(
        spoke_b.contains("accounts: [\"333333333333\"]"),
        "{spoke_b}"
    );
    assert!(spoke_b.contains("regions: [eu-west-1]"), "{spoke_b}");
    assert!(
        spoke_b.contains("external_id: 'hub-7f3a'"),
        "it must apply: {spoke_b}"
    );
    assert!(
        spoke_b.contains("prod-b-web"),
        "the target's own ids: {spoke_b}"
    );
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .expect("listed")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "111111111111-eu-west-1.yaml",
            "111111111111-us-east-1.yaml",
            "222222222222-us-east-1.yaml",
            "333333333333-eu-west-1.yaml"
        ]
    );
    // Each file, applied, changes nothing in its own target (and only there).
    let plan = as_hub(
        &catalog,
        &["plan", out_dir, "--prune", "--detailed-exitcode"],
    )
    .await;
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stdout
            .contains("Total: 4 target(s), 0 failed; 0 to add, 0 to remove."),
        "{plan:?}"
    );

    let one = as_hub(
        &catalog,
        &[
            "export",
            "--all-products",
            "--targets-from",
            manifest,
            "--target",
            "222222222222",
        ],
    )
    .await;
    assert_eq!(one.code, 0, "{one:?}");
    assert!(one.stdout.contains("prod-a-web"), "{one:?}");
    catalog.shutdown().await;
}

/// Setting a target up is bounded like every other call: an STS (here, an endpoint) that
/// accepts the AssumeRole request and never answers ends every target at the deadline.
#[tokio::test]
async fn an_assume_role_that_never_answers_ends_every_target_at_the_deadline() {
    use crate::hostile::{Answer, Hostile};
    // The base credentials check out (GetCallerIdentity); assuming any role never answers.
    let endpoint = Hostile::start(|request| match request.operation.as_str() {
        "GetCallerIdentity" => Answer::Query(
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::111111111111:user/hub</Arn><UserId>AIDAHUB</UserId><Account>111111111111</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>".to_string(),
        ),
        _ => Answer::Hang,
    })
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = write_file(dir.path(), "fleet.yaml", HUB_AND_SPOKES);
    let started = std::time::Instant::now();
    let run = sc_assoc_env(
        Some(&endpoint.endpoint),
        &["plan", manifest.to_str().expect("utf-8"), "--deadline", "2"],
        &[],
    )
    .await;
    let took = started.elapsed();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        took < std::time::Duration::from_secs(6),
        "2 s deadline, 2 s grace: took {took:?}"
    );
    assert_eq!(
        run.stdout
            .matches("error: the deadline was reached while setting up the client for this target")
            .count(),
        4,
        "one error per target: {run:?}"
    );
    assert!(
        run.stderr.contains("error: 4 of 4 target(s) failed"),
        "{run:?}"
    );
}
