//! The only module that imports `aws_sdk_servicecatalog`: it builds the SDK client from
//! aws-config's default chain, pages every list call to the end with PageSize 20 (within a bound,
//! see `paging`), decides which failures the SDK may retry, and turns SDK errors into
//! [`ApiError`]s that keep the AWS code, message and request id. Everything above it speaks the
//! project's own types ([`crate::seam`]).

mod attempts;
mod errors;
mod https;
mod org;
mod paging;
mod retry;
mod setup;
mod transport;

use crate::pace::Pacer;
pub use crate::seam::SetupError;
use crate::seam::{
    ActionDetail, ActionSpec, ActionSummary, ApiError, ApiResult, ArtifactDetail, ArtifactView,
    BatchItemFailure, Catalog, ErrorKind, ProductKey, ProductSummary,
};
use crate::triple::Triple;
use aws_sdk_servicecatalog::Client;
use aws_sdk_servicecatalog::config::retry::{RetryConfig, RetryPartition, TokenBucket};
use aws_sdk_servicecatalog::config::timeout::TimeoutConfig;
use aws_sdk_servicecatalog::types::{ProductViewFilterBy, ServiceActionAssociation};
use errors::map_error;
pub use https::https_client;
pub use org::AwsOrganization;
use paging::Pages;
pub use retry::AttemptObserver;
use retry::{ObserveAttempts, QuotaIsFinal, RetryAtPacedSlot};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use transport::UnreachableIsFinal;

/// The most items any list call may ask for per page (model: PageSize 0..20).
const PAGE_SIZE: i32 = 20;

/// How to reach Service Catalog. `None` fields fall back to aws-config's default chain
/// (environment, shared config and credentials files, SSO, assumed roles, IMDS).
#[derive(Clone, Debug)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// Overrides `AWS_ENDPOINT_URL` and the profile's endpoint, as in the AWS CLI.
    pub endpoint_url: Option<String>,
    /// `jp` or `zh`; `None` is English. Sent on every call.
    pub accept_language: Option<String>,
    /// Attempts per call, first included. Throttled accounts need room to back off.
    pub max_attempts: u32,
    /// Ceiling on the backoff between attempts.
    pub max_backoff: Duration,
    pub connect_timeout: Duration,
    /// One HTTP attempt.
    pub attempt_timeout: Duration,
    /// One call, all its retries included.
    pub operation_timeout: Duration,
    /// Fixed credentials instead of the default chain: used only against the embedded local
    /// catalog, which checks that requests are signed but knows no real keys.
    pub static_credentials: Option<StaticCredentials>,
    /// Paces every call (reads and writes alike: the account's rate budget is shared by all
    /// operations). An adaptive pacer also hears every attempt's outcome.
    pub pacer: Option<Arc<Pacer>>,
    /// The SDK's own adaptive retry mode (its client-side rate limiter) instead of standard
    /// retries: what a user would reach for without sc-assoc's pacer; the benchmark compares.
    pub sdk_adaptive_retry: bool,
}

/// An access key pair given explicitly. `Debug` never prints the secret.
#[derive(Clone)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .finish()
    }
}

impl Default for AwsOptions {
    fn default() -> Self {
        Self {
            profile: None,
            region: None,
            endpoint_url: None,
            accept_language: None,
            max_attempts: 10,
            max_backoff: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(30),
            operation_timeout: Duration::from_secs(180),
            static_credentials: None,
            pacer: None,
            sdk_adaptive_retry: false,
        }
    }
}

/// Service Catalog through the AWS SDK for Rust.
pub struct AwsCatalog {
    client: Client,
    /// The same configuration's STS client: who the credentials belong to.
    sts: aws_sdk_sts::Client,
    accept_language: Option<String>,
    calls: Mutex<BTreeMap<&'static str, u64>>,
    pacer: Option<Arc<Pacer>>,
    /// Where calls go, for messages: the endpoint URL given, or the regional one.
    endpoint: String,
    /// Every HTTP attempt, counted by the wire interceptor.
    wire: Arc<attempts::Counters>,
    attempt_timeout: Duration,
}

