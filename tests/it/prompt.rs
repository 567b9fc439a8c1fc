//! The guard on removals, as a person at a terminal meets it: `apply --prune` run on a
//! pseudo-terminal (stdin and stderr on it, stdout to a file) asks before it removes anything,
//! and only `yes` lets it write; `no`, end of input and an interrupt leave the catalog untouched,
//! additions included. `--yes` skips the question, off a terminal nobody is asked, and a run over
//! several targets asks once, after every target is planned and before any is written.
//!
//! The terminal is Python's `pty` module (CPython is on every machine this project tests on): a
//! short driver forks the binary onto a new pseudo-terminal, waits for the question, types the
//! answer and hands back the exit code and everything the terminal showed.

use crate::support::{TEST_AWS_ENV, sc_assoc, start_catalog, start_config, write_file};
use sc_assoc::local::{CatalogConfig, LocalCatalog, SeedFile};
use sc_assoc::triple::Triple;
use std::collections::BTreeSet;

/// Web Server v1 carries Restart (declared) and Backup and Stop (not declared); the manifest
/// adds Patch. So a pruning apply makes one addition and two removals.
const SEED: &str = r#"
products:
  - id: prod-web
    name: Web Server
    artifacts:
      - {id: pa-web-v1, name: v1}
actions:
  - {id: act-restart, name: Restart}
  - {id: act-patch, name: Patch}
  - {id: act-backup, name: Backup}
  - {id: act-stop, name: Stop}
associations:
  - {product: prod-web, artifact: pa-web-v1, action: act-restart}
  - {product: prod-web, artifact: pa-web-v1, action: act-backup}
  - {product: prod-web, artifact: pa-web-v1, action: act-stop}
"#;

const MANIFEST: &str = "version: 1\nassociations:\n  - product: prod-web\n    artifact: pa-web-v1\n    \
                        actions: [act-restart, act-patch]\n";

const QUESTION: &str = "Remove 2 service-action association(s)? Only \"yes\" confirms: ";
const NOT_CONFIRMED: &str = "error: removals not confirmed; nothing was applied";

/// Forks `argv` onto a new pseudo-terminal (a session of its own, the terminal its controlling
/// one, so Ctrl-C reaches it as SIGINT), stdout to a file. Types the answer once the question
/// shows (end of input if the question shows unasked-for, so a wrong run ends instead of
/// hanging), and prints the exit code and the terminal's transcript as JSON.
const DRIVER: &str = r#"
import json, os, pty, select, signal, sys, termios, time

stdout_path, answer, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
keys = {"yes": b"yes\n", "no": b"no\n", "eof": b"\x04", "interrupt": b"\x03", "none": b"\x04"}[answer]
pid, terminal = pty.fork()
if pid == 0:
    try:
        termios.tcsetwinsize(0, (24, 100))
        out = os.open(stdout_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, 1)
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
transcript, asked, timed_out = b"", False, False
deadline = time.monotonic() + 60
while True:
    left = deadline - time.monotonic()
    if left <= 0:
        os.kill(pid, signal.SIGKILL)
        timed_out = True
        break
    if not select.select([terminal], [], [], left)[0]:
        continue
    try:
        chunk = os.read(terminal, 4096)
    except OSError:  # EIO: the child's side of the terminal is closed
        break
    if not chunk:
        break
    transcript += chunk
    if not asked and b'Only "yes" confirms: ' in transcript:
        asked = True
        os.write(terminal, keys)
_, status = os.waitpid(pid, 0)
print(json.dumps({
    "code": os.waitstatus_to_exitcode(status),
    "transcript": transcript.decode("utf-8", "replace"),
    "timed_out": timed_out,
}))
"#;

/// What a person at the terminal saw, and what went to stdout.
struct TerminalRun {
    code: i32,
    /// Everything on the terminal (stderr and the typed answer's echo), with `\n` line ends.
    screen: String,
    stdout: String,
}

impl std::fmt::Debug for TerminalRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- terminal\n{}\n--- stdout\n{}",
            self.code, self.screen, self.stdout
        )
    }
}

/// How the person at the terminal answers, if asked.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Yes,
    No,
    EndOfInput,
    Interrupt,
    /// Expects no question (answers with end of input if one comes anyway).
    NotAsked,
}

impl Answer {
    fn driver_word(self) -> &'static str {
        match self {
            Answer::Yes => "yes",
            Answer::No => "no",
            Answer::EndOfInput => "eof",
            Answer::Interrupt => "interrupt",
            Answer::NotAsked => "none",
        }
    }
}

