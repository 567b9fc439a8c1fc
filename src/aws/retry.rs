//! The retry and pacing hooks this project adds to the SDK: a classifier that makes the
//! quota error final, and an interceptor that tells a pacer how each HTTP attempt went. Both read
//! the error code off the raw response the way AWS JSON 1.1 clients do.

use aws_sdk_servicecatalog::config::interceptors::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef, InterceptorContext,
};
use aws_sdk_servicecatalog::config::retry::{ClassifyRetry, RetryAction};
use aws_sdk_servicecatalog::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority;
use std::sync::Arc;

/// Receives one call per HTTP attempt.
pub trait AttemptObserver: Send + Sync + std::fmt::Debug {
    /// An attempt is about to be sent (retries included).
    fn on_send(&self) {}
    /// `throttled` is true when the attempt was answered with a throttling error.
    fn on_attempt(&self, throttled: bool);
}

impl AttemptObserver for crate::pace::Pacer {
    fn on_send(&self) {
        self.on_attempt_sent();
    }

    fn on_attempt(&self, throttled: bool) {
        self.on_answer(throttled);
    }
}

/// Reports each attempt's outcome to an [`AttemptObserver`].
#[derive(Debug)]
pub(super) struct ObserveAttempts(pub(super) Arc<dyn AttemptObserver>);

impl Intercept for ObserveAttempts {
    fn name(&self) -> &'static str {
        "sc-assoc attempt observer"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.on_send();
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let throttled = context
            .response()
            .and_then(response_error_type)
            .is_some_and(|code| THROTTLING_CODES.contains(&code.as_str()));
        self.0.on_attempt(throttled);
        Ok(())
    }
}

/// Error codes that mean "slow down".
const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
];

/// The SDK's standard retry treats `LimitExceededException` as throttling. In Service Catalog it
/// is the 25-actions-per-artifact quota, which no retry clears, so retrying only burns time and
/// rate budget. This classifier runs after the SDK's own and forbids the retry.
#[derive(Debug)]
pub(super) struct QuotaIsFinal;

impl ClassifyRetry for QuotaIsFinal {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        if !matches!(ctx.output_or_error(), Some(Err(_))) {
            return RetryAction::NoActionIndicated;
        }
        let error_type = ctx.response().and_then(response_error_type);
        if error_type.as_deref() == Some("LimitExceededException") {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "LimitExceededException is a quota, not throttling"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// The AWS error code of an error response, from the `X-Amzn-Errortype` header or the JSON
/// body's `__type`, as AWS JSON 1.1 clients read it. `None` for successes.
fn response_error_type(
    response: &aws_sdk_servicecatalog::config::http::HttpResponse,
) -> Option<String> {
    if response.status().is_success() {
        return None;
    }
    if let Some(value) = response.headers().get("x-amzn-errortype") {
        return Some(error_type_name(value).to_string());
    }
    let body: serde_json::Value = serde_json::from_slice(response.body().bytes()?).ok()?;
    let raw = body.get("__type").or_else(|| body.get("code"))?.as_str()?;
    Some(error_type_name(raw).to_string())
}

/// `aws.servicecatalog#LimitExceededException:http://...` → `LimitExceededException`.
pub(super) fn error_type_name(raw: &str) -> &str {
    let without_uri = raw.split(':').next().unwrap_or(raw);
    without_uri.rsplit('#').next().unwrap_or(without_uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_type_names_are_stripped_of_namespace_and_uri() {
        assert_eq!(
            error_type_name("com.amazonaws.servicecatalog#LimitExceededException"),
            "LimitExceededException"
        );
        assert_eq!(
            error_type_name("LimitExceededException:http://internal.amazon.com/"),
            "LimitExceededException"
        );
        assert_eq!(
            error_type_name("ThrottlingException"),
            "ThrottlingException"
        );
    }
}
