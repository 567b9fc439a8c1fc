//! The one seam between sc-assoc and AWS Service Catalog: a trait in the project's own types that
//! says what the reconciler needs, and the typed error every implementation returns. The SDK-backed
//! implementation lives in [`crate::aws`]; tests may substitute their own. Nothing here knows about
//! HTTP, the SDK or retries — only about associations and the API's error codes.

use crate::triple::Triple;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;

/// The Service Catalog operations sc-assoc calls, by their API names: the one list that call
/// counts, messages, the stop switch and reports use.
pub mod operation {
    pub const LIST_ACTIONS_FOR_ARTIFACT: &str = "ListServiceActionsForProvisioningArtifact";
    pub const LIST_ARTIFACTS_FOR_ACTION: &str = "ListProvisioningArtifactsForServiceAction";
    pub const ASSOCIATE: &str = "AssociateServiceActionWithProvisioningArtifact";
    pub const DISASSOCIATE: &str = "DisassociateServiceActionFromProvisioningArtifact";
    pub const BATCH_ASSOCIATE: &str = "BatchAssociateServiceActionWithProvisioningArtifact";
    pub const BATCH_DISASSOCIATE: &str = "BatchDisassociateServiceActionFromProvisioningArtifact";
    pub const LIST_SERVICE_ACTIONS: &str = "ListServiceActions";
    pub const DESCRIBE_SERVICE_ACTION: &str = "DescribeServiceAction";
    pub const SEARCH_PRODUCTS: &str = "SearchProductsAsAdmin";
    pub const DESCRIBE_PRODUCT: &str = "DescribeProductAsAdmin";
    pub const LIST_ARTIFACTS: &str = "ListProvisioningArtifacts";
    pub const DESCRIBE_ARTIFACT: &str = "DescribeProvisioningArtifact";

    /// All of them.
    pub const ALL: [&str; 12] = [
        LIST_ACTIONS_FOR_ARTIFACT,
        LIST_ARTIFACTS_FOR_ACTION,
        ASSOCIATE,
        DISASSOCIATE,
        BATCH_ASSOCIATE,
        BATCH_DISASSOCIATE,
        LIST_SERVICE_ACTIONS,
        DESCRIBE_SERVICE_ACTION,
        SEARCH_PRODUCTS,
        DESCRIBE_PRODUCT,
        LIST_ARTIFACTS,
        DESCRIBE_ARTIFACT,
    ];
}

/// A service action as the list and describe calls summarise it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionSummary {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub definition_type: Option<String>,
}

/// A provisioning artifact seen from a service action (ListProvisioningArtifactsForServiceAction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactView {
    pub product_id: String,
    pub product_name: Option<String>,
    pub artifact_id: String,
    pub artifact_name: Option<String>,
}

/// A product as SearchProductsAsAdmin and DescribeProductAsAdmin describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductSummary {
    pub id: String,
    pub name: Option<String>,
}

/// A provisioning artifact (product version) with the fields selectors need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactDetail {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub active: Option<bool>,
    /// `DEFAULT` or `DEPRECATED`.
    pub guidance: Option<String>,
}

/// How to name a product in DescribeProductAsAdmin, which accepts either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductKey {
    Id(String),
    Name(String),
}

/// One item of a batch call that did not succeed, with the model's per-item ErrorCode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchItemFailure {
    pub triple: Triple,
    /// One of DUPLICATE_RESOURCE, INTERNAL_FAILURE, LIMIT_EXCEEDED, RESOURCE_NOT_FOUND, THROTTLING,
    /// INVALID_PARAMETER (kept as text so a code added to the model later is not lost).
    pub code: String,
    pub message: Option<String>,
}

impl BatchItemFailure {
    /// Codes that a later attempt may clear: they arrive inside an HTTP 200, so the SDK never
    /// retries them and the caller must.
    pub fn is_retryable(&self) -> bool {
        matches!(self.code.as_str(), "THROTTLING" | "INTERNAL_FAILURE")
    }

    /// DUPLICATE_RESOURCE means the association is already there: success for an associate.
    pub fn is_duplicate(&self) -> bool {
        self.code == "DUPLICATE_RESOURCE"
    }
}

/// What kind of failure an [`ApiError`] is, for deciding what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// DuplicateResourceException: the association already exists.
    Duplicate,
    /// ResourceNotFoundException: unknown product, artifact or action, or a mismatched pair.
    NotFound,
    /// LimitExceededException: a quota (25 actions per artifact). No retry clears it.
    LimitExceeded,
    /// InvalidParametersException: the request broke the model's rules.
    InvalidParameters,
    /// Throttling that survived the retry budget.
    Throttled,
    /// HTTP 5xx that survived the retry budget.
    Server,
    /// Missing, invalid or expired credentials, or access denied.
    Auth,
    /// The connection failed or was lost mid-call.
    Transport,
    /// Nothing listens at the endpoint (connection refused) or its host name does not resolve.
    Unreachable,
    /// The endpoint accepted the call but did not answer within the attempt timeout, retries
    /// included.
    Timeout,
    /// The endpoint broke the API's contract (a paging loop, a listing past every limit).
    Protocol,
    /// Not sent: the run had stopped (interrupt, deadline, or a fatal error elsewhere).
    Stopped,
    /// In flight when the run stopped and abandoned after the grace: its effect is unknown.
    Cancelled,
    /// Anything else, including client-side misconfiguration.
    Other,
}

