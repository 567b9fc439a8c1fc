//! Settling what apply wrote: confirming each write, waiting (bounded) until the listings show
//! it, and healing what a replayed answer hid.
//!
//! Two facts of the service shape this. **Listings lag writes**: right after a write, a listing
//! may still show the old state while writes already see the new one (AWS's CloudFormation
//! handler polls 5 × 5 s after each association; Terraform waits up to 3 minutes). And **a
//! replayed idempotency token answers with the first response**, whatever the state is now: if
//! an association made by an earlier run was removed out of band, a re-run's Associate carries
//! the same token, gets the old success back and associates nothing (the stale-token trap;
//! Disassociate has the mirror image). A listing that does not show a write cannot tell the two
//! apart; only time, or a write with a token no earlier run used, can.
//!
//! So a write's answer is a *claim*, and the claims are settled in rounds within a window
//! (`--settle`, [`DEFAULT_SETTLE`]): a round reads the listings of what is not yet shown, in
//! the cheaper direction (judged by what earlier reads saw), paced like every call. Before each
//! round, one listing is watched (the canary: the artifact of the last change written), at
//! once and then with pauses growing from 250 ms to 1 s, and the round comes when it shows
//! progress, when a probe is due, or 5 s after the last round. So a long lag costs a read a
//! second, not every listing again, and listings that keep up cost one read more. A claim the listings show is
//! confirmed (`listing`). One they keep contradicting is *probed*: written
//! again with a fresh token (deterministic in the triple and this run's salt), whose answer is
//! evidence: `DuplicateResourceException` to an Associate proves the association exists, and
//! `ResourceNotFoundException` to a Disassociate proves it is gone (`probe`); a plain success
//! means the earlier answer was a replay, and the probe itself made the change (`healed`).
//! Probes are writes, so they are spent where the listings give reason to:
//! - once the listings have shown some of this run's writes, a straggler is probed when it has
//!   stayed unshown for twice the longest delay seen, plus a second;
//! - when they have shown none after 5 s (or half the window, if shorter), a sample of 5% (at
//!   least one) is probed; a sample that finds a replay has every straggler probed;
//! - writes whose answer was lost (5xx, no answer) are probed at once: the probe settles them;
//! - at the end of the window, every claim still unproven is probed, so the report says of each
//!   one whether the service holds it.
//!
//! Batch calls carry no token, so their answers are never replays: they are confirmed by the
//! reply itself (`batch_reply`) and only waited for. A claim the listings never show within the
//! window is reported `not_visible` (exit 1): the change is made as far as the service's answers
//! say, but a plan run now would not see it yet.

use crate::apply::{Failure, Outcome, Status};
use crate::control::RunControl;
use crate::observe::{FatalReadError, choose_direction_knowing, read_observed};
use crate::progress::{NoProgress, Phase, Reporter};
use crate::seam::{ApiError, Catalog, ErrorKind, operation};
use crate::settings::Strategy;
use crate::triple::{TokenOperation, Triple};
use probes::{Evidence, due_probes, next_decision, probe};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tokio::time::Instant;

mod probes;

pub use crate::settings::DEFAULT_SETTLE;

/// The pause after the first read-back; each later pause doubles, up to [`LONGEST_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(250);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// The longest between two full rounds of reads while the canary shows nothing: as long as
/// AWS's CloudFormation handler waits between its checks.
const ROUND_EVERY: Duration = Duration::from_secs(5);

pub use crate::apply::Confirmation;

/// How settling went, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Settlement {
    /// The window: how long apply would wait for the listings (`--settle`).
    pub window_ms: u64,
    /// From the end of the writes to the read that showed the last of them (or to the end of
    /// the window, or of the run, when that came first).
    pub waited_ms: u64,
    /// Full rounds of reading the listings back.
    pub rounds: u32,
    /// Listing calls made to settle: the rounds' and the single listings watched between them
    /// (for implementations of [`Catalog`] that count calls).
    pub reads: u64,
    /// Writes sent with fresh tokens to settle what the listings did not show.
    pub probes: u64,
    /// Every write was settled: shown, or judged at the end of the window. False when the run
    /// stopped first (interrupt, deadline, a fatal error).
    pub complete: bool,
}

/// A fresh salt for this run's probe tokens: a replayed token cannot heal, so each run probes
/// with tokens no earlier run used, still derived from the triple. Nanoseconds and the process
/// id, because pipelines re-run within the same second.
pub(crate) fn fresh_salt() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{nanos}-{}", std::process::id())
}

