//! Turning what the SDK returns on failure into [`ApiError`]: the AWS code, message and request
//! id an operator needs, and a kind the reconciler decides on. An `SdkError` alone displays only
//! "service error".

use crate::seam::{ApiError, ErrorKind};
use aws_sdk_servicecatalog::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_servicecatalog::operation::RequestId;

pub(super) fn setup_error(code: &str, message: &str) -> ApiError {
    ApiError {
        kind: if code == "NoCredentials" {
            ErrorKind::Auth
        } else {
            ErrorKind::Other
        },
        operation: "configuration",
        code: code.to_string(),
        message: message.to_string(),
        request_id: None,
    }
}

/// Classifies an AWS error code.
pub(super) fn kind_of(code: &str, status: Option<u16>) -> ErrorKind {
    match code {
        "DuplicateResourceException" => ErrorKind::Duplicate,
        "ResourceNotFoundException" => ErrorKind::NotFound,
        "LimitExceededException" => ErrorKind::LimitExceeded,
        "InvalidParametersException" | "ValidationException" => ErrorKind::InvalidParameters,
        "ThrottlingException" | "Throttling" | "TooManyRequestsException" => ErrorKind::Throttled,
        "UnrecognizedClientException"
        | "ExpiredTokenException"
        | "ExpiredToken"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "IncompleteSignatureException"
        | "MissingAuthenticationTokenException"
        | "AccessDeniedException" => ErrorKind::Auth,
        _ if status.is_some_and(|s| s >= 500) => ErrorKind::Server,
        _ => ErrorKind::Other,
    }
}

/// Turns an `SdkError` (which displays only "service error") into what AWS actually said.
pub(super) fn map_error<E>(
    operation: &'static str,
    err: SdkError<E, aws_sdk_servicecatalog::config::http::HttpResponse>,
) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let request_id = err.request_id().map(str::to_string);
    let (kind, code, message) = match &err {
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            let service_error = context.err();
            let code = service_error
                .code()
                .map(str::to_string)
                .unwrap_or_else(|| format!("HTTP{status}"));
            let message = service_error.message().unwrap_or("").to_string();
            (kind_of(&code, Some(status)), code, message)
        }
        SdkError::TimeoutError(_) => (
            ErrorKind::Transport,
            "Timeout".to_string(),
            "the call timed out".to_string(),
        ),
        SdkError::DispatchFailure(failure) => {
            let detail = aws_sdk_servicecatalog::error::DisplayErrorContext(&err).to_string();
            if failure.is_timeout() {
                (ErrorKind::Transport, "Timeout".to_string(), detail)
            } else if failure.is_io() {
                (ErrorKind::Transport, "ConnectionError".to_string(), detail)
            } else if detail.contains("credentials") || detail.contains("identity") {
                (ErrorKind::Auth, "NoCredentials".to_string(), detail)
            } else {
                (ErrorKind::Other, "DispatchFailure".to_string(), detail)
            }
        }
        SdkError::ResponseError(_) => (
            ErrorKind::Other,
            "ResponseError".to_string(),
            aws_sdk_servicecatalog::error::DisplayErrorContext(&err).to_string(),
        ),
        _ => (
            ErrorKind::Other,
            "ClientError".to_string(),
            aws_sdk_servicecatalog::error::DisplayErrorContext(&err).to_string(),
        ),
    };
    ApiError {
        kind,
        operation,
        code,
        message,
        request_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds() {
        assert_eq!(
            kind_of("DuplicateResourceException", Some(400)),
            ErrorKind::Duplicate
        );
        assert_eq!(kind_of("ExpiredTokenException", Some(400)), ErrorKind::Auth);
        assert_eq!(kind_of("InternalFailure", Some(500)), ErrorKind::Server);
        assert_eq!(kind_of("Whatever", Some(400)), ErrorKind::Other);
    }
}
