//! The retry and pacing hooks this project adds to the SDK: a classifier that makes the quota
//! error (and model-validation errors) final, an interceptor that tells a pacer how each HTTP
//! attempt went, and a classifier that sends a throttled call's retry at the slot the pacer
//! booked for it instead of after the SDK's random backoff. They take the error code from the
//! SDK's own parsed error metadata, never from the response body, so they work whichever wire
//! protocol the SDK speaks (AWS JSON 1.1 today, Smithy RPC v2 CBOR in a later release), exactly
//! as the SDK's own `AwsErrorCodeClassifier` does.

use super::errors::THROTTLING_CODES;
use aws_sdk_servicecatalog::config::interceptors::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextMut, InterceptorContext,
};
use aws_sdk_servicecatalog::config::retry::{ClassifyRetry, RetryAction};
use aws_sdk_servicecatalog::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_servicecatalog::error::ProvideErrorMetadata;
use aws_sdk_servicecatalog::operation;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{Error as OperationError, Output};
use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::retries::classifiers::{RetryClassifierPriority, RetryReason};
use std::sync::Arc;
use std::time::Duration;

/// Receives one call per HTTP attempt.
pub trait AttemptObserver: Send + Sync + std::fmt::Debug {
    /// An attempt is about to be sent (retries included).
    fn on_send(&self) {}
    /// `throttled` is true when the attempt was answered with a throttling error. Returns how
    /// long from now the retry of a throttled attempt should be sent, if the observer paces it.
    fn on_attempt(&self, throttled: bool) -> Option<Duration>;
    /// Throttled attempts of one call retried at the observer's delay; later ones wait for
    /// the SDK's backoff.
    fn paced_retries(&self) -> u32 {
        crate::pace::PACED_RETRIES
    }
}

impl AttemptObserver for crate::pace::Pacer {
    fn on_send(&self) {
        self.on_attempt_sent();
    }

    fn on_attempt(&self, throttled: bool) -> Option<Duration> {
        self.on_answer(throttled)
    }

    fn paced_retries(&self) -> u32 {
        self.paced_retries()
    }
}

/// The delay until a throttled attempt's paced retry, carried from the interceptor (which sees
/// the attempt count) to [`RetryAtPacedSlot`] (which sees only the context) on the response.
#[derive(Debug, Clone, Copy)]
struct PacedRetry(Duration);

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

    fn modify_before_attempt_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The attempt's response has been deserialized by now, so its error is the parsed one.
        // This hook runs once per attempt, before the retry strategy asks the classifiers.
        let retry_in = self.0.on_attempt(throttled(context.output_or_error()));
        let attempts = cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts());
        if let (Some(delay), Some(response)) = (retry_in, context.response_mut())
            && attempts <= self.0.paced_retries()
        {
            response.add_extension(PacedRetry(delay));
        }
        Ok(())
    }
}

/// Gives a throttled attempt that the SDK would retry anyway the delay its pacer booked (see
/// [`crate::pace::Pacer::on_answer`]); leaves every other verdict, and the SDK's own backoff
/// after [`crate::pace::Pacer::paced_retries`] attempts, as they are.
#[derive(Debug)]
pub(super) struct RetryAtPacedSlot;

impl ClassifyRetry for RetryAtPacedSlot {
    fn classify_retry(&self, _ctx: &InterceptorContext) -> RetryAction {
        RetryAction::NoActionIndicated
    }