/// What settling needs besides the outcomes.
#[derive(Debug, Clone)]
pub(crate) struct SettleOptions<'a> {
    pub window: Duration,
    /// How the writes were sent: batch answers are evidence, single answers may be replays.
    pub strategy: Strategy,
    pub concurrency: usize,
    pub control: &'a RunControl,
    /// Salts the probe tokens ([`fresh_salt`]).
    pub salt: &'a str,
    /// Associations known to exist on the scope (the plan's), so each round reads in the
    /// direction that is really cheaper.
    pub known: BTreeSet<Triple>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Present,
    Absent,
}

impl Want {
    fn write(self) -> TokenOperation {
        match self {
            Want::Present => TokenOperation::Associate,
            Want::Absent => TokenOperation::Disassociate,
        }
    }

    /// The probe's error that proves the state is already as wanted.
    fn proven_by(self, error: &ApiError) -> bool {
        match self {
            Want::Present => error.kind == ErrorKind::Duplicate,
            Want::Absent => error.kind == ErrorKind::NotFound,
        }
    }
}

/// One write's claim and what is known of it so far.
#[derive(Debug)]
struct Claim {
    want: Want,
    /// The write failed without an answer (5xx, no answer, a lost connection): it may or may
    /// not have been made.
    uncertain: bool,
    proof: Option<Confirmation>,
    /// A listing has shown it as wanted.
    shown: bool,
    /// A listing of it has been read at least once.
    read: bool,
    probed: bool,
    /// The probe found the earlier answer a replay and made the change itself.
    healed: bool,
    probe_error: Option<ApiError>,
}

impl Claim {
    fn unproven(&self) -> bool {
        !self.shown && self.proof.is_none() && !self.probed
    }
}

/// The claims of `outcomes`: what each write says it did, and writes whose answer was lost.
fn claims(outcomes: &[Outcome], strategy: Strategy) -> BTreeMap<Triple, Claim> {
    let reply_proof = (strategy == Strategy::Batch).then_some(Confirmation::BatchReply);
    outcomes
        .iter()
        .filter_map(|outcome| {
            let (want, uncertain) = match outcome.status {
                Status::Created | Status::Adopted => (Want::Present, false),
                Status::Removed | Status::AlreadyAbsent => (Want::Absent, false),
                Status::Failed => (uncertain_write(outcome)?, true),
                _ => return None,
            };
            let claim = Claim {
                want,
                uncertain,
                proof: if uncertain { None } else { reply_proof },
                shown: false,
                read: false,
                probed: false,
                healed: false,
                probe_error: None,
            };
            Some((outcome.triple.clone(), claim))
        })
        .collect()
}

/// For a write that failed without an answer (HTTP 5xx, no answer, a lost connection, past
/// the retries), what it meant to do; `None` for every other failure. A refused connection
/// never reached the service, so it is not among them.
fn uncertain_write(outcome: &Outcome) -> Option<Want> {
    let error = outcome.error.as_ref()?;
    if !matches!(
        error.kind,
        ErrorKind::Server | ErrorKind::Transport | ErrorKind::Timeout
    ) {
        return None;
    }
    match error.operation.as_str() {
        operation::ASSOCIATE | operation::BATCH_ASSOCIATE => Some(Want::Present),
        operation::DISASSOCIATE | operation::BATCH_DISASSOCIATE => Some(Want::Absent),
        _ => None,
    }
}

/// Settles the claims of `outcomes` (see the module doc) and rewrites them: `healed` where a
/// probe made the change, `not_visible` where the listings never showed it, `created` or
/// `removed` for lost answers whose change is confirmed, and each confirmed outcome's
/// [`Outcome::confirmed_by`]. A read that fails in a way that ends the run stops settling; what
/// was learned until then is kept, and the error returned.
pub(crate) async fn settle<C: Catalog>(
    catalog: &C,
    outcomes: &mut [Outcome],
    options: &SettleOptions<'_>,
    reporter: &dyn Reporter,
) -> (Settlement, Result<(), FatalReadError>) {
    let mut state = State {
        started: Instant::now(),
        claims: claims(outcomes, options.strategy),
        evidence: Evidence::default(),
        known: options.known.clone(),
        settlement: Settlement {
            window_ms: options.window.as_millis() as u64,
            ..Settlement::default()
        },
        reporter,
    };
    let listings = || {
        let counts = catalog.call_counts();
        [
            operation::LIST_ACTIONS_FOR_ARTIFACT,
            operation::LIST_ARTIFACTS_FOR_ACTION,
        ]
        .iter()
        .filter_map(|op| counts.get(op))
        .sum::<u64>()
    };
    let listings_before = listings();
    reporter.start(Phase::Verify, state.claims.len() as u64);
    let result = state.run(catalog, options).await;
    reporter.finish(Phase::Verify);
    state.settlement.reads = listings() - listings_before;
    let mut settlement = state.settlement;
    if !settlement.complete {
        settlement.waited_ms = state.started.elapsed().as_millis() as u64;
    }
    rewrite(outcomes, &state.claims, settlement.complete, reporter);
    (settlement, result)
}

