//! The pacer against a simulated server, on tokio's paused clock: a token bucket that answers
//! after a fixed latency, workers bounded by a concurrency, and the SDK's retry of a throttled
//! call at the slot the pacer booked for it (after a random backoff once it has been throttled
//! [`PACED_RETRIES`] times), as the adapter's retry classifier arranges. Time is virtual, so these
//! are statements about the algorithm, not about the machine.

use super::adaptive::{DISCOVERY_CUT, START_RATE};
use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A server's token bucket, on the paused clock.
struct Bucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
    /// Share of calls throttled at random, whatever the bucket holds (other callers, a
    /// throttling proxy): drawn from a fixed SplitMix64 stream, so every run is the same.
    noise: f64,
    draws: AtomicU64,
}

impl Bucket {
    fn new(rate: f64, burst: f64) -> Self {
        Bucket {
            rate,
            burst,
            state: Mutex::new((burst, Instant::now())),
            noise: 0.0,
            draws: AtomicU64::new(0),
        }
    }

    fn take(&self) -> bool {
        if self.noise > 0.0 {
            let draw = self.draws.fetch_add(1, Ordering::SeqCst);
            if split_mix(draw ^ 0x5EED) < self.noise {
                return false;
            }
        }
        let mut state = self.state.lock().unwrap();
        let now = Instant::now();
        let tokens = (state.0 + (now - state.1).as_secs_f64() * self.rate).min(self.burst);
        *state = (tokens, now);
        if tokens >= 1.0 {
            state.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

#[derive(Debug)]
struct Outcome {
    requests: u64,
    throttled: u64,
    elapsed: Duration,
    estimate: Option<f64>,
}

impl Outcome {
    fn throttled_share(&self) -> f64 {
        self.throttled as f64 / self.requests as f64
    }
}

/// A deterministic draw in [0, 1) for `index` (SplitMix64).
fn split_mix(index: u64) -> f64 {
    let mut z = index.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as f64 / u64::MAX as f64
}

/// `calls` calls through `pacer`, `concurrency` at a time, against a bucket of `rate` and
/// `burst` with `latency` per answer.
async fn simulate(
    pacer: Arc<Pacer>,
    rate: f64,
    burst: f64,
    calls: u64,
    concurrency: usize,
    latency: Duration,
) -> Outcome {
    simulate_against(
        Some(pacer),
        Bucket::new(rate, burst),
        calls,
        concurrency,
        latency,
    )
    .await
}

/// [`simulate`] against any server.
async fn simulate_against(
    pacer: Option<Arc<Pacer>>,
    bucket: Bucket,
    calls: u64,
    concurrency: usize,
    latency: Duration,
) -> Outcome {
    let bucket = Arc::new(bucket);
    let next_call = Arc::new(AtomicU64::new(0));
    let requests = Arc::new(AtomicU64::new(0));
    let throttled = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency as u64)
        .map(|worker| {
            let (pacer, bucket) = (pacer.clone(), bucket.clone());
            let (next_call, requests, throttled) =
                (next_call.clone(), requests.clone(), throttled.clone());
            tokio::spawn(async move {
                // SplitMix64 steps for the backoff draws, one stream per worker.
                let mut seed = worker.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                let mut draw = move || {
                    seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
                    let mut z = seed;
                    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    (z ^ (z >> 31)) as f64 / u64::MAX as f64
                };
                while next_call.fetch_add(1, Ordering::SeqCst) < calls {
                    if let Some(pacer) = &pacer {
                        pacer.acquire().await;
                    }
                    for attempt in 0..10 {
                        if let Some(pacer) = &pacer {
                            pacer.on_attempt_sent();
                        }
                        requests.fetch_add(1, Ordering::SeqCst);
                        let admitted = bucket.take();
                        tokio::time::sleep(latency).await;
                        let retry_in = pacer.as_ref().and_then(|p| p.on_answer(!admitted));
                        if admitted {
                            break;
                        }
                        throttled.fetch_add(1, Ordering::SeqCst);
                        let paced = pacer.as_ref().map_or(0, |p| p.paced_retries());
                        let backoff = match retry_in.filter(|_| attempt < paced) {
                            Some(paced) => paced,
                            // The SDK's standard backoff: a uniform draw times 1 s, doubling.
                            None => Duration::from_secs_f64(
                                (draw() * f64::from(1u32 << attempt)).min(20.0),
                            ),
                        };
                        tokio::time::sleep(backoff).await;
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    Outcome {
        requests: requests.load(Ordering::SeqCst),
        throttled: throttled.load(Ordering::SeqCst),
        elapsed: started.elapsed(),
        estimate: pacer.and_then(|p| p.estimate()),
    }
}

const LATENCY: Duration = Duration::from_millis(30);

/// Calls for a run of about `seconds` at `rate` once the burst (`rate` calls) is spent.
fn calls_for(rate: f64, seconds: f64) -> u64 {
    (rate * (seconds + 1.0)) as u64
}

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
async fn an_adaptive_pacer_measures_the_refill_rate_and_runs_at_it() {
    for rate in [5.0, 25.0, 100.0, 200.0] {
        let calls = calls_for(rate, 40.0);
        let outcome = simulate(Arc::new(Pacer::adaptive()), rate, rate, calls, 16, LATENCY).await;
        let estimate = outcome.estimate.expect("measured");
        assert!(
            (estimate / rate - 1.0).abs() < 0.03,
            "R={rate}: estimate {estimate}, {outcome:?}"
        );
        // The floor: every call after the burst at the refill rate.
        let floor = (calls as f64 - rate) / rate;
        let ratio = outcome.elapsed.as_secs_f64() / floor;
        assert!(ratio < 1.08, "R={rate}: {ratio:.3}× the floor, {outcome:?}");
        assert!(outcome.throttled_share() <= 0.05, "R={rate}: {outcome:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn more_concurrency_never_throttles_more() {
    for rate in [10.0, 100.0, 200.0] {
        let calls = calls_for(rate, 15.0);
        let run = |concurrency| {
            simulate(
                Arc::new(Pacer::adaptive()),
                rate,
                rate,
                calls,
                concurrency,
                LATENCY,
            )
        };
        let (at16, at64) = (run(16).await, run(64).await);
        // The discovery caps calls in progress, so the overshoot when the bucket runs dry is
        // the same; what remains is the SDK's unpaced retries meeting more paced calls.
        assert!(
            at64.throttled_share() <= at16.throttled_share() + 0.005,
            "R={rate}: 64 in flight {at64:?}, 16 in flight {at16:?}"
        );
        assert!(
            at64.elapsed.as_secs_f64() <= at16.elapsed.as_secs_f64() * 1.02,
            "R={rate}: 64 in flight {at64:?}, 16 in flight {at16:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn replies_to_attempts_sent_before_a_reaction_are_one_episode() {
    let pacer = Pacer::adaptive();
    // The bucket's burst: a few accepted calls first.
    for _ in 0..4 {
        pacer.on_attempt_sent();
        pacer.on_answer(false);
    }
    for _ in 0..64 {
        pacer.on_attempt_sent();
    }
    pacer.on_answer(true);
    let after_first = pacer.rate();
    assert!((after_first - START_RATE * DISCOVERY_CUT).abs() < 1e-9);
    // The other 63 were in flight when the pacer reacted: one episode, one cut.
    for _ in 0..63 {
        pacer.on_answer(true);
    }
    assert_eq!(pacer.rate(), after_first);
    // An attempt sent after the reaction and throttled is a new episode.
    pacer.on_attempt_sent();
    pacer.on_answer(true);
    assert!(pacer.rate() < after_first);
}

#[tokio::test(start_paused = true)]
async fn the_rate_grows_only_while_the_pacer_limits_the_calls() {
    let pacer = Pacer::adaptive();
    // A caller far slower than the pacer: the rate stays where it was.
    for _ in 0..10 {
        tokio::time::advance(Duration::from_secs(1)).await;
        pacer.acquire().await;
        pacer.on_answer(false);
    }
    assert_eq!(pacer.rate(), START_RATE);
    // Callers that wait for slots: it doubles every 250 ms.
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(1) {
        pacer.acquire().await;
        pacer.on_answer(false);
    }
    assert!(pacer.rate() > START_RATE * 12.0, "{}", pacer.rate());
}

#[tokio::test(start_paused = true)]
async fn after_a_drop_in_the_servers_rate_the_estimate_follows() {
    let pacer = Arc::new(Pacer::adaptive());
    simulate(pacer.clone(), 100.0, 100.0, 2_000, 16, LATENCY).await;
    let outcome = simulate(pacer.clone(), 40.0, 40.0, 1_600, 16, LATENCY).await;
    let estimate = outcome.estimate.expect("measured");
    assert!((estimate / 40.0 - 1.0).abs() < 0.05, "{outcome:?}");
}

#[tokio::test(start_paused = true)]
async fn a_throttled_call_is_booked_the_next_slot_no_sooner_than_a_refill_interval() {
    let pacer = Pacer::fixed(10.0);
    assert_eq!(
        pacer.on_answer(false),
        None,
        "an accepted call needs no retry"
    );
    // Idle pacer: the retry waits one interval (the bucket was empty a moment ago).
    assert_eq!(pacer.on_answer(true), Some(Duration::from_millis(100)));
    // A second throttled call in the same moment gets the slot after that one, and a paced
    // caller the one after both.
    assert_eq!(pacer.on_answer(true), Some(Duration::from_millis(200)));
    let start = Instant::now();
    pacer.acquire().await;
    assert_eq!(start.elapsed(), Duration::from_millis(300));
}

#[tokio::test(start_paused = true)]
async fn retries_at_the_booked_slot_finish_a_low_rate_run_no_later_than_the_sdks_backoff() {
    // R=5 and R=100 with 16 callers: the throttled calls of discovery and of each probe are
    // retried within a slot or two instead of after 0–1 s, so the run ends near the floor.
    for rate in [5.0, 100.0] {
        let calls = calls_for(rate, 15.0);
        let outcome = simulate(Arc::new(Pacer::adaptive()), rate, rate, calls, 16, LATENCY).await;
        let floor = (calls as f64 - rate) / rate;
        let ratio = outcome.elapsed.as_secs_f64() / floor;
        assert!(ratio < 1.06, "R={rate}: {ratio:.3}× the floor, {outcome:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn many_callers_get_the_full_rate_although_timers_fire_late() {
    // Timers fire on millisecond ticks, so a caller waiting for a 4 ms slot wakes up to a
    // millisecond late; the schedule must not restart from that late moment at every slot.
    for rate in [250.0, 300.0, 700.0] {
        let pacer = Arc::new(Pacer::fixed(rate));
        let granted = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let callers: Vec<_> = (0..16)
            .map(|_| {
                let (pacer, granted) = (pacer.clone(), granted.clone());
                tokio::spawn(async move {
                    loop {
                        pacer.acquire().await;
                        if started.elapsed() >= Duration::from_secs(2) {
                            break;
                        }
                        granted.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for caller in callers {
            caller.await.unwrap();
        }
        let per_second = granted.load(Ordering::SeqCst) as f64 / 2.0;
        assert!(
            (per_second / rate - 1.0).abs() < 0.02,
            "{per_second} calls/s at a rate of {rate}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_idle_pacer_saves_no_slots_for_a_burst() {
    let pacer = Pacer::fixed(10.0);
    pacer.acquire().await;
    tokio::time::advance(Duration::from_secs(5)).await;
    // Idle for 5 s: the next call goes at once, the one after a whole interval later.
    let start = Instant::now();
    pacer.acquire().await;
    pacer.acquire().await;
    assert_eq!(start.elapsed(), Duration::from_millis(100));
}

/// A server that throttles a share of calls at random, whatever the rate (other callers of a
/// shared account, a proxy), with no bucket that `calls` calls could empty.
fn foreign(share: f64) -> Bucket {
    Bucket {
        noise: share,
        ..Bucket::new(1e6, 1e6)
    }
}

#[tokio::test(start_paused = true)]
async fn throttles_that_come_whatever_the_rate_do_not_slow_the_run_down() {
    for share in [0.1, 0.2, 0.3] {
        let pacer = Arc::new(Pacer::adaptive());
        let paced = simulate_against(Some(pacer.clone()), foreign(share), 1_300, 16, LATENCY).await;
        // What a user would try: no pacer, the SDK's backoff after every throttle.
        let unpaced = simulate_against(None, foreign(share), 1_300, 16, LATENCY).await;
        let ratio = paced.elapsed.as_secs_f64() / unpaced.elapsed.as_secs_f64();
        assert!(
            ratio <= 2.0,
            "{share}: {ratio:.2}× the unpaced run, {paced:?} against {unpaced:?}"
        );
        // The slow-down test found them out (at their share or above: the larger of the shares
        // its tests saw).
        let found = pacer.foreign_throttling();
        assert!(
            found >= share / 2.0 && found <= 0.5,
            "{share}: found {found}"
        );
        // Its throttled share is theirs, not the pacer's.
        assert!(
            paced.throttled_share() <= share + 0.05,
            "{share}: {paced:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_real_bucket_is_never_taken_for_throttles_that_are_not_its_own() {
    // The bucket's throttles stop when the pacer slows down: every cell of the benchmark's
    // matrix, and the short runs of a fleet, keep the bucket model and its throttled share.
    for (rate, calls, concurrency) in [
        (5.0, 82, 4),
        (10.0, 165, 16),
        (20.0, 100, 16),
        (25.0, 411, 64),
        (100.0, 1_682, 16),
        (200.0, 3_229, 64),
    ] {
        let pacer = Arc::new(Pacer::adaptive());
        let outcome = simulate(pacer.clone(), rate, rate, calls, concurrency, LATENCY).await;
        assert_eq!(pacer.foreign_throttling(), 0.0, "R={rate}: {outcome:?}");
        assert_eq!(pacer.paced_retries(), PACED_RETRIES);
        let floor = (calls as f64 - rate) / rate;
        let ratio = outcome.elapsed.as_secs_f64() / floor;
        assert!(ratio < 1.07, "R={rate}: {ratio:.3}× the floor, {outcome:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_rate_measured_elsewhere_spares_the_blind_search() {
    for (rate, calls) in [(5.0, 82), (20.0, 100), (100.0, 300)] {
        let cold = simulate(Arc::new(Pacer::adaptive()), rate, rate, calls, 16, LATENCY).await;
        let warm = simulate(
            Arc::new(Pacer::adaptive_from(Some(Prior::Measured(rate)))),
            rate,
            rate,
            calls,
            16,
            LATENCY,
        )
        .await;
        assert!(
            warm.throttled < cold.throttled,
            "R={rate}: {warm:?} against {cold:?}"
        );
        assert!(warm.throttled_share() <= 0.05, "R={rate}: {warm:?}");
        let floor = (calls as f64 - rate) / rate;
        assert!(
            warm.elapsed.as_secs_f64() / floor < 1.05,
            "R={rate}: {warm:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_prior_that_is_wrong_is_measured_away() {
    // Remembered from a week when the account allowed four times as much, or from a sibling
    // with a larger quota: the first windows measure the account's own rate.
    let pacer = Arc::new(Pacer::adaptive_from(Some(Prior::Measured(80.0))));
    let outcome = simulate(pacer, 20.0, 20.0, calls_for(20.0, 30.0), 16, LATENCY).await;
    let estimate = outcome.estimate.expect("measured");
    assert!((estimate / 20.0 - 1.0).abs() < 0.05, "{outcome:?}");
    assert!(outcome.throttled_share() <= 0.05, "{outcome:?}");
}

#[tokio::test(start_paused = true)]
async fn an_account_with_room_to_spare_is_remembered_and_the_next_run_starts_fast() {
    // A plan's reads against an endpoint that never throttles: the first run pays the ramp,
    // and what it reached is where the next one's discovery starts.
    let room = || Bucket::new(1e6, 1e6);
    let first = Arc::new(Pacer::adaptive());
    let cold = simulate_against(Some(first.clone()), room(), 427, 16, LATENCY).await;
    let learned = first.learned().expect("a rate it took");
    assert!(!learned.measured && learned.rate > 200.0, "{learned:?}");
    let second = Arc::new(Pacer::adaptive_from(Some(Prior::Unthrottled(learned.rate))));
    assert_eq!(second.rate(), learned.rate.min(MAX_RATE));
    let warm = simulate_against(Some(second), room(), 427, 16, LATENCY).await;
    let unpaced = simulate_against(None, room(), 427, 16, LATENCY).await;
    assert!(
        warm.elapsed.as_secs_f64() <= 1.25 * unpaced.elapsed.as_secs_f64(),
        "{warm:?} against {unpaced:?} (cold {cold:?})"
    );
    assert!(
        cold.elapsed.as_secs_f64() > 1.25 * unpaced.elapsed.as_secs_f64(),
        "{cold:?} against {unpaced:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn targets_of_one_run_start_from_what_their_siblings_measured() {
    let book = RateBook::new();
    let first = book.pacer(Some("endpoint 111111111111 us-east-1"));
    simulate(
        first.clone(),
        20.0,
        20.0,
        calls_for(20.0, 20.0),
        16,
        LATENCY,
    )
    .await;
    let measured = first.estimate().expect("measured");
    // A sibling started now begins at what the first measured ...
    let prior = book.prior(Some("endpoint 222222222222 us-east-1"));
    assert_eq!(prior, Some(Prior::Measured(measured)));
    let second = book.pacer(Some("endpoint 222222222222 us-east-1"));
    let outcome = simulate(second, 20.0, 20.0, 100, 16, LATENCY).await;
    assert!(outcome.throttled_share() <= 0.05, "{outcome:?}");
    // ... and what every pacer learned is there for the next run, ended or not.
    drop(first);
    let learned = book.learned();
    assert_eq!(learned.len(), 2, "{learned:?}");
    assert!(learned.values().all(|r| r.measured));
    // An account's own remembered rate comes before its siblings'.
    let own = RateBook::remembering(std::collections::BTreeMap::from([(
        "k".to_string(),
        Remembered {
            rate: 7.0,
            measured: true,
            at: std::time::SystemTime::now()
                .duration_since(std::time::SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        },
    )]));
    assert_eq!(own.prior(Some("k")), Some(Prior::Measured(7.0)));
    assert_eq!(own.prior(Some("other")), None);
}

#[tokio::test(start_paused = true)]
async fn a_lone_throttle_before_any_burst_does_not_end_discovery() {
    let pacer = Pacer::adaptive();
    pacer.on_attempt_sent();
    pacer.on_answer(true);
    // Still discovering at the start rate: an account emptied by others a moment ago, or a
    // throttle that is not the bucket's, says nothing of the rate yet.
    assert_eq!(pacer.rate(), START_RATE);
    pacer.on_attempt_sent();
    pacer.on_answer(true);
    assert_eq!(pacer.rate(), START_RATE * DISCOVERY_CUT);
}
