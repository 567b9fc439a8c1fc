//! The knobs every command that calls AWS shares (`--concurrency`, `--rate`, `--call-timeout`,
//! `--deadline`, `--target`, `--target-concurrency`), their parsers, and what they make: the run
//! each client's pacer.

use clap::Args;
use sc_assoc::pace::Pacer;
use sc_assoc::target::TargetFilter;

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

    /// The pacer every call of the run goes through (`None`: unpaced).
    pub fn pacer(&self) -> Option<std::sync::Arc<Pacer>> {
        let pacer = match self.rate {
            Rate::Fixed(rate) => Pacer::fixed(rate),
            Rate::Auto => Pacer::adaptive(),
            Rate::Unlimited => return None,
        };
        Some(std::sync::Arc::new(pacer))
    }
}
