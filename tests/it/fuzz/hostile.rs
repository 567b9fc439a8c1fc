//! Hostile input too big for a property test: a 50 MB manifest, a directory of thousands of
//! files, and — through the real binary — one bad file among good ones, which must stop the run
//! before a single call reaches the catalog. Each ends in a correct result or a clear error;
//! the time guards are generous and only catch a stall.

use crate::support::{SMALL_SEED, sc_assoc, start_catalog, write_file};
use sc_assoc::manifest;
use std::time::{Duration, Instant};

/// 50 MB: under the 64 MiB limit, so it is read and parsed in full.
const FIFTY_MB: usize = 50 * 1024 * 1024;
/// Only a stall trips this (a debug build reads 50 MB in a few seconds).
const GUARD: Duration = Duration::from_secs(60);

#[test]
fn a_50_mb_manifest_mostly_comment_loads_to_its_one_triple() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from(
        "version: 1\nassociations:\n  - {product: p-1, artifact: pa-1, action: act-1}\n",
    );
    let line = format!("# {}\n", "padding ".repeat(12));
    while text.len() < FIFTY_MB {
        text.push_str(&line);
    }
    let path = write_file(dir.path(), "big.yaml", &text);
    let started = Instant::now();
    let set = manifest::load(std::slice::from_ref(&path)).expect("valid");
    assert!(started.elapsed() < GUARD);
    assert_eq!(set.triples.len(), 1);
}

#[test]
fn a_5_mb_id_is_refused_without_echoing_it() {
    // One 5 MB scalar where an id belongs: the error must name the place and the rule, and stay
    // a readable line rather than repeat megabytes to the terminal.
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "version: 1\nassociations:\n  - product: p-{}\n    artifact: pa-1\n    action: act-1\n",
        "x".repeat(FIFTY_MB / 10)
    );
    let path = write_file(dir.path(), "big.yaml", &text);
    let started = Instant::now();
    let errors = manifest::load(std::slice::from_ref(&path)).expect_err("invalid");
    assert!(started.elapsed() < GUARD);
    let reported: Vec<String> = errors.errors().map(|e| e.to_string()).collect();
    assert_eq!(reported.len(), 1, "{}", reported.join("\n").len());
    assert!(
        reported[0].contains("big.yaml:3:14: error: invalid product id"),
        "{}",
        &reported[0][..200.min(reported[0].len())]
    );
    assert!(reported[0].len() < 1_000, "{} bytes", reported[0].len());
}

#[test]
fn a_directory_of_3000_manifests_merges_into_every_triple() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..3_000 {
        write_file(
            dir.path(),
            &format!("team-{:02}/m-{i:04}.yaml", i % 30),
            &format!(
                "version: 1\nassociations:\n  - product: prod-{p}\n    artifacts: [pa-{i}-a, pa-{i}-b]\n    action: act-{a}\n",
                p = i % 7,
                a = i % 5
            ),
        );
    }
    let started = Instant::now();
    let set = manifest::load(&[dir.path().to_path_buf()]).expect("valid");
    assert!(started.elapsed() < GUARD);
    assert_eq!(set.files.len(), 3_000);
    assert_eq!(set.triples.len(), 6_000);
    assert!(set.warnings.is_empty());
}

#[tokio::test]
async fn one_invalid_file_among_good_ones_stops_the_run_before_any_call() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    for (i, artifact) in ["pa-web-v1", "pa-web-v2"].iter().enumerate() {
        write_file(
            dir.path(),
            &format!("good-{i}.yaml"),
            &format!(
                "version: 1\nassociations:\n  - {{product: prod-web, artifact: {artifact}, action: act-patch}}\n"
            ),
        );
    }
    write_file(
        dir.path(),
        "nested/bad.yaml",
        "version: 1\nassociations:\n  - {product: prod-db, artifacts: [], action: act-stop}\n",
    );
    let path = dir.path().to_str().unwrap();
    for command in ["plan", "apply"] {
        let run = sc_assoc(Some(&catalog.endpoint()), &[command, path]).await;
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains("bad.yaml:3:"), "{run:?}");
        assert!(
            run.stderr
                .ends_with("error: the manifest is invalid; nothing was applied\n"),
            "{run:?}"
        );
    }
    assert_eq!(
        catalog.stats().total_calls,
        0,
        "no call of any kind was made"
    );
    assert_eq!(
        catalog.associations().len(),
        1,
        "only the seed's association"
    );
}

#[test]
fn a_lone_carriage_return_is_numbered_like_syntax_errors_for_encoding_errors_too() {
    // Syntax errors are reported as the file splits on `\n` (see `manifest/lines.rs`: the place
    // must exist for line-oriented tools); the reader's own errors (not UTF-8, NUL) must agree,
    // or the same file would have two line numberings.
    let dir = tempfile::tempdir().unwrap();
    let cr_only = dir.path().join("classic-mac.yaml");
    std::fs::write(&cr_only, b"version: 1\rassociations: caf\xe9\r").unwrap();
    let errors = manifest::load(std::slice::from_ref(&cr_only)).expect_err("not UTF-8");
    let location = errors.errors().next().and_then(|e| e.location.clone());
    let place = location.map(|l| (l.line, l.column));
    assert_eq!(place, Some((1, 29)), "{errors}");
    let syntax = dir.path().join("classic-mac-syntax.yaml");
    std::fs::write(&syntax, b"version: 1\rassociations: [\r").unwrap();
    let errors = manifest::load(std::slice::from_ref(&syntax)).expect_err("unclosed flow");
    let location = errors.errors().next().and_then(|e| e.location.clone());
    assert_eq!(location.map(|l| l.line), Some(1), "{errors}");
}
