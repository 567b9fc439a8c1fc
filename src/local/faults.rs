//! Fault injection for the local catalog: the knobs ([`Faults`]), a seeded SplitMix64 generator,
//! the per-request draw that decides latency, injected errors, lost replies and per-item batch
//! throttling, and the token bucket that answers `ThrottlingException`. Throttling comes two
//! ways: the bucket (a rate, as an account's limit behaves) and `throttle_rate` (a probability
//! per request, as a soak test wants: a fixed share of calls throttled whatever the client's
//! pace).
//!
//! Determinism: every request that reaches an operation takes the next sequence number, and all of
//! its random choices come from a generator seeded with `(rng_seed, sequence)`. A client that sends
//! its requests one at a time therefore sees the same faults in the same places on every run with
//! the same seed, and the shared state is one atomic counter instead of a locked generator.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Fault knobs. `Default` injects nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Fixed delay before every operation's answer.
    pub latency: Duration,
    /// Extra delay drawn uniformly from `0..=jitter`.
    pub jitter: Duration,
    /// Token-bucket refill rate in requests per second, shared by all twelve operations;
    /// `None` means unlimited.
    pub rate: Option<f64>,
    /// Bucket capacity (requests allowed back to back). Values below 1 act as 1.
    pub burst: u32,
    /// Probability that a request is answered HTTP 500 `InternalFailure` without being performed.
    pub error_rate: f64,
    /// Probability that a write is performed but answered HTTP 500 `InternalFailure` (the reply
    /// was "lost"). Reads are unaffected: for them this is indistinguishable from `error_rate`.
    pub lost_reply_rate: f64,
    /// Probability that one item of a batch call fails with `THROTTLING` inside an HTTP 200.
    pub batch_item_throttle_rate: f64,
    /// Probability that a request is answered HTTP 400 `ThrottlingException` without being
    /// performed, independent of the token bucket (which still applies on top).
    pub throttle_rate: f64,
    /// How long after an API write the `List*` calls show it (writes see it at once): AWS's
    /// listings lag its writes. Zero shows every write at once.
    pub listing_lag: Duration,
    /// Extra listing lag drawn uniformly from `0..=listing_lag_jitter` per write call.
    pub listing_lag_jitter: Duration,
    /// Seed of every random choice above.
    pub rng_seed: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            rate: None,
            burst: 1,
            error_rate: 0.0,
            lost_reply_rate: 0.0,
            batch_item_throttle_rate: 0.0,
            throttle_rate: 0.0,
            listing_lag: Duration::ZERO,
            listing_lag_jitter: Duration::ZERO,
            rng_seed: 0,
        }
    }
}

/// SplitMix64: tiny, fast and good enough for fault rolls; no dependency, fully reproducible.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`, from the top 53 bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p` (clamped to 0..=1; NaN counts as 0).
    pub fn chance(&mut self, p: f64) -> bool {
        let roll = self.next_f64();
        p > 0.0 && roll < p
    }
}

/// What the dice decided for one request, drawn up front in a fixed order so the outcome does
/// not depend on which branch the request later takes.
#[derive(Debug, Clone)]
pub struct Draw {
    pub delay: Duration,
    /// Answer `ThrottlingException` (the `throttle_rate` roll, not the bucket).
    pub throttle: bool,
    pub inject_error: bool,
    pub lose_reply: bool,
    /// How long the listings take to show this request's writes, if it makes any.
    pub listing_lag: Duration,
    /// Continues the request's stream for per-item batch rolls.
    pub rng: SplitMix64,
}

impl Draw {
    pub fn item_throttled(&mut self, faults: &Faults) -> bool {
        self.rng.chance(faults.batch_item_throttle_rate)
    }
}

/// Hands out per-request draws. The sequence restarts whenever the knobs change, so a test can
/// set a seed and expect the same sequence twice.
#[derive(Debug, Default)]
pub struct Dice {
    sequence: AtomicU64,
}

impl Dice {
    pub fn restart(&self) {
        self.sequence.store(0, Ordering::SeqCst);
    }

