//! Service actions as code (`actions:` in the manifest), as a user runs it: the binary against
//! the local catalog with listings that lag the writes. Every rule is checked offline at its
//! place; a plan creates, updates (field by field), adopts and deletes actions before it
//! associates them; an association may name an action the same run creates; a second plan finds
//! nothing to do; a create's token never makes a second action, and one that replays a deleted
//! action is healed; several actions of one name, and the region's quota, stop the plan before
//! any write; deleting an action asks as a removal does.

use crate::faults::calls_of;
use crate::support::{Run, accounts_catalog, sc_assoc, start_catalog_with, write_file};
use crate::targets::as_hub;
use sc_assoc::local::{Faults, LocalCatalog};
use std::fmt::Write;
use std::time::Duration;

const CREATE: &str = "CreateServiceAction";
const UPDATE: &str = "UpdateServiceAction";
const DELETE: &str = "DeleteServiceAction";

/// One product of two versions; `Old` associated with both, `Patch` at version 1 of its
/// document, and `extra` more actions.
fn seed(extra: usize) -> String {
    let mut seed = String::from(
        "products:\n\
         \x20 - {id: prod-web, name: Web, artifacts: [{id: pa-web-1, name: v1}, {id: pa-web-2, name: v2}]}\n\
         actions:\n\
         \x20 - {id: act-old, name: Old, description: retired}\n\
         \x20 - {id: act-patch, name: Patch, definition: {Name: AWS-RunPatchBaseline, Version: \"1\"}}\n",
    );
    for n in 0..extra {
        let _ = writeln!(seed, "  - {{id: act-x{n:03}, name: X{n:03}}}");
    }
    seed.push_str(
        "associations:\n\
         \x20 - {product: prod-web, artifact: pa-web-1, action: act-old}\n\
         \x20 - {product: prod-web, artifact: pa-web-2, action: act-old}\n",
    );
    seed
}

/// Creates `Restart` (role per account and region, one parameter), moves `Patch` to version 2,
/// deletes `Old`, and gives both versions `Restart` and `Patch` by name.
const MANIFEST: &str = r#"version: 1
actions:
  - name: Restart
    description: Restart the instance
    document: AWS-RestartEC2Instance
    version: 1
    assume_role: "arn:aws:iam::{account}:role/SCActions-{region}"
    parameters:
      - {name: InstanceId, type: TARGET}
  - name: Patch
    document: AWS-RunPatchBaseline
    version: 2
  - name: Old
    absent: true
associations:
  - {product: {name: Web}, artifacts: all, actions: [{name: Restart}, {name: Patch}]}
"#;

fn lagging() -> Faults {
    Faults {
        listing_lag: Duration::from_millis(800),
        listing_lag_jitter: Duration::from_millis(400),
        rng_seed: 5,
        ..Faults::default()
    }
}

async fn run(catalog: &LocalCatalog, args: &[&str]) -> Run {
    sc_assoc(Some(&catalog.endpoint()), args).await
}

fn named<'a>(
    actions: &'a [(String, String, std::collections::BTreeMap<String, String>)],
    name: &str,
) -> Vec<&'a (String, String, std::collections::BTreeMap<String, String>)> {
    actions.iter().filter(|(_, n, _)| n == name).collect()
}

