//! Client-side pacing. Every throttled call wastes a slot of the account's rate budget and then
//! sleeps through a backoff, so a run that hammers the API finishes later than one that asks at
//! the allowed rate. The [`Pacer`] hands out call slots at a fixed rate, or, in adaptive mode,
//! finds the server's rate itself the way TCP finds bandwidth: a slow start that grows the rate
//! by one call per second for every success until the first throttled reply, then additive
//! increase (about one call per second, per second) and a multiplicative decrease per throttling
//! episode (AIMD).

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// The pacer's state, behind one short-held lock.
#[derive(Debug)]
struct State {
    /// Calls per second currently allowed.
    rate: f64,
    /// When the next call slot opens.
    next_slot: Instant,
    /// No decrease again before this instant: one throttling episode shows up as several
    /// throttled replies at once, and should cut the rate once, not once per reply.
    calm_until: Instant,
    /// True until the first throttled reply: the rate grows fast to find the ceiling.
    slow_start: bool,
}

/// Cut on leaving slow start: the rate then overshoots the ceiling by what the server's
/// burst absorbed before it throttled, so it comes down further than in steady state.
const SLOW_START_EXIT: f64 = 0.7;
/// Cut per throttling episode in steady state. A gentle cut keeps the average rate near the
/// ceiling (about 95% of it); the episodes it causes cost a few throttled replies each.
const DECREASE: f64 = 0.9;

/// Hands out call slots at a steady rate.
#[derive(Debug)]
pub struct Pacer {
    state: Mutex<State>,
    adaptive: bool,
    min_rate: f64,
    max_rate: f64,
}

impl Pacer {
    /// A fixed rate: never more than `rate` calls per second.
    pub fn fixed(rate: f64) -> Self {
        Self::new(rate, false, rate, rate)
    }

    /// Starts at `initial` and adapts between `min` and `max` on throttling feedback.
    pub fn adaptive(initial: f64, min: f64, max: f64) -> Self {
        Self::new(initial, true, min, max)
    }

    fn new(rate: f64, adaptive: bool, min_rate: f64, max_rate: f64) -> Self {
        let now = Instant::now();
        Self {
            state: Mutex::new(State {
                rate: rate.max(0.001),
                next_slot: now,
                calm_until: now,
                slow_start: adaptive,
            }),
            adaptive,
            min_rate: min_rate.max(0.001),
            max_rate: max_rate.max(min_rate.max(0.001)),
        }
    }

    /// The rate now in force.
    pub fn rate(&self) -> f64 {
        self.state.lock().map(|s| s.rate).unwrap_or(self.min_rate)
    }

    /// Waits for the next call slot. Slots are spaced 1/rate apart and handed out in order, so
    /// concurrent callers never exceed the rate, even in a burst.
    pub async fn acquire(&self) {
        let wait_until = {
            let Ok(mut state) = self.state.lock() else {
                return;
            };
            let now = Instant::now();
            let slot = state.next_slot.max(now);
            state.next_slot = slot + Duration::from_secs_f64(1.0 / state.rate);
            slot
        };
        tokio::time::sleep_until(wait_until).await;
    }

    /// A call went through: in adaptive mode, grow by one call per second per success in slow
    /// start, else by about one call per second per second of success.
    pub fn on_success(&self) {
        if !self.adaptive {
            return;
        }
        if let Ok(mut state) = self.state.lock() {
            let step = if state.slow_start {
                1.0
            } else {
                1.0 / state.rate.max(1.0)
            };
            state.rate = (state.rate + step).min(self.max_rate);
        }
    }

    /// A call was throttled: in adaptive mode, cut the rate once per episode, and push the next
    /// slot out so the server's bucket can refill.
    pub fn on_throttle(&self) {
        if !self.adaptive {
            return;
        }
        if let Ok(mut state) = self.state.lock() {
            let now = Instant::now();
            if now < state.calm_until {
                return;
            }
            let cut = if state.slow_start {
                SLOW_START_EXIT
            } else {
                DECREASE
            };
            state.slow_start = false;
            state.rate = (state.rate * cut).max(self.min_rate);
            let interval = Duration::from_secs_f64(1.0 / state.rate);
            state.calm_until = now + interval * 10;
            state.next_slot = state.next_slot.max(now + interval);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_fixed_pacer_never_exceeds_its_rate() {
        let pacer = Pacer::fixed(10.0);
        let start = Instant::now();
        for _ in 0..21 {
            pacer.acquire().await;
        }
        // 21 slots at 10/s: the first at once, the last 2 s later.
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn an_adaptive_pacer_grows_fast_until_throttled_then_backs_off_once_per_episode() {
        let pacer = Pacer::adaptive(50.0, 1.0, 1_000.0);
        for _ in 0..50 {
            pacer.on_success();
        }
        assert!(
            (pacer.rate() - 100.0).abs() < 1e-9,
            "slow start adds one per success"
        );
        pacer.on_throttle();
        pacer.on_throttle();
        assert!((pacer.rate() - 70.0).abs() < 1e-9, "one cut per episode");
        for _ in 0..70 {
            pacer.on_success();
        }
        assert!(
            pacer.rate() > 70.9 && pacer.rate() < 71.1,
            "then additive increase"
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        pacer.on_throttle();
        assert!(
            (pacer.rate() - 71.0 * 0.9).abs() < 0.2,
            "steady-state cut is gentler"
        );
    }
}
