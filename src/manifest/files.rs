//! Finding and reading manifest files. Paths given on the command line may be files (read
//! whatever their extension) or directories (every `*.yaml`/`*.yml` file in them, then their
//! subdirectories, each level sorted by name so a run is reproducible). Reading refuses what is
//! not a manifest — too big, binary, not UTF-8 — with a message naming the file, before any
//! parser sees it.
//!
//! Directories are read strictly: a `*.yaml` entry that cannot be read (a dangling symlink, no
//! permission, an I/O error) is an error naming it, never skipped, because a skipped file's
//! associations would be pruned as undeclared. Only regular files are opened: a FIFO, socket or
//! device named `*.yaml` is refused from its metadata, since opening a FIFO blocks forever.

use super::diagnostic::{Diagnostic, Location};
use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest manifest read. Far above any real manifest (100k associations is about 10 MiB) and
/// low enough that a stray disk image or `/dev/zero` is refused, not loaded.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The manifest files under `paths`, in load order, without repeats. Problems (missing paths,
/// directories without manifests) are returned alongside whatever was found.
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut walk = Walk::default();
    for path in paths {
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                let before = walk.matched;
                walk.directory(path);
                if walk.matched == before {
                    walk.problems.push(Diagnostic::error(
                        None,
                        format!(
                            "no `*.yaml` or `*.yml` manifest files in directory `{}`",
                            path.display()
                        ),
                    ));
                }
            }
            Ok(meta) if meta.is_file() => walk.file(path.clone()),
            Ok(meta) => walk.problems.push(not_a_regular_file(path, &meta)),
            Err(error) => walk.problems.push(Diagnostic::error(
                None,
                format!("cannot read `{}`: {error}", path.display()),
            )),
        }
    }
    (walk.files, walk.problems)
}

#[derive(Default)]
struct Walk {
    files: Vec<PathBuf>,
    problems: Vec<Diagnostic>,
    /// Canonical paths already taken: the same file named twice (say `m/` and `m/a.yaml`) is
    /// loaded once rather than reported as duplicating itself, and symlink loops end.
    seen: HashSet<PathBuf>,
    /// Manifest files met in directories, counting those already taken: a directory whose only
    /// file was also named on its own is not "without manifests".
    matched: usize,
}

impl Walk {
    fn first_visit(&mut self, path: &Path) -> bool {
        let canonical = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.seen.insert(canonical)
    }

    fn file(&mut self, path: PathBuf) {
        if self.first_visit(&path) {
            self.files.push(path);
        }
    }

    fn directory(&mut self, dir: &Path) {
        if !self.first_visit(dir) {
            return;
        }
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(error) => {
                self.problems.push(Diagnostic::error(
                    None,
                    format!("cannot read directory `{}`: {error}", dir.display()),
                ));
                return;
            }
        };
        let mut files = Vec::new();
        let mut subdirectories = Vec::new();
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    self.problems.push(Diagnostic::error(
                        None,
                        format!("cannot read directory `{}`: {error}", dir.display()),
                    ));
                    continue;
                }
            };
            let name = entry.file_name();
            // Hidden entries (`.git`, editor backups) are never manifests.
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            // `metadata` follows symlinks: a link to a directory is walked, a link to a file
            // read, and a dangling link fails here.
            match fs::metadata(&path) {
                Ok(meta) if meta.is_dir() => subdirectories.push(path),
                Ok(meta) if is_manifest_name(&path) && meta.is_file() => files.push(path),
                Ok(meta) if is_manifest_name(&path) => {
                    self.problems.push(not_a_regular_file(&path, &meta))
                }
                Ok(_) => {}
                // Anything that may hold manifests and cannot be examined is an error: a
                // dangling `x.yaml` link, or an entry we may not look at. A dangling link with
                // another name is no manifest whatever it pointed to.
                Err(error)
                    if is_manifest_name(&path) || error.kind() != std::io::ErrorKind::NotFound =>
                {
                    self.problems.push(Diagnostic::error(
                        None,
                        format!(
                            "cannot read `{}`: {}",
                            path.display(),
                            describe(&path, &error)
                        ),
                    ))
                }
                Err(_) => {}
            }
        }
        files.sort();
        subdirectories.sort();
        self.matched += files.len();
        for file in files {
            self.file(file);
        }
        for subdirectory in subdirectories {
            self.directory(&subdirectory);
        }
    }
}