#[tokio::test]
async fn every_rule_is_checked_offline_at_its_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = write_file(
        dir.path(),
        "bad.yaml",
        "version: 1\n\
         actions:\n\
         \x20 - name: has space\n\
         \x20   document: AWS-RestartEC2Instance\n\
         \x20   version: 1\n\
         \x20 - name: NoDocument\n\
         \x20   version: 1\n\
         \x20 - name: BadRole\n\
         \x20   document: D\n\
         \x20   version: 1\n\
         \x20   assume_role: \"arn:aws:iam::{acount}:role/X\"\n\
         \x20 - name: BadType\n\
         \x20   document: D\n\
         \x20   version: 1\n\
         \x20   parameters: [{name: P, type: TEXT}]\n\
         \x20 - name: Twice\n\
         \x20   absent: true\n\
         \x20 - name: Twice\n\
         \x20   absent: true\n",
    );
    let run = sc_assoc(None, &["validate", bad.to_str().expect("utf-8")]).await;
    assert_ne!(run.code, 0, "{run:?}");
    let file = bad.display().to_string();
    for (place, words) in [
        ("3:11", "invalid service action name `has space`"),
        ("6:5", "missing `document`"),
        (
            "11:18",
            "`assume_role` must be `LAUNCH_ROLE` or an IAM role ARN",
        ),
        ("15:34", "a parameter's `type` is `TARGET` or `TEXT_VALUE`"),
        ("18:11", "service action `Twice` is declared twice"),
    ] {
        let line = format!("{file}:{place}: error: {words}");
        assert!(run.stderr.contains(&line), "{line}\n{}", run.stderr);
    }

    // Two files may declare one action alike, not differently; an association cannot name an
    // action the run deletes.
    let first = write_file(
        dir.path(),
        "a.yaml",
        "version: 1\nactions:\n  - {name: Restart, document: D, version: 1}\n  - {name: Gone, absent: true}\n",
    );
    let second = write_file(
        dir.path(),
        "b.yaml",
        "version: 1\nactions:\n  - {name: Restart, document: D, version: 2}\n\
         associations:\n  - {product: prod-web, artifact: pa-web-1, action: {name: Gone}}\n",
    );
    let run = sc_assoc(
        None,
        &[
            "validate",
            first.to_str().expect("utf-8"),
            second.to_str().expect("utf-8"),
        ],
    )
    .await;
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "{}:3:12: error: service action `Restart` is declared differently at {}:3:12",
            second.display(),
            first.display()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("service action `Gone` is declared `absent: true`"),
        "{}",
        run.stderr
    );

    // A file may declare only actions.
    let only = write_file(
        dir.path(),
        "only.yaml",
        "version: 1\nactions:\n  - {name: Restart, document: D, version: \"$LATEST\", assume_role: LAUNCH_ROLE}\n",
    );
    let run = sc_assoc(None, &["validate", only.to_str().expect("utf-8")]).await;
    assert_eq!(run.code, 0, "{run:?}");
}

#[tokio::test]
async fn one_apply_creates_updates_deletes_and_associates_and_a_second_plan_finds_nothing() {
    let catalog = start_catalog_with(&seed(0), lagging()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = write_file(dir.path(), "m.yaml", MANIFEST);
    let manifest = manifest.to_str().expect("utf-8");

    let plan = run(&catalog, &["plan", manifest]).await;
    assert_eq!(plan.code, 0, "{plan:?}");
    for line in [
        "  - Old (act-old), after removing its 2 association(s) listed below",
        "  ~ Patch (act-patch)\n      version: `1` → `2`",
        "  + Restart (new): AWS-RestartEC2Instance version 1, role arn:aws:iam::",
        "      + Restart (new)",
        "      - Old (act-old)",
        "Actions: 1 to create, 1 to update, 1 to delete, 0 in sync.",
        "Plan: 4 to add, 2 to remove, 0 already present.",
    ] {
        assert!(plan.stdout.contains(line), "{line}\n{}", plan.stdout);
    }

    let apply = run(&catalog, &["apply", manifest, "--yes", "--output", "json"]).await;
    assert_eq!(apply.code, 0, "{apply:?}");
    let report = apply.json();
    let statuses: Vec<(String, String)> = report["actions"]
        .as_array()
        .expect("actions reported")
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap_or_default().to_string(),
                a["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("Old".to_string(), "deleted".to_string()),
            ("Patch".to_string(), "updated".to_string()),
            ("Restart".to_string(), "created".to_string()),
        ],
        "{report:#}"
    );
    assert_eq!(report["summary"]["created"], 4, "{report:#}");
    assert_eq!(report["summary"]["removed"], 2, "{report:#}");

    let actions = catalog.actions_in(None);
    assert!(named(&actions, "Old").is_empty(), "{actions:?}");
    let restart = named(&actions, "Restart");
    assert_eq!(restart.len(), 1, "{actions:?}");
    let (restart_id, _, definition) = restart[0];
    assert_eq!(
        definition.get("Parameters").map(String::as_str),
        Some(r#"[{"Name":"InstanceId","Type":"TARGET"}]"#)
    );
    let role = definition.get("AssumeRole").expect("a role");
    assert!(
        role.starts_with("arn:aws:iam::") && role.ends_with(":role/SCActions-us-east-1"),
        "{role}"
    );
    assert!(!role.contains('{'), "{role}");
    assert_eq!(
        named(&actions, "Patch")[0]
            .2
            .get("Version")
            .map(String::as_str),
        Some("2")
    );
    let associations = catalog.associations();
    for artifact in ["pa-web-1", "pa-web-2"] {
        for action in [restart_id.as_str(), "act-patch"] {
            assert!(
                associations
                    .iter()
                    .any(|t| t.artifact == artifact && t.action == action),
                "{artifact}/{action}: {associations:?}"
            );
        }
    }

    // Right after: the listings lag, and still nothing is left to do.
    let again = run(&catalog, &["plan", manifest, "--detailed-exitcode"]).await;
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again.stdout.contains(
            "Actions: 0 to create, 0 to update, 0 to delete, 2 in sync, 1 already absent."
        ),
        "{}",
        again.stdout
    );
}