    pub fn draw(&self, faults: &Faults) -> Draw {
        let n = self.sequence.fetch_add(1, Ordering::SeqCst);
        // Mix seed and sequence through one SplitMix64 step so neighbouring requests get
        // unrelated streams.
        let mut rng = SplitMix64::new(faults.rng_seed ^ n.wrapping_mul(0xD1B5_4A32_D192_ED03));
        rng.next_u64();
        let jitter_nanos = faults.jitter.as_nanos().min(u128::from(u64::MAX)) as u64;
        let extra = if jitter_nanos == 0 {
            0
        } else {
            rng.next_u64() % (jitter_nanos + 1)
        };
        let inject_error = rng.chance(faults.error_rate);
        let lose_reply = rng.chance(faults.lost_reply_rate);
        // Rolled last, and only when the knob is set, so that seeds chosen before the knob
        // existed still give the same errors, lost replies and batch-item throttles.
        let throttle = faults.throttle_rate > 0.0 && rng.chance(faults.throttle_rate);
        // Likewise after them, and only when jitter is asked for.
        let lag_jitter_nanos = faults
            .listing_lag_jitter
            .as_nanos()
            .min(u128::from(u64::MAX)) as u64;
        let lag_extra = if lag_jitter_nanos == 0 {
            0
        } else {
            rng.next_u64() % (lag_jitter_nanos + 1)
        };
        Draw {
            delay: faults.latency + Duration::from_nanos(extra),
            throttle,
            inject_error,
            lose_reply,
            listing_lag: faults.listing_lag + Duration::from_nanos(lag_extra),
            rng,
        }
    }
}

/// A token bucket: `rate` tokens per second, at most `burst` stored, one per request.
///
/// The lock guards two numbers and is held for a few arithmetic operations, never across an
/// await, so it costs less than the HTTP parsing around it.
#[derive(Debug)]
pub struct Bucket {
    inner: Mutex<BucketState>,
}

#[derive(Debug)]
struct BucketState {
    rate: Option<f64>,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub fn new(faults: &Faults) -> Self {
        Bucket {
            inner: Mutex::new(BucketState::fresh(faults)),
        }
    }

    /// Refills the bucket to the new capacity under the new rate.
    pub fn reconfigure(&self, faults: &Faults) {
        let mut state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *state = BucketState::fresh(faults);
    }

    /// Takes one token; false means the request is throttled.
    pub fn try_take(&self) -> bool {
        let mut state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Some(rate) = state.rate else {
            return true;
        };
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(state.last).as_secs_f64();
        state.last = now;
        state.tokens = (state.tokens + elapsed * rate).min(state.capacity);
        if state.tokens >= 1.0 {
            state.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

impl BucketState {
    fn fresh(faults: &Faults) -> Self {
        // A non-positive or NaN rate would never refill; treat it as "no tokens after the burst".
        let rate = faults
            .rate
            .map(|r| if r.is_finite() && r > 0.0 { r } else { 0.0 });
        let capacity = f64::from(faults.burst.max(1));
        BucketState {
            rate,
            capacity,
            tokens: capacity,
            last: Instant::now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_the_same_draws() {
        let faults = Faults {
            error_rate: 0.3,
            lost_reply_rate: 0.2,
            jitter: Duration::from_millis(10),
            rng_seed: 42,
            ..Faults::default()
        };
        let roll = |dice: &Dice| {
            (0..50)
                .map(|_| {
                    let d = dice.draw(&faults);
                    (d.delay, d.inject_error, d.lose_reply)
                })
                .collect::<Vec<_>>()
        };
        let dice = Dice::default();
        let first = roll(&dice);
        dice.restart();
        assert_eq!(first, roll(&dice));
        assert!(first.iter().any(|d| d.1) && first.iter().any(|d| !d.1));
    }

    #[test]
    fn throttle_rate_is_seeded_and_leaves_the_other_rolls_unchanged() {
        let base = Faults {
            error_rate: 0.3,
            lost_reply_rate: 0.2,
            rng_seed: 9,
            ..Faults::default()
        };
        let throttling = Faults {
            throttle_rate: 0.25,
            ..base.clone()
        };
        let roll = |faults: &Faults| {
            let dice = Dice::default();
            (0..400)
                .map(|_| {
                    let d = dice.draw(faults);
                    (d.inject_error, d.lose_reply, d.throttle)
                })
                .collect::<Vec<_>>()
        };
        let (plain, throttled) = (roll(&base), roll(&throttling));
        assert_eq!(throttled, roll(&throttling), "same seed, same throttles");
        assert!(plain.iter().all(|d| !d.2));
        let strip = |v: &[(bool, bool, bool)]| v.iter().map(|d| (d.0, d.1)).collect::<Vec<_>>();
        assert_eq!(strip(&plain), strip(&throttled));
        let share = throttled.iter().filter(|d| d.2).count();
        assert!((60..140).contains(&share), "about a quarter: {share}");
    }

    #[test]
    fn bucket_allows_the_burst_then_throttles() {
        let bucket = Bucket::new(&Faults {
            rate: Some(0.001),
            burst: 3,
            ..Faults::default()
        });
        assert!((0..3).all(|_| bucket.try_take()));
        assert!(!bucket.try_take());
    }

    #[test]
    fn zero_probability_never_fires_and_one_always_does() {
        let mut rng = SplitMix64::new(7);
        assert!((0..1000).all(|_| !rng.chance(0.0)));
        assert!((0..1000).all(|_| rng.chance(1.0)));
    }
}
