//! Client-side pacing. Every throttled call wastes a slot of the account's rate budget and then
//! sleeps through a backoff, so a run that hammers the API finishes later than one that asks at
//! the allowed rate. The [`Pacer`] hands out call slots at a fixed rate (`--rate N`), or, in
//! adaptive mode (the default), measures the account's rate from what the server reveals.
//!
//! Service Catalog, like most AWS APIs, throttles with a token bucket: tokens arrive at the refill
//! rate R, a call takes one, a call that finds none is throttled. A throttled reply therefore says
//! "the bucket was empty just now", and between two such moments every token that arrived was
//! taken by an accepted call: *accepted calls between two throttles ÷ the time between them is R*
//! (exactly, give or take one token, as long as the bucket never filled up in between). The
//! adaptive pacer
//!
//! 1. **discovers**: starts at a few calls per second and doubles every 250 ms, while it is what
//!    limits the calls, until the first throttled reply, with at most 16 calls in progress (so
//!    the calls caught in flight when the bucket runs dry do not grow with `--concurrency`). The bucket's initial burst is spent on
//!    the way, and no estimate is taken from it: what was accepted before the first throttle says
//!    nothing about R;
//! 2. **measures**: every throttling episode after that closes a window, and R is estimated over
//!    the most recent one holding at least 40 accepted calls (else the longest, up to 30 s);
//! 3. **tracks**: after each episode it drops to 95% of the estimate (or stays where it is, if
//!    lower) and ramps back up linearly, crossing the estimate after 2.5 s or 100
//!    calls, whichever is longer. The bucket saves what the dip leaves, the ramp spends it, and
//!    the next throttle marks the bucket empty again, which is the next measurement: the average
//!    is R, probing costs a throttled reply or a few per episode.
//!
//! A throttling *episode* is one signal, however many calls were in flight: every reply to an
//! attempt sent before the pacer reacted belongs to the episode that made it react. Attempts are
//! counted as they go out (the SDK's retries included, through [`Pacer::on_attempt_sent`]) and
//! replies as they come back, so "sent before the reaction" is "numbered at most the attempts
//! sent by then", whatever the concurrency. The rate grows only while the pacer is what limits
//! the calls: a run held back by `--concurrency` or by latency does not build up a rate it never
//! used and then spend it at once.
//!
//! A throttled call's retry is paced too: it is booked the next slot after the reaction, and
//! the SDK sends it then rather than after its random exponential backoff (0–1 s, doubling), so
//! a throttled call neither holds a worker idle for half a second nor lands on top of the rate
//! at a random moment. After [`PACED_RETRIES`] throttled attempts in a row the call falls back
//! to the SDK's backoff (see [`crate::aws`]).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Where discovery starts, in calls per second: an account allowing 5 calls per second then
/// loses one or two throttled replies to discovery, and one allowing 200 reaches its rate within
/// about 1.1 s (doubling every [`DOUBLING`]).
const START_RATE: f64 = 10.0;
/// Discovery doubles the rate this often. Before the first throttle the bucket is still full
/// and overflows while the client sends below R: slower growth wastes the account's rate, faster
/// growth overshoots further when the bucket runs dry.
const DOUBLING: Duration = Duration::from_millis(250);
/// Cut when discovery ends without an estimate: the rate that emptied the bucket is at most about
/// twice R (it doubled since the last rate that did not).
const DISCOVERY_CUT: f64 = 0.5;
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
/// A caller held by the cap looks again at least this often (an answer wakes it sooner).
const CAP_RECHECK: Duration = Duration::from_millis(50);
/// Throttled attempts of one call that are retried at their paced slot; later ones wait for the
/// SDK's exponential backoff. A call throttled this often in a row meets an account busy with
/// other callers, and ten attempts in quick succession would give up on a call that the backoff
/// (about a minute over ten attempts) would have carried through.
pub const PACED_RETRIES: u32 = 3;
/// Bounds of an adaptive rate, in calls per second.
const MIN_RATE: f64 = 0.5;
const MAX_RATE: f64 = 5_000.0;

