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
//!    the calls caught in flight when the bucket runs dry do not grow with `--concurrency`).
//!    The bucket's initial burst is spent on the way, and no estimate is taken from it: what was
//!    accepted before the first throttle says nothing about R. A lone throttle before four calls
//!    were accepted does not end it (no bucket gives less: it was emptied by others a moment
//!    ago, or the throttle is not the bucket's);
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
//!
//! **Throttles that are not the bucket's.** An account shared with other callers, or a proxy,
//! throttles calls whatever this client's pace; read as "the bucket is empty", each one would
//! cut the rate, and the rate would fall without end (a 129-write apply with 30% of calls
//! throttled at random took 326 s instead of 13). The bucket and those throttles answer one
//! question differently: *does sending slower stop them?* A bucket that let a share 1 − s of
//! the calls through at rate x has a token for every call below (1 − s)·x; random throttles keep
//! their share at any rate. So, once it has measured an estimate, when periods between reactions
//! stay short (three in a row with fewer than 20 accepted calls: the rate keeps being cut and
//! the throttles keep coming), or two throttles come below the estimate (where the dip left
//! tokens), and at most half the calls were throttled, the pacer sends below what got through
//! (80% of it, at most half its rate and 80% of the estimate) for a few calls — until throttles
//! coming at the suspect share would have shown four times (10 to 40 calls) — and looks. None,
//! or one well under that share: it was the bucket (its rate fell), and the pacer measures it
//! again from there. Two, or one at that share: not the bucket's; the pacer keeps their share, goes back to the rate before the test
//! and finds the rate anew, counting a throttle as a signal only when more come than that share
//! explains (a cumulative sum of each answer's excess over the share, see `adaptive`), and
//! retries such throttled calls at their slot for twice as many attempts. A bucket measured
//! right never meets the test's condition; a real bucket, tested, throttles nothing below the
//! rate it let through.
//!
//! **What one pacer learns serves the others.** A [`RateBook`] gives the targets of one run
//! their pacers: a pacer starts from what its account's own earlier run remembered (the rate
//! cache, [`cache`]) or else from what its siblings measured (accounts of one organisation
//! usually share quotas), discovering from that rate rather than from 10 calls per second, and
//! settling just under it at its first throttle instead of halving blind. A prior is a guess:
//! the first windows measure the account's own rate, and a run that never throttles remembers
//! only the rate it took, from which the next run's discovery goes on.

mod adaptive;
pub mod book;
pub mod cache;

use adaptive::Adaptive;
pub use book::{Prior, RateBook, Remembered};
use std::sync::{Mutex, Weak};
use std::time::Duration;
use tokio::time::Instant;

/// A caller held by the discovery's in-flight cap looks again at least this often (an answer
/// wakes it sooner).
const CAP_RECHECK: Duration = Duration::from_millis(50);
/// Throttled attempts of one call that are retried at their paced slot; later ones wait for the
/// SDK's exponential backoff. A call throttled this often in a row meets an account busy with
/// other callers, and ten attempts in quick succession would give up on a call that the backoff
/// (about a minute over ten attempts) would have carried through.
pub const PACED_RETRIES: u32 = 3;
/// Bounds of an adaptive rate, in calls per second.
const MIN_RATE: f64 = 0.5;
const MAX_RATE: f64 = 5_000.0;

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
    /// The run's shared knowledge of rates, if this pacer is one of a [`RateBook`]'s.
    book: Option<Weak<RateBook>>,
}

impl Pacer {
    /// A fixed rate: never more than `rate` calls per second.
    pub fn fixed(rate: f64) -> Self {
        Self::new(rate.max(0.001), None, None)
    }

    /// Finds the server's rate from its throttled replies (see the module documentation),
    /// starting from nothing.
    pub fn adaptive() -> Self {
        Self::adaptive_in(None, None)
    }

    /// Finds the server's rate, starting from `prior` (see [`Prior`]).
    pub fn adaptive_from(prior: Option<Prior>) -> Self {
        Self::adaptive_in(prior, None)
    }

    pub(crate) fn adaptive_in(prior: Option<Prior>, book: Option<Weak<RateBook>>) -> Self {
        let now = Instant::now();
        let (start, measured) = match prior {
            Some(Prior::Measured(rate)) => (rate, Some(rate.clamp(MIN_RATE, MAX_RATE))),
            // A rate the account took without a throttle: discovery goes on from there (the
            // in-flight cap still bounds what one overshoot costs).
            Some(Prior::Unthrottled(rate)) => (rate, None),
            None => (adaptive::START_RATE, None),
        };
        let start = if start.is_finite() {
            start.clamp(adaptive::START_RATE, MAX_RATE)
        } else {
            adaptive::START_RATE
        };
        Self::new(start, Some(Adaptive::new(now, measured)), book)
    }

