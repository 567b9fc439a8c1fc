//! The adaptive pacer's estimator: what it knows of the account's token bucket, how each answer
//! moves the rate, and how it tells the bucket's throttles from throttles that are not its own
//! (see the [module documentation](super) for the model).

use super::{MAX_RATE, MIN_RATE};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// Where discovery starts, in calls per second, when nothing is known of the account: one
/// allowing 5 calls per second then loses one or two throttled replies to discovery, and one
/// allowing 200 reaches its rate within about 1.1 s (doubling every [`DOUBLING`]).
pub(super) const START_RATE: f64 = 10.0;
/// Discovery doubles the rate this often. Before the first throttle the bucket is still full
/// and overflows while the client sends below R: slower growth wastes the account's rate, faster
/// growth overshoots further when the bucket runs dry.
const DOUBLING: Duration = Duration::from_millis(250);
/// Cut when discovery ends without an estimate: the rate that emptied the bucket is at most about
/// twice R (it doubled since the last rate that did not).
pub(super) const DISCOVERY_CUT: f64 = 0.5;
/// Cut when an episode comes before a window long enough to measure: halving finds a rate
/// below R in as few throttled replies as possible.
const BLIND_CUT: f64 = 0.5;
/// Without an estimate the ramp grows by this share of its base per second: fast enough to be
/// back at R before the bucket overflows, slow enough to overshoot little.
const BLIND_SLOPE: f64 = 0.25;
/// After an episode the pacer drops this far below the estimate: the dip builds a cushion that
/// absorbs jitter, and is spent by the ramp that follows.
const DIP: f64 = 0.05;
/// The ramp crosses the estimate this long after the dip, or after [`CROSS_CALLS`] calls if that
/// takes longer: probing is gentle, and costs a small share of the calls even at a low rate.
const CROSS_SECS: f64 = 2.5;
const CROSS_CALLS: f64 = 100.0;
/// A window with fewer accepted calls is not measured. A short window is uncertain (one token
/// of error is a third of three calls), which the ramp after it makes up for: it grows faster
/// by that share (see [`Adaptive::react`]).
const MIN_WINDOW_CALLS: u64 = 3;
/// Timing error of a window's ends, from latency jitter: part of its uncertainty.
const WINDOW_TIMING: Duration = Duration::from_millis(20);
/// The estimate comes from the most recent window with this many accepted calls (one token is
/// then 2.5% of it), or from the longest one if none has as many.
const GOOD_WINDOW_CALLS: u64 = 40;
/// Windows start no longer ago than this, so the estimate follows an account whose rate changes
/// (other callers share it).
const MAX_WINDOW: Duration = Duration::from_secs(30);
/// Calls in progress at most until the first throttle. When the bucket runs dry, every call in
/// flight is throttled: this keeps that overshoot the same at `--concurrency 64` as at the
/// default 16.
const DISCOVERY_IN_FLIGHT: u64 = 16;
/// The cap doubles after holding callers back this long without a throttle, so an account that
/// allows more than 16 calls per latency is still found.
const CAP_DOUBLING: Duration = Duration::from_secs(1);
/// How sure a rate measured elsewhere (a sibling target, an earlier run) is taken to be: the
/// ramp after the first episode climbs faster by this share, in case this account allows more.
const PRIOR_UNCERTAINTY: f64 = 0.2;
/// After a reaction to a bucket that was measured right, the dip leaves tokens for the next
/// several seconds and the next throttle comes after many calls. A period between reactions
/// with fewer accepted calls is short; [`SHORT_PERIODS`] of them in a row are suspect: the rate
/// keeps being cut and the throttles keep coming, as when it is far above the bucket's rate or
/// when they are not the bucket's at all. The slow-down test tells which.
const QUIET_CALLS: u64 = 20;
const SHORT_PERIODS: u32 = 3;
/// Accepted calls any bucket gives before its first throttle (its burst), unless others emptied
/// it.
const MIN_BURST: u64 = 4;
/// A suspect share above this is a bucket, not tested: random throttling of other origin is
/// taken to be at most half the calls, and a bucket refusing more than half is overshot by more
/// than twice, which the blind cuts handle.
const NOISE_AT_MOST: f64 = 0.5;
/// The slow-down test sends at this share of the rate that got through before it (what a
/// bucket allowed, if it is one; the margin absorbs jitter), at most half the rate and this
/// share of a measured estimate: a bucket has a token for every
/// call there, so throttles during the test are not the bucket's (two of them, or one at the
/// share that started it: a single one may be jitter at the edge of the bucket's rate). It ends
/// at the second, or when throttles coming at the share that started it would have shown
/// [`TEST_EXPECTED`] times (so that none showing is evidence), within [`TEST_ANSWERS`].
const TEST_BELOW: f64 = 0.8;
const TEST_EXPECTED: f64 = 4.0;
const TEST_ANSWERS: (u64, u64) = (10, 40);
/// Once throttles are known not to depend on the rate, a throttle is a signal only when more of
/// them came than that share explains: a cumulative sum of each answer's excess over the share
/// plus [`EXCESS_SLACK`] (never below zero) that reaches [`EXCESS_ALARM`]. A sustained excess of
/// 0.15 (the pacer 20% over a bucket's rate) is seen within about 40 answers; the share alone
/// drifts the sum down and seldom reaches it.
const EXCESS_SLACK: f64 = 0.06;
const EXCESS_ALARM: f64 = 3.0;

