//! `sc-assoc export`: the current associations as a manifest. What it prints validates, groups
//! artifacts that share a set of actions, carries names as comments, and applying it — even with
//! `--prune` — changes nothing.

use crate::support::{SMALL_SEED, sc_assoc, start_catalog, write_file};

const DEMO_SEED: &str = include_str!("../../examples/demo-catalog.yaml");

#[tokio::test]
async fn exporting_every_product_then_applying_the_export_makes_no_write_call() {
    let catalog = start_catalog(DEMO_SEED).await;
    let endpoint = catalog.endpoint();
    let export = sc_assoc(Some(&endpoint), &["export", "--all-products"]).await;
    assert_eq!(export.code, 0, "{export:?}");
    assert!(
        export
            .stdout
            .starts_with("# yaml-language-server: $schema=../schema/manifest.schema.json\n"),
        "{export:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "exported.yaml", &export.stdout);
    let path = manifest.to_str().unwrap();
    let valid = sc_assoc(None, &["validate", path]).await;
    assert_eq!(valid.code, 0, "{valid:?}");
    let declared = catalog.associations().len();
    assert_eq!(
        valid.stdout,
        format!("{declared} association(s) declared in 1 file(s): valid.\n")
    );

    catalog.reset_stats();
    let before = catalog.associations();
    for extra in [
        &[][..],
        &["--prune"][..],
        &["--prune", "--strategy", "batch"][..],
    ] {
        let mut args = vec!["apply", path, "--output", "json"];
        args.extend_from_slice(extra);
        let run = sc_assoc(Some(&endpoint), &args).await;
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(run.json()["calls"]["writes"], 0, "{extra:?}: {run:?}");
    }
    assert_eq!(
        catalog.stats().write_calls(),
        0,
        "{:?}",
        catalog.stats().calls
    );
    assert_eq!(catalog.associations(), before);
}

#[tokio::test]
async fn artifacts_with_the_same_actions_share_one_entry_with_names_as_comments() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nassociations:\n  - product: prod-web\n    artifacts: [pa-web-v1, pa-web-v2]\n    \
         actions: [act-restart, act-patch]\n  - {product: prod-db, artifact: pa-db-v2, action: \
         act-stop}\n",
    );
    let applied = sc_assoc(
        Some(&catalog.endpoint()),
        &["apply", manifest.to_str().unwrap(), "-q"],
    )
    .await;
    assert_eq!(applied.code, 0, "{applied:?}");

    let export = sc_assoc(
        Some(&catalog.endpoint()),
        &[
            "export",
            "--product",
            "Web Server",
            "--product",
            "prod-db",
            "--schema-ref",
            "https://example.com/manifest.schema.json",
        ],
    )
    .await;
    assert_eq!(export.code, 0, "{export:?}");
    assert_eq!(
        export.stdout,
        "# yaml-language-server: $schema=https://example.com/manifest.schema.json\n\
         # The current service-action associations of 2 product(s), exported by sc-assoc.\n\
         # Ids are what counts; names are comments. Applying this file changes nothing.\n\
         version: 1\n\
         associations:\n\
         \x20 - product: prod-web  # Web Server\n\
         \x20   artifacts:\n\
         \x20     - pa-web-v1  # v1\n\
         \x20     - pa-web-v2  # v2\n\
         \x20   actions:\n\
         \x20     - act-patch  # Patch\n\
         \x20     - act-restart  # Restart\n\
         \x20 - product: prod-db  # Database\n\
         \x20   artifacts:\n\
         \x20     - pa-db-v2  # v2\n\
         \x20   actions:\n\
         \x20     - act-stop  # Stop\n"
    );
    // The apply made four associations (Web Server v1 had Restart); export wrote nothing.
    assert_eq!(catalog.stats().write_calls(), 4);
}

#[tokio::test]
async fn export_needs_a_product_or_all_products_and_names_an_unknown_product() {
    let catalog = start_catalog(SMALL_SEED).await;
    let endpoint = catalog.endpoint();
    let neither = sc_assoc(Some(&endpoint), &["export"]).await;
    assert_eq!(neither.code, 1, "a usage error: {neither:?}");
    assert!(neither.stderr.contains("--product"), "{neither:?}");

    let unknown = sc_assoc(Some(&endpoint), &["export", "--product", "Web Srever"]).await;
    assert_eq!(unknown.code, 1, "{unknown:?}");
    assert_eq!(
        unknown.stderr,
        "error: cannot find product `Web Srever`\n  caused by: no product has the id or the name \
         `Web Srever`; did you mean `Web Server` (`prod-web`)?\n"
    );

    let empty = sc_assoc(Some(&endpoint), &["export", "--product", "prod-db"]).await;
    assert_eq!(empty.code, 1, "{empty:?}");
    assert!(empty.stderr.contains("nothing to export"), "{empty:?}");
}
