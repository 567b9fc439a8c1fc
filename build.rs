//! Build script: names the commit `sc-assoc --version` reports, as `SC_ASSOC_COMMIT`.
//!
//! The commit is `git rev-parse --short HEAD` of the checkout this package is the root of. It is
//! "unknown" when there is no such checkout (a crate tarball, a Docker build context without
//! `.git`, a source archive) or no `git`: a missing commit never fails a build. Git is asked only
//! about a repository whose top level is this package's own directory, so a tarball unpacked
//! inside some other repository does not report that repository's commit. `SC_ASSOC_COMMIT` in
//! the build's environment wins over both, for builds that know the commit but have no `.git`
//! (the Dockerfile passes it as a build argument).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SC_ASSOC_COMMIT");
    // Without any rerun-if line, Cargo would rerun this script on every change to any file of
    // the package; with them, only when the commit can have changed.
    println!("cargo:rerun-if-changed=build.rs");
    let commit = match std::env::var("SC_ASSOC_COMMIT") {
        Ok(given) if !given.trim().is_empty() => given.trim().to_string(),
        _ => {
            let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
            git_commit(&dir).unwrap_or_else(|| "unknown".to_string())
        }
    };
    println!("cargo:rustc-env=SC_ASSOC_COMMIT={commit}");
}

/// The short commit of the repository rooted at `dir`, and rerun-if lines for the files that
/// move when it changes; `None` if `dir` is not the top level of a git work tree.
fn git_commit(dir: &Path) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if !same_dir(Path::new(&top), dir) {
        return None;
    }
    let commit = git(dir, &["rev-parse", "--short", "HEAD"])?;
    // HEAD moves on checkout; the branch's ref (loose, or in packed-refs) moves on commit. In a
    // linked worktree these live in different directories, which `--git-path` resolves.
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = git(dir, &["rev-parse", "--git-path", &name]) {
            let path = dir.join(path);
            // A path that does not exist would make Cargo rerun this script on every build.
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    Some(commit)
}

/// Runs git in `dir`; its trimmed stdout when it succeeds with some output.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (output.status.success() && !text.is_empty()).then(|| text.to_string())
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