    fn new(rate: f64, adaptive: Option<Adaptive>, book: Option<Weak<RateBook>>) -> Self {
        Self {
            state: Mutex::new(State {
                rate,
                next_slot: Instant::now(),
                adaptive,
            }),
            answers: tokio::sync::Notify::new(),
            book,
        }
    }

    /// The rate now in force.
    pub fn rate(&self) -> f64 {
        self.state.lock().map(|s| s.rate).unwrap_or(MIN_RATE)
    }

    /// The refill rate measured so far, if a window has been long enough (or a rate measured
    /// elsewhere was taken as it).
    pub fn estimate(&self) -> Option<f64> {
        let state = self.state.lock().ok()?;
        state.adaptive.as_ref()?.estimate
    }

    /// The share of answers throttled whatever the rate, as the pacer has found it (0 until
    /// it found such throttles: see the module documentation).
    pub fn foreign_throttling(&self) -> f64 {
        self.state
            .lock()
            .ok()
            .and_then(|s| s.adaptive.as_ref().map(|a| a.noise))
            .unwrap_or(0.0)
    }

    /// Attempts of one call whose throttled answer is retried at the slot the pacer books
    /// ([`PACED_RETRIES`]); later ones wait for the SDK's exponential backoff. Once throttles
    /// are known to come whatever the rate, twice as many: a backoff after such a throttle
    /// only idles a worker for seconds, since waiting does not prevent the next one. Not all of
    /// them: a call throttled that often in a row may meet a bucket the pacer overshoots, and
    /// the backoff's last attempts, spread over a minute, are what carries it through then.
    pub fn paced_retries(&self) -> u32 {
        if self.foreign_throttling() > 0.0 {
            2 * PACED_RETRIES
        } else {
            PACED_RETRIES
        }
    }

    /// What the next run may start from: the measured rate, or the rate sent at without a
    /// throttle; `None` for a fixed pacer or one that learned nothing.
    pub fn learned(&self) -> Option<Remembered> {
        let state = self.state.lock().ok()?;
        let adaptive = state.adaptive.as_ref()?;
        if let Some(rate) = adaptive.estimate.filter(|_| adaptive.noise == 0.0) {
            return Some(Remembered::now(rate, true));
        }
        if adaptive.throttled_ever || adaptive.highest <= adaptive::START_RATE {
            return None;
        }
        // Never throttled: a rate it took. Below a rate measured before, that says nothing new.
        if adaptive
            .started_from
            .is_some_and(|measured| adaptive.highest <= measured)
        {
            return None;
        }
        Some(Remembered::now(adaptive.highest, false))
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
                    // The pacer limits the calls when callers wait for slots rather than slots
                    // for callers: this caller waited, or the slot is not older than an interval.
                    let binding = waited || state.next_slot + interval(state.rate) >= now;
                    let rate = state.rate;
                    if let Some(adaptive) = &mut state.adaptive {
                        adaptive.granted += 1;
                        state.rate = adaptive.grow(rate, now, binding);
                    }
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

    /// What the run's other pacers measured, asked only by a pacer that has no estimate of its
    /// own yet (before taking its own lock: the book locks its pacers in turn).
    fn sibling_if_needed(&self, throttled: bool) -> Option<f64> {
        if !throttled {
            return None;
        }
        let book = self.book.as_ref()?.upgrade()?;
        let needs = self
            .state
            .lock()
            .ok()?
            .adaptive
            .as_ref()
            .is_some_and(|a| a.estimate.is_none());
        if needs { book.sibling(self) } else { None }
    }

    /// An HTTP attempt was answered; `throttled` when the answer was a throttling error.
    ///
    /// A throttled call is retried by the SDK, which does not ask for a slot: this books one
    /// for it and returns how long from now it is due, so the retry can be sent then (see
    /// [`crate::aws`]) instead of after the SDK's random backoff. The slot is the next free one
    /// after the reaction to the throttle, and no sooner than one refill interval from now: the
    /// bucket was empty a moment ago, and a retry sent at once would find it empty again.
    pub fn on_answer(&self, throttled: bool) -> Option<Duration> {
        let sibling = self.sibling_if_needed(throttled);
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
            if adaptive.answer(rate, now, throttled, sibling) {
                tracing::debug!(
                    rate = *rate,
                    estimate = adaptive.estimate,
                    foreign_share = adaptive.noise,
                    testing = adaptive.testing(),
                    "pacer reacted to a throttle"
                );
            }
            self.answers.notify_waiters();
        }
        if !throttled {
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
        let sibling = self.sibling_if_needed(true);
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
            adaptive.react(rate, now, false, sibling);
        }
    }
}

impl Drop for Pacer {
    fn drop(&mut self) {
        if let Some(book) = self.book.as_ref().and_then(Weak::upgrade) {
            book.ended(self);
        }
    }
}

fn interval(rate: f64) -> Duration {
    Duration::from_secs_f64(1.0 / rate)
}

#[cfg(test)]
mod tests;
