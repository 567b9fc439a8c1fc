//! Which transport failures the SDK may retry. The standard retry treats every I/O failure as
//! transient, so a refused connection or a host name that does not resolve is retried ten times
//! with backoff: about a minute of waiting before the same answer. Nothing listens there, and no
//! retry changes that, so those two are final at once. Timeouts and resets stay retryable: a busy
//! endpoint may answer the next attempt.

use super::errors::is_unreachable;
use aws_sdk_servicecatalog::config::interceptors::InterceptorContext;
use aws_sdk_servicecatalog::config::retry::{ClassifyRetry, RetryAction};
use aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority;

#[derive(Debug)]
pub(super) struct UnreachableIsFinal;

impl ClassifyRetry for UnreachableIsFinal {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(error)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        match error.as_connector_error() {
            Some(connector) if is_unreachable(connector).is_some() => RetryAction::RetryForbidden,
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "a refused connection or an unknown host is final"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}
