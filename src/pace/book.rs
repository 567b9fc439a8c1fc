//! What the pacers of one run know of their accounts' rates, shared: a target starts from what
//! its siblings measured (accounts of one organisation usually share quotas) or from what an
//! earlier run remembered of its own account and region (see [`super::cache`]), instead of
//! finding the rate from nothing; and what every pacer learned, for the next run to remember.

use super::{MAX_RATE, MIN_RATE, Pacer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

/// What is known of one account and region's rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Remembered {
    /// Calls per second: the refill rate measured, or, if `measured` is false, the highest
    /// rate sent at without a single throttled reply (a lower bound of the account's rate).
    pub rate: f64,
    pub measured: bool,
    /// When it was learned, in seconds since the Unix epoch.
    pub at: u64,
}

impl Remembered {
    /// `rate`, learned now.
    pub(super) fn now(rate: f64, measured: bool) -> Self {
        Remembered {
            rate,
            measured,
            at: epoch_secs(SystemTime::now()),
        }
    }

    /// Whether it was learned no longer than `max_age` before `now`.
    pub fn fresh(&self, now: SystemTime, max_age: Duration) -> bool {
        epoch_secs(now).saturating_sub(self.at) <= max_age.as_secs()
    }
}

fn epoch_secs(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// Where a new pacer starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prior {
    /// The account's refill rate was measured (by a sibling, or by an earlier run): discovery
    /// starts there and, at the first throttle, the pacer settles just under it instead of
    /// halving blind.
    Measured(f64),
    /// The account took this rate without throttling: discovery starts there.
    Unthrottled(f64),
}

/// Remembered rates older than this are not used: quotas change, and so do other callers.
pub const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// The run's shared knowledge of rates (cheap to share: `Arc`).
#[derive(Debug, Default)]
pub struct RateBook {
    state: Mutex<BookState>,
}

#[derive(Debug, Default)]
struct BookState {
    /// From an earlier run, by key.
    remembered: BTreeMap<String, Remembered>,
    /// The pacers of this run, with the key each was made for.
    pacers: Vec<(Option<String>, Weak<Pacer>)>,
    /// What pacers of this run that have ended learned, by key.
    learned: BTreeMap<String, Remembered>,
}

impl RateBook {
    /// A book that knows nothing yet.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// A book that starts from what an earlier run remembered (see [`super::cache::load`]).
    pub fn remembering(remembered: BTreeMap<String, Remembered>) -> Arc<Self> {
        let book = Self::default();
        if let Ok(mut state) = book.state.lock() {
            state.remembered = remembered;
        }
        Arc::new(book)
    }

    /// An adaptive pacer for the account and region `key` (any text naming them; `None` if
    /// unknown), starting from what the book knows: this key's own remembered rate if fresh,
    /// else what the run's other pacers measured.
    pub fn pacer(self: &Arc<Self>, key: Option<&str>) -> Arc<Pacer> {
        let prior = self.prior(key);
        tracing::debug!(key, ?prior, "adaptive pacer starts");
        let pacer = Arc::new(Pacer::adaptive_in(prior, Some(Arc::downgrade(self))));
        if let Ok(mut state) = self.state.lock() {
            state.pacers.retain(|(_, p)| p.strong_count() > 0);
            state
                .pacers
                .push((key.map(str::to_string), Arc::downgrade(&pacer)));
        }
        pacer
    }

    /// Where a pacer for `key` starts.
    pub fn prior(&self, key: Option<&str>) -> Option<Prior> {
        let state = self.state.lock().ok()?;
        let now = SystemTime::now();
        let own = key
            .and_then(|key| state.learned.get(key).or_else(|| state.remembered.get(key)))
            .filter(|r| r.fresh(now, MAX_AGE));
        if let Some(own) = own {
            return Some(if own.measured {
                Prior::Measured(own.rate)
            } else {
                Prior::Unthrottled(own.rate)
            });
        }
        if let Some(rate) = sibling_estimate(&state.pacers, None) {
            return Some(Prior::Measured(rate));
        }
        // Siblings that were never throttled: the rate they reached.
        let unthrottled = state
            .pacers
            .iter()
            .filter_map(|(_, pacer)| pacer.upgrade()?.learned())
            .filter(|r| !r.measured)
            .map(|r| r.rate)
            .fold(0.0, f64::max);
        (unthrottled > 0.0).then_some(Prior::Unthrottled(unthrottled))
    }

    /// What the run's pacers other than `asking` measured: the median of their estimates.
    pub(super) fn sibling(&self, asking: *const Pacer) -> Option<f64> {
        let state = self.state.lock().ok()?;
        sibling_estimate(&state.pacers, Some(asking))
    }

    /// A pacer ends: what it learned is kept for [`RateBook::learned`].
    pub(super) fn ended(&self, pacer: &Pacer) {
        let Some(learned) = pacer.learned() else {
            return;
        };
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let me: *const Pacer = pacer;
        let key = state
            .pacers
            .iter()
            .find(|(_, p)| std::ptr::eq(p.as_ptr(), me))
            .and_then(|(key, _)| key.clone());
        if let Some(key) = key {
            state.learned.insert(key, learned);
        }
    }

    /// What this run learned, by key: every pacer's measured rate, or the rate an account took
    /// without throttling. Keys no pacer learned anything for are absent.
    pub fn learned(&self) -> BTreeMap<String, Remembered> {
        let Ok(state) = self.state.lock() else {
            return BTreeMap::new();
        };
        let mut learned = state.learned.clone();
        for (key, pacer) in &state.pacers {
            if let (Some(key), Some(pacer)) = (key, pacer.upgrade())
                && let Some(now) = pacer.learned()
            {
                learned.insert(key.clone(), now);
            }
        }
        learned
    }
}

/// The median of the estimates of `pacers` other than `except`.
fn sibling_estimate(
    pacers: &[(Option<String>, Weak<Pacer>)],
    except: Option<*const Pacer>,
) -> Option<f64> {
    let mut rates: Vec<f64> = pacers
        .iter()
        .filter(|(_, p)| except.is_none_or(|me| !std::ptr::eq(p.as_ptr(), me)))
        .filter_map(|(_, p)| p.upgrade()?.estimate())
        .filter(|rate| rate.is_finite())
        .map(|rate| rate.clamp(MIN_RATE, MAX_RATE))
        .collect();
    if rates.is_empty() {
        return None;
    }
    rates.sort_by(f64::total_cmp);
    Some(rates[rates.len() / 2])
}