/// What every target's client is built from: aws-config's shared configuration (the default
/// chain, or `--profile`; the endpoint; the default region), loaded once per run, with its
/// credentials proven. [`AwsBase::catalog_for`] then builds one client per target, each with
/// its own region, credentials (an assumed role, or a profile), pacer and counters.
pub struct AwsBase {
    shared: aws_types::SdkConfig,
    options: AwsOptions,
}

impl AwsBase {
    /// Loads the default chain plus `options`, and checks that credentials can be found before
    /// any call is made, so a missing login fails first and clearly. No region is needed here:
    /// targets may name their own.
    pub async fn load(options: &AwsOptions) -> Result<Self, SetupError> {
        let shared = load_shared(options, options.profile.as_deref()).await?;
        check_credentials(&shared).await?;
        Ok(Self {
            shared,
            options: options.clone(),
        })
    }

    /// The account the base credentials belong to (STS `GetCallerIdentity`): one call that
    /// proves them before targets assume their roles with them, so refused base credentials are
    /// one error, not one per target.
    pub async fn caller_account(&self) -> ApiResult<String> {
        let mut sts = aws_sdk_sts::config::Builder::from(&self.shared)
            .timeout_config(timeouts(&self.options));
        if self.shared.region().is_none() {
            // STS answers in every region; the base may have none when every target names its own.
            sts = sts.region(aws_config::Region::new("us-east-1"));
        }
        let endpoint = self.options.endpoint_url.as_deref().map_or_else(
            || "https://sts.amazonaws.com".to_string(),
            |u| crate::redact::redact(u).into_owned(),
        );
        aws_sdk_sts::Client::from_conf(sts.build())
            .get_caller_identity()
            .send()
            .await
            .map(|answer| answer.account().unwrap_or_default().to_string())
            .map_err(|e| {
                map_error(
                    "GetCallerIdentity",
                    &endpoint,
                    self.options.attempt_timeout,
                    e,
                )
            })
    }

    /// What names `target`'s rate budget for a [`crate::pace::RateBook`]: where its calls go,
    /// its account (or how its credentials are found, when the account is not written) and its
    /// region. `None` without a region.
    pub fn pace_key(&self, target: &crate::target::TargetSpec) -> Option<String> {
        use crate::target::Access;
        let region = target.region.clone().or_else(|| self.default_region())?;
        let account = match (&target.account, &target.access) {
            (Some(account), _) => account.clone(),
            (None, Access::Profile(profile)) => format!("profile:{profile}"),
            (None, _) => match &self.options.profile {
                Some(profile) => format!("profile:{profile}"),
                None => "default".to_string(),
            },
        };
        let endpoint = self.options.endpoint_url.as_deref().map_or_else(
            || "aws".to_string(),
            |u| crate::redact::redact(u).into_owned(),
        );
        Some(format!("{endpoint} {account} {region}"))
    }

    /// The region targets without one of their own run in, if any is configured.
    pub fn default_region(&self) -> Option<String> {
        self.shared.region().map(|r| r.to_string())
    }

    /// A client for `target`, paced by `pacer` (each account and region has its own rate
    /// budget, so each target gets its own). Assumed-role and profile credentials are proven
    /// here, with one call, so a role that cannot be assumed fails this target alone, at once,
    /// with the role named.
    pub async fn catalog_for(
        &self,
        target: &crate::target::TargetSpec,
        pacer: Option<Arc<Pacer>>,
    ) -> Result<AwsCatalog, SetupError> {
        use crate::target::Access;
        let region = target
            .region
            .clone()
            .or_else(|| self.default_region())
            .ok_or(SetupError::NoRegion)?;
        let region = aws_config::Region::new(region);
        let shared = match &target.access {
            Access::Default => self.shared.clone(),
            Access::Profile(profile) => {
                let shared = load_shared(&self.options, Some(profile)).await?;
                check_credentials(&shared).await?;
                shared
            }
            Access::Role(role) => {
                // STS is called in the base region when there is one (the hub's), else in the
                // target's own.
                let sts_region = self.shared.region().cloned().unwrap_or(region.clone());
                let mut builder = aws_config::sts::AssumeRoleProvider::builder(&role.role_arn)
                    .session_name(&role.session_name)
                    .region(sts_region)
                    .configure(&self.shared);
                if let Some(external_id) = &role.external_id {
                    builder = builder.external_id(external_id);
                }
                let provider = builder.build().await;
                {
                    use aws_sdk_servicecatalog::config::ProvideCredentials;
                    if let Err(err) = provider.provide_credentials().await {
                        return Err(SetupError::assume_role(
                            &role.role_arn,
                            &errors::chain_text(&err),
                            sts_error_code(&err),
                        ));
                    }
                }
                self.shared
                    .to_builder()
                    .credentials_provider(
                        aws_sdk_servicecatalog::config::SharedCredentialsProvider::new(provider),
                    )
                    .build()
            }
        };
        let shared = shared.into_builder().region(region).build();
        Ok(AwsCatalog::from_shared(&shared, &self.options, pacer))
    }
}