/// `sc-assoc ARGS --endpoint-url ENDPOINT` on a terminal, in the environment every test run of
/// the binary gets (`env -i` clears what the test process has, as `support::command` does).
async fn on_terminal(
    endpoint: &str,
    args: &[&str],
    env: &[(&str, &str)],
    answer: Answer,
) -> TerminalRun {
    let dir = tempfile::tempdir().expect("temp dir");
    let stdout_path = dir.path().join("stdout");
    let mut argv = vec![
        "env".to_string(),
        "-i".to_string(),
        format!("PATH={}", std::env::var("PATH").unwrap_or_default()),
    ];
    argv.extend(
        TEST_AWS_ENV
            .iter()
            .chain(env)
            .map(|(key, value)| format!("{key}={value}")),
    );
    argv.push(env!("CARGO_BIN_EXE_sc-assoc").to_string());
    argv.extend(args.iter().map(|a| a.to_string()));
    argv.extend(["--endpoint-url".to_string(), endpoint.to_string()]);
    let output = tokio::process::Command::new("python3")
        .arg("-c")
        .arg(DRIVER)
        .arg(&stdout_path)
        .arg(answer.driver_word())
        .args(&argv)
        .output()
        .await
        .expect("python3 runs (the terminal driver needs it)");
    assert!(
        output.status.success(),
        "the terminal driver failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the driver prints JSON");
    let run = TerminalRun {
        code: report["code"].as_i64().expect("an exit code") as i32,
        screen: report["transcript"]
            .as_str()
            .expect("a transcript")
            .replace("\r\n", "\n"),
        stdout: std::fs::read_to_string(&stdout_path).unwrap_or_default(),
    };
    assert_eq!(report["timed_out"], false, "the run hung: {run:?}");
    run
}

fn t(product: &str, artifact: &str, action: &str) -> Triple {
    Triple::new(product, artifact, action)
}

fn state(catalog: &LocalCatalog) -> BTreeSet<Triple> {
    catalog.associations().into_iter().collect()
}

fn seeded() -> BTreeSet<Triple> {
    BTreeSet::from([
        t("prod-web", "pa-web-v1", "act-restart"),
        t("prod-web", "pa-web-v1", "act-backup"),
        t("prod-web", "pa-web-v1", "act-stop"),
    ])
}

fn converged() -> BTreeSet<Triple> {
    BTreeSet::from([
        t("prod-web", "pa-web-v1", "act-restart"),
        t("prod-web", "pa-web-v1", "act-patch"),
    ])
}

