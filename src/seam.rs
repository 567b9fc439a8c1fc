//! The one seam between sc-assoc and AWS: [`Catalog`], a trait in the project's own types that
//! says what the reconciler needs of one account and region's Service Catalog, with the typed
//! error every implementation returns, and [`Connect`], which makes the `Catalog` of each target
//! of a run, with the typed reason ([`SetupError`]) when it cannot. The SDK-backed
//! implementations live in [`crate::aws`]; tests may substitute their own. Nothing here knows
//! about HTTP, the SDK or retries — only about associations, targets and the API's error codes.

use crate::redact::redact;
use crate::target::TargetSpec;
use crate::triple::Triple;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;

/// The Service Catalog operations sc-assoc calls (and the local catalog serves), the one list
/// that call counts, messages, the stop switch, reports and the stand-in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Operation {
    Associate,
    Disassociate,
    BatchAssociate,
    BatchDisassociate,
    ListActionsForArtifact,
    ListArtifactsForAction,
    ListServiceActions,
    DescribeServiceAction,
    DescribeProvisioningArtifact,
    DescribeProductAsAdmin,
    SearchProductsAsAdmin,
    ListProvisioningArtifacts,
    CreateServiceAction,
    UpdateServiceAction,
    DeleteServiceAction,
}

impl Operation {
    pub const ALL: [Operation; 15] = [
        Operation::Associate,
        Operation::Disassociate,
        Operation::BatchAssociate,
        Operation::BatchDisassociate,
        Operation::ListActionsForArtifact,
        Operation::ListArtifactsForAction,
        Operation::ListServiceActions,
        Operation::DescribeServiceAction,
        Operation::DescribeProvisioningArtifact,
        Operation::DescribeProductAsAdmin,
        Operation::SearchProductsAsAdmin,
        Operation::ListProvisioningArtifacts,
        Operation::CreateServiceAction,
        Operation::UpdateServiceAction,
        Operation::DeleteServiceAction,
    ];

    /// The API's name of the operation.
    pub const fn name(self) -> &'static str {
        match self {
            Operation::Associate => "AssociateServiceActionWithProvisioningArtifact",
            Operation::Disassociate => "DisassociateServiceActionFromProvisioningArtifact",
            Operation::BatchAssociate => "BatchAssociateServiceActionWithProvisioningArtifact",
            Operation::BatchDisassociate => {
                "BatchDisassociateServiceActionFromProvisioningArtifact"
            }
            Operation::ListActionsForArtifact => "ListServiceActionsForProvisioningArtifact",
            Operation::ListArtifactsForAction => "ListProvisioningArtifactsForServiceAction",
            Operation::ListServiceActions => "ListServiceActions",
            Operation::DescribeServiceAction => "DescribeServiceAction",
            Operation::DescribeProvisioningArtifact => "DescribeProvisioningArtifact",
            Operation::DescribeProductAsAdmin => "DescribeProductAsAdmin",
            Operation::SearchProductsAsAdmin => "SearchProductsAsAdmin",
            Operation::ListProvisioningArtifacts => "ListProvisioningArtifacts",
            Operation::CreateServiceAction => "CreateServiceAction",
            Operation::UpdateServiceAction => "UpdateServiceAction",
            Operation::DeleteServiceAction => "DeleteServiceAction",
        }
    }

    /// Its place in [`Operation::ALL`], for counters kept in an array.
    pub fn index(self) -> usize {
        Operation::ALL.iter().position(|o| *o == self).unwrap_or(0)
    }

    pub fn from_name(name: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|o| o.name() == name)
    }

    /// Operations that change state.
    pub fn is_write(self) -> bool {
        matches!(
            self,
            Operation::Associate
                | Operation::Disassociate
                | Operation::BatchAssociate
                | Operation::BatchDisassociate
                | Operation::CreateServiceAction
                | Operation::UpdateServiceAction
                | Operation::DeleteServiceAction
        )
    }
}

/// The operations' names, for the places that keep a name (error reports, call counts).
pub mod operation {
    use super::Operation;

