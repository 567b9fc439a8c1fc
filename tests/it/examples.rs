//! The shipped examples stay true: every manifest under `examples/manifests/` opens with a
//! `$schema` line that points at the schema, validates offline, and plans cleanly against the
//! demo catalog its ids and names come from; the pipeline files run the commands they promise.

use crate::support::{sc_assoc, start_catalog};
use std::path::{Path, PathBuf};

const DEMO_SEED: &str = include_str!("../../examples/demo-catalog.yaml");

fn example_manifests() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/manifests");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/manifests exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    found.sort();
    assert!(found.len() >= 6, "a manifest per feature: {found:?}");
    found
}

#[test]
fn every_example_manifest_opens_with_a_schema_line_that_resolves() {
    for path in example_manifests() {
        let text = std::fs::read_to_string(&path).expect("readable");
        let first = text.lines().next().unwrap_or_default();
        let reference = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| panic!("{}: first line is {first:?}", path.display()));
        let schema = path.parent().expect("in a folder").join(reference);
        assert!(
            schema
                .canonicalize()
                .is_ok_and(|s| s.ends_with("schema/manifest.schema.json")),
            "{}: `{reference}` does not reach the schema",
            path.display()
        );
    }
}

#[tokio::test]
async fn every_example_manifest_validates_offline() {
    let paths = example_manifests();
    let mut args = vec!["validate"];
    args.extend(paths.iter().map(|p| p.to_str().expect("utf-8 path")));
    let run = sc_assoc(None, &args).await;
    assert_eq!(run.code, 0, "{run:?}");
}

#[tokio::test]
async fn every_example_manifest_plans_cleanly_against_the_demo_catalog() {
    let catalog = start_catalog(DEMO_SEED).await;
    // The hub-and-spoke manifest has a catalog of its own (the test below).
    for path in example_manifests()
        .into_iter()
        .filter(|p| !p.ends_with("hub-and-spoke.yaml"))
    {
        let path = path.to_str().expect("utf-8 path");
        let mut args = vec!["plan", path, "--output", "json"];
        if path.ends_with("prune-scope.yaml") {
            args.push("--prune");
        }
        let run = sc_assoc(Some(&catalog.endpoint()), &args).await;
        assert_eq!(run.code, 0, "{path}: {run:?}");
        assert_eq!(run.json()["summary"]["unreadable"], 0, "{path}: {run:?}");
    }
}

#[tokio::test]
async fn the_hub_and_spoke_example_plans_every_target_against_its_catalog() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seed =
        sc_assoc::local::SeedFile::from_file(&root.join("examples/hub-and-spoke-catalog.yaml"))
            .expect("the example seed parses");
    let catalog =
        crate::support::start_config(sc_assoc::local::CatalogConfig::from_seed_file(seed)).await;
    let manifest = root.join("examples/manifests/hub-and-spoke.yaml");
    // The demo's base keys belong to the hub.
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDLOCALDEMO"),
        ("AWS_SECRET_ACCESS_KEY", "local-demo-secret"),
    ];
    let run = crate::support::sc_assoc_env(
        Some(&catalog.endpoint()),
        &[
            "plan",
            manifest.to_str().expect("utf-8"),
            "--output",
            "json",
        ],
        &env,
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let document = run.json();
    assert_eq!(document["summary"]["targets"], 6, "{document:#}");
    assert_eq!(document["summary"]["failed"], 0, "{document:#}");
    assert_eq!(document["summary"]["to_add"], 29, "{document:#}");
    catalog.shutdown().await;
}

#[test]
fn the_pipelines_plan_on_merge_requests_and_apply_on_main_keeping_the_report() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for name in ["github-actions.yml", "gitlab-ci.yml"] {
        let text = std::fs::read_to_string(dir.join(name)).expect(name);
        for needle in [
            "plan",
            "--detailed-exitcode",
            "apply",
            "--output json",
            "report.json",
        ] {
            assert!(text.contains(needle), "{name} lacks `{needle}`");
        }
        serde_yaml::from_str::<serde_yaml::Value>(&text).expect("valid YAML");
    }
}