impl ErrorKind {
    /// Failures that every further call would repeat, so the run stops at the first one:
    /// refused credentials, an endpoint that cannot be reached or does not answer (after the
    /// SDK's retries), an endpoint that breaks the API's contract.
    pub fn is_fatal(self) -> bool {
        matches!(
            self,
            ErrorKind::Auth
                | ErrorKind::Transport
                | ErrorKind::Unreachable
                | ErrorKind::Timeout
                | ErrorKind::Protocol
        )
    }

    /// The call was never made or its answer never came because the run stopped.
    pub fn is_stop(self) -> bool {
        matches!(self, ErrorKind::Stopped | ErrorKind::Cancelled)
    }
}

/// A failed call, keeping what AWS said: code, message and request id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    pub kind: ErrorKind,
    /// The operation that failed, e.g. `AssociateServiceActionWithProvisioningArtifact`.
    pub operation: &'static str,
    /// The AWS error code, e.g. `ResourceNotFoundException`, or a transport description.
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

pub type ApiResult<T> = Result<T, ApiError>;

/// What happened on the wire: HTTP attempts (retries included) and how the failed ones failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WireStats {
    /// HTTP attempts made, first tries and retries.
    pub attempts: u64,
    /// Attempts beyond the first of each call.
    pub retries: u64,
    /// Attempts answered with a throttling error.
    pub throttled: u64,
    /// Attempts answered with HTTP 5xx.
    pub server_errors: u64,
    /// Attempts that got no answer within the attempt timeout.
    pub timeouts: u64,
    /// Attempts that failed to connect or lost the connection.
    pub transport_errors: u64,
}

/// What sc-assoc needs from Service Catalog. Every list call returns all pages.
///
/// Methods return `Send` futures so implementations can be driven from spawned tasks and
/// `buffer_unordered` streams.
pub trait Catalog: Send + Sync {
    /// ListServiceActionsForProvisioningArtifact, every page.
    fn list_actions_for_artifact(
        &self,
        product: &str,
        artifact: &str,
    ) -> impl Future<Output = ApiResult<Vec<ActionSummary>>> + Send;

    /// ListProvisioningArtifactsForServiceAction, every page.
    fn list_artifacts_for_action(
        &self,
        action: &str,
    ) -> impl Future<Output = ApiResult<Vec<ArtifactView>>> + Send;

    /// AssociateServiceActionWithProvisioningArtifact with the given idempotency token.
    fn associate(&self, triple: &Triple, token: &str)
    -> impl Future<Output = ApiResult<()>> + Send;

    /// DisassociateServiceActionFromProvisioningArtifact with the given idempotency token.
    fn disassociate(
        &self,
        triple: &Triple,
        token: &str,
    ) -> impl Future<Output = ApiResult<()>> + Send;

    /// BatchAssociateServiceActionWithProvisioningArtifact for 1..=50 triples; returns the items
    /// that failed.
    fn batch_associate(
        &self,
        triples: &[Triple],
    ) -> impl Future<Output = ApiResult<Vec<BatchItemFailure>>> + Send;

    /// BatchDisassociateServiceActionFromProvisioningArtifact for 1..=50 triples.
    fn batch_disassociate(
        &self,
        triples: &[Triple],
    ) -> impl Future<Output = ApiResult<Vec<BatchItemFailure>>> + Send;

    /// ListServiceActions, every page.
    fn list_service_actions(&self) -> impl Future<Output = ApiResult<Vec<ActionSummary>>> + Send;

    /// DescribeServiceAction.
    fn describe_service_action(
        &self,
        id: &str,
    ) -> impl Future<Output = ApiResult<ActionSummary>> + Send;

    /// SearchProductsAsAdmin, every page, optionally filtered by full-text search.
    fn search_products(
        &self,
        full_text: Option<&str>,
    ) -> impl Future<Output = ApiResult<Vec<ProductSummary>>> + Send;

    /// DescribeProductAsAdmin: the product and its artifacts.
    fn describe_product(
        &self,
        key: &ProductKey,
    ) -> impl Future<Output = ApiResult<(ProductSummary, Vec<ArtifactDetail>)>> + Send;

    /// ListProvisioningArtifacts for a product.
    fn list_provisioning_artifacts(
        &self,
        product: &str,
    ) -> impl Future<Output = ApiResult<Vec<ArtifactDetail>>> + Send;

    /// DescribeProvisioningArtifact by ids.
    fn describe_provisioning_artifact(
        &self,
        product: &str,
        artifact: &str,
    ) -> impl Future<Output = ApiResult<ArtifactDetail>> + Send;

    /// Calls made so far per operation, for reports. Implementations that do not count return
    /// nothing.
    fn call_counts(&self) -> BTreeMap<&'static str, u64> {
        BTreeMap::new()
    }

    /// HTTP attempts and their failures so far, for reports. Implementations that do not see
    /// the wire return zeros.
    fn wire_stats(&self) -> WireStats {
        WireStats::default()
    }
}