/// What the adaptive pacer knows and is doing.
#[derive(Debug)]
struct Adaptive {
    /// True until the first throttling episode.
    discovering: bool,
    /// Growth of the rate in calls per second, per second, while tracking.
    slope: f64,
    /// Last time the rate grew (or was cut).
    grown_at: Instant,
    /// HTTP attempts sent, replies received, and replies that were not throttled.
    sent: u64,
    answered: u64,
    accepted: u64,
    /// Replies numbered up to this answer attempts sent before the last reaction.
    episode_end: u64,
    /// (time, accepted replies so far) at the first throttle of each recent episode, oldest
    /// first: each is a moment the bucket was empty.
    empty_at: VecDeque<(Instant, u64)>,
    /// The last measured refill rate.
    estimate: Option<f64>,
    /// Its relative uncertainty: one token, and the timing of the window's ends.
    uncertainty: f64,
    /// Slots handed out: calls started. Calls in progress are those not yet accepted.
    granted: u64,
    /// Calls in progress allowed while discovering, and since when that cap holds callers back.
    cap: u64,
    cap_held_since: Option<Instant>,
}

impl Adaptive {
    /// While discovering, whether a caller must wait for an answer first: the cap doubles for
    /// every second it holds callers back without a throttle (a slow, unthrottled account).
    fn capped(&mut self, now: Instant) -> bool {
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
}

/// The pacer's state, behind one short-held lock.
#[derive(Debug)]
struct State {
    /// Calls per second currently allowed.
    rate: f64,
    /// When the next call slot opens.
    next_slot: Instant,
    adaptive: Option<Adaptive>,
}

/// Hands out call slots at a steady rate.
#[derive(Debug)]
pub struct Pacer {
    state: Mutex<State>,
    /// Woken at every answer, for callers held by the discovery's in-flight cap.
    answers: tokio::sync::Notify,
}

impl Pacer {
    /// A fixed rate: never more than `rate` calls per second.
    pub fn fixed(rate: f64) -> Self {
        Self::new(rate.max(0.001), None)
    }

    /// Finds the server's rate from its throttled replies (see the module documentation).
    pub fn adaptive() -> Self {
        let now = Instant::now();
        Self::new(
            START_RATE,
            Some(Adaptive {
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
                granted: 0,
                cap: DISCOVERY_IN_FLIGHT,
                cap_held_since: None,
            }),
        )
    }

    fn new(rate: f64, adaptive: Option<Adaptive>) -> Self {
        Self {
            state: Mutex::new(State {
                rate,
                next_slot: Instant::now(),
                adaptive,
            }),
            answers: tokio::sync::Notify::new(),
        }
    }

    /// The rate now in force.
    pub fn rate(&self) -> f64 {
        self.state.lock().map(|s| s.rate).unwrap_or(MIN_RATE)
    }

    /// The refill rate measured so far, if a window has been long enough.
    pub fn estimate(&self) -> Option<f64> {
        let state = self.state.lock().ok()?;
        state.adaptive.as_ref()?.estimate
    }

    /// Waits for the next call slot. Slots are spaced 1/rate apart, so concurrent callers never
    /// exceed the rate, even in a burst. A slot is taken only when it is due, never booked
    /// ahead (only a throttled call's retry books one, in [`Pacer::on_answer`]): a cut of the
    /// rate holds back every waiting caller at once, however many there are.
    pub async fn acquire(&self) {
        // Whether this caller slept until a slot was due (waiting for the discovery's in-flight
        // cap is not waiting for the rate: a rate that grew then would be one never used).
        let mut waited = false;
        loop {
            let answered = self.answers.notified();
            let due = {
                let Ok(mut state) = self.state.lock() else {
                    return;
                };
                let now = Instant::now();
                let capped = state.adaptive.as_mut().is_some_and(|a| a.capped(now));
                if capped {
                    None
                } else if state.next_slot <= now {
                    if let Some(adaptive) = &mut state.adaptive {
                        adaptive.granted += 1;
                    }
                    // The pacer limits the calls when callers wait for slots rather than slots
                    // for callers: this caller waited, or the slot is not older than an interval.
                    let binding = waited || state.next_slot + interval(state.rate) >= now;
                    state.grow(now, binding);
                    // Timers fire on millisecond ticks, so a caller wakes up to a tick or so
                    // after its slot. Restarting the schedule from that late moment would lose
                    // the lateness at every slot (at 300/s, 3.3 ms slots become 4 ms ones: 250
                    // calls/s), so a slot waited for keeps its place, up to one interval late.
                    // A caller that did not wait finds the pacer idle, and idle time is not
                    // saved up for a burst.
                    let keep_place = if waited {
                        interval(state.rate)
                    } else {
                        Duration::ZERO
                    };
                    let slot = state
                        .next_slot
                        .max(now.checked_sub(keep_place).unwrap_or(now));
                    state.next_slot = slot + interval(state.rate);
                    return;
                } else {
                    Some(state.next_slot)
                }
            };
            match due {
                Some(due) => {
                    waited = true;
                    tokio::time::sleep_until(due).await;
                }
                None => {
                    let _ = tokio::time::timeout(CAP_RECHECK, answered).await;
                }
            }
        }
    }

