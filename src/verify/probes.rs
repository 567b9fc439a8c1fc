//! When settling spends a write: the rules that decide which unshown changes to probe with a
//! fresh token and when (see the parent module), the evidence they rest on, and the probe
//! itself. Probes are writes on the account's budget, so this is where their cost is bounded.

use super::{Claim, Confirmation, SettleOptions, Want};
use crate::dispatch::bounded;
use crate::seam::{ApiResult, Catalog};
use crate::triple::{Triple, idempotency_token_salted};
use std::collections::BTreeMap;
use std::time::Duration;

/// Added to twice the longest delay seen before a straggler is probed, so that listings a few
/// milliseconds apart do not decide it.
const PROBE_MARGIN: Duration = Duration::from_secs(1);

/// When the listings have shown none of the run's writes by this time (or half the window, if
/// shorter), a sample is probed: as long as AWS's own CloudFormation handler waits between its
/// checks, and short enough that a lone replayed write (a re-run after one association was
/// removed out of band) heals in seconds.
const SAMPLE_AFTER: Duration = Duration::from_secs(5);

/// What the loop learned that the next decision depends on.
#[derive(Debug, Default)]
pub(super) struct Evidence {
    /// The longest a listing took to show one of this run's writes, from the end of apply.
    pub(super) lag: Option<Duration>,
    /// A probe found a replayed answer: stale tokens are in play, so every straggler is probed.
    pub(super) replay_found: bool,
    /// The sample was taken.
    pub(super) sampled: bool,
}

/// The claims to probe now, per the rules of the module doc.
pub(super) fn due_probes(
    claims: &BTreeMap<Triple, Claim>,
    evidence: &mut Evidence,
    elapsed: Duration,
    window: Duration,
) -> Vec<Triple> {
    let unproven = || claims.iter().filter(|(_, c)| c.unproven());
    let everything_due = elapsed >= window
        || evidence.replay_found
        || evidence
            .lag
            .is_some_and(|lag| elapsed >= lag * 2 + PROBE_MARGIN);
    let mut due: Vec<Triple> = unproven()
        .filter(|(_, c)| c.uncertain || everything_due)
        .map(|(t, _)| t.clone())
        .collect();
    let sample_time = SAMPLE_AFTER.min(window / 2);
    if due.is_empty() && evidence.lag.is_none() && !evidence.sampled && elapsed >= sample_time {
        evidence.sampled = true;
        let sample = claims.len().div_ceil(20).max(1);
        due = unproven().take(sample).map(|(t, _)| t.clone()).collect();
    }
    due
}

/// The next time (from the end of apply) at which [`due_probes`] may decide differently: the
/// straggler threshold, the sample, or the end of the window, whichever comes first after
/// `elapsed`.
pub(super) fn next_decision(evidence: &Evidence, window: Duration, elapsed: Duration) -> Duration {
    let threshold = match evidence.lag {
        Some(lag) => Some(lag * 2 + PROBE_MARGIN),
        None => (!evidence.sampled).then(|| SAMPLE_AFTER.min(window / 2)),
    };
    threshold
        .filter(|at| *at > elapsed)
        .map_or(window, |at| at.min(window))
}

/// Writes each of `due` again with a fresh token and reads its answer as evidence.
pub(super) async fn probe<C: Catalog>(
    catalog: &C,
    claims: &mut BTreeMap<Triple, Claim>,
    due: &[Triple],
    options: &SettleOptions<'_>,
    evidence: &mut Evidence,
) {
    let token_salt = format!("probe/{}", options.salt);
    let wants: Vec<(Triple, Want)> = due
        .iter()
        .filter_map(|t| claims.get(t).map(|c| (t.clone(), c.want)))
        .collect();
    let mut answers = Vec::with_capacity(wants.len());
    bounded(
        &wants,
        options.concurrency,
        || options.control.is_stopped(),
        |(triple, want)| {
            let token_salt = &token_salt;
            async move {
                let token = idempotency_token_salted(want.write(), triple, token_salt);
                write(catalog, *want, triple, &token).await
            }
        },
        |(triple, _), answer| answers.push((triple.clone(), answer)),
    )
    .await;
    for (triple, answer) in answers {
        let Some(claim) = claims.get_mut(&triple) else {
            continue;
        };
        claim.probed = true;
        match answer {
            Ok(()) => {
                claim.proof = Some(Confirmation::Probe);
                if !claim.uncertain {
                    // The write the run was told succeeded had not happened: a replay.
                    claim.healed = true;
                    evidence.replay_found = true;
                }
            }
            Err(error) if claim.want.proven_by(&error) => {
                claim.proof = Some(Confirmation::Probe);
            }
            Err(error) => claim.probe_error = Some(error),
        }
    }
}

async fn write<C: Catalog>(catalog: &C, want: Want, triple: &Triple, token: &str) -> ApiResult<()> {
    match want {
        Want::Present => catalog.associate(triple, token).await,
        Want::Absent => catalog.disassociate(triple, token).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(uncertain: bool) -> Claim {
        Claim {
            want: Want::Present,
            uncertain,
            proof: None,
            shown: false,
            read: true,
            probed: false,
            healed: false,
            probe_error: None,
        }
    }

    fn claims_of(n: usize) -> BTreeMap<Triple, Claim> {
        (0..n)
            .map(|i| (Triple::new("p", format!("pa-{i:03}"), "act"), claim(false)))
            .collect()
    }

    const WINDOW: Duration = Duration::from_secs(60);

    #[test]
    fn nothing_is_probed_while_the_listings_may_still_be_catching_up() {
        let claims = claims_of(100);
        let mut evidence = Evidence::default();
        assert!(due_probes(&claims, &mut evidence, Duration::from_millis(4900), WINDOW).is_empty());
        // The listings showed writes 3 s after apply: stragglers wait until 7 s.
        evidence.lag = Some(Duration::from_secs(3));
        assert!(due_probes(&claims, &mut evidence, Duration::from_secs(6), WINDOW).is_empty());
        assert_eq!(
            due_probes(&claims, &mut evidence, Duration::from_secs(7), WINDOW).len(),
            100
        );
    }

    #[test]
    fn with_nothing_shown_after_five_seconds_a_twentieth_is_sampled_once() {
        let claims = claims_of(100);
        let mut evidence = Evidence::default();
        assert_eq!(
            due_probes(&claims, &mut evidence, Duration::from_secs(5), WINDOW).len(),
            5
        );
        assert!(due_probes(&claims, &mut evidence, Duration::from_secs(40), WINDOW).is_empty());
        evidence.replay_found = true;
        assert_eq!(
            due_probes(&claims, &mut evidence, Duration::from_secs(41), WINDOW).len(),
            100
        );
    }

    #[test]
    fn lost_answers_are_probed_at_once_and_everything_unproven_at_the_window_end() {
        let mut claims = claims_of(3);
        if let Some(c) = claims.values_mut().next() {
            c.uncertain = true;
        }
        let mut evidence = Evidence::default();
        assert_eq!(
            due_probes(&claims, &mut evidence, Duration::ZERO, WINDOW).len(),
            1
        );
        assert_eq!(due_probes(&claims, &mut evidence, WINDOW, WINDOW).len(), 3);
    }

    #[test]
    fn a_short_window_samples_at_its_half() {
        let claims = claims_of(1);
        let mut evidence = Evidence::default();
        let window = Duration::from_secs(4);
        assert!(due_probes(&claims, &mut evidence, Duration::from_millis(1900), window).is_empty());
        assert_eq!(
            due_probes(&claims, &mut evidence, Duration::from_secs(2), window).len(),
            1
        );
    }
}