/// A count of answers and of the throttled among them.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    answers: u64,
    throttled: u64,
}

impl Tally {
    fn add(&mut self, throttled: bool) {
        self.answers += 1;
        self.throttled += u64::from(throttled);
    }

    pub(super) fn share(&self) -> f64 {
        self.throttled as f64 / self.answers.max(1) as f64
    }
}

/// The slow-down test: does sending below what got through stop the throttles?
#[derive(Debug)]
struct Test {
    /// The rate before the test, restored if the throttles turn out not to be the bucket's.
    rate_before: f64,
    /// Answers numbered above this went out after the test began.
    from: u64,
    /// The share that made the test start.
    before: Tally,
    during: Tally,
}

/// What the adaptive pacer knows and is doing.
#[derive(Debug)]
pub(super) struct Adaptive {
    /// True until the first throttling episode (and again after throttles turn out not to be
    /// the bucket's: the rate is then found anew, with those throttles discounted).
    pub(super) discovering: bool,
    /// Growth of the rate in calls per second, per second, while tracking.
    slope: f64,
    /// Last time the rate grew (or was cut).
    grown_at: Instant,
    /// HTTP attempts sent, replies received, and replies that were not throttled.
    pub(super) sent: u64,
    pub(super) answered: u64,
    accepted: u64,
    /// Replies numbered up to this answer attempts sent before the last reaction.
    pub(super) episode_end: u64,
    /// (time, accepted replies so far) at the first throttle of each recent episode, oldest
    /// first: each is a moment the bucket was empty.
    empty_at: VecDeque<(Instant, u64)>,
    /// The last measured refill rate.
    pub(super) estimate: Option<f64>,
    /// Its relative uncertainty: one token, and the timing of the window's ends.
    uncertainty: f64,
    /// A rate measured elsewhere (an earlier run, or the pacer's caller), taken as the estimate
    /// at the first episode if no window has measured one by then.
    prior: Option<f64>,
    /// The same, kept: what the next run may still start from if this one learns nothing new.
    pub(super) started_from: Option<f64>,
    /// Slots handed out: calls started. Calls in progress are those not yet accepted.
    pub(super) granted: u64,
    /// Calls in progress allowed while discovering, and since when that cap holds callers back.
    cap: u64,
    cap_held_since: Option<Instant>,
    /// Answers to attempts sent since the last reaction; the answers of the recent run of
    /// periods too short to be a bucket's, and how many there were in a row.
    period: Tally,
    short: Tally,
    short_periods: u32,
    /// Answers below the estimate since the last reaction above it.
    cushion: Tally,
    /// Whether a throttle before [`MIN_BURST`] accepted calls was let pass.
    early_forgiven: bool,
    test: Option<Test>,
    /// The share of answers throttled whatever the rate: 0 until the slow-down test shows such
    /// throttles.
    pub(super) noise: f64,
    /// The cumulative excess of throttles over that share (see [`EXCESS_ALARM`]).
    excess: f64,
    /// The highest rate sent at while the pacer limited the calls, and whether any answer was
    /// throttled: what an earlier run tells the next one of an account that never throttled.
    pub(super) highest: f64,
    pub(super) throttled_ever: bool,
}

