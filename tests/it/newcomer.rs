//! What a new user trips over, each as they meet it: an unknown id reported where it is written
//! and blamed on what is missing, a saved plan applied twice, refused base credentials told once,
//! `export --output json`, the local catalog's recipe followed literally, ids of the wrong kind
//! and bare names, YAML mistakes in plain words, a plan file among manifests, an artifact declared
//! empty, removals off a terminal, and the smaller inconsistencies.

use crate::support::{
    Run, SMALL_SEED, TEST_AWS_ENV, accounts_catalog, sc_assoc, sc_assoc_env, start_catalog,
    write_file,
};
use crate::targets::{HUB_AND_SPOKES, as_hub};
use sc_assoc::triple::Triple;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

async fn plan(endpoint: &str, dir: &std::path::Path, text: &str) -> Run {
    let manifest = write_file(dir, "loc.yaml", text);
    sc_assoc(Some(endpoint), &["plan", manifest.to_str().unwrap()]).await
}

#[tokio::test]
async fn an_unknown_product_or_artifact_is_named_where_it_is_written() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let endpoint = catalog.endpoint();
    let path = dir.path().join("loc.yaml").display().to_string();
    // Read per artifact (one artifact, one action).
    let product = plan(
        &endpoint,
        dir.path(),
        "version: 1\nassociations:\n  - product: prod-nonexistent01\n    artifact: pa-web-v1\n    action: act-restart\n",
    )
    .await;
    assert_eq!(product.code, 1, "{product:?}");
    assert!(
        product.stderr.contains(&format!(
            "{path}:3:14: error: no product `prod-nonexistent01`"
        )),
        "{product:?}"
    );
    let artifact = plan(
        &endpoint,
        dir.path(),
        "version: 1\nassociations:\n  - product: prod-web\n    artifact: pa-nonexistent\n    action: act-restart\n",
    )
    .await;
    assert!(
        artifact.stderr.contains(&format!(
            "{path}:4:15: error: product `prod-web` has no provisioning artifact `pa-nonexistent`"
        )),
        "{artifact:?}"
    );
    // The compact form, read per action (many artifacts, one action): the artifact's own line,
    // not the last action's.
    let compact = plan(
        &endpoint,
        dir.path(),
        "version: 1\nassociations:\n  - product: prod-web\n    artifacts:\n      - pa-web-v1\n      - pa-web-v2\n      - pa-gone\n    actions:\n      - act-restart\n",
    )
    .await;
    assert!(
        compact.stderr.contains(&format!(
            "{path}:7:9: error: product `prod-web` has no provisioning artifact `pa-gone`"
        )),
        "{compact:?}"
    );
    catalog.shutdown().await;
}

#[tokio::test]
async fn an_id_of_the_wrong_kind_is_found_offline_and_a_bare_name_gets_a_hint() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let wrong = write_file(
        dir.path(),
        "wrong.yaml",
        "version: 1\nassociations:\n  - {product: prod-web, artifact: pa-web-v1, action: pa-web-v2}\n",
    );
    let run = sc_assoc(None, &["validate", wrong.to_str().unwrap()]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "`pa-web-v2` is an artifact id, given as the action; action ids start with `act-`"
        ),
        "{run:?}"
    );
    // `validate` never applies anything, so it does not say it did not.
    assert!(
        run.stderr.ends_with("error: the manifest is invalid\n"),
        "{run:?}"
    );

    let bare = plan(
        &catalog.endpoint(),
        dir.path(),
        "version: 1\nassociations:\n  - {product: prod-web, artifact: v1, actions: [Restart]}\n",
    )
    .await;
    assert_eq!(bare.code, 1, "{bare:?}");
    assert!(
        bare.stderr.contains(
            "service action `Restart` does not exist; an action is named `Restart` (`act-restart`): write `{name: Restart}` to name it"
        ),
        "{bare:?}"
    );
    assert!(
        bare.stderr
            .contains("a version of it is named `v1` (`pa-web-v1`): write `{name: v1}`"),
        "{bare:?}"
    );
    let json = sc_assoc(
        Some(&catalog.endpoint()),
        &[
            "plan",
            dir.path().join("loc.yaml").to_str().unwrap(),
            "--output",
            "json",
        ],
    )
    .await;
    let document = json.json();
    let hints: Vec<&str> = document["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["hint"].as_str())
        .collect();
    assert_eq!(hints.len(), 2, "the hint is a field of its own: {json:?}");
    catalog.shutdown().await;
}

#[tokio::test]
async fn yaml_mistakes_are_told_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let tab = write_file(
        dir.path(),
        "tab.yaml",
        "version: 1\nassociations:\n\t- {product: prod-web, artifact: pa-web-v1, action: act-restart}\n",
    );
    let run = sc_assoc(None, &["validate", tab.to_str().unwrap()]).await;
    assert!(
        run.stderr
            .contains("a tab character indents this line; YAML indents with spaces only"),
        "{run:?}"
    );
    let indent = write_file(
        dir.path(),
        "indent.yaml",
        "version: 1\nassociations:\n  - product: prod-web\n    artifact: pa-web-v1\n    action: act-restart\n   - product: prod-db\n",
    );
    let run = sc_assoc(None, &["validate", indent.to_str().unwrap()]).await;
    assert!(
        run.stderr
            .contains("indentation does not match the lines above it"),
        "{run:?}"
    );
}