    pub const LIST_ACTIONS_FOR_ARTIFACT: &str = Operation::ListActionsForArtifact.name();
    pub const LIST_ARTIFACTS_FOR_ACTION: &str = Operation::ListArtifactsForAction.name();
    pub const ASSOCIATE: &str = Operation::Associate.name();
    pub const DISASSOCIATE: &str = Operation::Disassociate.name();
    pub const BATCH_ASSOCIATE: &str = Operation::BatchAssociate.name();
    pub const BATCH_DISASSOCIATE: &str = Operation::BatchDisassociate.name();
    pub const LIST_SERVICE_ACTIONS: &str = Operation::ListServiceActions.name();
    pub const DESCRIBE_SERVICE_ACTION: &str = Operation::DescribeServiceAction.name();
    pub const SEARCH_PRODUCTS: &str = Operation::SearchProductsAsAdmin.name();
    pub const DESCRIBE_PRODUCT: &str = Operation::DescribeProductAsAdmin.name();
    pub const LIST_ARTIFACTS: &str = Operation::ListProvisioningArtifacts.name();
    pub const DESCRIBE_ARTIFACT: &str = Operation::DescribeProvisioningArtifact.name();
    pub const CREATE_SERVICE_ACTION: &str = Operation::CreateServiceAction.name();
    pub const UPDATE_SERVICE_ACTION: &str = Operation::UpdateServiceAction.name();
    pub const DELETE_SERVICE_ACTION: &str = Operation::DeleteServiceAction.name();
}

/// A service action as the list and describe calls summarise it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionSummary {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub definition_type: Option<String>,
}

/// A service action with its definition: what DescribeServiceAction, CreateServiceAction and
/// UpdateServiceAction answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionDetail {
    pub summary: ActionSummary,
    /// `Name` (the SSM document), `Version`, `AssumeRole`, `Parameters` (a JSON string).
    pub definition: BTreeMap<String, String>,
}

/// A service action as CreateServiceAction and UpdateServiceAction send it (definition type
/// `SSM_AUTOMATION`, the only one there is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionSpec {
    pub name: String,
    pub description: Option<String>,
    pub definition: BTreeMap<String, String>,
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

/// The model's per-item `ErrorCode` of a batch call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchErrorCode {
    DuplicateResource,
    InternalFailure,
    LimitExceeded,
    ResourceNotFound,
    Throttling,
    InvalidParameter,
    /// A code added to the model after this build: kept, never lost.
    Unknown(String),
}

impl BatchErrorCode {
    /// The code as the API spells it.
    pub fn parse(code: &str) -> Self {
        match code {
            "DUPLICATE_RESOURCE" => BatchErrorCode::DuplicateResource,
            "INTERNAL_FAILURE" => BatchErrorCode::InternalFailure,
            "LIMIT_EXCEEDED" => BatchErrorCode::LimitExceeded,
            "RESOURCE_NOT_FOUND" => BatchErrorCode::ResourceNotFound,
            "THROTTLING" => BatchErrorCode::Throttling,
            "INVALID_PARAMETER" => BatchErrorCode::InvalidParameter,
            other => BatchErrorCode::Unknown(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            BatchErrorCode::DuplicateResource => "DUPLICATE_RESOURCE",
            BatchErrorCode::InternalFailure => "INTERNAL_FAILURE",
            BatchErrorCode::LimitExceeded => "LIMIT_EXCEEDED",
            BatchErrorCode::ResourceNotFound => "RESOURCE_NOT_FOUND",
            BatchErrorCode::Throttling => "THROTTLING",
            BatchErrorCode::InvalidParameter => "INVALID_PARAMETER",
            BatchErrorCode::Unknown(code) => code,
        }
    }

    /// What kind of failure the item is, as a whole call's error would be.
    pub fn kind(&self) -> ErrorKind {
        match self {
            BatchErrorCode::DuplicateResource => ErrorKind::Duplicate,
            BatchErrorCode::ResourceNotFound => ErrorKind::NotFound,
            BatchErrorCode::LimitExceeded => ErrorKind::LimitExceeded,
            BatchErrorCode::InvalidParameter => ErrorKind::InvalidParameters,
            BatchErrorCode::Throttling => ErrorKind::Throttled,
            BatchErrorCode::InternalFailure => ErrorKind::Server,
            BatchErrorCode::Unknown(_) => ErrorKind::Other,
        }
    }
}

impl fmt::Display for BatchErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for BatchErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One item of a batch call that did not succeed, with the model's per-item ErrorCode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchItemFailure {
    pub triple: Triple,
    pub code: BatchErrorCode,
    pub message: Option<String>,
}

