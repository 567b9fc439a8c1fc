//! How the library tells its caller what it is doing, without knowing how that is shown. The
//! reconciler calls a [`Reporter`]; the CLI implements it with progress bars or plain log lines,
//! tests and library users with nothing at all ([`NoProgress`]).

/// The long-running phases of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Reading the current associations.
    Read,
    /// Making the planned changes.
    Apply,
    /// Confirming the changes and waiting for the listings to show them, one unit per change
    /// shown.
    Verify,
    /// Targets (accounts and regions) of a run over several, one unit per target done.
    Targets,
    /// Proving the manifest's ids exist: one unit per product whose artifacts are listed.
    Check,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::Read => "reading",
            Phase::Apply => "applying",
            Phase::Verify => "verifying",
            Phase::Targets => "targets",
            Phase::Check => "checking",
        }
    }
}

/// Receives progress events. Implementations must be cheap: `advance` is called once per item
/// from the hot loop.
pub trait Reporter: Send + Sync {
    /// A phase begins with `total` units of work (list targets, or triples).
    fn start(&self, phase: Phase, total: u64);
    /// `count` more units of the current phase are done.
    fn advance(&self, phase: Phase, count: u64);
    /// The phase is over.
    fn finish(&self, phase: Phase);
    /// Something the user should know that is not a failure of one triple.
    fn warn(&self, message: &str);
}

/// A reporter that shows nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Reporter for NoProgress {
    fn start(&self, _: Phase, _: u64) {}
    fn advance(&self, _: Phase, _: u64) {}
    fn finish(&self, _: Phase) {}
    fn warn(&self, _: &str) {}
}
