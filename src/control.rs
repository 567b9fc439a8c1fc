//! One stop mechanism for a whole run: name resolution, reading, applying and verifying all
//! answer to the same [`RunControl`]. A stop (an interrupt, the deadline, or a failure that makes
//! further calls pointless) first ends dispatching: no new call is made. Calls already in flight
//! get a short grace to finish; after it they are abandoned, and their triples are reported as
//! `unknown` (the write may or may not have happened; a re-run settles it). So a run always ends
//! within its deadline plus the grace, whatever the endpoint does.
//!
//! [`Guarded`] is how every phase obeys the control without knowing about it: it wraps any
//! [`Catalog`], refuses calls once a stop was requested ([`ErrorKind::Stopped`]) and abandons
//! calls still running when the grace is over ([`ErrorKind::Cancelled`]).

use crate::seam::{
    ActionDetail, ActionSpec, ActionSummary, ApiError, ApiResult, ArtifactDetail, ArtifactView,
    BatchItemFailure, Catalog, ErrorKind, ProductKey, ProductSummary, operation,
};
use crate::triple::Triple;
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long calls in flight may go on after a stop before they are abandoned. Long enough for a
/// healthy call (Service Catalog answers in well under a second) to land and be reported, short
/// enough that `--deadline` and Ctrl-C are felt at once.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(2);

/// Why a run stopped early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StopReason {
    /// SIGINT or SIGTERM.
    Interrupted,
    /// `--deadline` passed.
    Deadline,
    /// A failure that every further call would repeat: credentials refused, the endpoint
    /// unreachable or breaking the API's contract. The error says which.
    Fatal(ApiError),
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Interrupted => write!(f, "interrupted"),
            StopReason::Deadline => write!(f, "the deadline was reached"),
            StopReason::Fatal(error) => write!(f, "{error}"),
        }
    }
}

#[derive(Debug)]
struct Inner {
    /// Cancelled at the stop: no new calls.
    stop: CancellationToken,
    /// Cancelled after the grace: calls in flight are abandoned.
    abandon: CancellationToken,
    reason: Mutex<Option<StopReason>>,
    grace: Duration,
}

/// The shared stop switch of one run. Cloning shares it.
#[derive(Debug, Clone)]
pub struct RunControl {
    inner: Arc<Inner>,
}

impl Default for RunControl {
    fn default() -> Self {
        Self::new(DEFAULT_GRACE)
    }
}

impl RunControl {
    /// A control whose in-flight calls get `grace` after a stop.
    pub fn new(grace: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                stop: CancellationToken::new(),
                abandon: CancellationToken::new(),
                reason: Mutex::new(None),
                grace,
            }),
        }
    }

    /// Requests a stop. The first reason is kept; later ones change nothing. Must be called
    /// inside a tokio runtime (the grace is timed by a task).
    pub fn stop(&self, reason: StopReason) {
        {
            let Ok(mut current) = self.inner.reason.lock() else {
                return;
            };
            if current.is_some() {
                return;
            }
            *current = Some(reason);
        }
        self.inner.stop.cancel();
        let inner = self.inner.clone();
        tokio::spawn(async move {
            tokio::time::sleep(inner.grace).await;
            inner.abandon.cancel();
        });
    }

    /// A control that stops when this one does (with its reason), and that can also be stopped
    /// alone: one target's fatal failure ends that target, not the run. Must be called inside
    /// a tokio runtime.
    pub fn child(&self) -> RunControl {
        let child = RunControl::new(self.inner.grace);
        let (parent, stopped) = (self.clone(), child.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = parent.stopped() => {
                    if let Some(reason) = parent.reason() {
                        stopped.stop(reason);
                    }
                }
                () = stopped.stopped() => {}
            }
        });
        child
    }

    /// Stops the run with [`StopReason::Deadline`] after `limit`, unless it stopped before.
    pub fn stop_after(&self, limit: Duration) {
        let control = self.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(limit) => control.stop(StopReason::Deadline),
                () = control.inner.stop.cancelled() => {}
            }
        });
    }

    /// True once a stop was requested.
    pub fn is_stopped(&self) -> bool {
        self.inner.stop.is_cancelled()
    }

    /// Why the run stopped, if it did.
    pub fn reason(&self) -> Option<StopReason> {
        self.inner.reason.lock().ok().and_then(|r| r.clone())
    }

    /// Resolves when a stop is requested.
    pub async fn stopped(&self) {
        self.inner.stop.cancelled().await
    }

    /// Resolves when calls in flight are to be abandoned.
    pub async fn abandoned(&self) {
        self.inner.abandon.cancelled().await
    }

    /// Runs `call` unless the run has stopped; abandons it once the grace after a stop is over.
    pub async fn guard<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = ApiResult<T>>,
    ) -> ApiResult<T> {
        if self.is_stopped() {
            return Err(stopped_error(operation, ErrorKind::Stopped));
        }
        let result = tokio::select! {
            result = call => result,
            () = self.abandoned() => Err(stopped_error(operation, ErrorKind::Cancelled)),
        };
        // A failure that every further call would repeat stops the whole run: one clear error
        // instead of the same one for each remaining triple.
        if let Err(error) = &result
            && error.kind.is_fatal()
        {
            self.stop(StopReason::Fatal(error.clone()));
        }
        result
    }
}

