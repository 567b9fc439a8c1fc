//! `sc-assoc man`: the manual pages render from the clap definitions, the main page names every
//! command `--help` lists, and each command's page carries each of its flags. When groff is
//! installed, the pages also format without a warning.

use crate::support::sc_assoc;

/// The commands `sc-assoc --help` lists, except clap's own `help`: read from the help text, not
/// from the code under test, so a command missing from the page is caught.
async fn commands_in_help() -> Vec<String> {
    let help = sc_assoc(None, &["--help"]).await;
    assert_eq!(help.code, 0, "{help:?}");
    let listed: Vec<String> = help
        .stdout
        .lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect();
    assert!(listed.len() >= 9, "{listed:?}");
    listed
}

/// The long flags a command's `--help` shows.
async fn long_flags(command: &str) -> Vec<String> {
    let help = sc_assoc(None, &[command, "--help"]).await;
    assert_eq!(help.code, 0, "{help:?}");
    let mut flags: Vec<String> = help
        .stdout
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|word| word.starts_with("--") && word.len() > 2)
        .map(|word| {
            word.trim_end_matches(|c: char| !c.is_alphanumeric())
                .to_string()
        })
        .collect();
    flags.sort();
    flags.dedup();
    flags
}

/// roff escapes `-` as `\-` in option names.
fn roff_flag(flag: &str) -> String {
    flag.replace('-', "\\-")
}

#[tokio::test]
async fn the_main_page_names_every_command() {
    let page = sc_assoc(None, &["man"]).await;
    assert_eq!(page.code, 0, "{page:?}");
    assert!(
        page.stdout.starts_with(".ie \\n(.g .ds Aq \\(aq"),
        "roff: {page:?}"
    );
    assert!(page.stdout.contains(".TH sc-assoc 1"), "{page:?}");
    for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "SUBCOMMANDS", "VERSION"] {
        assert!(
            page.stdout.contains(&format!(".SH {section}")),
            "{section}: {page:?}"
        );
    }
    for command in commands_in_help().await {
        assert!(
            page.stdout
                .contains(&format!("sc\\-assoc\\-{}(1)", roff_flag(&command))),
            "`{command}` is missing from the page:\n{}",
            page.stdout
        );
    }
    assert!(
        page.stdout.contains(env!("CARGO_PKG_VERSION")),
        "{}",
        page.stdout
    );
}

#[tokio::test]
async fn every_command_has_a_page_with_its_flags() {
    for command in commands_in_help().await {
        let page = sc_assoc(None, &["man", &command]).await;
        assert_eq!(page.code, 0, "{command}: {page:?}");
        assert!(
            page.stdout.contains(&format!(".TH sc-assoc-{command} 1")),
            "{command}: {}",
            page.stdout
        );
        for flag in long_flags(&command).await {
            assert!(
                page.stdout.contains(&roff_flag(&flag)),
                "{command}: `{flag}` is missing from its page:\n{}",
                page.stdout
            );
        }
    }
}

#[tokio::test]
async fn an_unknown_command_has_no_page() {
    let run = sc_assoc(None, &["man", "frobnicate"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    assert!(run.stderr.contains("no command `frobnicate`"), "{run:?}");
}

#[tokio::test]
async fn the_pages_format_without_warnings_where_groff_is_installed() {
    let Ok(status) = std::process::Command::new("groff")
        .arg("--version")
        .output()
    else {
        // CI installs groff (.ci/run): there, a missing groff is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "groff is not installed, and CI must check the pages"
        );
        eprintln!("groff is not installed; skipping the formatting check");
        return;
    };
    assert!(status.status.success());
    let mut pages = vec![String::new()];
    pages.extend(commands_in_help().await);
    for command in pages {
        let mut args = vec!["man"];
        if !command.is_empty() {
            args.push(&command);
        }
        let page = sc_assoc(None, &args).await;
        assert_eq!(page.code, 0, "{page:?}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("page.1");
        std::fs::write(&file, &page.stdout).unwrap();
        let formatted = std::process::Command::new("groff")
            // -P-cbou: plain text, no overstriking for bold or underline.
            .args(["-man", "-Tutf8", "-ww", "-P-cbou"])
            .arg(&file)
            .output()
            .expect("groff runs");
        let stderr = String::from_utf8_lossy(&formatted.stderr);
        assert!(formatted.status.success(), "{command}: {stderr}");
        assert!(stderr.trim().is_empty(), "{command}: groff warns: {stderr}");
        let text = String::from_utf8_lossy(&formatted.stdout);
        assert!(text.contains("SYNOPSIS"), "{command}: {text}");
    }
}