impl Adaptive {
    /// An estimator starting from nothing, or from `prior`, a rate measured elsewhere.
    pub(super) fn new(now: Instant, prior: Option<f64>) -> Self {
        Adaptive {
            discovering: true,
            slope: 0.0,
            grown_at: now,
            sent: 0,
            answered: 0,
            accepted: 0,
            episode_end: 0,
            empty_at: VecDeque::new(),
            estimate: None,
            uncertainty: 1.0,
            prior,
            started_from: prior,
            granted: 0,
            cap: DISCOVERY_IN_FLIGHT,
            cap_held_since: None,
            period: Tally::default(),
            short: Tally::default(),
            short_periods: 0,
            cushion: Tally::default(),
            early_forgiven: false,
            test: None,
            noise: 0.0,
            excess: 0.0,
            highest: 0.0,
            throttled_ever: false,
        }
    }

    /// Whether the slow-down test is on (the rate is held low while it runs).
    pub(super) fn testing(&self) -> bool {
        self.test.is_some()
    }

    /// While discovering, whether a caller must wait for an answer first: the cap doubles for
    /// every second it holds callers back without a throttle (a slow, unthrottled account).
    pub(super) fn capped(&mut self, now: Instant) -> bool {
        if !self.discovering || self.granted.saturating_sub(self.accepted) < self.cap {
            self.cap_held_since = None;
            return false;
        }
        let since = *self.cap_held_since.get_or_insert(now);
        if now.saturating_duration_since(since) >= CAP_DOUBLING {
            self.cap *= 2;
            self.cap_held_since = None;
            return false;
        }
        true
    }

    /// The rate grown for the time since it last grew, if the pacer was what limited the calls
    /// meanwhile (`binding`).
    pub(super) fn grow(&mut self, rate: f64, now: Instant, binding: bool) -> f64 {
        let elapsed = now.saturating_duration_since(self.grown_at);
        self.grown_at = now;
        if !binding || self.test.is_some() {
            return rate;
        }
        if !self.throttled_ever {
            self.highest = self.highest.max(rate);
        }
        let grown = if self.discovering {
            // A full in-flight cap limits the calls, not the rate: growing then would build a
            // rate never used, and the cut at the first throttle would start from it.
            if self.granted.saturating_sub(self.accepted) >= self.cap {
                return rate;
            }
            rate * 2f64.powf(elapsed.as_secs_f64() / DOUBLING.as_secs_f64())
        } else {
            rate + self.slope * elapsed.as_secs_f64()
        };
        grown.clamp(MIN_RATE, MAX_RATE)
    }