    fn classify_retry_v2(&self, ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        // Only a throttled attempt carries a booking (see `ObserveAttempts`).
        let paced = ctx.response().and_then(|r| r.extension::<PacedRetry>());
        match (previous, paced) {
            (RetryAction::RetryIndicated(RetryReason::RetryableError { kind, .. }), Some(d)) => {
                RetryAction::retryable_error_with_explicit_delay(*kind, d.0)
            }
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "a throttled call is retried at the slot its pacer booked"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(QuotaIsFinal.priority())
    }
}

/// True when an attempt was answered with a throttling error.
pub(super) fn throttled(
    outcome: Option<Result<&Output, &OrchestratorError<OperationError>>>,
) -> bool {
    error_code(outcome).is_some_and(|code| THROTTLING_CODES.contains(&code))
}

/// Error codes no retry can clear.
/// - `LimitExceededException`: the SDK's standard retry treats it as throttling, but in Service
///   Catalog it is the 25-actions-per-artifact quota; retrying only burns time and rate budget.
/// - `ValidationException`: the model's constraints rejected the input, and will again. The
///   SDK does not retry it today either; saying so here keeps that true whatever its lists say.
const FINAL_CODES: &[&str] = &["LimitExceededException", "ValidationException"];

/// Runs after the SDK's own classifiers and forbids retrying the [`FINAL_CODES`].
#[derive(Debug)]
pub(super) struct QuotaIsFinal;

impl ClassifyRetry for QuotaIsFinal {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match error_code(ctx.output_or_error()) {
            Some(code) if FINAL_CODES.contains(&code) => RetryAction::RetryForbidden,
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "LimitExceededException is a quota, not throttling; ValidationException is final"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// The AWS error code of a failed attempt, from the error the SDK parsed out of the response.
/// `None` for successes and for failures that are not service errors (timeouts, I/O).
fn error_code<'a>(
    outcome: Option<Result<&'a Output, &'a OrchestratorError<OperationError>>>,
) -> Option<&'a str> {
    let error = outcome?.err()?.as_operation_error()?;
    operation_error_code(error)
}

/// The context holds the operation's error type-erased; each operation has its own type, so try
/// each of the twelve sc-assoc calls (the SDK's classifier is generic over one type instead,
/// because it is registered per operation). A unit test below keeps the list complete.
fn operation_error_code(error: &OperationError) -> Option<&str> {
    macro_rules! code_of {
        ($($module:ident :: $error:ident),+ $(,)?) => {
            $(
                if let Some(e) = error.downcast_ref::<operation::$module::$error>() {
                    return e.code();
                }
            )+
        };
    }
    code_of!(
        associate_service_action_with_provisioning_artifact::AssociateServiceActionWithProvisioningArtifactError,
        disassociate_service_action_from_provisioning_artifact::DisassociateServiceActionFromProvisioningArtifactError,
        batch_associate_service_action_with_provisioning_artifact::BatchAssociateServiceActionWithProvisioningArtifactError,
        batch_disassociate_service_action_from_provisioning_artifact::BatchDisassociateServiceActionFromProvisioningArtifactError,
        list_service_actions_for_provisioning_artifact::ListServiceActionsForProvisioningArtifactError,
        list_provisioning_artifacts_for_service_action::ListProvisioningArtifactsForServiceActionError,
        list_service_actions::ListServiceActionsError,
        describe_service_action::DescribeServiceActionError,
        describe_provisioning_artifact::DescribeProvisioningArtifactError,
        describe_product_as_admin::DescribeProductAsAdminError,
        search_products_as_admin::SearchProductsAsAdminError,
        list_provisioning_artifacts::ListProvisioningArtifactsError,
        create_service_action::CreateServiceActionError,
        update_service_action::UpdateServiceActionError,
        delete_service_action::DeleteServiceActionError,
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_servicecatalog::error::ErrorMetadata;
    use aws_sdk_servicecatalog::operation::associate_service_action_with_provisioning_artifact::AssociateServiceActionWithProvisioningArtifactError as AssociateError;
    use aws_smithy_runtime_api::client::interceptors::context::Input;

    fn metadata(code: &str) -> ErrorMetadata {
        ErrorMetadata::builder().code(code).message("m").build()
    }

    /// A context after a failed attempt whose error the SDK has parsed. It holds no HTTP response
    /// at all: the parsed error is the only place the code may be read from, as it is when the
    /// body is CBOR and no `X-Amzn-Errortype` header comes with it.
    fn failed_with(error: OperationError) -> InterceptorContext {
        let mut ctx = InterceptorContext::new(Input::doesnt_matter());
        ctx.set_output_or_error(Err(OrchestratorError::operation(error)));
        ctx
    }

    fn associate_error(code: &str) -> OperationError {
        OperationError::erase(AssociateError::generic(metadata(code)))
    }

    #[test]
    fn the_quota_and_validation_errors_are_final_whatever_the_body_looks_like() {
        for code in ["LimitExceededException", "ValidationException"] {
            let ctx = failed_with(associate_error(code));
            assert_eq!(
                QuotaIsFinal.classify_retry(&ctx),
                RetryAction::RetryForbidden,
                "{code}"
            );
        }
        for code in ["ThrottlingException", "DuplicateResourceException"] {
            let ctx = failed_with(associate_error(code));
            assert_eq!(
                QuotaIsFinal.classify_retry(&ctx),
                RetryAction::NoActionIndicated,
                "{code}"
            );
        }
        let mut ok = InterceptorContext::new(Input::doesnt_matter());
        ok.set_output_or_error(Ok(Output::doesnt_matter()));
        assert_eq!(
            QuotaIsFinal.classify_retry(&ok),
            RetryAction::NoActionIndicated
        );
    }

    #[test]
    fn throttling_is_read_from_the_parsed_error_for_pacing() {
        let ctx = failed_with(associate_error("ThrottlingException"));
        assert!(throttled(ctx.output_or_error()));
        let ctx = failed_with(associate_error("ResourceNotFoundException"));
        assert!(!throttled(ctx.output_or_error()));
        let timeout = failed_with_timeout();
        assert!(!throttled(timeout.output_or_error()));
    }

    fn failed_with_timeout() -> InterceptorContext {
        let mut ctx = InterceptorContext::new(Input::doesnt_matter());
        ctx.set_output_or_error(Err(OrchestratorError::timeout("slow".into())));
        ctx
    }

    /// A throttled attempt whose interceptor attached the pacer's booked delay.
    fn throttled_with_booked_retry(delay: Option<Duration>) -> InterceptorContext {
        use aws_smithy_runtime_api::http::{Response, StatusCode};
        use aws_smithy_types::body::SdkBody;
        let mut ctx = failed_with(associate_error("ThrottlingException"));
        let mut response = Response::new(StatusCode::try_from(400).unwrap(), SdkBody::empty());
        if let Some(delay) = delay {
            response.add_extension(PacedRetry(delay));
        }
        ctx.set_response(response);
        ctx
    }

    #[test]
    fn a_throttled_retry_waits_for_the_slot_its_pacer_booked() {
        let booked = Duration::from_millis(37);
        let ctx = throttled_with_booked_retry(Some(booked));
        assert_eq!(
            RetryAtPacedSlot.classify_retry_v2(&ctx, &RetryAction::throttling_error()),
            RetryAction::retryable_error_with_explicit_delay(
                aws_smithy_types::retry::ErrorKind::ThrottlingError,
                booked
            )
        );
        // A retry the SDK would not make stays unmade; without a booking (no pacer, or past
        // PACED_RETRIES attempts) the SDK's own backoff applies.
        assert_eq!(
            RetryAtPacedSlot.classify_retry_v2(&ctx, &RetryAction::RetryForbidden),
            RetryAction::NoActionIndicated
        );
        let unbooked = throttled_with_booked_retry(None);
        assert_eq!(
            RetryAtPacedSlot.classify_retry_v2(&unbooked, &RetryAction::throttling_error()),
            RetryAction::NoActionIndicated
        );
    }

    #[test]
    fn every_operation_error_type_of_the_adapter_is_recognised() {
        use aws_sdk_servicecatalog::operation::*;
        let errors = [
            OperationError::erase(associate_service_action_with_provisioning_artifact::AssociateServiceActionWithProvisioningArtifactError::generic(metadata("C"))),
            OperationError::erase(disassociate_service_action_from_provisioning_artifact::DisassociateServiceActionFromProvisioningArtifactError::generic(metadata("C"))),
            OperationError::erase(batch_associate_service_action_with_provisioning_artifact::BatchAssociateServiceActionWithProvisioningArtifactError::generic(metadata("C"))),
            OperationError::erase(batch_disassociate_service_action_from_provisioning_artifact::BatchDisassociateServiceActionFromProvisioningArtifactError::generic(metadata("C"))),
            OperationError::erase(list_service_actions_for_provisioning_artifact::ListServiceActionsForProvisioningArtifactError::generic(metadata("C"))),
            OperationError::erase(list_provisioning_artifacts_for_service_action::ListProvisioningArtifactsForServiceActionError::generic(metadata("C"))),
            OperationError::erase(list_service_actions::ListServiceActionsError::generic(metadata("C"))),
            OperationError::erase(describe_service_action::DescribeServiceActionError::generic(metadata("C"))),
            OperationError::erase(describe_provisioning_artifact::DescribeProvisioningArtifactError::generic(metadata("C"))),
            OperationError::erase(describe_product_as_admin::DescribeProductAsAdminError::generic(metadata("C"))),
            OperationError::erase(search_products_as_admin::SearchProductsAsAdminError::generic(metadata("C"))),
            OperationError::erase(list_provisioning_artifacts::ListProvisioningArtifactsError::generic(metadata("C"))),
            OperationError::erase(create_service_action::CreateServiceActionError::generic(metadata("C"))),
            OperationError::erase(update_service_action::UpdateServiceActionError::generic(metadata("C"))),
            OperationError::erase(delete_service_action::DeleteServiceActionError::generic(metadata("C"))),
        ];
        // As many as the operations the adapter calls.
        assert_eq!(errors.len(), crate::seam::Operation::ALL.len());
        for e in &errors {
            assert_eq!(operation_error_code(e), Some("C"), "{e:?}");
        }
    }
}