/// One settling in progress.
struct State<'r> {
    /// The end of apply: every time here is measured from it.
    started: Instant,
    claims: BTreeMap<Triple, Claim>,
    evidence: Evidence,
    /// Associations seen so far, for choosing each round's direction.
    known: BTreeSet<Triple>,
    settlement: Settlement,
    reporter: &'r dyn Reporter,
}

impl State<'_> {
    async fn run<C: Catalog>(
        &mut self,
        catalog: &C,
        options: &SettleOptions<'_>,
    ) -> Result<(), FatalReadError> {
        // Lost answers are probed before anything else: the probe settles them.
        self.probe_due(catalog, options, Duration::ZERO).await;
        let mut last_round = Duration::ZERO;
        loop {
            self.wait_for_progress(catalog, options, last_round).await?;
            let unshown = self.unshown();
            if unshown.is_empty() {
                self.settlement.complete = true;
                return Ok(());
            }
            if options.control.is_stopped() {
                return Ok(());
            }
            let direction = choose_direction_knowing(&unshown, &self.known).direction;
            // Rounds are not shown one by one: the phase counts the changes shown so far.
            let unshown_refs: Vec<&Triple> = unshown.iter().collect();
            let observed = read_observed(
                catalog,
                &unshown_refs,
                direction,
                options.concurrency,
                Phase::Verify,
                &NoProgress,
            )
            .await?;
            self.settlement.rounds += 1;
            let elapsed = self.started.elapsed();
            last_round = elapsed;
            tracing::debug!(
                read = unshown.len(),
                listed = observed.associations.len(),
                ?elapsed,
                "settling round"
            );
            self.record(&unshown, &observed.associations, |t| {
                !observed.unreadable.contains_key(t)
            });
            self.known.extend(observed.associations);
            if self.claims.values().all(|c| c.shown) {
                self.settlement.complete = true;
                return Ok(());
            }
            self.probe_due(catalog, options, elapsed).await;
            if elapsed >= options.window {
                self.settlement.complete = !options.control.is_stopped();
                self.settlement.waited_ms = elapsed.as_millis() as u64;
                return Ok(());
            }
        }
    }

    /// Sends the probes due at `elapsed`. A probe that finds a replay makes every straggler due
    /// at once, hence the loop.
    async fn probe_due<C: Catalog>(
        &mut self,
        catalog: &C,
        options: &SettleOptions<'_>,
        elapsed: Duration,
    ) {
        loop {
            let due = due_probes(&self.claims, &mut self.evidence, elapsed, options.window);
            if due.is_empty() || options.control.is_stopped() {
                return;
            }
            self.settlement.probes += due.len() as u64;
            tracing::debug!(probes = due.len(), ?elapsed, "probing with fresh tokens");
            probe(catalog, &mut self.claims, &due, options, &mut self.evidence).await;
        }
    }

    fn unshown(&self) -> BTreeSet<Triple> {
        self.claims
            .iter()
            .filter(|(_, c)| !c.shown)
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// Takes what a read of `read` found (`listed`, each triple only where `readable`).
    fn record(
        &mut self,
        read: &BTreeSet<Triple>,
        listed: &BTreeSet<Triple>,
        readable: impl Fn(&Triple) -> bool,
    ) -> usize {
        let elapsed = self.started.elapsed();
        let mut shown = 0;
        for triple in read.iter().filter(|t| readable(t)) {
            let Some(claim) = self.claims.get_mut(triple) else {
                continue;
            };
            claim.read = true;
            if claim.shown || listed.contains(triple) != (claim.want == Want::Present) {
                continue;
            }
            claim.shown = true;
            shown += 1;
            self.reporter.advance(Phase::Verify, 1);
            self.settlement.waited_ms = elapsed.as_millis() as u64;
            if claim.proof.is_none() && !claim.uncertain {
                self.evidence.lag = Some(self.evidence.lag.unwrap_or_default().max(elapsed));
            }
            claim.proof.get_or_insert(Confirmation::Listing);
        }
        shown
    }

    /// Waits until a full round is worth its reads: a round re-reads every listing that holds
    /// an unshown change, which at a low rate takes seconds, so before each round one listing
    /// is watched instead (the canary: the artifact of the last change written that is
    /// expected to show). The round follows when the canary shows progress (at once, when the
    /// listings keep up), at the next decision about probes, or [`ROUND_EVERY`] after the last
    /// round at the latest.
    async fn wait_for_progress<C: Catalog>(
        &mut self,
        catalog: &C,
        options: &SettleOptions<'_>,
        last_round: Duration,
    ) -> Result<(), FatalReadError> {
        let mut pause = FIRST_PAUSE;
        // Fixed on entry: a decision point passed while waiting must end the wait, not vanish.
        let due = next_decision(&self.evidence, options.window, self.started.elapsed())
            .min(last_round + ROUND_EVERY);
        loop {
            let now = self.started.elapsed();
            if now >= due {
                return Ok(());
            }
            if let Some((product, artifact)) = self.canary() {
                let on_canary: BTreeSet<Triple> = self
                    .claims
                    .iter()
                    .filter(|(t, c)| !c.shown && t.product == product && t.artifact == artifact)
                    .map(|(t, _)| t.clone())
                    .collect();
                match catalog.list_actions_for_artifact(&product, &artifact).await {
                    Ok(actions) => {
                        let listed: BTreeSet<Triple> = actions
                            .into_iter()
                            .map(|a| Triple::new(&product, &artifact, a.id))
                            .collect();
                        let shown = self.record(&on_canary, &listed, |_| true);
                        tracing::debug!(%product, %artifact, shown, ?now, "canary read");
                        if shown > 0 {
                            return Ok(());
                        }
                    }
                    Err(error) if error.kind.is_fatal() || error.kind.is_stop() => {
                        return Err(FatalReadError(error));
                    }
                    // The round reads it again, and marks it unreadable if it still fails.
                    Err(_) => return Ok(()),
                }
            }
            let now = self.started.elapsed();
            tokio::select! {
                () = tokio::time::sleep(pause.min(due.saturating_sub(now))) => {}
                () = options.control.stopped() => return Ok(()),
            }
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
    }

    /// The artifact of the last-written change still expected to show: additions are written
    /// after removals, each in order, so the greatest unshown addition (else removal) was
    /// written last. A lost answer with no proof, or a probe that failed, may never show, so it
    /// is watched only when nothing else is left.
    fn canary(&self) -> Option<(String, String)> {
        let expected = |want: Want| {
            self.claims
                .iter()
                .rev()
                .filter(move |(_, c)| c.want == want && !c.shown)
                .find(|(_, c)| !(c.uncertain && c.proof.is_none()) && c.probe_error.is_none())
        };
        // Failing those, any unshown one: a lost answer may still show.
        let any = || self.claims.iter().rev().find(|(_, c)| !c.shown);
        expected(Want::Present)
            .or_else(|| expected(Want::Absent))
            .or_else(any)
            .map(|(t, _)| (t.product.clone(), t.artifact.clone()))
    }
}

/// Writes what settling found into the outcomes. `judged`: the window ended or every claim was
/// shown, so an unshown claim is `not_visible`; otherwise (the run stopped) it keeps what the
/// write said.
fn rewrite(
    outcomes: &mut [Outcome],
    claims: &BTreeMap<Triple, Claim>,
    judged: bool,
    reporter: &dyn Reporter,
) {
    let mut unread = 0;
    for outcome in outcomes.iter_mut() {
        let Some(claim) = claims.get(&outcome.triple) else {
            continue;
        };
        outcome.confirmed_by = claim.proof;
        let made = claim.shown || claim.proof.is_some();
        if claim.uncertain && made {
            // A lost answer whose change the listing or a probe confirmed.
            outcome.status = match claim.want {
                Want::Present => Status::Created,
                Want::Absent => Status::Removed,
            };
            outcome.error = None;
        }
        if claim.healed {
            outcome.status = Status::Healed;
            outcome.error = None;
        }
        if claim.shown || !judged {
            continue;
        }
        if !claim.read && claim.proof.is_none() {
            // Never readable: verification adds no failure of its own making.
            unread += 1;
            continue;
        }
        if claim.uncertain && !made {
            // Still the write's own failure, which the probe could not settle either.
            continue;
        }
        outcome.status = Status::NotVisible;
        outcome.error = claim.probe_error.as_ref().map(Failure::from);
    }
    let healed = claims.values().filter(|c| c.healed).count();
    if healed > 0 {
        reporter.warn(&format!(
            "{healed} change(s) reported as made were not (an earlier run's token was replayed \
             after an out-of-band change); re-applied with fresh tokens"
        ));
    }
    if unread > 0 {
        reporter.warn(&format!(
            "{unread} change(s) could not be read back to confirm them; run plan to check"
        ));
    }
}