#[tokio::test]
async fn a_plan_file_among_manifests_is_named_for_what_it_is() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nassociations:\n  - {product: prod-web, artifact: pa-web-v2, action: act-patch}\n",
    );
    let (manifest, plan_file) = (
        manifest.to_str().unwrap().to_string(),
        dir.path().join("p.json").display().to_string(),
    );
    let endpoint = catalog.endpoint();
    let saved = sc_assoc(Some(&endpoint), &["plan", &manifest, "--out", &plan_file]).await;
    assert_eq!(saved.code, 0, "{saved:?}");
    // `--out` keeps the one-account layout.
    assert!(!saved.stdout.contains("=="), "{saved:?}");
    for args in [
        vec!["plan", plan_file.as_str()],
        vec!["apply", manifest.as_str(), plan_file.as_str()],
    ] {
        let run = sc_assoc(Some(&endpoint), &args).await;
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains("is a saved plan, not a manifest")
                && run.stderr.contains("sc-assoc show")
                && !run.stderr.contains("unknown key"),
            "{run:?}"
        );
    }
    // Applied twice: told as already applied, not as someone else's change.
    let first = sc_assoc(Some(&endpoint), &["apply", &plan_file]).await;
    assert_eq!(first.code, 0, "{first:?}");
    let second = sc_assoc(Some(&endpoint), &["apply", &plan_file]).await;
    assert_eq!(second.code, 1, "{second:?}");
    assert!(
        second.stderr.contains("has already been applied")
            && !second.stderr.contains("associated since the plan"),
        "{second:?}"
    );
    catalog.shutdown().await;
}

#[tokio::test]
async fn refused_base_credentials_are_one_error_before_any_target() {
    let catalog = accounts_catalog().await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "fleet.yaml", HUB_AND_SPOKES);
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDNOBODYKNOWS"),
        ("AWS_SECRET_ACCESS_KEY", "wrong"),
    ];
    let run = sc_assoc_env(
        Some(&catalog.endpoint()),
        &["plan", manifest.to_str().unwrap()],
        &env,
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.stderr.matches("error:").count(),
        1,
        "one error, not one per target: {run:?}"
    );
    assert!(
        run.stderr.contains("base AWS credentials")
            && run.stderr.contains("hint: the credentials were refused"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("trust policy"), "{run:?}");
    assert_eq!(run.stdout, "", "no target ran: {run:?}");
    catalog.shutdown().await;
}

#[tokio::test]
async fn export_as_json_is_json_and_from_targets_defaults_to_every_product() {
    let catalog = accounts_catalog().await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "fleet.yaml", HUB_AND_SPOKES);
    let run = as_hub(
        &catalog,
        &[
            "export",
            "--targets-from",
            manifest.to_str().unwrap(),
            "--target",
            "111111111111/us-east-1",
            "--output",
            "json",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let document = run.json();
    assert_eq!(document["format_version"], 1);
    let exported = &document["manifests"][0];
    assert_eq!(exported["target"], "111111111111/us-east-1", "{document:#}");
    assert_eq!(exported["manifest"]["version"], 1, "{document:#}");
    assert_eq!(
        exported["manifest"]["associations"][0]["product"], "prod-hub-web",
        "{document:#}"
    );
    catalog.shutdown().await;
}

#[tokio::test]
async fn an_artifact_declared_with_no_action_is_emptied_by_prune() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(
        dir.path(),
        "empty.yaml",
        "version: 1\nassociations:\n  - {product: prod-web, artifact: pa-web-v1, actions: []}\n",
    );
    let manifest = manifest.to_str().unwrap();
    let endpoint = catalog.endpoint();
    let without = sc_assoc(Some(&endpoint), &["apply", manifest]).await;
    assert_eq!(without.code, 0, "{without:?}");
    assert_eq!(
        catalog.associations().len(),
        1,
        "without --prune nothing changes"
    );
    // Off a terminal, removals need --yes.
    let refused = sc_assoc(Some(&endpoint), &["apply", manifest, "--prune"]).await;
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("the plan removes 1 association(s), and no one is at a terminal"),
        "{refused:?}"
    );
    assert_eq!(catalog.associations().len(), 1, "nothing written");
    let pruned = sc_assoc(Some(&endpoint), &["apply", manifest, "--prune", "--yes"]).await;
    assert_eq!(pruned.code, 0, "{pruned:?}");
    assert!(
        !catalog
            .associations()
            .contains(&Triple::new("prod-web", "pa-web-v1", "act-restart"))
    );
    catalog.shutdown().await;
}