/// STS's error code behind a failed `AssumeRole` (`AccessDenied`, …), found in the error's
/// sources, where the SDK keeps the parsed answer.
fn sts_error_code(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    let mut cause = Some(err);
    while let Some(error) = cause {
        if let Some(sdk) = error.downcast_ref::<SdkError<AssumeRoleError>>() {
            return sdk.code().map(str::to_string);
        }
        if let Some(operation) = error.downcast_ref::<AssumeRoleError>() {
            return operation.code().map(str::to_string);
        }
        cause = error.source();
    }
    None
}

/// The bounds of every call a client makes, Service Catalog and STS alike.
pub(super) fn timeouts(options: &AwsOptions) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(options.connect_timeout)
        .operation_attempt_timeout(options.attempt_timeout)
        .operation_timeout(options.operation_timeout)
        .build()
}

/// Makes each target's client from one [`AwsBase`], each paced by a pacer of its own from
/// `pacer`, given the target's [`AwsBase::pace_key`] (`None` from it: unpaced).
pub struct AwsConnector<'a> {
    pub base: &'a AwsBase,
    pub pacer: &'a (dyn Fn(Option<&str>) -> Option<Arc<Pacer>> + Sync),
}

impl crate::seam::Connect for AwsConnector<'_> {
    type Catalog = AwsCatalog;

    async fn connect(&self, target: &crate::target::TargetSpec) -> Result<AwsCatalog, SetupError> {
        let key = self.base.pace_key(target);
        self.base
            .catalog_for(target, (self.pacer)(key.as_deref()))
            .await
    }

    async fn caller_account(&self, catalog: &AwsCatalog) -> ApiResult<Option<String>> {
        catalog.caller_account().await.map(Some)
    }
}

/// aws-config's shared configuration for `profile` (or the default chain) and `options`.
async fn load_shared(
    options: &AwsOptions,
    profile: Option<&str>,
) -> Result<aws_types::SdkConfig, SetupError> {
    let mut loader =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https_client());
    if let Some(profile) = profile {
        // Checked first: a missing profile otherwise surfaces as "no region".
        setup::check_profile_exists(profile).await?;
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &options.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(keys) = &options.static_credentials {
        loader = loader.credentials_provider(aws_sdk_servicecatalog::config::Credentials::new(
            keys.access_key_id.clone(),
            keys.secret_access_key.clone(),
            None,
            None,
            "sc-assoc-static",
        ));
    }
    Ok(loader.load().await)
}

/// Fails unless the configuration's credential provider yields credentials.
async fn check_credentials(shared: &aws_types::SdkConfig) -> Result<(), SetupError> {
    use aws_sdk_servicecatalog::config::ProvideCredentials;
    let Some(provider) = shared.credentials_provider() else {
        return Err(SetupError::no_credentials(
            "no credentials provider is configured",
        ));
    };
    match provider.provide_credentials().await {
        Ok(_) => Ok(()),
        // The provider chain's error says which sources it tried; a `credential_process`'s own
        // output may be in it, so it is redacted.
        Err(err) => Err(SetupError::no_credentials(&errors::chain_text(&err))),
    }
}

impl AwsCatalog {
    /// Builds the client from the default chain plus `options`, for the default account and
    /// region, and checks that credentials can be found before any call is made.
    pub async fn connect(options: &AwsOptions) -> Result<Self, SetupError> {
        let base = AwsBase::load(options).await?;
        if base.shared.region().is_none() {
            return Err(SetupError::NoRegion);
        }
        Ok(Self::from_shared(
            &base.shared,
            options,
            options.pacer.clone(),
        ))
    }