fn stopped_error(operation: &'static str, kind: ErrorKind) -> ApiError {
    let message = match kind {
        ErrorKind::Cancelled => {
            "the call was still in flight when the run stopped; its effect is unknown"
        }
        _ => "the run stopped before this call was made",
    };
    ApiError {
        kind,
        operation,
        code: match kind {
            ErrorKind::Cancelled => "Abandoned".to_string(),
            _ => "NotSent".to_string(),
        },
        message: message.to_string(),
        request_id: None,
    }
}

/// A [`Catalog`] that obeys a [`RunControl`]: every phase of a run talks to the catalog through
/// one of these, so one stop covers them all.
pub struct Guarded<'a, C> {
    inner: &'a C,
    control: RunControl,
}

impl<'a, C: Catalog> Guarded<'a, C> {
    pub fn new(inner: &'a C, control: RunControl) -> Self {
        Self { inner, control }
    }

    pub fn control(&self) -> &RunControl {
        &self.control
    }
}

impl<C: Catalog> Catalog for Guarded<'_, C> {
    async fn list_actions_for_artifact(
        &self,
        product: &str,
        artifact: &str,
    ) -> ApiResult<Vec<ActionSummary>> {
        let call = self.inner.list_actions_for_artifact(product, artifact);
        self.control
            .guard(operation::LIST_ACTIONS_FOR_ARTIFACT, call)
            .await
    }

    async fn list_artifacts_for_action(&self, action: &str) -> ApiResult<Vec<ArtifactView>> {
        let call = self.inner.list_artifacts_for_action(action);
        self.control
            .guard(operation::LIST_ARTIFACTS_FOR_ACTION, call)
            .await
    }

    async fn associate(&self, triple: &Triple, token: &str) -> ApiResult<()> {
        let call = self.inner.associate(triple, token);
        self.control.guard(operation::ASSOCIATE, call).await
    }

    async fn disassociate(&self, triple: &Triple, token: &str) -> ApiResult<()> {
        let call = self.inner.disassociate(triple, token);
        self.control.guard(operation::DISASSOCIATE, call).await
    }

    async fn batch_associate(&self, triples: &[Triple]) -> ApiResult<Vec<BatchItemFailure>> {
        let call = self.inner.batch_associate(triples);
        self.control.guard(operation::BATCH_ASSOCIATE, call).await
    }

    async fn batch_disassociate(&self, triples: &[Triple]) -> ApiResult<Vec<BatchItemFailure>> {
        let call = self.inner.batch_disassociate(triples);
        self.control
            .guard(operation::BATCH_DISASSOCIATE, call)
            .await
    }

    async fn list_service_actions(&self) -> ApiResult<Vec<ActionSummary>> {
        let call = self.inner.list_service_actions();
        self.control
            .guard(operation::LIST_SERVICE_ACTIONS, call)
            .await
    }

    async fn describe_service_action(&self, id: &str) -> ApiResult<ActionDetail> {
        let call = self.inner.describe_service_action(id);
        self.control
            .guard(operation::DESCRIBE_SERVICE_ACTION, call)
            .await
    }

    async fn create_service_action(
        &self,
        spec: &ActionSpec,
        token: &str,
    ) -> ApiResult<ActionDetail> {
        let call = self.inner.create_service_action(spec, token);
        self.control
            .guard(operation::CREATE_SERVICE_ACTION, call)
            .await
    }

    async fn update_service_action(&self, id: &str, spec: &ActionSpec) -> ApiResult<ActionDetail> {
        let call = self.inner.update_service_action(id, spec);
        self.control
            .guard(operation::UPDATE_SERVICE_ACTION, call)
            .await
    }

    async fn delete_service_action(&self, id: &str, token: &str) -> ApiResult<()> {
        let call = self.inner.delete_service_action(id, token);
        self.control
            .guard(operation::DELETE_SERVICE_ACTION, call)
            .await
    }

    async fn search_products(&self, full_text: Option<&str>) -> ApiResult<Vec<ProductSummary>> {
        let call = self.inner.search_products(full_text);
        self.control.guard(operation::SEARCH_PRODUCTS, call).await
    }

    async fn describe_product(
        &self,
        key: &ProductKey,
    ) -> ApiResult<(ProductSummary, Vec<ArtifactDetail>)> {
        let call = self.inner.describe_product(key);
        self.control.guard(operation::DESCRIBE_PRODUCT, call).await
    }

    async fn list_provisioning_artifacts(&self, product: &str) -> ApiResult<Vec<ArtifactDetail>> {
        let call = self.inner.list_provisioning_artifacts(product);
        self.control.guard(operation::LIST_ARTIFACTS, call).await
    }

    async fn describe_provisioning_artifact(
        &self,
        product: &str,
        artifact: &str,
    ) -> ApiResult<ArtifactDetail> {
        let call = self.inner.describe_provisioning_artifact(product, artifact);
        self.control.guard(operation::DESCRIBE_ARTIFACT, call).await
    }

    fn call_counts(&self) -> BTreeMap<&'static str, u64> {
        self.inner.call_counts()
    }

    fn wire_stats(&self) -> crate::seam::WireStats {
        self.inner.wire_stats()
    }

    fn region(&self) -> Option<String> {
        self.inner.region()
    }

    async fn account(&self) -> ApiResult<Option<String>> {
        let call = self.inner.account();
        self.control.guard("GetCallerIdentity", call).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_child_stops_with_its_parent_but_not_the_parent_with_it() {
        let parent = RunControl::default();
        let first = parent.child();
        let second = parent.child();
        first.stop(StopReason::Fatal(ApiError {
            kind: ErrorKind::Auth,
            operation: operation::ASSOCIATE,
            code: "UnrecognizedClientException".into(),
            message: "region not enabled".into(),
            request_id: None,
        }));
        tokio::task::yield_now().await;
        assert!(first.is_stopped());
        assert!(!parent.is_stopped(), "one target's failure is its own");
        assert!(!second.is_stopped());
        parent.stop(StopReason::Deadline);
        tokio::time::timeout(Duration::from_secs(1), second.stopped())
            .await
            .expect("the child hears the parent's stop");
        assert_eq!(second.reason(), Some(StopReason::Deadline));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_refuses_new_calls_and_abandons_running_ones_after_the_grace() {
        let control = RunControl::new(Duration::from_secs(2));
        let running = {
            let control = control.clone();
            tokio::spawn(async move {
                control
                    .guard("Op", async {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        Ok(())
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        control.stop(StopReason::Deadline);
        let refused = control.guard("Op", async { Ok(()) }).await;
        assert_eq!(refused.map_err(|e| e.kind), Err(ErrorKind::Stopped));
        let started = tokio::time::Instant::now();
        let abandoned = running.await.expect("task");
        assert_eq!(abandoned.map_err(|e| e.kind), Err(ErrorKind::Cancelled));
        assert_eq!(started.elapsed(), Duration::from_secs(2), "after the grace");
        assert_eq!(control.reason(), Some(StopReason::Deadline));
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_finishes_within_the_grace_keeps_its_result() {
        let control = RunControl::new(Duration::from_secs(2));
        let running = {
            let control = control.clone();
            tokio::spawn(async move {
                control
                    .guard("Op", async {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        Ok(7)
                    })
                    .await
            })
        };
        tokio::task::yield_now().await;
        control.stop(StopReason::Interrupted);
        assert_eq!(running.await.expect("task").ok(), Some(7));
    }

    #[tokio::test(start_paused = true)]
    async fn a_fatal_error_stops_the_run_and_the_first_reason_wins() {
        let control = RunControl::default();
        let fatal = ApiError {
            kind: ErrorKind::Auth,
            operation: "Op",
            code: "ExpiredTokenException".to_string(),
            message: "expired".to_string(),
            request_id: None,
        };
        let result: ApiResult<()> = control.guard("Op", async { Err(fatal.clone()) }).await;
        assert!(result.is_err());
        assert!(control.is_stopped());
        control.stop(StopReason::Interrupted);
        assert_eq!(control.reason(), Some(StopReason::Fatal(fatal)));
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_stops_the_run() {
        let control = RunControl::default();
        control.stop_after(Duration::from_secs(5));
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert!(!control.is_stopped());
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(control.reason(), Some(StopReason::Deadline));
    }
}