#[tokio::test]
async fn the_local_catalog_recipe_works_as_written_and_no_sdk_structure_is_printed() {
    // `sc-assoc local-catalog …`, then the environment it prints, then apply: nothing else set.
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_sc-assoc"))
        .args([
            "local-catalog",
            "--seed",
            "examples/demo-catalog.yaml",
            "--listen",
            "127.0.0.1:0",
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the local catalog starts");
    let mut lines = tokio::io::BufReader::new(server.stdout.take().expect("stdout")).lines();
    let mut env: Vec<(String, String)> = Vec::new();
    while env.is_empty() {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("the catalog prints its environment")
            .expect("readable")
            .expect("a line");
        if let Some(exports) = line.strip_prefix("export ") {
            env = exports
                .split_whitespace()
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        }
    }
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_sc-assoc"))
        .args(["apply", "examples/manifests/demo.yaml", "--no-progress"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env)
        .output()
        .await
        .expect("apply runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");

    // No credentials at all, no configuration files: sc-assoc's own error, no SDK dump.
    let bare = sc_assoc_env(
        Some("http://127.0.0.1:9"),
        &["plan", "examples/manifests/demo.yaml"],
        &[
            ("AWS_ACCESS_KEY_ID", ""),
            ("AWS_SECRET_ACCESS_KEY", ""),
            ("AWS_CONFIG_FILE", "/nonexistent/config"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
        ],
    )
    .await;
    assert_eq!(bare.code, 1, "{bare:?}");
    for dump in ["ProviderError", "SdkBody", "WARN"] {
        assert!(!bare.stderr.contains(dump), "{dump}: {bare:?}");
    }
    assert!(
        bare.stderr.contains("no usable AWS credentials"),
        "{bare:?}"
    );
    let _ = TEST_AWS_ENV;
    let _ = server.kill().await;
}

#[tokio::test]
async fn the_smaller_things_read_the_same_everywhere() {
    let catalog = accounts_catalog().await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "fleet.yaml", HUB_AND_SPOKES);
    let manifest = manifest.to_str().unwrap();
    let planned = as_hub(&catalog, &["plan", manifest]).await;
    assert!(planned.stdout.contains("already present"), "{planned:?}");
    assert!(!planned.stdout.contains("in place"), "{planned:?}");
    let applied = as_hub(&catalog, &["apply", manifest]).await;
    assert_eq!(applied.code, 0, "{applied:?}");
    // After an apply the total says what was done.
    assert!(
        applied
            .stdout
            .contains("Total: 4 target(s), 0 failed; 4 created, 0 removed, 1 already present."),
        "{applied:?}"
    );
    // validate counts entries once, however many targets they apply to; JSON is pretty.
    let validated = sc_assoc(None, &["validate", manifest, "--output", "json"]).await;
    assert!(
        validated.stdout.contains("\n  \"valid\": true"),
        "{validated:?}"
    );
    assert_eq!(validated.json()["entries_to_resolve"], 1, "{validated:?}");
    // Every page carries the version where the version goes.
    let page = sc_assoc(None, &["man", "plan"]).await;
    let title = page
        .stdout
        .lines()
        .find(|l| l.starts_with(".TH"))
        .unwrap_or_default();
    assert!(!title.contains("\"plan \""), "{title}");
    assert!(title.contains(env!("CARGO_PKG_VERSION")), "{title}");
    catalog.shutdown().await;
}

#[tokio::test]
async fn many_duplicate_triples_are_counted_not_each_printed() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("version: 1\nassociations:\n");
    for _ in 0..100 {
        text.push_str("  - {product: prod-web, artifact: pa-web-v1, action: act-restart}\n");
    }
    let manifest = write_file(dir.path(), "dupes.yaml", &text);
    let run = sc_assoc(None, &["validate", manifest.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.lines().count() <= 21, "{run:?}");
    assert!(
        run.stderr.contains("... and 79 more warning(s) like these"),
        "{run:?}"
    );
}

#[tokio::test]
async fn target_picks_the_credentials_account_of_a_manifest_without_targets() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nassociations:\n  - {product: prod-web, artifacts: [pa-web-v1, pa-web-v2], action: act-restart}\n",
    );
    let manifest = manifest.to_str().unwrap();
    let endpoint = catalog.endpoint();
    let picked = sc_assoc(
        Some(&endpoint),
        &["plan", manifest, "--target", "111111111111"],
    )
    .await;
    assert_eq!(picked.code, 0, "{picked:?}");
    // Named by its account, as `show` names it, and the id check reports its progress.
    assert!(
        picked
            .stdout
            .contains("== 111111111111/us-east-1 (default credentials) =="),
        "{picked:?}"
    );
    assert!(picked.stderr.contains("checking: "), "{picked:?}");
    let other = sc_assoc(
        Some(&endpoint),
        &["plan", manifest, "--target", "222222222222"],
    )
    .await;
    assert_ne!(other.code, 0, "{other:?}");
    assert!(
        other.stderr.contains(
            "--target 222222222222 matches none of the manifests' targets: 111111111111/us-east-1"
        ),
        "{other:?}"
    );
    catalog.shutdown().await;
}