impl BatchItemFailure {
    /// Codes that a later attempt may clear: they arrive inside an HTTP 200, so the SDK never
    /// retries them and the caller must.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.code,
            BatchErrorCode::Throttling | BatchErrorCode::InternalFailure
        )
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
    /// ResourceInUseException: a service action still associated cannot be deleted.
    InUse,
    /// LimitExceededException: a quota (25 actions per artifact). No retry clears it.
    LimitExceeded,
    /// InvalidParametersException: the request broke the model's rules.
    InvalidParameters,
    /// Throttling that survived the retry budget.
    Throttled,
    /// HTTP 5xx that survived the retry budget.
    Server,
    /// Invalid or expired credentials, or access denied.
    Auth,
    /// No credentials could be found (an SSO session that ended and cannot be renewed).
    NoCredentials,
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
                | ErrorKind::NoCredentials
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

    /// DescribeServiceAction: the action and its definition.
    fn describe_service_action(
        &self,
        id: &str,
    ) -> impl Future<Output = ApiResult<ActionDetail>> + Send;

    /// CreateServiceAction with the given idempotency token.
    fn create_service_action(
        &self,
        spec: &ActionSpec,
        token: &str,
    ) -> impl Future<Output = ApiResult<ActionDetail>> + Send;

    /// UpdateServiceAction: the whole definition is sent (whether the service merges or
    /// replaces it is not documented).
    fn update_service_action(
        &self,
        id: &str,
        spec: &ActionSpec,
    ) -> impl Future<Output = ApiResult<ActionDetail>> + Send;

    /// DeleteServiceAction with the given idempotency token.
    fn delete_service_action(
        &self,
        id: &str,
        token: &str,
    ) -> impl Future<Output = ApiResult<()>> + Send;

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

    /// The region this client calls, if it can tell: a service action's role ARN may name it
    /// (`{region}`).
    fn region(&self) -> Option<String> {
        None
    }

    /// The account the client's credentials belong to (STS GetCallerIdentity), if this kind of
    /// client can tell: a service action's role ARN may name it (`{account}`).
    fn account(&self) -> impl Future<Output = ApiResult<Option<String>>> + Send {
        async { Ok(None) }
    }
}

/// Makes the client of one target of a run.
pub trait Connect: Sync {
    type Catalog: Catalog;
    /// A client for `target`, with credentials proven (a role that cannot be assumed fails
    /// here, for this target alone).
    fn connect(
        &self,
        target: &TargetSpec,
    ) -> impl Future<Output = Result<Self::Catalog, SetupError>> + Send;

    /// The account `catalog`'s credentials belong to, if this kind of client can tell: a saved
    /// plan records it, and applying the plan checks it, so a plan made in one account is never
    /// applied in another.
    fn caller_account(
        &self,
        _catalog: &Self::Catalog,
    ) -> impl Future<Output = ApiResult<Option<String>>> + Send {
        async { Ok(None) }
    }
}

/// Why a target's client could not be set up. Nothing was sent to Service Catalog in any of
/// these cases.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// No region from `--region`, `AWS_REGION` or the profile.
    #[error("no AWS region is configured (set --region, AWS_REGION or a profile region)")]
    NoRegion,
    /// The credential chain found nothing usable. `detail` says which sources it tried
    /// (redacted: a `credential_process`'s error output is part of it).
    #[error("no usable AWS credentials: {detail}")]
    NoCredentials { detail: String },
    /// `--profile` names a profile defined in no config or credentials file.
    #[error("the AWS profile `{profile}` is not defined in the AWS config or credentials file ({})", listed(.known))]
    ProfileNotFound {
        profile: String,
        /// The profiles that are defined.
        known: Vec<String>,
    },
    /// STS refused (or could not be asked) to let the base credentials assume a target's
    /// role. `detail` is STS's answer, redacted.
    #[error("cannot assume the role `{role_arn}`: {detail}")]
    AssumeRole {
        role_arn: String,
        detail: String,
        /// STS's error code (`AccessDenied`, …), when it answered with one.
        code: Option<String>,
    },
}

impl SetupError {
    pub(crate) fn no_credentials(detail: &str) -> Self {
        SetupError::NoCredentials {
            detail: redact(detail).into_owned(),
        }
    }

    pub(crate) fn assume_role(role_arn: &str, detail: &str, code: Option<String>) -> Self {
        SetupError::AssumeRole {
            role_arn: role_arn.to_string(),
            detail: redact(detail).into_owned(),
            code,
        }
    }
}

fn listed(known: &[String]) -> String {
    if known.is_empty() {
        "no profile is defined".to_string()
    } else {
        format!("the profiles defined are: {}", known.join(", "))
    }
}
