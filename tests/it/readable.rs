//! A plan a reviewer can read (issue 13): changes grouped by product, then artifact, each named as
//! the catalog names it with its id beside (the id alone where resolution learned no name), `+`
//! lines green and `-` lines red when colour is on. Colour follows `--color auto|always|never`:
//! `auto` only on a terminal without `NO_COLOR` or `TERM=dumb`, `always` even with `NO_COLOR`;
//! JSON is never coloured.

use crate::support::{
    Run, TEST_AWS_ENV, client, sc_assoc, sc_assoc_env, start_catalog, write_file,
};
use sc_assoc::local::{CatalogConfig, SeedFile};
use sc_assoc::resolve::{Names, resolve};
use std::path::Path;

/// Web Server v1 carries Restart (declared below) and Stop (declared nowhere: `--prune` plans to
/// remove it); nothing else is associated.
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
      - {id: pa-db-v2, name: v2}
actions:
  - {id: act-restart, name: Restart}
  - {id: act-patch, name: Patch}
  - {id: act-backup, name: Backup}
  - {id: act-stop, name: Stop}
associations:
  - {product: prod-web, artifact: pa-web-v1, action: act-restart}
  - {product: prod-web, artifact: pa-web-v1, action: act-stop}
"#;

/// Every reference by name, and one selector.
const BY_NAME: &str = "version: 1\nassociations:\n  - product: {name: Web Server}\n    \
                       artifacts: [{name: v1}, {name: v2}]\n    actions: [{name: Restart}, \
                       {name: Patch}]\n  - product: {name: Database}\n    artifacts: all\n    \
                       action: {name: Backup}\n";

/// The same associations in ids.
const BY_ID: &str = "version: 1\nassociations:\n  - product: prod-web\n    artifacts: [pa-web-v1, \
                     pa-web-v2]\n    actions: [act-restart, act-patch]\n  - product: prod-db\n    \
                     artifacts: [pa-db-v1, pa-db-v2]\n    action: act-backup\n";

const ESC: char = '\x1b';

/// The library side: `Resolved::names` holds what the lookups returned, including names the
/// manifest never wrote (the actions and versions around the ones it named), and nothing for a
/// manifest of ids, which makes no lookup.
#[tokio::test]
async fn resolution_keeps_the_names_its_lookups_returned() {
    let catalog = start_catalog(SEED).await;
    let catalog_client = client(&catalog).await;
    let by_name = sc_assoc::manifest::parse_str(Path::new("m.yaml"), BY_NAME).unwrap();
    let names = resolve(&catalog_client, &by_name, 4).await.unwrap().names;
    assert_eq!(names.product("prod-web"), Some("Web Server"));
    assert_eq!(names.product("prod-db"), Some("Database"));
    assert_eq!(names.artifact("prod-web", "pa-web-v2"), Some("v2"));
    assert_eq!(names.artifact("prod-db", "pa-db-v1"), Some("v1"));
    assert_eq!(
        names.artifact("prod-db", "pa-web-v1"),
        None,
        "within its product"
    );
    assert_eq!(
        names.action("act-stop"),
        Some("Stop"),
        "listed, though not declared"
    );
    assert_eq!(names.product("prod-nosuch"), None);

    let by_id = sc_assoc::manifest::parse_str(Path::new("m.yaml"), BY_ID).unwrap();
    let resolved = resolve(&catalog_client, &by_id, 4).await.unwrap();
    assert_eq!(resolved.names, Names::default());
}

