//! The shipped examples stay true: every manifest under `examples/manifests/` opens with a
//! `$schema` line that points at the schema, validates offline, and plans cleanly against the
//! demo catalog its ids and names come from; the pipeline files run the commands they promise:
//! one plan into a plan file on review, that file applied after an approval, and a scheduled
//! drift check that reads fields plan's JSON really has.

use crate::support::{sc_assoc, start_catalog};
use serde_yaml::Value;
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
    // What the drift check (examples/drift-check.yml) reads of each target.
    for section in document["targets"]
        .as_array()
        .expect("a section per target")
    {
        assert!(section["in_sync"].is_boolean(), "{section:#}");
        assert!(section["plan"]["summary"]["to_add"].is_u64(), "{section:#}");
        assert!(
            section["plan"]["summary"]["to_remove"].is_u64(),
            "{section:#}"
        );
    }
    catalog.shutdown().await;
}

/// A pipeline file as YAML, and its comments as one line of prose (so a check of what they
/// promise does not depend on where the lines wrap).
fn pipeline(name: &str) -> (String, Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    let text = std::fs::read_to_string(&path).expect(name);
    let yaml = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let comments: Vec<&str> = text
        .lines()
        .filter_map(|line| line.split_once('#').map(|(_, comment)| comment))
        .collect();
    let prose = comments
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (prose, yaml)
}

/// The `with:` of the step in `job` that runs the sc-assoc action as `command`.
fn action_step<'a>(workflow: &'a Value, job: &str, command: &str) -> &'a Value {
    let steps = workflow["jobs"][job]["steps"].as_sequence().expect("steps");
    let step = steps
        .iter()
        .find(|s| {
            s["uses"].as_str().is_some_and(|u| u.contains("/sc-assoc@"))
                && s["with"]["command"] == command
        })
        .unwrap_or_else(|| panic!("job `{job}` has no `{command}` step"));
    &step["with"]
}

/// Whether some step of `job` uses `action` with an input `key` that mentions `needle`.
fn uses_with(workflow: &Value, job: &str, action: &str, key: &str, needle: &str) -> bool {
    workflow["jobs"][job]["steps"]
        .as_sequence()
        .expect("steps")
        .iter()
        .any(|s| {
            s["uses"].as_str().is_some_and(|u| u.starts_with(action))
                && s["with"][key].as_str().is_some_and(|v| v.contains(needle))
        })
}

#[test]
fn github_plans_once_into_a_plan_file_and_applies_that_file_after_an_approval() {
    let (comments, workflow) = pipeline("github-actions.yml");
    let plan = action_step(&workflow, "plan", "plan");
    assert_eq!(plan["paths"], "manifests/");
    assert_eq!(plan["plan-file"], "plan.json", "plan --out plan.json");
    assert!(uses_with(
        &workflow,
        "plan",
        "actions/upload-artifact",
        "path",
        "plan.json"
    ));

    let apply = &workflow["jobs"]["apply"];
    assert_eq!(apply["needs"], "plan");
    assert!(apply["if"].as_str().unwrap().contains("refs/heads/main"));
    assert!(
        apply["environment"].is_string(),
        "an environment with required reviewers gates the apply"
    );
    assert!(
        comments.contains("add required reviewers"),
        "and the comment says how"
    );
    assert!(uses_with(
        &workflow,
        "apply",
        "actions/download-artifact",
        "name",
        "sc-assoc-plan"
    ));
    let step = action_step(&workflow, "apply", "apply");
    assert_eq!(
        step["plan-file"], "plan.json",
        "apply plan.json, not the manifests"
    );
    assert!(step["args"].as_str().unwrap().contains("--output json"));
    assert_eq!(step["output-file"], "report.json");
    assert!(uses_with(
        &workflow,
        "apply",
        "actions/upload-artifact",
        "path",
        "report.json"
    ));
    for promise in [
        "--out plan.json",
        "apply plan.json --output json > report.json",
        "show plan.json --output json",
        "refuses (exit 1, nothing written)",
    ] {
        assert!(comments.contains(promise), "the comments say `{promise}`");
    }
}

