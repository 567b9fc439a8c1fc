//! The composite GitHub Action (`action.yml`) as a workflow runs it: its `run` step, taken from
//! the file and run with bash the way GitHub does (`bash -e`), against the local catalog, with
//! the `GITHUB_*` files a runner provides; the arguments it hands sc-assoc for a saved plan file
//! (a stand-in binary records them); its cache key; and the example workflows, which may only
//! pass inputs the action declares.

use crate::support::{SMALL_SEED, start_catalog, write_file};
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const MANIFEST: &str = r#"version: 1
associations:
  - product: prod-web
    artifacts: [pa-web-v1, pa-web-v2]
    action: act-restart
"#;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn action() -> Value {
    let text = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    serde_yaml::from_str(&text).expect("action.yml is YAML")
}

/// The `run` script of the step with this `id`.
fn step_script(id: &str) -> String {
    let action = action();
    assert_eq!(action["runs"]["using"], "composite");
    let steps = action["runs"]["steps"].as_sequence().expect("steps");
    let step = steps
        .iter()
        .find(|step| step["id"] == id)
        .unwrap_or_else(|| panic!("no step `{id}` in action.yml"));
    assert_eq!(step["shell"], "bash", "step {id}");
    step["run"].as_str().expect("a run script").to_string()
}

/// What one run of the action's `run` step left behind.
#[derive(Debug)]
struct StepRun {
    code: i32,
    stdout: String,
    summary: String,
    outputs: BTreeMap<String, String>,
    written: String,
}

/// Runs the `run` step in `dir` with these inputs, the binary under test first on PATH, and
/// credentials and endpoint in the environment as a configured job has them.
fn run_step(dir: &Path, endpoint: &str, inputs: &[(&str, &str)]) -> StepRun {
    let bin_dir = PathBuf::from(env!("CARGO_BIN_EXE_sc-assoc"))
        .parent()
        .expect("binary dir")
        .to_path_buf();
    run_step_with(&bin_dir, dir, endpoint, inputs)
}

