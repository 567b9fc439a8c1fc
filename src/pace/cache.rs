//! The rate cache: a small JSON file of what earlier runs learned of each account and region's
//! rate ([`Remembered`], keyed as the caller names them), so the next run starts at the rate
//! instead of finding it again. Best effort by design: a missing, unreadable or corrupt file is
//! an empty cache, a failed write is a debug log line, and nothing in it is secret (account ids,
//! regions, endpoints and rates).

use super::book::{MAX_AGE, Remembered};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Entries kept at most: the most recently learned. A few hundred accounts × regions fit.
const MAX_ENTRIES: usize = 2_000;
/// The file's format, written beside the entries.
const VERSION: u32 = 1;

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct File {
    version: u32,
    rates: BTreeMap<String, Remembered>,
}

/// Where the cache lives unless told: `$XDG_CACHE_HOME/sc-assoc/rates.json`, else
/// `$HOME/.cache/sc-assoc/rates.json`. `None` — no cache — where a run is known to be ephemeral
/// (`CI` is set, as every CI service sets it: the file would die with the machine, and a
/// pipeline that keeps it says where, see README) or there is no home to keep it in.
pub fn default_path(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let set = |name: &str| env(name).filter(|v| !v.is_empty());
    if set("CI").is_some_and(|v| v != "false" && v != "0") {
        return None;
    }
    let base = set("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| set("HOME").map(|home| Path::new(&home).join(".cache")))?;
    Some(base.join("sc-assoc").join("rates.json"))
}

/// The fresh entries of the cache at `path` (none if it is missing, unreadable or corrupt).
pub fn load(path: &Path) -> BTreeMap<String, Remembered> {
    let now = SystemTime::now();
    read(path)
        .into_iter()
        .filter(|(_, r)| r.fresh(now, MAX_AGE))
        .collect()
}

fn read(path: &Path) -> BTreeMap<String, Remembered> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) => {
            if err.kind() != std::io::ErrorKind::NotFound {
                tracing::debug!(path = %path.display(), error = %err, "rate cache not read");
            }
            return BTreeMap::new();
        }
    };
    match serde_json::from_str::<File>(&text) {
        Ok(file) if file.version == VERSION => file
            .rates
            .into_iter()
            .filter(|(_, r)| r.rate.is_finite() && r.rate > 0.0)
            .collect(),
        Ok(file) => {
            tracing::debug!(path = %path.display(), version = file.version, "rate cache of another version ignored");
            BTreeMap::new()
        }
        Err(err) => {
            tracing::debug!(path = %path.display(), error = %err, "rate cache not understood, ignored");
            BTreeMap::new()
        }
    }
}

/// Adds `learned` to the cache at `path`: merged with what is there now (another run may have
/// written since this one read), stale entries dropped, the newest 2,000 kept, written
/// to a temporary file and renamed over the old one, so a reader never sees half a file.
pub fn save(path: &Path, learned: &BTreeMap<String, Remembered>) -> std::io::Result<()> {
    if learned.is_empty() {
        return Ok(());
    }
    let now = SystemTime::now();
    let mut rates = read(path);
    rates.extend(learned.iter().map(|(k, v)| (k.clone(), *v)));
    rates.retain(|_, r| r.fresh(now, MAX_AGE));
    if rates.len() > MAX_ENTRIES {
        let mut by_age: Vec<(u64, String)> = rates.iter().map(|(k, r)| (r.at, k.clone())).collect();
        by_age.sort();
        for (_, key) in by_age.iter().take(rates.len() - MAX_ENTRIES) {
            rates.remove(key);
        }
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let text = serde_json::to_string_pretty(&File {
        version: VERSION,
        rates,
    })
    .map_err(std::io::Error::other)?;
    let temporary = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("rates"),
        std::process::id()
    ));
    std::fs::write(&temporary, text)?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn entry(rate: f64, at: u64) -> Remembered {
        Remembered {
            rate,
            measured: true,
            at,
        }
    }

    #[test]
    fn what_one_run_saves_the_next_loads_merged_with_what_others_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deep/er/rates.json");
        assert!(load(&path).is_empty(), "no file is an empty cache");
        let first = BTreeMap::from([("a".to_string(), entry(20.0, now()))]);
        save(&path, &first).unwrap();
        let second = BTreeMap::from([("b".to_string(), entry(5.0, now()))]);
        save(&path, &second).unwrap();
        let loaded = load(&path);
        assert_eq!(loaded.len(), 2);
        assert_eq!(loaded["a"].rate, 20.0);
        assert_eq!(loaded["b"].rate, 5.0);
    }

    #[test]
    fn stale_and_corrupt_entries_are_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rates.json");
        let old = now() - MAX_AGE.as_secs() - 60;
        let mixed = BTreeMap::from([
            ("old".to_string(), entry(20.0, old)),
            ("new".to_string(), entry(30.0, now())),
        ]);
        std::fs::write(
            &path,
            serde_json::to_string(&File {
                version: VERSION,
                rates: mixed,
            })
            .unwrap(),
        )
        .unwrap();
        assert_eq!(load(&path).keys().collect::<Vec<_>>(), ["new"]);
        std::fs::write(&path, "{not json").unwrap();
        assert!(load(&path).is_empty());
        // A corrupt file is replaced by the next save, not an error.
        save(
            &path,
            &BTreeMap::from([("x".to_string(), entry(1.0, now()))]),
        )
        .unwrap();
        assert_eq!(load(&path).len(), 1);
    }

    #[test]
    fn the_default_place_is_the_users_cache_and_none_in_ci() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            default_path(env(&[("HOME", "/home/u")])),
            Some(PathBuf::from("/home/u/.cache/sc-assoc/rates.json"))
        );
        assert_eq!(
            default_path(env(&[("HOME", "/home/u"), ("XDG_CACHE_HOME", "/c")])),
            Some(PathBuf::from("/c/sc-assoc/rates.json"))
        );
        assert_eq!(
            default_path(env(&[("HOME", "/home/u"), ("CI", "true")])),
            None
        );
        assert_eq!(default_path(env(&[])), None);
    }

    #[test]
    fn a_directory_that_cannot_be_written_is_an_error_for_the_caller_to_log() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let learned = BTreeMap::from([("a".to_string(), entry(20.0, now()))]);
        assert!(save(&blocker.join("rates.json"), &learned).is_err());
    }
}
