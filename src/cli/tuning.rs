//! The knobs every command that calls AWS shares (`--concurrency`, `--rate`, `--call-timeout`,
//! `--deadline`, `--target`, `--target-concurrency`), their parsers, and what they make: the run
//! each client's pacer.

use clap::Args;
use sc_assoc::pace::{Pacer, RateBook, cache};
use sc_assoc::target::TargetFilter;
use std::path::PathBuf;
use std::sync::Arc;

/// Knobs shared by the commands that call AWS.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Calls")]
pub struct Tuning {
    /// Calls in flight at most.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// Pace all calls. `auto` (the default) measures the account's rate from its throttled
    /// replies and runs at it; N sends at most N calls per second (a rate you know);
    /// `unlimited` does not pace (the SDK's retries alone handle throttling).
    #[arg(long, default_value = "auto", value_parser = parse_rate)]
    pub rate: Rate,
    /// Where `--rate auto` remembers each account and region's rate for the next run, which
    /// then starts at it instead of finding it again (a JSON file; entries older than 7 days are
    /// not used). Default: `sc-assoc/rates.json` in `$XDG_CACHE_HOME` or `~/.cache`, none where
    /// `CI` is set (an ephemeral machine; see README for keeping it in a pipeline). `off`: none.
    #[arg(long, value_name = "PATH|off", env = "SC_ASSOC_RATE_CACHE")]
    pub rate_cache: Option<String>,
    /// Give up on one HTTP attempt after this many seconds; a call and all its retries get ten
    /// times that (so an endpoint that never answers fails the run in about 100 s by default).
    #[arg(long, default_value_t = DEFAULT_CALL_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub call_timeout: u64,
    /// Bound the whole run: after this many seconds no new call is made, calls in flight get
    /// 2 s, the outcome of every triple is reported, and the exit code is 1.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub deadline: Option<u64>,
    /// Run only this target of the manifests' `targets:`: an account (all its regions) or one
    /// region of it, `current` for the default credentials' account. Repeat for several.
    #[arg(
        long = "target",
        value_name = "ACCOUNT[/REGION]",
        help_heading = "Targets"
    )]
    pub targets: Vec<TargetFilter>,
    /// Run only slice I of N of the targets (after `--target`), such as 2/10: N pipeline jobs,
    /// each with its own I, cover every target once with no account list. A target's slice
    /// depends on its account and region only, so accounts that join move no others.
    #[arg(long, value_name = "I/N", help_heading = "Targets")]
    pub shard: Option<sc_assoc::target::Shard>,
    /// Targets worked on at once; each is paced on its own (its own rate budget).
    #[arg(long, default_value_t = DEFAULT_TARGET_CONCURRENCY, help_heading = "Targets", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub target_concurrency: u32,
}

/// Targets at once by default (the library's).
pub const DEFAULT_TARGET_CONCURRENCY: u32 = sc_assoc::settings::DEFAULT_TARGET_CONCURRENCY as u32;

/// One HTTP attempt's bound by default. Service Catalog answers in well under a second; ten
/// seconds is far past any healthy answer, and ten attempts keep a hung endpoint's failure at
/// about 100 s.
pub const DEFAULT_CALL_TIMEOUT_SECS: u64 = 10;

/// An endpoint URL must be an absolute `http` or `https` URL with a host: anything else is a
/// usage error at once, not a confusing failure of every call later.
pub fn parse_endpoint_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|e| format!("`{text}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "`{text}` is not an http:// or https:// URL (scheme `{}`)",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{text}` has no host"));
    }
    Ok(text.to_string())
}

/// A client-side rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    Fixed(f64),
    Auto,
    Unlimited,
}

fn parse_rate(text: &str) -> Result<Rate, String> {
    match text {
        "auto" => return Ok(Rate::Auto),
        "unlimited" => return Ok(Rate::Unlimited),
        _ => {}
    }
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(Rate::Fixed(rate)),
        _ => Err(format!(
            "`{text}` is not a positive number of calls per second, `auto` or `unlimited`"
        )),
    }
}

impl Tuning {
    pub fn deadline(&self) -> Option<std::time::Duration> {
        self.deadline.map(std::time::Duration::from_secs)
    }

    /// A pacer on its own, sharing nothing (`None`: unpaced): for a service whose rate budget
    /// is not a target's (Organizations).
    pub fn pacer(&self) -> Option<Arc<Pacer>> {
        let pacer = match self.rate {
            Rate::Fixed(rate) => Pacer::fixed(rate),
            Rate::Auto => Pacer::adaptive(),
            Rate::Unlimited => return None,
        };
        Some(Arc::new(pacer))
    }

    /// The pacers of one command's targets, sharing what they learn, starting from the rate
    /// cache and saving to it when dropped.
    pub fn pacers(&self) -> Pacers {
        let cache = match self.rate_cache.as_deref() {
            _ if self.rate != Rate::Auto => None,
            Some("off") => None,
            Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
            _ => cache::default_path(|name| std::env::var(name).ok()),
        };
        let book = match &cache {
            Some(path) => {
                let remembered = cache::load(path);
                tracing::debug!(path = %path.display(), entries = remembered.len(), "rate cache read");
                RateBook::remembering(remembered)
            }
            None => RateBook::new(),
        };
        Pacers {
            rate: self.rate,
            book,
            cache,
        }
    }
}

/// One command's pacers: a pacer per target from one [`RateBook`], so targets start from what
/// their siblings measured and, through the rate cache, from what earlier runs did.
pub struct Pacers {
    rate: Rate,
    book: Arc<RateBook>,
    cache: Option<PathBuf>,
}

impl Pacers {
    /// The pacer of the target whose rate budget `key` names (`None`: unpaced).
    pub fn pacer(&self, key: Option<&str>) -> Option<Arc<Pacer>> {
        match self.rate {
            Rate::Fixed(rate) => Some(Arc::new(Pacer::fixed(rate))),
            Rate::Auto => Some(self.book.pacer(key)),
            Rate::Unlimited => None,
        }
    }
}

impl Drop for Pacers {
    /// Saves what the run learned. The cache is an optimisation: a directory that cannot be
    /// written (a read-only home) is a debug log line, never an error.
    fn drop(&mut self) {
        let Some(path) = &self.cache else {
            return;
        };
        if let Err(error) = cache::save(path, &self.book.learned()) {
            tracing::debug!(path = %path.display(), %error, "rate cache not saved");
        }
    }
}