/// [`run_step`] with the `sc-assoc` found first in `bin_dir`.
fn run_step_with(bin_dir: &Path, dir: &Path, endpoint: &str, inputs: &[(&str, &str)]) -> StepRun {
    let summary = dir.join("summary.md");
    let outputs = dir.join("outputs.txt");
    std::fs::write(&summary, "").unwrap();
    std::fs::write(&outputs, "").unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = std::process::Command::new("bash");
    // GitHub's invocation for `shell: bash`.
    command
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
        .arg(step_script("run"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .envs(crate::support::TEST_AWS_ENV)
        .env("AWS_ENDPOINT_URL", endpoint);
    let defaults = [
        ("SC_ASSOC_COMMAND", "plan"),
        ("SC_ASSOC_PATHS", "manifests/"),
        ("SC_ASSOC_ARGS", ""),
        ("SC_ASSOC_OUTPUT_FILE", "sc-assoc-output.txt"),
        ("SC_ASSOC_PLAN_FILE", ""),
    ];
    for (key, value) in defaults.iter().chain(inputs) {
        command.env(key, value);
    }
    let output = command.output().expect("bash runs");
    let outputs = std::fs::read_to_string(&outputs)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect::<BTreeMap<_, _>>();
    let written = outputs
        .get("output-file")
        .map(|file| std::fs::read_to_string(dir.join(file)).unwrap_or_default())
        .unwrap_or_default();
    StepRun {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        summary: std::fs::read_to_string(&summary).unwrap(),
        outputs,
        written,
    }
}

#[tokio::test]
async fn plan_reports_changes_in_the_summary_then_apply_converges() {
    let catalog = start_catalog(SMALL_SEED).await;
    let endpoint = catalog.endpoint();
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "manifests/web.yaml", MANIFEST);
    let dir = dir.path().to_path_buf();

    let plan = {
        let (dir, endpoint) = (dir.clone(), endpoint.clone());
        tokio::task::spawn_blocking(move || {
            run_step(&dir, &endpoint, &[("SC_ASSOC_OUTPUT_FILE", "plan.txt")])
        })
        .await
        .unwrap()
    };
    assert_eq!(plan.code, 0, "changes are not a failure: {plan:?}");
    assert_eq!(plan.outputs["exit-code"], "2", "{plan:?}");
    assert_eq!(plan.outputs["changes"], "true", "{plan:?}");
    assert_eq!(plan.outputs["output-file"], "plan.txt");
    assert!(plan.written.contains("pa-web-v2"), "{plan:?}");
    assert!(plan.summary.starts_with("### sc-assoc plan\n"), "{plan:?}");
    assert!(plan.summary.contains("changes to apply"), "{plan:?}");
    assert!(
        plan.summary
            .contains(&format!("```text\n{}```\n", plan.written)),
        "the plan is in the summary verbatim: {plan:?}"
    );
    assert_eq!(catalog.associations().len(), 1, "plan wrote nothing");

    let apply = {
        let (dir, endpoint) = (dir.clone(), endpoint.clone());
        tokio::task::spawn_blocking(move || {
            run_step(
                &dir,
                &endpoint,
                &[
                    ("SC_ASSOC_COMMAND", "apply"),
                    ("SC_ASSOC_ARGS", "--output json  --strategy batch"),
                    ("SC_ASSOC_OUTPUT_FILE", "report.json"),
                ],
            )
        })
        .await
        .unwrap()
    };
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(apply.outputs["exit-code"], "0");
    assert_eq!(apply.outputs["changes"], "false");
    let report: serde_json::Value = serde_json::from_str(&apply.written).expect("a JSON report");
    assert_eq!(report["summary"]["created"], 1, "{apply:?}");
    assert!(apply.summary.contains("```json\n"), "{apply:?}");
    assert_eq!(catalog.associations().len(), 2);

    let again = tokio::task::spawn_blocking(move || run_step(&dir, &endpoint, &[]))
        .await
        .unwrap();
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(again.outputs["exit-code"], "0");
    assert_eq!(again.outputs["changes"], "false");
}

#[tokio::test]
async fn an_error_fails_the_step_and_a_bad_command_is_refused() {
    let catalog = start_catalog(SMALL_SEED).await;
    let endpoint = catalog.endpoint();
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        "manifests/web.yaml",
        "version: 1\nassociations:\n  - product: prod-nope\n    artifact: pa-nope\n    action: act-restart\n",
    );
    let dir = dir.path().to_path_buf();
    let (failed, refused) = tokio::task::spawn_blocking(move || {
        (
            run_step(&dir, &endpoint, &[]),
            run_step(&dir, &endpoint, &[("SC_ASSOC_COMMAND", "destroy")]),
        )
    })
    .await
    .unwrap();
    assert_eq!(failed.code, 1, "{failed:?}");
    assert_eq!(failed.outputs["exit-code"], "1", "{failed:?}");
    assert!(failed.summary.contains("Exit code 1"), "{failed:?}");
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused
            .stdout
            .contains("::error::command must be plan or apply, not 'destroy'"),
        "{refused:?}"
    );
    assert!(refused.summary.is_empty(), "nothing ran: {refused:?}");
}

#[test]
fn the_cache_key_names_os_arch_version_lock_file_and_sources() {
    let dir = tempfile::tempdir().unwrap();
    let outputs = dir.path().join("outputs.txt");
    std::fs::write(&outputs, "").unwrap();
    let status = std::process::Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
        .arg(step_script("key"))
        .env("GITHUB_ACTION_PATH", root())
        .env("GITHUB_OUTPUT", &outputs)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TEMP", dir.path())
        .status()
        .expect("bash runs");
    assert!(status.success());
    let text = std::fs::read_to_string(&outputs).unwrap();
    let key = text
        .lines()
        .find_map(|line| line.strip_prefix("key="))
        .expect("a key output");
    let prefix = format!("sc-assoc-Linux-X64-{}-", env!("CARGO_PKG_VERSION"));
    let hashes = key.strip_prefix(&prefix).unwrap_or_else(|| panic!("{key}"));
    let parts: Vec<&str> = hashes.split('-').collect();
    assert_eq!(parts.len(), 2, "{key}");
    assert!(
        parts
            .iter()
            .all(|h| h.len() == 16 && h.chars().all(|c| c.is_ascii_hexdigit())),
        "{key}"
    );
    assert!(
        text.contains(&format!("root={}/sc-assoc", dir.path().display())),
        "{text}"
    );
}