    fn from_shared(
        shared: &aws_types::SdkConfig,
        options: &AwsOptions,
        pacer: Option<Arc<Pacer>>,
    ) -> Self {
        let mut config = aws_sdk_servicecatalog::config::Builder::from(shared);
        let wire = Arc::new(attempts::Counters::default());
        config = config.interceptor(attempts::CountAttempts(wire.clone()));
        if let Some(pacer) = &pacer {
            config = config.interceptor(ObserveAttempts(pacer.clone()));
        }
        let retry = if options.sdk_adaptive_retry {
            RetryConfig::adaptive()
        } else {
            RetryConfig::standard()
        };
        let config = config
            .retry_config(
                retry
                    .with_max_attempts(options.max_attempts)
                    .with_max_backoff(options.max_backoff),
            )
            // A migration makes thousands of calls; the default shared retry quota (500 tokens)
            // would turn a throttled but healthy run into "retry quota exceeded" failures.
            // Attempts per call stay bounded by max_attempts.
            .retry_partition(
                RetryPartition::custom("sc-assoc")
                    .token_bucket(TokenBucket::builder().capacity(1_000_000).build())
                    .build(),
            )
            .retry_classifier(QuotaIsFinal)
            // A throttled call's retry goes at the slot its pacer booked (none without a pacer).
            .retry_classifier(RetryAtPacedSlot)
            .retry_classifier(UnreachableIsFinal)
            .timeout_config(timeouts(options))
            .build();
        tracing::debug!(
            region = ?shared.region(),
            endpoint = ?options.endpoint_url,
            profile = ?options.profile,
            max_attempts = options.max_attempts,
            "AWS client ready"
        );
        let endpoint = match &options.endpoint_url {
            Some(url) => crate::redact::redact(url).into_owned(),
            None => shared
                .endpoint_url()
                .map(|url| crate::redact::redact(url).into_owned())
                .unwrap_or_else(|| {
                    let region = shared.region().map(|r| r.to_string()).unwrap_or_default();
                    format!("https://servicecatalog.{region}.amazonaws.com")
                }),
        };
        let sts = aws_sdk_sts::config::Builder::from(shared)
            .timeout_config(timeouts(options))
            .build();
        Self {
            sts: aws_sdk_sts::Client::from_conf(sts),
            client: Client::from_conf(config),
            accept_language: options.accept_language.clone(),
            calls: Mutex::new(BTreeMap::new()),
            pacer,
            endpoint,
            wire,
            attempt_timeout: options.attempt_timeout,
        }
    }

    /// The account the client's credentials belong to (STS `GetCallerIdentity`, which needs no
    /// permission).
    pub async fn caller_account(&self) -> ApiResult<String> {
        let answer =
            self.sts.get_caller_identity().send().await.map_err(|e| {
                map_error("GetCallerIdentity", &self.endpoint, self.attempt_timeout, e)
            })?;
        Ok(answer.account().unwrap_or_default().to_string())
    }

    /// Where this client's calls go.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// An SDK failure as an [`ApiError`] naming this client's endpoint.
    fn fail<E>(
        &self,
        operation: &'static str,
        err: aws_sdk_servicecatalog::error::SdkError<
            E,
            aws_sdk_servicecatalog::config::http::HttpResponse,
        >,
    ) -> ApiError
    where
        E: aws_sdk_servicecatalog::error::ProvideErrorMetadata
            + std::error::Error
            + Send
            + Sync
            + 'static,
    {
        map_error(operation, &self.endpoint, self.attempt_timeout, err)
    }

    /// Waits for the pacer's slot, then counts the call.
    async fn before_call(&self, operation: &'static str) {
        if let Some(pacer) = &self.pacer {
            pacer.acquire().await;
        }
        if let Ok(mut calls) = self.calls.lock() {
            *calls.entry(operation).or_default() += 1;
        }
    }

