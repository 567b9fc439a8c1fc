//! Shell completion as users meet it: the script `sc-assoc completions SHELL` prints is loaded
//! into a real bash, zsh and fish, and each shell's own completion machinery is asked what it
//! offers for a partly typed command line. Subcommands, their flags, flag values and global
//! flags after a subcommand must all complete in every shell.
//!
//! A shell that is not installed skips its test with a note, except under `CI` (`.ci/run`
//! installs zsh and fish), where it fails.

use crate::support::{sc_assoc_env, write_file};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

/// What a user has typed when pressing Tab, and exactly the candidates the shell must offer.
const CASES: &[(&str, &[&str])] = &[
    // A subcommand from its first letters.
    ("sc-assoc pl", &["plan"]),
    // A subcommand's own flag.
    ("sc-assoc apply --str", &["--strategy"]),
    // The values of a subcommand's flag.
    ("sc-assoc apply --strategy ", &["batch", "single"]),
    // A global flag after a subcommand, and the values of one.
    ("sc-assoc plan --no-pro", &["--no-progress"]),
    ("sc-assoc apply --output ", &["json", "text"]),
    // A subcommand whose own name has a hyphen.
    ("sc-assoc local-catalog --rng", &["--rng-seed"]),
];

/// Longest a shell may take to answer one completion before the test gives up on it.
const SHELL_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn bash_completes_subcommands_flags_and_values() {
    if !installed("bash") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let script = write_file(dir.path(), "sc-assoc.bash", &script("bash").await);
    // What bash itself does on Tab: the function `complete -p sc-assoc` registered is called
    // with the command, the current word and the previous word, COMP_* set, and its COMPREPLY
    // is the candidate list. Looking the function up through the registration checks that the
    // script is registered for `sc-assoc` at all.
    let program = r#"
        source "$1" || exit 3
        line=$2
        read -r -a COMP_WORDS <<< "$line"
        if [[ $line == *' ' ]]; then COMP_WORDS+=(''); fi
        COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
        COMP_LINE=$line
        COMP_POINT=${#line}
        registration=$(complete -p sc-assoc) || exit 4
        function=${registration#*-F }
        function=${function%% *}
        previous=''
        if (( COMP_CWORD > 0 )); then previous=${COMP_WORDS[COMP_CWORD - 1]}; fi
        "$function" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "$previous"
        if (( ${#COMPREPLY[@]} )); then printf '%s\n' "${COMPREPLY[@]}"; fi
    "#;
    assert_every_case(dir.path(), "bash", |line| {
        let mut command = tokio::process::Command::new("bash");
        command
            .args(["--norc", "--noprofile", "-c", program, "bash"])
            .arg(&script)
            .arg(line);
        command
    })
    .await;
}

#[tokio::test]
async fn zsh_completes_subcommands_flags_and_values() {
    if !installed("zsh") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let functions = dir.path().join("functions");
    write_file(&functions, "_sc-assoc", &script("zsh").await);
    let matches = dir.path().join("matches");
    // zsh only completes inside its line editor, so an interactive zsh runs in a pseudo-terminal
    // (zsh/zpty), loads the script from $fpath through compinit as an installed one would be,
    // and gets the line and a Tab typed. Every match the completion functions add goes through
    // `compadd`, which is wrapped to also append them to a file. Calls with -O, -A or -D only
    // filter words into an array for the caller and add nothing, so they pass through. The
    // marker printed after completion tells the driver it is done; it is in a sourced file so
    // that the terminal's echo of what is typed never contains it. The driver then prints the
    // recorded matches.
    let setup = write_file(
        dir.path(),
        "setup.zsh",
        r#"
        PS1='' RPS1=''
        fpath=("$SC_ASSOC_FUNCTIONS" $fpath)
        autoload -Uz compinit && compinit -u -D
        compadd() {
            local -a __sc_assoc_options=("${@[1,(i)(-|--)]}")
            if (( ${__sc_assoc_options[(I)-[OAD]]} )); then
                builtin compadd "$@"
                return
            fi
            local -a __sc_assoc_matched
            builtin compadd -O __sc_assoc_matched "$@"
            if (( $#__sc_assoc_matched )); then
                print -rl -- $__sc_assoc_matched >> "$SC_ASSOC_MATCHES"
            fi
            builtin compadd "$@"
        }
        __sc_assoc_done() { print -r -- 'sc-assoc-test: completion finished' }
        comppostfuncs=(__sc_assoc_done)
        "#,
    );
    let program = r#"
        : >| "$SC_ASSOC_MATCHES"
        zmodload zsh/zpty || exit 3
        zpty shell zsh -f -i || exit 4
        zpty -w shell "source ${(q)1}"
        zpty -w -n shell "$2"$'\t'
        zpty -r shell reply '*sc-assoc-test: completion finished*' || exit 5
        zpty -d shell
        print -r -- "$(<"$SC_ASSOC_MATCHES")"
    "#;
    assert_every_case(dir.path(), "zsh", |line| {
        let mut command = tokio::process::Command::new("zsh");
        command
            .args(["-f", "-c", program, "zsh"])
            .arg(&setup)
            .arg(line)
            .env("SC_ASSOC_FUNCTIONS", &functions)
            .env("SC_ASSOC_MATCHES", &matches)
            // The line editor needs a terminal type it can drive.
            .env("TERM", "xterm");
        command
    })
    .await;
}

#[tokio::test]
async fn fish_completes_subcommands_flags_and_values() {
    if !installed("fish") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let script = write_file(dir.path(), "sc-assoc.fish", &script("fish").await);
    // `complete -C LINE` prints what fish offers on Tab after LINE, one `candidate\tdescription`
    // per line.
    assert_every_case(dir.path(), "fish", |line| {
        let mut command = tokio::process::Command::new("fish");
        command
            .args([
                "--no-config",
                "-c",
                "source $argv[1]; and complete -C $argv[2]",
            ])
            .arg(&script)
            .arg(line);
        command
    })
    .await;
}

/// The script `sc-assoc completions SHELL` prints.
async fn script(shell: &str) -> String {
    let run = sc_assoc_env(None, &["completions", shell], &[]).await;
    assert_eq!(run.code, 0, "{run:?}");
    run.stdout
}

/// Whether `shell` can be run; outside CI a missing shell is a skip, with a note.
fn installed(shell: &str) -> bool {
    let found = std::process::Command::new(shell)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{shell} is not installed, so its completions are untested; CI must test all three \
             (.ci/run installs zsh and fish)"
        );
        eprintln!("note: {shell} is not installed; its completion test is skipped");
    }
    found
}

/// Runs the command `complete` builds for each line of `CASES` and compares the candidates it
/// prints, one a line (anything after a tab is a description), with the expected ones; reports
/// every mismatch at once. The shells run in `home`, with it as HOME and XDG directories, so no
/// user configuration or history is read or written and no file of the repository is offered.
async fn assert_every_case(
    home: &Path,
    shell: &str,
    complete: impl Fn(&str) -> tokio::process::Command,
) {
    let mut mismatches = Vec::new();
    for (line, expected) in CASES {
        let mut command = complete(line);
        command
            .current_dir(home)
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .kill_on_drop(true);
        let output = tokio::time::timeout(SHELL_TIMEOUT, command.output())
            .await
            .unwrap_or_else(|_| {
                panic!("{shell} did not complete `{line}` within {SHELL_TIMEOUT:?}")
            })
            .unwrap_or_else(|err| panic!("cannot run {shell}: {err}"));
        assert!(
            output.status.success(),
            "{shell} failed on `{line}` ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let printed = String::from_utf8_lossy(&output.stdout);
        let offered: BTreeSet<&str> = printed
            .lines()
            .map(|candidate| candidate.split('\t').next().unwrap_or_default())
            .filter(|candidate| !candidate.is_empty())
            .collect();
        let expected: BTreeSet<&str> = expected.iter().copied().collect();
        if offered != expected {
            mismatches.push(format!(
                "`{line}<TAB>` offers {offered:?}, expected {expected:?}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{shell} completion:\n{}",
        mismatches.join("\n")
    );
}
