//! Manifest directories are read strictly: an entry that cannot be read is an error naming it,
//! and nothing is applied, because a skipped file's associations would be pruned as undeclared.
//! Only regular files are opened.

use super::timed;
use crate::support::{SMALL_SEED, sc_assoc, start_catalog, write_file};
use std::time::Duration;

const GOOD: &str = "version: 1\nassociations:\n  - {product: prod-web, artifact: pa-web-v1, action: act-restart}\n";

#[cfg(unix)]
#[tokio::test]
async fn a_dangling_manifest_symlink_is_an_error_and_prune_removes_nothing() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "a.yaml", GOOD);
    std::os::unix::fs::symlink(dir.path().join("gone.yaml"), dir.path().join("b.yaml"))
        .expect("symlink");
    let manifests = dir.path().to_str().unwrap();
    let before = catalog.associations();
    let run = sc_assoc(Some(&catalog.endpoint()), &["apply", manifests, "--prune"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("b.yaml"), "names the entry: {run:?}");
    assert!(run.stderr.contains("dangling symbolic link"), "{run:?}");
    assert!(run.stderr.contains("nothing was applied"), "{run:?}");
    assert_eq!(catalog.stats().total_calls, 0, "no call was made");
    assert_eq!(catalog.associations(), before);
}

#[cfg(unix)]
#[tokio::test]
async fn a_fifo_named_yaml_is_refused_without_opening_it() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "a.yaml", GOOD);
    let fifo = dir.path().join("pipe.yaml");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    for target in [dir.path(), fifo.as_path()] {
        let (run, _) = timed(
            None,
            &["validate", target.to_str().unwrap()],
            &[],
            Duration::from_secs(20),
        )
        .await;
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains("pipe.yaml"), "{run:?}");
        assert!(run.stderr.contains("FIFO"), "{run:?}");
    }
}