#[tokio::test]
async fn an_action_with_the_declared_name_and_definition_is_adopted_without_a_write() {
    let catalog = start_catalog_with(&seed(0), lagging()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    // `Patch` as the catalog has it: no description, no parameters, version "1" written as a
    // number; a parameters list given as `[]` is the same as none.
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nactions:\n  - {name: Patch, document: AWS-RunPatchBaseline, version: 1, parameters: []}\n",
    );
    let run_ = run(
        &catalog,
        &[
            "apply",
            manifest.to_str().expect("utf-8"),
            "--output",
            "json",
        ],
    )
    .await;
    assert_eq!(run_.code, 0, "{run_:?}");
    assert_eq!(run_.json()["actions"][0]["status"], "in_sync");
    assert_eq!(calls_of(&catalog, CREATE) + calls_of(&catalog, UPDATE), 0);
}

#[tokio::test]
async fn a_lost_reply_or_a_rerun_inside_the_lag_never_makes_a_second_action() {
    // Listings a few seconds behind: a re-run right after the first does not see the action it
    // made, plans to create it again, and the token answers with the same action.
    let faults = Faults {
        listing_lag: Duration::from_secs(3),
        lost_reply_rate: 0.5,
        rng_seed: 11,
        ..Faults::default()
    };
    let catalog = start_catalog_with(&seed(0), faults).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nactions:\n  - {name: Restart, document: AWS-RestartEC2Instance, version: 1}\n",
    );
    let manifest = manifest.to_str().expect("utf-8");
    for _ in 0..2 {
        let apply = run(&catalog, &["apply", manifest, "--settle", "0"]).await;
        assert_eq!(apply.code, 0, "{apply:?}");
    }
    let actions = catalog.actions_in(None);
    assert_eq!(named(&actions, "Restart").len(), 1, "{actions:?}");
    assert!(calls_of(&catalog, CREATE) >= 2, "each run sent its create");
}

#[tokio::test]
async fn a_create_whose_token_replays_a_deleted_action_is_healed() {
    let catalog = start_catalog_with(&seed(0), Faults::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nactions:\n  - {name: Restart, document: AWS-RestartEC2Instance, version: 1}\n",
    );
    let manifest = manifest.to_str().expect("utf-8");
    assert_eq!(run(&catalog, &["apply", manifest]).await.code, 0);
    let first = named(&catalog.actions_in(None), "Restart")[0].0.clone();
    assert!(catalog.delete_action_out_of_band(None, &first));

    // The same declaration sends the same token: AWS answers with the deleted action.
    let apply = run(&catalog, &["apply", manifest, "--output", "json"]).await;
    assert_eq!(apply.code, 0, "{apply:?}");
    let outcome = &apply.json()["actions"][0];
    assert_eq!(outcome["status"], "healed", "{outcome:#}");
    let actions = catalog.actions_in(None);
    let restart = named(&actions, "Restart");
    assert_eq!(restart.len(), 1, "{actions:?}");
    assert_ne!(restart[0].0, first);
    assert_eq!(outcome["id"], restart[0].0.as_str());

    // And a third run, which replays the healing token, makes no other.
    let again = run(&catalog, &["apply", manifest]).await;
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(named(&catalog.actions_in(None), "Restart").len(), 1);
}

#[tokio::test]
async fn several_actions_of_one_name_or_a_full_region_stop_the_plan_before_any_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut twice = seed(0);
    twice = twice.replace(
        "actions:\n",
        "actions:\n  - {id: act-restart-a, name: Restart}\n  - {id: act-restart-b, name: Restart}\n",
    );
    let catalog = start_catalog_with(&twice, Faults::default()).await;
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nactions:\n  - {name: Restart, document: D, version: 1}\n  - {name: New, document: D, version: 1}\n",
    );
    let manifest = manifest.to_str().expect("utf-8");
    let apply = run(&catalog, &["apply", manifest]).await;
    assert_ne!(apply.code, 0, "{apply:?}");
    assert!(
        apply.stderr.contains(&format!(
            "{manifest}:3:12: error: 2 service actions are named `Restart` in this target (act-restart-a, act-restart-b)"
        )),
        "{}",
        apply.stderr
    );
    assert_eq!(calls_of(&catalog, CREATE), 0);

    // 198 actions there: creating 3 more would pass the region's 200.
    let full = start_catalog_with(&seed(196), Faults::default()).await;
    let manifest = write_file(
        dir.path(),
        "full.yaml",
        "version: 1\nactions:\n  - {name: A, document: D, version: 1}\n  - {name: B, document: D, version: 1}\n  - {name: C, document: D, version: 1}\n",
    );
    let apply = run(&full, &["apply", manifest.to_str().expect("utf-8")]).await;
    assert_ne!(apply.code, 0, "{apply:?}");
    assert!(
        apply
            .stderr
            .contains("this target has 198 service actions and the manifest creates 3 more; AWS allows at most 200"),
        "{}",
        apply.stderr
    );
    assert_eq!(calls_of(&full, CREATE), 0);
}

