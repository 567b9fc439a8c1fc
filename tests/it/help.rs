//! The command line as users meet it: `--help` of every command matches a reviewed snapshot under
//! `tests/snapshots/help/` (refresh with `SC_ASSOC_BLESS=1 cargo test --test it help::`), and
//! `completions` prints a script for each supported shell.

use crate::support::sc_assoc_env;
use std::path::Path;

/// Every command, the top level first.
pub const COMMANDS: [&str; 10] = [
    "",
    "validate",
    "plan",
    "apply",
    "export",
    "schema",
    "completions",
    "man",
    "demo",
    "local-catalog",
];

#[tokio::test]
async fn every_commands_help_matches_its_reviewed_snapshot() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/help");
    let bless = std::env::var_os("SC_ASSOC_BLESS").is_some();
    let mut stale = Vec::new();
    for command in COMMANDS {
        let mut args: Vec<&str> = command.split_whitespace().collect();
        args.push("--help");
        // A fixed width keeps the text the same on every terminal and CI runner.
        let run = sc_assoc_env(None, &args, &[("COLUMNS", "100")]).await;
        assert_eq!(run.code, 0, "{run:?}");
        let name = if command.is_empty() {
            "sc-assoc"
        } else {
            command
        };
        let path = dir.join(format!("{name}.txt"));
        if bless {
            std::fs::create_dir_all(&dir).expect("snapshot dir");
            std::fs::write(&path, &run.stdout).expect("write snapshot");
        } else if std::fs::read_to_string(&path).unwrap_or_default() != run.stdout {
            stale.push(format!("{}:\n{}", path.display(), run.stdout));
        }
    }
    assert!(
        stale.is_empty(),
        "help text changed; review it and refresh with `SC_ASSOC_BLESS=1 cargo test --test it \
         help::`:\n{}",
        stale.join("\n")
    );
}

#[tokio::test]
async fn completions_are_printed_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "complete -F _sc__assoc"),
        ("zsh", "#compdef sc-assoc"),
        ("fish", "complete -c sc-assoc"),
    ] {
        let run = sc_assoc_env(None, &["completions", shell], &[]).await;
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains(marker), "{shell}: {}", run.stdout);
        for command in ["plan", "apply", "export", "prune"] {
            assert!(
                run.stdout.contains(command),
                "{shell} completes `{command}`"
            );
        }
    }
    let unknown = sc_assoc_env(None, &["completions", "tcsh"], &[]).await;
    assert_eq!(unknown.code, 1, "a usage error: {unknown:?}");
}