#[tokio::test]
async fn on_a_terminal_apply_prune_asks_after_the_plan_and_yes_makes_the_removals() {
    let catalog = start_catalog(SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", MANIFEST);
    let run = on_terminal(
        &catalog.endpoint(),
        &["apply", manifest.to_str().unwrap(), "--prune"],
        &[],
        Answer::Yes,
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.screen.contains(&format!("{QUESTION}yes\n")), "{run:?}");
    // The plan reached the file, not the screen: so it is shown beside the question too.
    let plan = "  prod-web\n    pa-web-v1\n      - act-backup\n      + act-patch\n";
    let (shown, asked) = (
        run.screen.find(plan).expect("the plan is on the screen"),
        run.screen.find(QUESTION).unwrap(),
    );
    assert!(shown < asked, "the plan comes before the question: {run:?}");
    assert!(run.stdout.contains(plan), "{run:?}");
    assert_eq!(state(&catalog), converged());
}

#[tokio::test]
async fn no_end_of_input_or_an_interrupt_apply_nothing_not_even_the_additions() {
    for answer in [Answer::No, Answer::EndOfInput, Answer::Interrupt] {
        let catalog = start_catalog(SEED).await;
        let dir = tempfile::tempdir().unwrap();
        let manifest = write_file(dir.path(), "m.yaml", MANIFEST);
        let run = on_terminal(
            &catalog.endpoint(),
            &[
                "apply",
                manifest.to_str().unwrap(),
                "--prune",
                "--no-progress",
            ],
            &[],
            answer,
        )
        .await;
        // An interrupt exits 130, as in every other phase.
        let (code, message) = match answer {
            Answer::Interrupt => (130, "error: interrupted; nothing was applied"),
            _ => (1, NOT_CONFIRMED),
        };
        assert_eq!(run.code, code, "{answer:?}: {run:?}");
        assert!(run.screen.contains(QUESTION), "{answer:?}: {run:?}");
        assert!(
            run.screen.lines().any(|line| line == message),
            "{answer:?}: the message is on a line of its own: {run:?}"
        );
        assert_eq!(state(&catalog), seeded(), "{answer:?}");
        assert_eq!(catalog.stats().write_calls(), 0, "{answer:?}: {run:?}");
        assert!(
            !run.stdout.contains("Apply:"),
            "{answer:?}: no report: {run:?}"
        );
    }
}

#[tokio::test]
async fn with_json_output_the_plan_is_on_the_screen_and_the_refusal_is_a_json_error() {
    let catalog = start_catalog(SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", MANIFEST);
    let run = on_terminal(
        &catalog.endpoint(),
        &[
            "apply",
            manifest.to_str().unwrap(),
            "--prune",
            "--output",
            "json",
        ],
        &[],
        Answer::No,
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.screen.contains("      - act-stop\n"),
        "what is confirmed is shown: {run:?}"
    );
    assert!(run.screen.contains(QUESTION), "{run:?}");
    let document: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON on stdout");
    assert!(
        document.to_string().contains("removals not confirmed"),
        "{document:#}"
    );
    assert_eq!(catalog.stats().write_calls(), 0);
}

#[tokio::test]
async fn yes_on_a_terminal_removes_without_asking() {
    let catalog = start_catalog(SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", MANIFEST);
    let run = on_terminal(
        &catalog.endpoint(),
        &["apply", manifest.to_str().unwrap(), "--prune", "--yes"],
        &[],
        Answer::NotAsked,
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.screen.contains("confirms"), "{run:?}");
    assert_eq!(state(&catalog), converged());
}

#[tokio::test]
async fn nothing_to_remove_or_a_plan_asks_nothing_on_a_terminal() {
    let catalog = start_catalog(SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", MANIFEST);
    let path = manifest.to_str().unwrap();
    let endpoint = catalog.endpoint();

    let plan = on_terminal(&endpoint, &["plan", path, "--prune"], &[], Answer::NotAsked).await;
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(!plan.screen.contains("confirms"), "{plan:?}");
    let adding = on_terminal(&endpoint, &["apply", path], &[], Answer::NotAsked).await;
    assert_eq!(
        adding.code, 0,
        "without --prune nothing is removed: {adding:?}"
    );
    assert!(!adding.screen.contains("confirms"), "{adding:?}");
    assert!(state(&catalog).contains(&t("prod-web", "pa-web-v1", "act-patch")));
    assert_eq!(catalog.stats().write_calls(), 1);
}

#[tokio::test]
async fn off_a_terminal_removals_need_yes_and_are_never_asked_for() {
    // Every other test, and every pipeline, runs like this: stdin closed, output to pipes.
    let catalog = start_catalog(SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", MANIFEST);
    let manifest = manifest.to_str().unwrap();
    let refused = sc_assoc(Some(&catalog.endpoint()), &["apply", manifest, "--prune"]).await;
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(!refused.stderr.contains("confirms"), "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("pass --yes to remove without asking"),
        "{refused:?}"
    );
    assert_eq!(catalog.stats().write_calls(), 0, "not even the additions");
    let run = sc_assoc(
        Some(&catalog.endpoint()),
        &["apply", manifest, "--prune", "--yes"],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stderr.contains("confirms"), "{run:?}");
    assert_eq!(state(&catalog), converged());
}

/// Two accounts, each with Web Server v1 carrying Restart (declared) and Stop (not declared).
const TWO_ACCOUNTS: &str = r#"
accounts:
  - id: "111111111111"
    access_keys: [AKIDHUB]
    regions:
      us-east-1: &catalog
        products: [{id: prod-web, name: Web Server, artifacts: [{id: pa-web-v1, name: v1}]}]
        actions: [{id: act-restart, name: Restart}, {id: act-stop, name: Stop}]
        associations:
          - {product: prod-web, artifact: pa-web-v1, action: act-restart}
          - {product: prod-web, artifact: pa-web-v1, action: act-stop}
    roles: [{name: Admin}]
  - id: "222222222222"
    regions:
      us-east-1: *catalog
    roles: [{name: Admin, trusted_accounts: ["111111111111"]}]
"#;

const TARGETS: &str = r#"version: 1
targets:
  - accounts: ["111111111111", "222222222222"]
    regions: [us-east-1]
    role: arn:aws:iam::{account}:role/Admin
associations:
  - product: {name: Web Server}
    artifacts: all
    action: {name: Restart}
"#;

#[tokio::test]
async fn several_targets_pruning_from_a_terminal_are_asked_once_after_every_plan() {
    let seed = SeedFile::from_yaml_str(TWO_ACCOUNTS).expect("the seed parses");
    let catalog = start_config(CatalogConfig::from_seed_file(seed)).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "fleet.yaml", TARGETS);
    let manifest = manifest.to_str().unwrap();
    let hub = [
        ("AWS_ACCESS_KEY_ID", "AKIDHUB"),
        ("AWS_SECRET_ACCESS_KEY", "hub-secret"),
    ];
    let endpoint = catalog.endpoint();
    let stop = |account: &str| {
        catalog
            .associations_in(account, "us-east-1")
            .expect("a target of the seed")
            .contains(&Triple::new("prod-web", "pa-web-v1", "act-stop"))
    };

    let declined = on_terminal(
        &endpoint,
        &["apply", manifest, "--prune", "--no-progress"],
        &hub,
        Answer::No,
    )
    .await;
    assert_eq!(declined.code, 1, "{declined:?}");
    // One question for both targets, both plans shown before it.
    assert_eq!(
        declined.screen.matches("confirms").count(),
        1,
        "{declined:?}"
    );
    assert!(declined.screen.contains(QUESTION), "{declined:?}");
    assert!(
        declined.screen.contains("== 111111111111/us-east-1")
            && declined.screen.contains("== 222222222222/us-east-1"),
        "{declined:?}"
    );
    assert_eq!(catalog.stats().write_calls(), 0, "{declined:?}");
    assert!(stop("111111111111") && stop("222222222222"));

    let confirmed = on_terminal(
        &endpoint,
        &["apply", manifest, "--prune", "--no-progress"],
        &hub,
        Answer::Yes,
    )
    .await;
    assert_eq!(confirmed.code, 0, "{confirmed:?}");
    assert!(!stop("111111111111") && !stop("222222222222"));
}