    /// An attempt's answer. Returns whether the pacer reacted to it (a throttling episode).
    /// `sibling` is a rate measured by another pacer of the run, the estimate to use if this
    /// one has none at its first episode.
    pub(super) fn answer(
        &mut self,
        rate: &mut f64,
        now: Instant,
        throttled: bool,
        sibling: Option<f64>,
    ) -> bool {
        self.answered += 1;
        if self.noise > 0.0 {
            self.excess =
                (self.excess + f64::from(u8::from(throttled)) - self.noise - EXCESS_SLACK).max(0.0);
        }
        self.throttled_ever |= throttled;
        if !throttled {
            self.accepted += 1;
        }
        // Answers to attempts sent after the last reaction: the ones that tell what it did.
        let fresh = self.answered > self.episode_end;
        if self.test.is_some() {
            self.tally_test(rate, now, throttled);
            return false;
        }
        let below = self.below_estimate(*rate);
        if fresh {
            self.period.add(throttled);
            if below {
                self.cushion.add(throttled);
            }
        }
        if !throttled {
            return false;
        }
        // Throttles that come whatever the rate, at about their usual share: retried, not a
        // signal.
        if self.noise > 0.0 {
            if self.excess < EXCESS_ALARM {
                return false;
            }
            self.excess = 0.0;
        }
        if !fresh {
            return false;
        }
        // A period this short after a cut: the rate went down, the throttles did not stop.
        // Only periods after a measurement count: before one, the pacer halves blind at every
        // throttle, and a bucket far above its rate looks the same.
        let period = std::mem::take(&mut self.period);
        if self.estimate.is_some() && period.answers - period.throttled < QUIET_CALLS {
            self.short.answers += period.answers;
            self.short.throttled += period.throttled;
            self.short_periods += 1;
        } else {
            self.short = Tally::default();
            self.short_periods = 0;
        }
        // Throttles below a measured estimate, where the bucket holds the dip's tokens.
        let early = below && self.cushion.throttled >= 2 && self.cushion.share() <= NOISE_AT_MOST;
        let short = self.short_periods >= SHORT_PERIODS && self.short.share() <= NOISE_AT_MOST;
        if early || short {
            if early {
                self.short = std::mem::take(&mut self.cushion);
            }
            self.start_test(rate, now);
            return true;
        }
        // The first throttle of a run, before the bucket could have given even a small burst:
        // an account already emptied by others, or a throttle that is not the bucket's. Once
        // is not enough to end discovery.
        if self.discovering && !self.early_forgiven && self.accepted < MIN_BURST {
            self.early_forgiven = true;
            self.episode_end = self.sent.max(self.answered);
            return false;
        }
        self.react(rate, now, true, sibling);
        if !below {
            self.cushion = Tally::default();
        }
        true
    }

    /// Whether the pacer sends below a measured estimate, where a bucket measured right has
    /// tokens for every call.
    fn below_estimate(&self, rate: f64) -> bool {
        !self.discovering && self.test.is_none() && self.estimate.is_some_and(|e| rate < e)
    }

    fn start_test(&mut self, rate: &mut f64, now: Instant) {
        self.episode_end = self.sent.max(self.answered);
        // If it is the bucket, it was empty now: a window's start for the measurement after.
        self.empty_at.push_back((now, self.accepted));
        let before = std::mem::take(&mut self.short);
        let rate_before = *rate;
        // Below what got through (a bucket's rate, if it is one), by a margin for jitter: a
        // bucket has a token for every call there. The share was pooled over periods at other
        // rates, so no higher than half the rate, nor than the margin below a measured
        // estimate.
        let below = (*rate * (1.0 - before.share()) * TEST_BELOW)
            .min(*rate * 0.5)
            .min(self.estimate.map_or(f64::INFINITY, |e| e * TEST_BELOW));
        *rate = below.clamp(MIN_RATE, MAX_RATE);
        self.test = Some(Test {
            rate_before,
            from: self.episode_end,
            before,
            during: Tally::default(),
        });
        self.short_periods = 0;
    }