#[tokio::test]
async fn deleting_an_action_is_a_removal_off_a_terminal_it_needs_yes() {
    let catalog = start_catalog_with(&seed(0), Faults::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nactions:\n  - {name: Old, absent: true}\n",
    );
    let manifest = manifest.to_str().expect("utf-8");
    let refused = run(&catalog, &["apply", manifest]).await;
    assert_ne!(refused.code, 0, "{refused:?}");
    assert!(
        refused.stderr.contains(
            "the plan removes 2 association(s) and 1 service action(s), and no one is at a terminal"
        ),
        "{}",
        refused.stderr
    );
    assert_eq!(calls_of(&catalog, DELETE), 0);
    assert_eq!(catalog.associations().len(), 2);

    let apply = run(&catalog, &["apply", manifest, "--yes"]).await;
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(named(&catalog.actions_in(None), "Old").is_empty());
    assert!(catalog.associations().is_empty());
}

#[tokio::test]
async fn each_target_gets_the_actions_with_its_own_account_in_the_role() {
    let catalog = accounts_catalog().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = write_file(
        dir.path(),
        "fleet.yaml",
        r#"version: 1
targets:
  - accounts: ["111111111111", "222222222222"]
    regions: [us-east-1]
    role: arn:aws:iam::{account}:role/ServiceCatalogAdmin
actions:
  - name: Patch
    document: AWS-RunPatchBaseline
    version: 1
    assume_role: "arn:aws:iam::{account}:role/Patcher"
associations:
  - {product: {name: Web Server}, artifacts: all, actions: [{name: Patch}]}
"#,
    );
    let apply = as_hub(
        &catalog,
        &[
            "apply",
            manifest.to_str().expect("utf-8"),
            "--output",
            "json",
        ],
    )
    .await;
    assert_eq!(apply.code, 0, "{apply:?}");
    for account in ["111111111111", "222222222222"] {
        let actions = catalog.actions_in(Some((account, "us-east-1")));
        let patch = named(&actions, "Patch");
        assert_eq!(patch.len(), 1, "{account}: {actions:?}");
        assert_eq!(
            patch[0].2.get("AssumeRole").map(String::as_str),
            Some(format!("arn:aws:iam::{account}:role/Patcher").as_str())
        );
        let associations = catalog
            .associations_in(account, "us-east-1")
            .expect("a target");
        assert!(
            associations.iter().any(|t| t.action == patch[0].0),
            "{account}: {associations:?}"
        );
    }
}