/// A stand-in `sc-assoc` in `dir/bin` that writes its arguments, one a line, to `$STUB_ARGS`,
/// prints a line, and exits `$STUB_EXIT`.
fn stub_binary(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    let script = "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$STUB_ARGS\"\necho 'what sc-assoc printed'\nexit \"${STUB_EXIT:-0}\"\n";
    let path = write_file(&bin, "sc-assoc", script);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[test]
fn a_plan_file_is_written_by_plan_and_is_what_apply_applies_in_place_of_the_manifests() {
    // The action's half of the saved-plan contract: the arguments it hands sc-assoc.
    let dir = tempfile::tempdir().unwrap();
    let bin = stub_binary(dir.path());
    let recorded = dir.path().join("args.txt");
    let recorded_str = recorded.to_str().unwrap();
    let run = |inputs: &[(&str, &str)]| {
        let _ = std::fs::remove_file(&recorded);
        let mut all = vec![("STUB_ARGS", recorded_str)];
        all.extend_from_slice(inputs);
        let step = run_step_with(&bin, dir.path(), "http://127.0.0.1:9", &all);
        let args = std::fs::read_to_string(&recorded).unwrap_or_default();
        (step, args.lines().map(str::to_string).collect::<Vec<_>>())
    };

    let (plan, args) = run(&[("SC_ASSOC_PLAN_FILE", "plan.json"), ("STUB_EXIT", "2")]);
    assert_eq!(
        args,
        [
            "plan",
            "manifests/",
            "--no-progress",
            "--detailed-exitcode",
            "--out",
            "plan.json"
        ]
    );
    assert_eq!(plan.code, 0, "{plan:?}");
    assert_eq!(plan.outputs["changes"], "true", "{plan:?}");
    assert!(
        plan.summary.contains("what sc-assoc printed"),
        "the plan is still in the summary: {plan:?}"
    );

    let (apply, args) = run(&[
        ("SC_ASSOC_COMMAND", "apply"),
        ("SC_ASSOC_PLAN_FILE", "plan.json"),
        ("SC_ASSOC_ARGS", "--output json"),
        ("SC_ASSOC_OUTPUT_FILE", "report.json"),
    ]);
    assert_eq!(
        args,
        ["apply", "plan.json", "--no-progress", "--output", "json"],
        "the file, not the manifests: {apply:?}"
    );
    assert_eq!(apply.code, 0, "{apply:?}");

    let (_, args) = run(&[("SC_ASSOC_COMMAND", "apply")]);
    assert_eq!(
        args,
        ["apply", "manifests/", "--no-progress"],
        "no plan file"
    );
    let (_, args) = run(&[]);
    assert_eq!(
        args,
        ["plan", "manifests/", "--no-progress", "--detailed-exitcode"]
    );
}

#[test]
fn the_example_workflows_use_the_action_with_inputs_it_declares() {
    let declared: Vec<String> = action()["inputs"]
        .as_mapping()
        .expect("inputs")
        .keys()
        .map(|k| k.as_str().expect("input name").to_string())
        .collect();
    for (file, expected) in [
        ("examples/github-actions.yml", &["plan", "apply"][..]),
        ("examples/drift-check.yml", &["plan"][..]),
    ] {
        let commands = action_commands(file, &declared);
        assert_eq!(commands, expected, "{file}");
    }
}

/// The `command` of every step of `file` that uses the action, checking each input it passes
/// is one the action declares.
fn action_commands(file: &str, declared: &[String]) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let workflow: Value = serde_yaml::from_str(&text).unwrap();
    let mut commands = Vec::new();
    for job in workflow["jobs"].as_mapping().expect("jobs").values() {
        for step in job["steps"].as_sequence().expect("steps") {
            let Some(uses) = step["uses"].as_str() else {
                continue;
            };
            if !uses.contains("/sc-assoc@") {
                continue;
            }
            for (name, _) in step["with"].as_mapping().expect("with") {
                let name = name.as_str().unwrap();
                assert!(
                    declared.iter().any(|d| d == name),
                    "`{name}` is not an input of action.yml"
                );
            }
            commands.push(step["with"]["command"].as_str().unwrap().to_string());
        }
    }
    commands
}
