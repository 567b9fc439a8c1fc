//! How a run goes, in one value every phase reads: calls in flight, targets at once, prune,
//! how writes are sent and confirmed, the stop switch, and the bounds of setting a target up.
//! The single-target steps ([`crate::run`]) and the run over targets ([`crate::pipeline`]) take
//! the same [`Settings`], so nothing is copied from one settings type into another by hand.

use crate::control::RunControl;
use serde::Serialize;
use std::time::Duration;

/// How long apply waits, by default, for the listings to show what it wrote. Twice what AWS's
/// CloudFormation handler waits (5 × 5 s), a third of Terraform's 3 minutes: long enough for
/// the lags seen in practice, short enough that a real problem fails a pipeline in a minute.
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(60);

/// Calls in flight per target by default.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// Targets worked on at once by default: enough that a hub and a handful of spokes run side by
/// side, few enough that a 200-account run keeps a modest number of connections open.
pub const DEFAULT_TARGET_CONCURRENCY: usize = 8;

/// How long setting one target up (STS `AssumeRole` included) may take by default: as long as
/// one call with all its retries.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(100);

/// How writes are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Strategy {
    /// One Associate call per triple, each with its idempotency token.
    #[default]
    Single,
    /// BatchAssociate calls of up to 50 triples (no idempotency token).
    Batch,
}

/// Whether and how to settle what apply wrote (see [`crate::verify`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verify {
    /// Trust the write replies: no read-back, no wait.
    Off,
    /// Read back what was written, heal replayed answers (with tokens salted afresh by the
    /// library for every run), and wait up to `settle` for the listings to show every change.
    On { settle: Duration },
}

impl Default for Verify {
    fn default() -> Self {
        Verify::On {
            settle: DEFAULT_SETTLE,
        }
    }
}

/// How a run goes.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Calls in flight at most, per target, in every phase.
    pub concurrency: usize,
    /// Targets worked on at once, at most.
    pub target_concurrency: usize,
    /// Also plan (and apply) removals of undeclared associations on the manifests' artifacts.
    pub prune: bool,
    pub strategy: Strategy,
    pub verify: Verify,
    /// The run's stop switch: interrupts, a deadline, failures every further call would repeat.
    /// Each target of a run gets a child of it.
    pub control: RunControl,
    /// Setting one target up may take this long at most.
    pub connect_timeout: Duration,
    /// Rounds of retry for batch items answered THROTTLING or INTERNAL_FAILURE.
    pub batch_item_retries: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            concurrency: DEFAULT_CONCURRENCY,
            target_concurrency: DEFAULT_TARGET_CONCURRENCY,
            prune: false,
            strategy: Strategy::default(),
            verify: Verify::default(),
            control: RunControl::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            batch_item_retries: 8,
        }
    }
}

impl Settings {
    /// True once a stop was requested.
    pub fn stopped(&self) -> bool {
        self.control.is_stopped()
    }

    /// These settings under another stop switch (a target's child of the run's).
    pub(crate) fn under(&self, control: RunControl) -> Settings {
        Settings {
            control,
            ..self.clone()
        }
    }
}