#[tokio::test]
async fn a_saved_plan_carries_the_action_changes_and_is_refused_when_one_moved() {
    let catalog = start_catalog_with(&seed(0), lagging()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = write_file(dir.path(), "m.yaml", MANIFEST);
    let manifest = manifest.to_str().expect("utf-8");
    let plan_file = dir.path().join("plan.json");
    let plan_file = plan_file.to_str().expect("utf-8");

    let plan = run(&catalog, &["plan", manifest, "--out", plan_file]).await;
    assert_eq!(plan.code, 0, "{plan:?}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(plan_file).expect("written")).expect("JSON");
    let steps: Vec<&str> = saved["targets"][0]["actions"]
        .as_array()
        .expect("actions saved")
        .iter()
        .map(|a| a["step"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(steps, ["delete", "update", "create"], "{saved:#}");

    let apply = run(&catalog, &["apply", plan_file, "--output", "json"]).await;
    assert_eq!(apply.code, 0, "{apply:?}");
    let actions = catalog.actions_in(None);
    assert_eq!(named(&actions, "Restart").len(), 1, "{actions:?}");
    assert!(named(&actions, "Old").is_empty(), "{actions:?}");
    assert_eq!(
        catalog
            .associations()
            .iter()
            .filter(|t| t.action == named(&actions, "Restart")[0].0)
            .count(),
        2
    );

    // A plan whose action to delete went away behind its back is refused before any write.
    let fresh = start_catalog_with(&seed(0), Faults::default()).await;
    let plan = run(&fresh, &["plan", manifest, "--out", plan_file]).await;
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(fresh.delete_action_out_of_band(None, "act-old"));
    let refused = run(&fresh, &["apply", plan_file]).await;
    assert_ne!(refused.code, 0, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("service action `Old` changed since the plan was made: act-old was deleted"),
        "{}",
        refused.stderr
    );
    assert_eq!(calls_of(&fresh, CREATE) + calls_of(&fresh, UPDATE), 0);
}

#[tokio::test]
async fn the_hub_exported_by_name_and_applied_to_the_spokes_reproduces_its_actions() {
    let catalog = accounts_catalog().await;
    let dir = tempfile::tempdir().expect("tempdir");
    // The hub gets a `Patch` action of its own (role in its own account), on its Web Server v1.
    let hub = write_file(
        dir.path(),
        "hub.yaml",
        r#"version: 1
actions:
  - name: Patch
    description: "Patch now: \"critical\" only"
    document: AWS-RunPatchBaseline
    version: 3
    assume_role: "arn:aws:iam::111111111111:role/Patcher"
    parameters: [{name: InstanceId, type: TARGET}, {name: Reason, type: TEXT_VALUE}]
associations:
  - {product: {name: Web Server}, artifact: {name: v1}, actions: [{name: Patch}, {name: Restart}]}
"#,
    );
    let apply = as_hub(&catalog, &["apply", hub.to_str().expect("utf-8")]).await;
    assert_eq!(apply.code, 0, "{apply:?}");

    let export = as_hub(&catalog, &["export", "--all-products", "--by-name"]).await;
    assert_eq!(export.code, 0, "{export:?}");
    let text = &export.stdout;
    for line in [
        "  - name: \"Patch\"\n    description: \"Patch now: \\\"critical\\\" only\"\n    document: \"AWS-RunPatchBaseline\"\n    version: \"3\"\n    assume_role: \"arn:aws:iam::{account}:role/Patcher\"\n    parameters:\n      - {name: \"InstanceId\", type: \"TARGET\"}\n      - {name: \"Reason\", type: \"TEXT_VALUE\"}\n",
        "  - product: {name: \"Web Server\"}\n    artifacts:\n      - {name: \"v1\"}\n    actions:\n",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    assert!(
        !text.contains("prod-hub") && !text.contains("act-hub"),
        "{text}"
    );

    // The same file, with the spokes as targets.
    let spokes = text.replacen(
        "version: 1\n",
        "version: 1\ntargets:\n  - accounts: [\"222222222222\"]\n    regions: [us-east-1]\n    role: arn:aws:iam::{account}:role/ServiceCatalogAdmin\n  - accounts: [\"333333333333\"]\n    regions: [eu-west-1]\n    role: arn:aws:iam::{account}:role/ServiceCatalogAdmin\n    external_id: hub-7f3a\n",
        1,
    );
    let spokes = write_file(dir.path(), "spokes.yaml", &spokes);
    let spokes = spokes.to_str().expect("utf-8");
    let apply = as_hub(&catalog, &["apply", spokes]).await;
    assert_eq!(apply.code, 0, "{apply:?}");
    for (account, region, v1) in [
        ("222222222222", "us-east-1", "pa-a-web-v1"),
        ("333333333333", "eu-west-1", "pa-b-web-v1"),
    ] {
        let actions = catalog.actions_in(Some((account, region)));
        let patch = named(&actions, "Patch");
        assert_eq!(patch.len(), 1, "{account}: {actions:?}");
        assert_eq!(
            patch[0].2.get("AssumeRole").map(String::as_str),
            Some(format!("arn:aws:iam::{account}:role/Patcher").as_str()),
        );
        let restart = named(&actions, "Restart");
        assert_eq!(
            restart.len(),
            1,
            "the spoke's own Restart is adopted: {actions:?}"
        );
        let associations = catalog.associations_in(account, region).expect("a target");
        for action in [&patch[0].0, &restart[0].0] {
            assert!(
                associations
                    .iter()
                    .any(|t| t.artifact == v1 && &t.action == action),
                "{account}: {associations:?}"
            );
        }
    }
    // And nothing is left to do anywhere.
    let again = as_hub(&catalog, &["plan", spokes, "--detailed-exitcode"]).await;
    assert_eq!(again.code, 0, "{again:?}");
}
