//! Names and artifact selectors, end to end through the binary: a manifest may say
//! `{name: "Web Server"}` wherever an id goes and `artifacts: all | active`; plan resolves them
//! against the catalog once per run, shows what each selector stood for, and refuses a name that
//! matches nothing or more than one thing before any write.

use crate::support::{SMALL_SEED, sc_assoc, start_catalog, write_file};
use serde_json::json;

/// Web Server has a deprecated v1, an active v2 and v3, and a v4 that is not active.
const VERSIONED_SEED: &str = r#"
products:
  - id: prod-web
    name: Web Server
    artifacts:
      - {id: pa-web-v1, name: v1, active: true, guidance: DEPRECATED}
      - {id: pa-web-v2, name: v2, active: true, guidance: DEFAULT}
      - {id: pa-web-v3, name: v3, active: true, guidance: DEFAULT}
      - {id: pa-web-v4, name: v4, active: false, guidance: DEFAULT}
  - id: prod-web-copy
    name: Web Server (copy)
    artifacts:
      - {id: pa-copy-v1, name: v1}
actions:
  - {id: act-restart, name: Restart}
  - {id: act-patch, name: Patch}
  - {id: act-restart-old, name: Restart}
"#;

#[tokio::test]
async fn names_resolve_to_the_same_plan_as_ids_and_apply() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let by_name = write_file(
        dir.path(),
        "names.yaml",
        "version: 1\nassociations:\n  - product: {name: Web Server}\n    artifacts: [{name: v1}, \
         {name: v2}]\n    actions: [{name: Restart}, {name: Patch}]\n",
    );
    let by_id = write_file(
        dir.path(),
        "ids.yaml",
        "version: 1\nassociations:\n  - product: prod-web\n    artifacts: [pa-web-v1, \
         pa-web-v2]\n    actions: [act-restart, act-patch]\n",
    );
    let endpoint = catalog.endpoint();
    let plan_of = |path: std::path::PathBuf| {
        let endpoint = endpoint.clone();
        async move {
            let run = sc_assoc(
                Some(&endpoint),
                &["plan", path.to_str().unwrap(), "--output", "json"],
            )
            .await;
            assert_eq!(run.code, 0, "{run:?}");
            run.json()
        }
    };
    let named = plan_of(by_name.clone()).await;
    let ided = plan_of(by_id.clone()).await;
    assert_eq!(named["to_add"], ided["to_add"]);
    assert_eq!(named["summary"]["to_add"], 3);

    let applied = sc_assoc(Some(&endpoint), &["apply", by_name.to_str().unwrap(), "-q"]).await;
    assert_eq!(applied.code, 0, "{applied:?}");
    let again = sc_assoc(Some(&endpoint), &["plan", by_id.to_str().unwrap()]).await;
    assert_eq!(
        again.stdout,
        "No changes. 4 association(s) already present.\n"
    );
}

#[tokio::test]
async fn a_name_that_matches_nothing_is_an_error_at_its_place_with_candidates_and_nothing_is_written()
 {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nassociations:\n  - product: {name: Web Srever}\n    artifact: v1\n    \
         action: {name: Restrat}\n  - product: prod-db\n    artifact: {name: v9}\n    \
         action: act-backup\n  - {product: prod-db, artifact: pa-db-v1, action: act-stop}\n",
    );
    for command in ["plan", "apply"] {
        let run = sc_assoc(
            Some(&catalog.endpoint()),
            &[command, manifest.to_str().unwrap()],
        )
        .await;
        assert_eq!(run.code, 1, "{run:?}");
        let file = manifest.display();
        assert_eq!(
            run.stderr,
            format!(
                "{file}:3:14: error: no product is named `Web Srever`; did you mean `Web Server` \
                 (`prod-web`)?\n\
                 {file}:5:13: error: no service action is named `Restrat`; did you mean \
                 `Restart` (`act-restart`)?\n\
                 {file}:7:15: error: product `prod-db` has no provisioning artifact named `v9`; \
                 candidates: `v1` (`pa-db-v1`), `v2` (`pa-db-v2`)\n\
                 3 errors\n\
                 error: the manifest is invalid; nothing was applied\n"
            )
        );
    }
    assert_eq!(catalog.stats().write_calls(), 0);
}

#[tokio::test]
async fn an_ambiguous_name_is_an_error_listing_every_id_it_matches() {
    let catalog = start_catalog(VERSIONED_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nassociations:\n  - {product: prod-web, artifact: pa-web-v2, action: {name: \
         Restart}}\n",
    );
    let run = sc_assoc(
        Some(&catalog.endpoint()),
        &["apply", manifest.to_str().unwrap()],
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "m.yaml:3:54: error: 2 service actions are named `Restart`: `act-restart`, \
             `act-restart-old`; write one of these ids instead"
        ),
        "{run:?}"
    );
    assert_eq!(catalog.stats().write_calls(), 0);
}

#[tokio::test]
async fn a_product_name_is_matched_exactly_not_as_a_substring() {
    // Full-text search for "Web Server" also finds "Web Server (copy)"; only the exact name counts.
    let catalog = start_catalog(VERSIONED_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nassociations:\n  - {product: {name: Web Server}, artifact: pa-web-v2, action: \
         act-patch}\n",
    );
    let run = sc_assoc(
        Some(&catalog.endpoint()),
        &["plan", manifest.to_str().unwrap(), "--output", "json"],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.json()["to_add"],
        json!([{"product": "prod-web", "artifact": "pa-web-v2", "action": "act-patch"}])
    );
}

