//! Running the sc-assoc binary as a user does, for the benchmark examples: under
//! `/usr/bin/time` for its peak memory, with made-up credentials and nothing of this machine's
//! AWS configuration. Included by each example with `#[path]` (examples are separate crates).

use std::path::Path;

/// Refuses to measure a binary that is not there, naming the command that builds it.
pub fn require(bin: &Path) -> anyhow::Result<()> {
    if !bin.exists() {
        anyhow::bail!(
            "{} does not exist: run `cargo build --release` first, or pass --bin",
            bin.display()
        );
    }
    Ok(())
}

/// A child's whole environment besides `PATH`: made-up credentials (the local catalog tells
/// accounts apart by `access_key`), `region`, and no configuration file or instance metadata.
pub fn env<'a>(access_key: &'a str, region: &'a str) -> [(&'static str, &'a str); 6] {
    [
        ("AWS_ACCESS_KEY_ID", access_key),
        ("AWS_SECRET_ACCESS_KEY", "bench-secret"),
        ("AWS_REGION", region),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
}

/// `bin` under `/usr/bin/time -f %M`, in a cleared environment (see [`env`]); the caller adds
/// the arguments. Read the peak with [`peak_mb`].
pub fn timed(bin: &Path, access_key: &str, region: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new("/usr/bin/time");
    command
        .args(["-f", "%M"])
        .arg(bin)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env(access_key, region));
    command
}

/// The peak RSS in MB that `/usr/bin/time -f %M` wrote as the last line of stderr; NaN when it
/// wrote none.
pub fn peak_mb(stderr: &[u8]) -> f64 {
    String::from_utf8_lossy(stderr)
        .lines()
        .last()
        .and_then(|line| line.trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