/// A readable description of why `path` could not be examined.
fn describe(path: &Path, error: &std::io::Error) -> String {
    let dangling = fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink())
        && error.kind() == std::io::ErrorKind::NotFound;
    if dangling {
        let target = fs::read_link(path)
            .map(|t| format!(" to `{}`", t.display()))
            .unwrap_or_default();
        format!("it is a dangling symbolic link{target}")
    } else {
        error.to_string()
    }
}

/// The error for a path that exists but is no regular file (FIFO, socket, device), refused
/// without opening it.
fn not_a_regular_file(path: &Path, meta: &fs::Metadata) -> Diagnostic {
    let kind = file_kind(meta);
    Diagnostic::error(
        None,
        format!(
            "cannot read `{}`: it is {kind}, not a regular file; a manifest must be a regular file",
            path.display()
        ),
    )
}

#[cfg(unix)]
fn file_kind(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn file_kind(_meta: &fs::Metadata) -> &'static str {
    "a special file"
}

fn is_manifest_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// Reads `path` as manifest text.
pub fn read(path: &Path) -> Result<String, Diagnostic> {
    let cannot = |error: std::io::Error| {
        Diagnostic::error(None, format!("cannot read `{}`: {error}", path.display()))
    };
    // Checked before opening: opening a FIFO blocks until a writer comes, which may be never.
    let meta = fs::metadata(path).map_err(cannot)?;
    if !meta.is_file() {
        return Err(not_a_regular_file(path, &meta));
    }
    let file = fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    // `take` rather than trusting the size in the metadata: devices and pipes report 0.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Diagnostic::error(
            Some(Location::start_of(path)),
            format!(
                "the file is larger than {} MiB, the limit for a manifest",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        ));
    }
    decode(path, bytes)
}

/// Bytes to text, refusing binary and non-UTF-8 content with the position of the first bad byte.
pub fn decode(path: &Path, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(Diagnostic::error(
            Some(Location::start_of(path)),
            "the file is UTF-16; save it as UTF-8",
        ));
    }
    if let Some(offset) = bytes.iter().position(|b| *b == 0) {
        return Err(Diagnostic::error(
            Some(position_of(path, &bytes, offset)),
            "the file looks binary (it contains a NUL byte); a manifest is YAML text",
        ));
    }
    String::from_utf8(bytes).map_err(|error| {
        let offset = error.utf8_error().valid_up_to();
        let bytes = error.as_bytes();
        let message = format!(
            "the file is not valid UTF-8 (byte `0x{:02x}`); save it as UTF-8",
            bytes.get(offset).copied().unwrap_or_default()
        );
        Diagnostic::error(Some(position_of(path, bytes, offset)), message)
    })
}

/// The line and column of byte `offset`, counting characters in the valid text before it.
fn position_of(path: &Path, bytes: &[u8], offset: usize) -> Location {
    let before = &bytes[..offset.min(bytes.len())];
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let line = 1 + before.iter().filter(|b| **b == b'\n').count();
    let column = 1 + String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count();
    Location::new(path, line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_bytes_are_located() {
        let path = Path::new("m.yaml");
        let error = decode(path, b"version: 1\nab\xffc\n".to_vec()).expect_err("not UTF-8");
        assert_eq!(error.location, Some(Location::new(path, 2, 3)));
        assert!(error.message.contains("`0xff`"), "{}", error.message);

        let error = decode(path, b"a: \x00\x01".to_vec()).expect_err("binary");
        assert_eq!(error.location, Some(Location::new(path, 1, 4)));
        assert!(error.message.contains("binary"));

        let error = decode(path, vec![0xff, 0xfe, b'a', 0]).expect_err("utf-16");
        assert!(error.message.contains("UTF-16"));
    }

    #[test]
    fn manifest_names_are_yaml_extensions() {
        assert!(is_manifest_name(Path::new("a.yaml")));
        assert!(is_manifest_name(Path::new("a.YML")));
        assert!(!is_manifest_name(Path::new("a.json")));
        assert!(!is_manifest_name(Path::new("yaml")));
    }
}