#[tokio::test]
async fn a_manifest_by_names_plans_each_change_by_name_with_its_id_under_its_product_and_artifact()
{
    let catalog = start_catalog(SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", BY_NAME);
    let path = manifest.to_str().unwrap();

    let run = sc_assoc(Some(&catalog.endpoint()), &["plan", path]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        format!(
            "Selectors expanded to the products' current provisioning artifacts:\n\
             \x20 {path}:7:16: prod-db (Database) artifacts: all → pa-db-v1 (v1), pa-db-v2 (v2)\n\
             \n\
             sc-assoc will associate these service actions:\n\
             \n\
             \x20 Database (prod-db)\n\
             \x20   v1 (pa-db-v1)\n\
             \x20     + Backup (act-backup)\n\
             \x20   v2 (pa-db-v2)\n\
             \x20     + Backup (act-backup)\n\
             \x20 Web Server (prod-web)\n\
             \x20   v1 (pa-web-v1)\n\
             \x20     + Patch (act-patch)\n\
             \x20   v2 (pa-web-v2)\n\
             \x20     + Patch (act-patch)\n\
             \x20     + Restart (act-restart)\n\
             \n\
             Plan: 5 to add, 1 already present.\n"
        )
    );
}

#[tokio::test]
async fn a_manifest_of_ids_plans_the_same_tree_in_ids_without_searching_for_names() {
    let catalog = start_catalog(SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", BY_ID);

    let run = sc_assoc(
        Some(&catalog.endpoint()),
        &["plan", manifest.to_str().unwrap()],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "sc-assoc will associate these service actions:\n\
         \n\
         \x20 prod-db\n\
         \x20   pa-db-v1\n\
         \x20     + act-backup\n\
         \x20   pa-db-v2\n\
         \x20     + act-backup\n\
         \x20 prod-web\n\
         \x20   pa-web-v1\n\
         \x20     + act-patch\n\
         \x20   pa-web-v2\n\
         \x20     + act-patch\n\
         \x20     + act-restart\n\
         \n\
         Plan: 5 to add, 1 already present.\n"
    );
    let calls = catalog.stats().calls;
    assert_eq!(calls.get("SearchProductsAsAdmin"), Some(&0), "{calls:?}");
}

#[tokio::test]
async fn color_always_paints_additions_green_and_removals_red_even_with_no_color_set() {
    let catalog = start_catalog(SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", BY_NAME);
    let path = manifest.to_str().unwrap();

    // The test environment sets NO_COLOR=1: the explicit flag wins.
    let run = sc_assoc(
        Some(&catalog.endpoint()),
        &["plan", path, "--prune", "--color", "always"],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let web_v1 = "\x20 Web Server (prod-web)\n\
                  \x20   v1 (pa-web-v1)\n\
                  \x20     \x1b[32m+ Patch (act-patch)\x1b[0m\n\
                  \x20     \x1b[31m- Stop (act-stop)\x1b[0m\n";
    assert!(run.stdout.contains(web_v1), "{web_v1}\n{run:?}");
    // Only the change lines are painted: headings, selectors and the summary stay plain.
    for line in run.stdout.lines().filter(|l| l.contains(ESC)) {
        let change = line.trim_start();
        assert!(
            change.starts_with("\x1b[32m+ ") || change.starts_with("\x1b[31m- "),
            "{line:?}"
        );
        assert!(change.ends_with("\x1b[0m"), "{line:?}");
    }
    assert_eq!(run.stdout.matches("\x1b[32m").count(), 5, "{run:?}");
    assert!(
        run.stdout
            .ends_with("\nPlan: 5 to add, 1 to remove, 1 already present.\n")
    );
}

#[tokio::test]
async fn never_no_color_and_a_pipe_leave_stdout_without_an_escape_byte() {
    let catalog = start_catalog(SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", BY_NAME);
    let path = manifest.to_str().unwrap();
    let endpoint = catalog.endpoint();
    let colour_allowed = [("NO_COLOR", ""), ("TERM", "xterm-256color")];

    let runs: [(&str, Run); 4] = [
        (
            "--color never",
            sc_assoc_env(
                Some(&endpoint),
                &["plan", path, "--prune", "--color", "never"],
                &colour_allowed,
            )
            .await,
        ),
        (
            "NO_COLOR=1",
            sc_assoc(Some(&endpoint), &["plan", path, "--prune"]).await,
        ),
        (
            "the default, into a pipe",
            sc_assoc_env(Some(&endpoint), &["plan", path, "--prune"], &colour_allowed).await,
        ),
        (
            "--color auto, into a pipe",
            sc_assoc_env(
                Some(&endpoint),
                &["plan", path, "--prune", "--color", "auto"],
                &colour_allowed,
            )
            .await,
        ),
    ];
    for (how, run) in runs {
        assert_eq!(run.code, 0, "{how}: {run:?}");
        assert!(
            run.stdout.contains("      + Patch (act-patch)\n"),
            "{how}: {run:?}"
        );
        assert!(
            run.stdout.contains("      - Stop (act-stop)\n"),
            "{how}: {run:?}"
        );
        assert!(!run.stdout.contains(ESC), "{how}: {run:?}");
    }
}

#[tokio::test]
async fn json_is_never_coloured_even_with_color_always() {
    let catalog = start_catalog(SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", BY_NAME);
    let path = manifest.to_str().unwrap();

    for command in [vec!["plan"], vec!["apply", "--yes"]] {
        let mut args = command.clone();
        args.extend([path, "--prune", "--color", "always", "--output", "json"]);
        let run = sc_assoc(Some(&catalog.endpoint()), &args).await;
        let command = command[0];
        assert_eq!(run.code, 0, "{command}: {run:?}");
        assert!(!run.stdout.contains(ESC), "{command}: {run:?}");
        assert!(run.json().is_object(), "{command}: {run:?}");
    }
}

/// Each target's section of a `targets:` run is the same plan text, with that target's names.
#[tokio::test]
async fn a_targets_run_plans_each_target_by_its_own_names_and_paints_it() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/catalog/accounts.yaml"
    );
    let file = SeedFile::from_file(std::path::Path::new(fixture)).expect("fixture parses");
    let catalog = crate::support::start_config(CatalogConfig::from_seed_file(file)).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(
        dir.path(),
        "fleet.yaml",
        "version: 1\ntargets:\n  - accounts: [\"222222222222\"]\n    regions: [us-east-1]\n    \
         role: arn:aws:iam::{account}:role/ServiceCatalogAdmin\nassociations:\n  - product: \
         {name: Web Server}\n    artifacts: all\n    action: {name: Restart}\n",
    );
    let hub = [
        ("AWS_ACCESS_KEY_ID", "AKIDHUB"),
        ("AWS_SECRET_ACCESS_KEY", "hub-secret"),
    ];
    let run = sc_assoc_env(
        Some(&catalog.endpoint()),
        &["plan", manifest.to_str().unwrap(), "--color", "always"],
        &hub,
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let section = "\x20 Web Server (prod-a-web)\n\
                   \x20   v1 (pa-a-web-v1)\n\
                   \x20     \x1b[32m+ Restart (act-a-restart)\x1b[0m\n\
                   \x20   v2 (pa-a-web-v2)\n\
                   \x20     \x1b[32m+ Restart (act-a-restart)\x1b[0m\n";
    assert!(run.stdout.contains(section), "{section}\n{run:?}");
    catalog.shutdown().await;
}

/// `auto` on a real terminal: util-linux `script` runs the binary on a pseudo-terminal (stderr
/// goes to /dev/null, so only stdout is on it). Returns what the terminal showed.
#[cfg(target_os = "linux")]
async fn on_a_terminal(endpoint: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let quote = |word: &str| format!("'{}'", word.replace('\'', r"'\''"));
    let mut line = quote(env!("CARGO_BIN_EXE_sc-assoc"));
    for arg in args.iter().chain(&["--endpoint-url", endpoint]) {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    line.push_str(" 2>/dev/null");
    let mut command = tokio::process::Command::new("script");
    command
        .args(["--quiet", "--return", "--command", &line, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(TEST_AWS_ENV)
        .env("TERM", "xterm-256color")
        .stdin(std::process::Stdio::null());
    for (key, value) in env {
        if value.is_empty() {
            command.env_remove(key);
        } else {
            command.env(key, value);
        }
    }
    let output = command
        .output()
        .await
        .expect("util-linux `script` runs (it provides the pseudo-terminal)");
    assert!(output.status.success(), "{output:?}");
    // The terminal turns each newline into CR LF.
    String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n")
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn on_a_terminal_auto_colours_unless_no_color_or_a_dumb_terminal_or_never() {
    let catalog = start_catalog(SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", BY_NAME);
    let path = manifest.to_str().unwrap();
    let endpoint = catalog.endpoint();
    let plan = ["plan", path, "--prune", "--no-progress"];
    let painted =
        "      \x1b[32m+ Patch (act-patch)\x1b[0m\n      \x1b[31m- Stop (act-stop)\x1b[0m\n";

    let shown = on_a_terminal(&endpoint, &plan, &[("NO_COLOR", "")]).await;
    assert!(shown.contains(painted), "{shown}");

    for (how, flags, env) in [
        ("NO_COLOR=1", &[][..], &[("NO_COLOR", "1")][..]),
        ("TERM=dumb", &[], &[("NO_COLOR", ""), ("TERM", "dumb")]),
        ("--color never", &["--color", "never"], &[("NO_COLOR", "")]),
    ] {
        let args = [plan.as_slice(), flags].concat();
        let shown = on_a_terminal(&endpoint, &args, env).await;
        assert!(
            shown.contains("      + Patch (act-patch)\n"),
            "{how}: {shown}"
        );
        assert!(!shown.contains(ESC), "{how}: {shown}");
    }
}