#[test]
fn gitlab_plans_once_into_a_plan_file_and_applies_that_file_by_hand() {
    let (comments, ci) = pipeline("gitlab-ci.yml");
    let plan = &ci["sc-assoc:plan"];
    let script = serde_yaml::to_string(&plan["script"]).unwrap();
    assert!(
        script
            .contains("sc-assoc plan manifests/ --detailed-exitcode --no-progress --out plan.json"),
        "{script}"
    );
    assert_eq!(
        script.matches("sc-assoc plan").count(),
        1,
        "one plan: {script}"
    );
    assert!(
        script.contains("sc-assoc show plan.json --output json"),
        "{script}"
    );
    let kept = serde_yaml::to_string(&plan["artifacts"]["paths"]).unwrap();
    assert!(
        kept.contains("plan.json") && kept.contains("plan.txt"),
        "{kept}"
    );

    let apply = &ci["sc-assoc:apply"];
    assert_eq!(apply["needs"][0], "sc-assoc:plan");
    let rules = apply["rules"].as_sequence().expect("rules");
    assert!(rules.iter().all(|r| r["when"] == "manual"), "{rules:?}");
    assert!(apply["environment"]["name"].is_string());
    assert_eq!(
        apply["script"][0],
        "sc-assoc apply plan.json --no-progress --output json > report.json"
    );
    assert_eq!(apply["artifacts"]["paths"][0], "report.json");
    for promise in [
        "--out plan.json",
        "apply plan.json --output json > report.json",
        "refuses (exit 1, nothing written)",
    ] {
        assert!(comments.contains(promise), "the comments say `{promise}`");
    }

    let drift = &ci["sc-assoc:drift"];
    assert_eq!(
        drift["rules"][0]["if"],
        "$CI_PIPELINE_SOURCE == \"schedule\""
    );
    let script = serde_yaml::to_string(&drift["script"]).unwrap();
    assert!(
        script.contains("sc-assoc plan manifests/ --detailed-exitcode --output json"),
        "{script}"
    );
    // A scheduled pipeline runs neither plan-for-review nor apply.
    for job in ["sc-assoc:plan", "sc-assoc:apply"] {
        let rules = serde_yaml::to_string(&ci[job]["rules"]).unwrap();
        assert!(!rules.contains("schedule"), "{job}: {rules}");
    }
}

#[test]
fn the_drift_check_runs_on_a_schedule_and_fails_on_changes_naming_them() {
    let (_, workflow) = pipeline("drift-check.yml");
    let cron = workflow["on"]["schedule"][0]["cron"]
        .as_str()
        .expect("a cron");
    assert_eq!(cron.split_whitespace().count(), 5, "{cron}");
    let plan = action_step(&workflow, "drift", "plan");
    assert!(plan["args"].as_str().unwrap().contains("--output json"));
    let steps = workflow["jobs"]["drift"]["steps"].as_sequence().unwrap();
    let check = steps
        .iter()
        .find(|s| {
            s["if"]
                .as_str()
                .is_some_and(|c| c.contains("outputs.changes == 'true'"))
        })
        .expect("a step that runs when the plan has changes (exit 2)");
    let script = check["run"].as_str().unwrap();
    // The fields the next test proves plan's JSON has.
    for field in [
        ".summary.to_add",
        ".targets[]",
        ".in_sync == false",
        ".plan.summary.to_add",
    ] {
        assert!(script.contains(field), "reads `{field}`: {script}");
    }
    assert!(script.trim_end().ends_with("exit 1"), "{script}");
}

#[tokio::test]
async fn plan_json_has_the_fields_the_drift_check_reads() {
    let catalog = start_catalog(DEMO_SEED).await;
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/manifests/ids.yaml");
    let run = sc_assoc(
        Some(&catalog.endpoint()),
        &["plan", manifest.to_str().unwrap(), "--output", "json"],
    )
    .await;
    let summary = &run.json()["summary"];
    assert!(
        summary["to_add"].is_u64() && summary["to_remove"].is_u64(),
        "{run:?}"
    );
    // With `targets:`, the hub-and-spoke test above checks each section's `in_sync` and summary.
}