    /// Counts an answer of the slow-down test, and ends the test when it has seen enough.
    fn tally_test(&mut self, rate: &mut f64, now: Instant, throttled: bool) {
        let Some(test) = &mut self.test else {
            return;
        };
        if self.answered <= test.from {
            return;
        }
        test.during.add(throttled);
        let during = test.during;
        let enough = ((TEST_EXPECTED / test.before.share().max(0.01)).ceil() as u64)
            .clamp(TEST_ANSWERS.0, TEST_ANSWERS.1);
        if during.answers < enough && during.throttled < 2 {
            return;
        }
        let Some(test) = self.test.take() else {
            return;
        };
        // Below what a bucket let through, it has a token for every call; one throttle may be
        // jitter at the edge of a bucket's rate, two are not, nor one at the share before.
        let not_the_buckets = during.throttled >= 2
            || (during.throttled == 1 && during.share() >= 0.5 * test.before.share());
        tracing::debug!(
            share_before = test.before.share(),
            answers_during = during.answers,
            throttled_during = during.throttled,
            not_the_buckets,
            "pacer's slow-down test"
        );
        self.period = Tally::default();
        self.cushion = Tally::default();
        self.estimate = None;
        self.grown_at = now;
        if not_the_buckets {
            // Windows ended by such throttles measured nothing.
            self.empty_at.clear();
            let seen = Tally {
                answers: test.before.answers + during.answers,
                throttled: test.before.throttled + during.throttled,
            };
            self.noise = self.noise.max(seen.share());
            // Find the rate anew, counting only throttles beyond that share.
            *rate = test.rate_before;
            self.discovering = true;
        } else {
            // The account's rate fell: measure it again from here.
            self.slope = BLIND_SLOPE * *rate;
        }
        self.episode_end = self.sent.max(self.answered);
    }

    /// A new throttling episode: measure if the bucket's emptiness is known, then dip and ramp.
    pub(super) fn react(
        &mut self,
        rate: &mut f64,
        now: Instant,
        bucket_empty: bool,
        sibling: Option<f64>,
    ) {
        // Every reply to an attempt already sent belongs to this episode.
        self.episode_end = self.sent.max(self.answered);
        if bucket_empty {
            while self
                .empty_at
                .front()
                .is_some_and(|(at, _)| now.saturating_duration_since(*at) > MAX_WINDOW)
            {
                self.empty_at.pop_front();
            }
            let window = |&(since, accepted_then): &(Instant, u64)| {
                (
                    now.saturating_duration_since(since),
                    self.accepted - accepted_then,
                )
            };
            let chosen = self
                .empty_at
                .iter()
                .rev()
                .map(window)
                .find(|&(_, accepted)| accepted >= GOOD_WINDOW_CALLS)
                .or_else(|| self.empty_at.front().map(window));
            if let Some((span, accepted)) = chosen
                && accepted >= MIN_WINDOW_CALLS
                && !span.is_zero()
            {
                self.estimate = Some(accepted as f64 / span.as_secs_f64());
                self.uncertainty =
                    1.0 / accepted as f64 + WINDOW_TIMING.as_secs_f64() / span.as_secs_f64();
            }
            self.empty_at.push_back((now, self.accepted));
        }
        // No window yet: what was measured elsewhere is the best guess, once.
        if self.estimate.is_none()
            && let Some(elsewhere) = self.prior.take().or(sibling)
        {
            self.estimate = Some(elsewhere);
            self.uncertainty = PRIOR_UNCERTAINTY;
        }
        let (base, slope) = match self.estimate {
            Some(estimate) => {
                // Already below the dip: a throttle there comes from the SDK's unpaced retries
                // or jitter, not from the rate; a real drop of the account's rate shows in the
                // estimate, which is re-measured at every episode.
                let base = ((1.0 - DIP) * estimate).min(*rate);
                let cross = CROSS_SECS.max(CROSS_CALLS / estimate);
                // An uncertain estimate may be low: the ramp climbs faster by that share.
                let climb = DIP + self.uncertainty.min(1.0);
                (base, climb * estimate / cross)
            }
            None => {
                let cut = if self.discovering {
                    DISCOVERY_CUT
                } else {
                    BLIND_CUT
                };
                let base = *rate * cut;
                (base, BLIND_SLOPE * base)
            }
        };
        self.discovering = false;
        *rate = base.clamp(MIN_RATE, MAX_RATE);
        self.slope = slope;
        self.grown_at = now;
    }
}