    /// Calls `fetch` with each page token in turn, from none to the last page, pacing and
    /// counting every call. `fetch` returns one page's items and the next token. A token seen
    /// before, or more pages than the API's limits allow, ends the listing with an error naming
    /// `operation` and `resource` (see [`paging`]).
    async fn all_pages<T, F, Fut>(
        &self,
        operation: &'static str,
        resource: &str,
        mut fetch: F,
    ) -> ApiResult<Vec<T>>
    where
        F: FnMut(Option<String>) -> Fut,
        Fut: std::future::Future<Output = ApiResult<(Vec<T>, Option<String>)>>,
    {
        let mut items = Vec::new();
        let mut pages = Pages::new(operation, resource, &self.endpoint);
        let mut token = None;
        loop {
            self.before_call(operation).await;
            let (page, next) = fetch(token).await?;
            items.extend(page);
            match next {
                Some(next) => {
                    pages.next_page(&next)?;
                    token = Some(next);
                }
                None => return Ok(items),
            }
        }
    }

    /// Per-item THROTTLING inside a batch reply is throttling all the same: tell the pacer.
    fn note_batch_throttling(&self, failures: &[BatchItemFailure]) {
        if let Some(pacer) = &self.pacer
            && failures
                .iter()
                .any(|f| f.code == crate::seam::BatchErrorCode::Throttling)
        {
            pacer.on_throttle();
        }
    }
}

fn action_summary(summary: &aws_sdk_servicecatalog::types::ServiceActionSummary) -> ActionSummary {
    ActionSummary {
        id: summary.id().unwrap_or_default().to_string(),
        name: summary.name().map(str::to_string),
        description: summary.description().map(str::to_string),
        definition_type: summary.definition_type().map(|t| t.as_str().to_string()),
    }
}

/// A service action's detail as the SDK gives it, in the seam's types.
fn action_detail(
    detail: Option<&aws_sdk_servicecatalog::types::ServiceActionDetail>,
    id: &str,
) -> ActionDetail {
    let summary = detail
        .and_then(|d| d.service_action_summary())
        .map(action_summary)
        .unwrap_or(ActionSummary {
            id: id.to_string(),
            name: None,
            description: None,
            definition_type: None,
        });
    let definition = detail
        .and_then(|d| d.definition())
        .map(|map| {
            map.iter()
                .map(|(key, value)| (key.as_str().to_string(), value.clone()))
                .collect()
        })
        .unwrap_or_default();
    ActionDetail {
        summary,
        definition,
    }
}

/// The definition map in the SDK's key type.
fn sdk_definition(
    definition: &BTreeMap<String, String>,
) -> std::collections::HashMap<aws_sdk_servicecatalog::types::ServiceActionDefinitionKey, String> {
    definition
        .iter()
        .map(|(key, value)| (key.as_str().into(), value.clone()))
        .collect()
}

/// The token of the next page, if there is one: an empty token also ends the listing.
fn next_token(token: Option<&str>) -> Option<String> {
    token.filter(|t| !t.is_empty()).map(str::to_string)
}

fn artifact_view(view: &aws_sdk_servicecatalog::types::ProvisioningArtifactView) -> ArtifactView {
    let product = view.product_view_summary();
    let artifact = view.provisioning_artifact();
    ArtifactView {
        product_id: product
            .and_then(|p| p.product_id())
            .unwrap_or_default()
            .to_string(),
        product_name: product.and_then(|p| p.name()).map(str::to_string),
        artifact_id: artifact
            .and_then(|a| a.id())
            .unwrap_or_default()
            .to_string(),
        artifact_name: artifact.and_then(|a| a.name()).map(str::to_string),
    }
}

fn artifact_detail(
    detail: &aws_sdk_servicecatalog::types::ProvisioningArtifactDetail,
) -> ArtifactDetail {
    ArtifactDetail {
        id: detail.id().unwrap_or_default().to_string(),
        name: detail.name().map(str::to_string),
        description: detail.description().map(str::to_string),
        active: detail.active(),
        guidance: detail.guidance().map(|g| g.as_str().to_string()),
    }
}

fn association(triple: &Triple) -> ApiResult<ServiceActionAssociation> {
    ServiceActionAssociation::builder()
        .product_id(&triple.product)
        .provisioning_artifact_id(&triple.artifact)
        .service_action_id(&triple.action)
        .build()
        .map_err(|err| ApiError {
            kind: ErrorKind::Other,
            operation: "ServiceActionAssociation",
            code: "ClientError".to_string(),
            message: err.to_string(),
            request_id: None,
        })
}

