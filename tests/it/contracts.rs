//! The output contracts, whole: for each kind of run (one account or many, plan, apply, a saved
//! plan written, shown and applied, export, a target that fails), the exit code, stdout and
//! stderr, text and JSON, compared with reviewed snapshots under `tests/snapshots/contracts/`.
//! What varies run to run (timings, request ids, temporary paths, digests, dates) is masked
//! first. A change to any of them is a change of contract: review it, then refresh with
//! `SC_ASSOC_BLESS=1 cargo test --test it contracts::`.

use crate::support::{Run, SMALL_SEED, accounts_catalog, sc_assoc_env, start_catalog, write_file};
use crate::targets::HUB_AND_SPOKES;
use regex::Regex;
use std::path::Path;

/// A manifest for the small seed: five triples, one already associated.
const SMALL: &str = "version: 1
associations:
  - product: {name: Web Server}
    artifacts: all
    actions: [act-restart, {name: Patch}]
  - {product: prod-db, artifact: pa-db-v1, action: act-backup}
";

/// Masks what differs between two runs of the same scenario.
fn masked(text: &str, dir: &Path) -> String {
    let text = text.replace(&dir.display().to_string(), "<dir>");
    let rules: [(&str, &str); 14] = [
        (r#""(\w+_ms)": \d+"#, r#""$1": 0"#),
        (r#""request_id": "[^"]*""#, r#""request_id": "<id>""#),
        (r"\(request id [^)]*\)", "(request id <id>)"),
        (r"\d+\.\d+s\b", "<t>s"),
        (r"\b\d+(\.\d+)? s\b", "<t> s"),
        (r#""created_at": \d+"#, r#""created_at": 0"#),
        (r#""(digest|sha256)": "[0-9a-f]*""#, r#""$1": "<hex>""#),
        (r"sha256 [0-9a-f]{12}", "sha256 <hex>"),
        (r"\(\d+/s\)", "(<n>/s)"),
        (r"sc-assoc \d+\.\d+\.\d+( \([^)]*\))?", "sc-assoc <version>"),
        (
            r#""session_name": "[^"]*""#,
            r#""session_name": "<session>""#,
        ),
        (r"http://127\.0\.0\.1:\d+", "<endpoint>"),
        (
            r"\d+ read calls, \d+ write calls",
            "<n> read calls, <n> write calls",
        ),
        (r#""(reads|attempts|retries|rounds)": \d+"#, r#""$1": 0"#),
    ];
    let mut text = text;
    for (pattern, replacement) in rules {
        let re = Regex::new(pattern).expect("a valid pattern");
        text = re.replace_all(&text, replacement).into_owned();
    }
    text
}

/// One scenario's result as a snapshot: the command, its exit code, stdout and stderr.
fn render(args: &[&str], run: &Run, dir: &Path) -> String {
    format!(
        "$ sc-assoc {}\nexit {}\n--- stdout\n{}--- stderr\n{}",
        masked(&args.join(" "), dir),
        run.code,
        masked(&run.stdout, dir),
        masked(&run.stderr, dir)
    )
}

/// Compares (or, with `SC_ASSOC_BLESS`, writes) the snapshot `name`.
fn check(name: &str, actual: &str, stale: &mut Vec<String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/contracts");
    let path = dir.join(format!("{name}.txt"));
    if std::env::var_os("SC_ASSOC_BLESS").is_some() {
        std::fs::create_dir_all(&dir).expect("snapshot dir");
        std::fs::write(&path, actual).expect("write snapshot");
    } else {
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        if expected != actual {
            stale.push(format!(
                "{}:\n--- expected\n{expected}\n--- actual\n{actual}",
                path.display()
            ));
        }
    }
}

fn verdict(stale: Vec<String>) {
    assert!(
        stale.is_empty(),
        "output contracts changed; review and refresh with `SC_ASSOC_BLESS=1 cargo test --test it \
         contracts::`:\n{}",
        stale.join("\n\n")
    );
}

/// Runs each `(name, args)` in turn against `endpoint` with `env`, snapshotting each.
async fn scenarios(
    endpoint: &str,
    env: &[(&str, &str)],
    dir: &Path,
    runs: &[(&str, Vec<String>)],
    stale: &mut Vec<String>,
) {
    for (name, args) in runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut env = env.to_vec();
        env.push(("COLUMNS", "100"));
        let mut run = sc_assoc_env(Some(endpoint), &args, &env).await;
        if name.ends_with("export") {
            // Targets are exported concurrently; which file is written first is not a contract.
            let mut lines: Vec<&str> = run.stderr.lines().collect();
            lines.sort_unstable();
            run.stderr = lines.iter().map(|l| format!("{l}\n")).collect();
        }
        check(name, &render(&args, &run, dir), stale);
    }
}

fn args(text: &str, dir: &Path) -> Vec<String> {
    text.replace("<dir>", &dir.display().to_string())
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn one_account_plan_apply_export_and_a_saved_plan() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    write_file(d, "m.yaml", SMALL);
    let mut stale = Vec::new();
    let runs = [
        ("single-plan-text", "plan <dir>/m.yaml --no-progress"),
        (
            "single-plan-json",
            "plan <dir>/m.yaml --output json --no-progress",
        ),
        ("single-plan-out", "plan <dir>/m.yaml --out <dir>/p.json -q"),
        ("single-show-text", "show <dir>/p.json"),
        ("single-show-json", "show <dir>/p.json --output json"),
        ("single-apply-text", "apply <dir>/m.yaml --no-progress"),
        (
            "single-apply-again-json",
            "apply <dir>/m.yaml --output json --no-progress",
        ),
        (
            "single-apply-planfile-stale",
            "apply <dir>/p.json --no-progress",
        ),
        ("single-export", "export --all-products"),
    ]
    .map(|(name, text)| (name, args(text, d)));
    scenarios(&catalog.endpoint(), &[], d, &runs, &mut stale).await;
    catalog.shutdown().await;
    verdict(stale);
}

#[tokio::test]
async fn many_targets_plan_apply_a_saved_plan_and_a_failing_target() {
    let catalog = accounts_catalog().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    write_file(d, "fleet.yaml", HUB_AND_SPOKES);
    // Spoke A through a role the hub may not assume.
    let locked = HUB_AND_SPOKES.replacen(
        "  - accounts: [\"111111111111\", \"222222222222\"]\n    regions: [us-east-1]\n    role: arn:aws:iam::{account}:role/ServiceCatalogAdmin\n",
        "  - accounts: [\"111111111111\"]\n    regions: [us-east-1]\n    role: arn:aws:iam::{account}:role/ServiceCatalogAdmin\n  - accounts: [\"222222222222\"]\n    regions: [us-east-1]\n    role: arn:aws:iam::{account}:role/Locked\n",
        1,
    );
    assert_ne!(locked, HUB_AND_SPOKES);
    write_file(d, "locked/fleet.yaml", &locked);
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDHUB"),
        ("AWS_SECRET_ACCESS_KEY", "hub-secret"),
    ];
    let mut stale = Vec::new();
    let runs = [
        ("fleet-plan-text", "plan <dir>/fleet.yaml --no-progress"),
        (
            "fleet-plan-json",
            "plan <dir>/fleet.yaml --output json --no-progress",
        ),
        (
            "fleet-plan-out",
            "plan <dir>/fleet.yaml --out <dir>/p.json -q",
        ),
        ("fleet-show-text", "show <dir>/p.json"),
        ("fleet-show-json", "show <dir>/p.json --output json"),
        (
            "fleet-apply-planfile-text",
            "apply <dir>/p.json --no-progress",
        ),
        (
            "fleet-apply-planfile-again",
            "apply <dir>/p.json --output json --no-progress",
        ),
        (
            "fleet-apply-json",
            "apply <dir>/fleet.yaml --output json --no-progress",
        ),
        (
            "fleet-locked-plan-text",
            "plan <dir>/locked/fleet.yaml --no-progress",
        ),
        (
            "fleet-locked-apply-json",
            "apply <dir>/locked/fleet.yaml --output json --no-progress",
        ),
        (
            "fleet-export",
            "export --targets-from <dir>/fleet.yaml --all-products --out-dir <dir>/out",
        ),
    ]
    .map(|(name, text)| (name, args(text, d)));
    scenarios(&catalog.endpoint(), &env, d, &runs, &mut stale).await;
    catalog.shutdown().await;
    verdict(stale);
}