#[tokio::test]
async fn each_distinct_name_is_looked_up_once_per_run() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("version: 1\nassociations:\n");
    for artifact in ["v1", "v2"] {
        for action in ["Restart", "Patch", "Backup"] {
            text.push_str(&format!(
                "  - {{product: {{name: Web Server}}, artifact: {{name: {artifact}}}, action: \
                 {{name: {action}}}}}\n"
            ));
        }
    }
    text.push_str("  - {product: {name: Database}, artifacts: all, action: {name: Stop}}\n");
    let manifest = write_file(dir.path(), "m.yaml", &text);
    let run = sc_assoc(
        Some(&catalog.endpoint()),
        &["plan", manifest.to_str().unwrap()],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let calls = catalog.stats().calls;
    assert_eq!(calls.get("SearchProductsAsAdmin"), Some(&2), "{calls:?}");
    assert_eq!(calls.get("ListServiceActions"), Some(&1), "{calls:?}");
    assert_eq!(
        calls.get("ListProvisioningArtifacts"),
        Some(&2),
        "{calls:?}"
    );
}

#[tokio::test]
async fn selectors_expand_to_the_current_versions_and_the_plan_shows_each_expansion() {
    let catalog = start_catalog(VERSIONED_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nassociations:\n  - product: {name: Web Server}\n    artifacts: active\n    \
         action: act-patch\n  - product: prod-web-copy\n    artifacts: all\n    action: \
         act-restart\n",
    );
    let path = manifest.to_str().unwrap();
    let run = sc_assoc(Some(&catalog.endpoint()), &["plan", path]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        format!(
            "Selectors expanded to the products' current provisioning artifacts:\n\
             \x20 {path}:4:16: prod-web (Web Server) artifacts: active → pa-web-v2 (v2), \
             pa-web-v3 (v3)\n\
             \x20 {path}:7:16: prod-web-copy artifacts: all → pa-copy-v1 (v1)\n\
             \n\
             sc-assoc will associate these service actions:\n\n\
             \x20 Web Server (prod-web)\n\
             \x20   v2 (pa-web-v2)\n\
             \x20     + act-patch\n\
             \x20   v3 (pa-web-v3)\n\
             \x20     + act-patch\n\
             \x20 prod-web-copy\n\
             \x20   v1 (pa-copy-v1)\n\
             \x20     + act-restart\n\
             \n\
             Plan: 3 to add, 0 already present.\n"
        )
    );
    let json = sc_assoc(
        Some(&catalog.endpoint()),
        &["plan", path, "--output", "json"],
    )
    .await;
    assert_eq!(
        json.json()["selectors"][0],
        json!({
            "at": format!("{path}:4:16"),
            "product": "prod-web",
            "product_name": "Web Server",
            "selector": "active",
            "artifacts": [{"id": "pa-web-v2", "name": "v2"}, {"id": "pa-web-v3", "name": "v3"}]
        })
    );
}

#[tokio::test]
async fn the_actions_quota_is_checked_again_once_selectors_are_expanded() {
    let mut seed = String::from(SMALL_SEED);
    let extra: String = (0..26)
        .map(|i| format!("  - {{id: act-x{i:02}, name: X{i}}}\n"))
        .collect();
    seed = seed.replace("actions:\n", &format!("actions:\n{extra}"));
    let catalog = start_catalog(&seed).await;
    let dir = tempfile::tempdir().unwrap();
    let actions: Vec<String> = (0..26).map(|i| format!("act-x{i:02}")).collect();
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        &format!(
            "version: 1\nassociations:\n  - product: prod-db\n    artifacts: all\n    actions: \
             [{}]\n",
            actions.join(", ")
        ),
    );
    let run = sc_assoc(
        Some(&catalog.endpoint()),
        &["apply", manifest.to_str().unwrap()],
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "m.yaml:4:16: error: artifact `pa-db-v1` of product `prod-db` is given 26 service \
             actions; AWS allows at most 25 per provisioning artifact"
        ),
        "{run:?}"
    );
    assert_eq!(catalog.stats().write_calls(), 0);
}

#[tokio::test]
async fn validate_checks_names_and_selectors_offline_and_counts_them_apart() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_file(
        dir.path(),
        "good.yaml",
        "version: 1\nassociations:\n  - {product: p, artifact: a, action: x}\n  - product: {name: \
         Web Server}\n    artifacts: active\n    actions: [{name: Restart}]\n",
    );
    let run = sc_assoc(None, &["validate", good.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "1 association(s) declared with ids, and 1 entry with names or selectors that plan \
         resolves, in 1 file(s): valid.\n"
    );
    let bad = write_file(
        dir.path(),
        "bad.yaml",
        "version: 1\nassociations:\n  - product: {name: \"\"}\n    artifacts: newest\n    \
         action: {name: Restart, id: act-1}\n",
    );
    let run = sc_assoc(None, &["validate", bad.to_str().unwrap()]).await;
    assert_eq!(run.code, 1, "{run:?}");
    let file = bad.display();
    assert_eq!(
        run.stderr,
        format!(
            "{file}:3:21: error: `name` must be a non-empty string, found string ``\n\
             {file}:4:16: error: `artifacts` must be a list of ids, `all` or `active`, found \
             string `newest`; for one artifact write `artifact:`\n\
             {file}:5:13: error: `action` must be an id string or `{{name: ...}}`, found a \
             mapping with key `id`\n\
             3 errors\n\
             error: the manifest is invalid\n"
        )
    );
}
