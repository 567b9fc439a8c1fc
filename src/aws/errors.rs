//! Turning what the SDK returns on failure into [`ApiError`]: the AWS code, message and request
//! id an operator needs, and a kind the reconciler decides on. An `SdkError` alone displays only
//! "service error", and the SDK's `DisplayErrorContext` appends a `Debug` dump of the whole
//! error (`DispatchFailure(DispatchFailure { source: ConnectorError …`), so messages here are
//! built from each source's `Display` alone. Every message is redacted: a server may echo the
//! request's session token and signature back.

use crate::redact::redact;
use crate::seam::{ApiError, ErrorKind};
use aws_sdk_servicecatalog::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_servicecatalog::operation::RequestId;
use std::error::Error;

/// `error` and its sources as one line, `outer: inner: innermost`, each source's `Display`
/// only, skipping a source whose text the line already holds (wrappers often repeat it).
pub(super) fn chain_text(error: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(current) = next {
        // A service's error (STS refusing a role, say) displays as a Debug-like structure:
        // its code and message say it all.
        let text = match current.downcast_ref::<aws_sdk_servicecatalog::error::ErrorMetadata>() {
            Some(meta) => {
                let mut text = format!(
                    "{}: {}",
                    meta.code().unwrap_or("Unknown"),
                    meta.message().unwrap_or("(no message)")
                );
                if let Some(id) = meta.extra("aws_request_id") {
                    text.push_str(&format!(" (request id {id})"));
                }
                text
            }
            None => current.to_string(),
        };
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = current.source();
    }
    parts.join(": ")
}

/// True when a connection was refused or the host name did not resolve: nothing listens there,
/// and retrying will not change that.
pub(super) fn is_unreachable(error: &(dyn Error + 'static)) -> Option<&'static str> {
    let mut next = Some(error);
    while let Some(current) = next {
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return Some("connection refused");
        }
        let text = current.to_string();
        if text.contains("Connection refused") || text.contains("connection refused") {
            return Some("connection refused");
        }
        if text.contains("dns error") || text.contains("failed to lookup address") {
            return Some("the host name does not resolve");
        }
        next = current.source();
    }
    None
}

/// Error codes that mean "slow down": the one list the error mapping, the pacer's observer and
/// the wire counters all read.
pub(super) const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
];

/// Classifies an AWS error code.
pub(super) fn kind_of(code: &str, status: Option<u16>) -> ErrorKind {
    match code {
        "DuplicateResourceException" => ErrorKind::Duplicate,
        "ResourceNotFoundException" => ErrorKind::NotFound,
        "ResourceInUseException" => ErrorKind::InUse,
        "LimitExceededException" => ErrorKind::LimitExceeded,
        "InvalidParametersException" | "ValidationException" => ErrorKind::InvalidParameters,
        code if THROTTLING_CODES.contains(&code) => ErrorKind::Throttled,
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
/// `endpoint` names where the call went, for transport failures; `attempt_timeout` is the bound
/// of one attempt, for timeouts.
pub(super) fn map_error<E>(
    operation: &'static str,
    endpoint: &str,
    attempt_timeout: std::time::Duration,
    err: SdkError<E, aws_sdk_servicecatalog::config::http::HttpResponse>,
) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let request_id = err.request_id().map(str::to_string);
    let timed_out = || {
        format!(
            "no answer from {endpoint}: each attempt gave up after {} s (--call-timeout) and the retries ran out",
            attempt_timeout.as_secs()
        )
    };
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
        SdkError::TimeoutError(_) => (ErrorKind::Timeout, "Timeout".to_string(), timed_out()),
        SdkError::DispatchFailure(failure) => {
            let detail = chain_text(&err);
            if let Some(reason) = is_unreachable(&err) {
                let code = if reason == "connection refused" {
                    "ConnectionRefused"
                } else {
                    "UnknownHost"
                };
                (
                    ErrorKind::Unreachable,
                    code.to_string(),
                    format!("cannot reach {endpoint}: {reason}"),
                )
            } else if failure.is_timeout() {
                (ErrorKind::Timeout, "Timeout".to_string(), timed_out())
            } else if failure.is_io() {
                (
                    ErrorKind::Transport,
                    "ConnectionError".to_string(),
                    format!("cannot reach {endpoint}: {detail}"),
                )
            } else if detail.contains("credentials") || detail.contains("identity") {
                (
                    ErrorKind::NoCredentials,
                    "NoCredentials".to_string(),
                    detail,
                )
            } else {
                (ErrorKind::Other, "DispatchFailure".to_string(), detail)
            }
        }
        SdkError::ResponseError(_) => (
            ErrorKind::Protocol,
            "ResponseError".to_string(),
            format!(
                "{endpoint} sent an answer that is not Service Catalog's: {}",
                chain_text(&err)
            ),
        ),
        _ => (
            ErrorKind::Other,
            "ClientError".to_string(),
            chain_text(&err),
        ),
    };
    ApiError {
        kind,
        operation,
        code,
        message: redact(&message).into_owned(),
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