    /// Attempts whose answer an adaptive pacer was told of (0 for a fixed one): what it learns
    /// from, so a client that paces its calls but never reports answers is seen.
    pub fn answers(&self) -> u64 {
        self.state
            .lock()
            .ok()
            .and_then(|state| state.adaptive.as_ref().map(|a| a.answered))
            .unwrap_or(0)
    }

    /// An HTTP attempt goes out: a call that passed [`Pacer::acquire`], or one of the SDK's
    /// retries (which do not).
    pub fn on_attempt_sent(&self) {
        if let Ok(mut state) = self.state.lock()
            && let Some(adaptive) = &mut state.adaptive
        {
            adaptive.sent += 1;
        }
    }

    /// An HTTP attempt was answered; `throttled` when the answer was a throttling error.
    ///
    /// A throttled call is retried by the SDK, which does not ask for a slot: this books one
    /// for it and returns how long from now it is due, so the retry can be sent then (see
    /// [`crate::aws`]) instead of after the SDK's random backoff. The slot is the next free one
    /// after the reaction to the throttle, and no sooner than one refill interval from now: the
    /// bucket was empty a moment ago, and a retry sent at once would find it empty again.
    pub fn on_answer(&self, throttled: bool) -> Option<Duration> {
        let Ok(mut state) = self.state.lock() else {
            return None;
        };
        let now = Instant::now();
        let State {
            rate,
            next_slot,
            adaptive,
        } = &mut *state;
        if let Some(adaptive) = adaptive {
            adaptive.answered += 1;
            self.answers.notify_waiters();
            if !throttled {
                adaptive.accepted += 1;
                return None;
            }
            if adaptive.answered > adaptive.episode_end {
                adaptive.react(rate, now, true);
            }
        } else if !throttled {
            return None;
        }
        // At the refill rate as best known, not at the rate that overshot.
        let refill = interval(
            adaptive
                .as_ref()
                .and_then(|a| a.estimate)
                .unwrap_or(*rate)
                .min(*rate),
        );
        let slot = (*next_slot).max(now + refill);
        *next_slot = slot + refill;
        Some(slot - now)
    }

    /// A throttling signal that is not an attempt's answer (per-item throttling inside a batch
    /// reply): reacts like an episode, but is no measurement of the bucket.
    pub fn on_throttle(&self) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let now = Instant::now();
        let State {
            rate,
            adaptive: Some(adaptive),
            ..
        } = &mut *state
        else {
            return;
        };
        if adaptive.answered >= adaptive.episode_end {
            adaptive.react(rate, now, false);
        }
    }
}

impl State {
    /// Grows an adaptive rate for the time since it last grew, if the pacer was what limited the
    /// calls meanwhile.
    fn grow(&mut self, now: Instant, binding: bool) {
        let Some(adaptive) = &mut self.adaptive else {
            return;
        };
        let elapsed = now.saturating_duration_since(adaptive.grown_at);
        adaptive.grown_at = now;
        if !binding {
            return;
        }
        let rate = if adaptive.discovering {
            // A full in-flight cap limits the calls, not the rate: growing then would build a
            // rate never used, and the cut at the first throttle would start from it.
            if adaptive.granted.saturating_sub(adaptive.accepted) >= adaptive.cap {
                return;
            }
            self.rate * 2f64.powf(elapsed.as_secs_f64() / DOUBLING.as_secs_f64())
        } else {
            self.rate + adaptive.slope * elapsed.as_secs_f64()
        };
        self.rate = rate.clamp(MIN_RATE, MAX_RATE);
    }
}

impl Adaptive {
    /// A new throttling episode: measure if the bucket's emptiness is known, then dip and ramp.
    fn react(&mut self, rate: &mut f64, now: Instant, bucket_empty: bool) {
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

fn interval(rate: f64) -> Duration {
    Duration::from_secs_f64(1.0 / rate)
}

#[cfg(test)]
mod tests;