fn batch_failures(
    failed: &[aws_sdk_servicecatalog::types::FailedServiceActionAssociation],
) -> Vec<BatchItemFailure> {
    failed
        .iter()
        .map(|item| BatchItemFailure {
            triple: Triple::new(
                item.product_id().unwrap_or_default(),
                item.provisioning_artifact_id().unwrap_or_default(),
                item.service_action_id().unwrap_or_default(),
            ),
            code: crate::seam::BatchErrorCode::parse(
                item.error_code().map(|c| c.as_str()).unwrap_or_default(),
            ),
            message: item.error_message().map(str::to_string),
        })
        .collect()
}

use crate::seam::operation::{
    ASSOCIATE, BATCH_ASSOCIATE, BATCH_DISASSOCIATE, CREATE_SERVICE_ACTION, DELETE_SERVICE_ACTION,
    DESCRIBE_ARTIFACT, DESCRIBE_PRODUCT, DESCRIBE_SERVICE_ACTION, DISASSOCIATE,
    LIST_ACTIONS_FOR_ARTIFACT, LIST_ARTIFACTS, LIST_ARTIFACTS_FOR_ACTION, LIST_SERVICE_ACTIONS,
    SEARCH_PRODUCTS, UPDATE_SERVICE_ACTION,
};

impl Catalog for AwsCatalog {
    /// How many calls (not HTTP attempts) were made per operation.
    fn call_counts(&self) -> BTreeMap<&'static str, u64> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn wire_stats(&self) -> crate::seam::WireStats {
        self.wire.snapshot(self.call_counts().values().sum())
    }

    fn region(&self) -> Option<String> {
        self.client.config().region().map(|r| r.to_string())
    }

    async fn account(&self) -> ApiResult<Option<String>> {
        self.caller_account().await.map(Some)
    }

    async fn list_actions_for_artifact(
        &self,
        product: &str,
        artifact: &str,
    ) -> ApiResult<Vec<ActionSummary>> {
        let resource = format!("product `{product}` artifact `{artifact}`");
        self.all_pages(LIST_ACTIONS_FOR_ARTIFACT, &resource, |token| async move {
            let page = self
                .client
                .list_service_actions_for_provisioning_artifact()
                .product_id(product)
                .provisioning_artifact_id(artifact)
                .page_size(PAGE_SIZE)
                .set_page_token(token)
                .set_accept_language(self.accept_language.clone())
                .send()
                .await
                .map_err(|e| self.fail(LIST_ACTIONS_FOR_ARTIFACT, e))?;
            let items = page
                .service_action_summaries()
                .iter()
                .map(action_summary)
                .collect();
            Ok((items, next_token(page.next_page_token())))
        })
        .await
    }

    async fn list_artifacts_for_action(&self, action: &str) -> ApiResult<Vec<ArtifactView>> {
        let resource = format!("service action `{action}`");
        self.all_pages(LIST_ARTIFACTS_FOR_ACTION, &resource, |token| async move {
            let page = self
                .client
                .list_provisioning_artifacts_for_service_action()
                .service_action_id(action)
                .page_size(PAGE_SIZE)
                .set_page_token(token)
                .set_accept_language(self.accept_language.clone())
                .send()
                .await
                .map_err(|e| self.fail(LIST_ARTIFACTS_FOR_ACTION, e))?;
            let items = page
                .provisioning_artifact_views()
                .iter()
                .map(artifact_view)
                .collect();
            Ok((items, next_token(page.next_page_token())))
        })
        .await
    }

    async fn associate(&self, triple: &Triple, token: &str) -> ApiResult<()> {
        self.before_call(ASSOCIATE).await;
        self.client
            .associate_service_action_with_provisioning_artifact()
            .product_id(&triple.product)
            .provisioning_artifact_id(&triple.artifact)
            .service_action_id(&triple.action)
            .idempotency_token(token)
            .set_accept_language(self.accept_language.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.fail(ASSOCIATE, e))
    }

    async fn disassociate(&self, triple: &Triple, token: &str) -> ApiResult<()> {
        self.before_call(DISASSOCIATE).await;
        self.client
            .disassociate_service_action_from_provisioning_artifact()
            .product_id(&triple.product)
            .provisioning_artifact_id(&triple.artifact)
            .service_action_id(&triple.action)
            .idempotency_token(token)
            .set_accept_language(self.accept_language.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.fail(DISASSOCIATE, e))
    }

    async fn batch_associate(&self, triples: &[Triple]) -> ApiResult<Vec<BatchItemFailure>> {
        let items = triples.iter().map(association).collect::<ApiResult<_>>()?;
        self.before_call(BATCH_ASSOCIATE).await;
        let output = self
            .client
            .batch_associate_service_action_with_provisioning_artifact()
            .set_service_action_associations(Some(items))
            .set_accept_language(self.accept_language.clone())
            .send()
            .await
            .map_err(|e| self.fail(BATCH_ASSOCIATE, e))?;
        let failures = batch_failures(output.failed_service_action_associations());
        self.note_batch_throttling(&failures);
        Ok(failures)
    }

    async fn batch_disassociate(&self, triples: &[Triple]) -> ApiResult<Vec<BatchItemFailure>> {
        let items = triples.iter().map(association).collect::<ApiResult<_>>()?;
        self.before_call(BATCH_DISASSOCIATE).await;
        let output = self
            .client
            .batch_disassociate_service_action_from_provisioning_artifact()
            .set_service_action_associations(Some(items))
            .set_accept_language(self.accept_language.clone())
            .send()
            .await
            .map_err(|e| self.fail(BATCH_DISASSOCIATE, e))?;
        let failures = batch_failures(output.failed_service_action_associations());
        self.note_batch_throttling(&failures);
        Ok(failures)
    }

    async fn list_service_actions(&self) -> ApiResult<Vec<ActionSummary>> {
        self.all_pages(
            LIST_SERVICE_ACTIONS,
            "the service actions",
            |token| async move {
                let page = self
                    .client
                    .list_service_actions()
                    .page_size(PAGE_SIZE)
                    .set_page_token(token)
                    .set_accept_language(self.accept_language.clone())
                    .send()
                    .await
                    .map_err(|e| self.fail(LIST_SERVICE_ACTIONS, e))?;
                let items = page
                    .service_action_summaries()
                    .iter()
                    .map(action_summary)
                    .collect();
                Ok((items, next_token(page.next_page_token())))
            },
        )
        .await
    }

    async fn describe_service_action(&self, id: &str) -> ApiResult<ActionDetail> {
        self.before_call(DESCRIBE_SERVICE_ACTION).await;
        let output = self
            .client
            .describe_service_action()
            .id(id)
            .set_accept_language(self.accept_language.clone())
            .send()
            .await
            .map_err(|e| self.fail(DESCRIBE_SERVICE_ACTION, e))?;
        Ok(action_detail(output.service_action_detail(), id))
    }

    async fn create_service_action(
        &self,
        spec: &ActionSpec,
        token: &str,
    ) -> ApiResult<ActionDetail> {
        self.before_call(CREATE_SERVICE_ACTION).await;
        let output = self
            .client
            .create_service_action()
            .name(&spec.name)
            .set_description(spec.description.clone())
            .definition_type(
                aws_sdk_servicecatalog::types::ServiceActionDefinitionType::SsmAutomation,
            )
            .set_definition(Some(sdk_definition(&spec.definition)))
            .idempotency_token(token)
            .set_accept_language(self.accept_language.clone())
            .send()
            .await
            .map_err(|e| self.fail(CREATE_SERVICE_ACTION, e))?;
        Ok(action_detail(output.service_action_detail(), ""))
    }

    async fn update_service_action(&self, id: &str, spec: &ActionSpec) -> ApiResult<ActionDetail> {
        self.before_call(UPDATE_SERVICE_ACTION).await;
        let output = self
            .client
            .update_service_action()
            .id(id)
            .name(&spec.name)
            .set_description(spec.description.clone())
            .set_definition(Some(sdk_definition(&spec.definition)))
            .set_accept_language(self.accept_language.clone())
            .send()
            .await
            .map_err(|e| self.fail(UPDATE_SERVICE_ACTION, e))?;
        Ok(action_detail(output.service_action_detail(), id))
    }

    async fn delete_service_action(&self, id: &str, token: &str) -> ApiResult<()> {
        self.before_call(DELETE_SERVICE_ACTION).await;
        self.client
            .delete_service_action()
            .id(id)
            .idempotency_token(token)
            .set_accept_language(self.accept_language.clone())
            .send()
            .await
            .map_err(|e| self.fail(DELETE_SERVICE_ACTION, e))?;
        Ok(())
    }

    async fn search_products(&self, full_text: Option<&str>) -> ApiResult<Vec<ProductSummary>> {
        let resource = match full_text {
            Some(text) => format!("products matching `{text}`"),
            None => "the products".to_string(),
        };
        self.all_pages(SEARCH_PRODUCTS, &resource, |token| async move {
            let mut request = self
                .client
                .search_products_as_admin()
                .page_size(PAGE_SIZE)
                .set_page_token(token)
                .set_accept_language(self.accept_language.clone());
            if let Some(text) = full_text {
                request =
                    request.filters(ProductViewFilterBy::FullTextSearch, vec![text.to_string()]);
            }
            let page = request
                .send()
                .await
                .map_err(|e| self.fail(SEARCH_PRODUCTS, e))?;
            let items = page
                .product_view_details()
                .iter()
                .filter_map(|d| d.product_view_summary())
                .map(|s| ProductSummary {
                    id: s.product_id().unwrap_or_default().to_string(),
                    name: s.name().map(str::to_string),
                })
                .collect();
            Ok((items, next_token(page.next_page_token())))
        })
        .await
    }

    async fn describe_product(
        &self,
        key: &ProductKey,
    ) -> ApiResult<(ProductSummary, Vec<ArtifactDetail>)> {
        self.before_call(DESCRIBE_PRODUCT).await;
        let request = self
            .client
            .describe_product_as_admin()
            .set_accept_language(self.accept_language.clone());
        let request = match key {
            ProductKey::Id(id) => request.id(id),
            ProductKey::Name(name) => request.name(name),
        };
        let output = request
            .send()
            .await
            .map_err(|e| self.fail(DESCRIBE_PRODUCT, e))?;
        let summary = output
            .product_view_detail()
            .and_then(|d| d.product_view_summary());
        let product = ProductSummary {
            id: summary
                .and_then(|s| s.product_id())
                .unwrap_or_default()
                .to_string(),
            name: summary.and_then(|s| s.name()).map(str::to_string),
        };
        // DescribeProductAsAdmin's artifact summaries carry no Active or Guidance flags;
        // callers that need those use list_provisioning_artifacts.
        let artifacts = output
            .provisioning_artifact_summaries()
            .iter()
            .map(|a| ArtifactDetail {
                id: a.id().unwrap_or_default().to_string(),
                name: a.name().map(str::to_string),
                description: a.description().map(str::to_string),
                active: None,
                guidance: None,
            })
            .collect();
        Ok((product, artifacts))
    }

    async fn list_provisioning_artifacts(&self, product: &str) -> ApiResult<Vec<ArtifactDetail>> {
        self.before_call(LIST_ARTIFACTS).await;
        let output = self
            .client
            .list_provisioning_artifacts()
            .product_id(product)
            .set_accept_language(self.accept_language.clone())
            .send()
            .await
            .map_err(|e| self.fail(LIST_ARTIFACTS, e))?;
        Ok(output
            .provisioning_artifact_details()
            .iter()
            .map(artifact_detail)
            .collect())
    }

    async fn describe_provisioning_artifact(
        &self,
        product: &str,
        artifact: &str,
    ) -> ApiResult<ArtifactDetail> {
        self.before_call(DESCRIBE_ARTIFACT).await;
        let output = self
            .client
            .describe_provisioning_artifact()
            .product_id(product)
            .provisioning_artifact_id(artifact)
            .set_accept_language(self.accept_language.clone())
            .send()
            .await
            .map_err(|e| self.fail(DESCRIBE_ARTIFACT, e))?;
        Ok(output
            .provisioning_artifact_detail()
            .map(artifact_detail)
            .unwrap_or(ArtifactDetail {
                id: artifact.to_string(),
                name: None,
                description: None,
                active: None,
                guidance: None,
            }))
    }
}
