//! PRISM's response envelope, `{success, errorCode, errorName, message, data}`, and
//! the mapping of [`hubbub_core::Error`] into it (seed-surfaces 1.2). The HTTP status
//! is the error's class; `errorCode` repeats it; `errorName` names it.
//!
//! | HTTP | errorName | |
//! |---|---|---|
//! | 400 | `INVALID_PARAMETER` | a body, query or path value is bad or missing |
//! | 401 | `INVALID_TOKEN` | `x-prism-access-token` missing, unknown or expired |
//! | 403 | `FORBIDDEN` | not the owner or a manager; banned; chat off |
//! | 404 | `NOT_FOUND` | unknown live, chat message, user or channel; unknown path |
//! | 405 | `METHOD_NOT_ALLOWED` | any other verb, and always `OPTIONS` and `HEAD` |
//! | 409 | `CONFLICT` | a uniqueness rule (hubbub's addition) |
//! | 413 | `PAYLOAD_TOO_LARGE` | a body over the limit (hubbub's addition) |
//! | 429 | `TOO_MANY_REQUESTS` | slow mode or a rate limit, with `Retry-After` (hubbub's addition) |
//! | 500 | `INTERNAL_ERROR` | anything else; the cause is logged, never sent |
//! | 503 | `SERVICE_UNAVAILABLE` | storage down, with `Retry-After` (hubbub's addition) |

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hubbub_core::Error;
use serde::Serialize;

/// A successful answer: `data` inside the envelope (`null` for "Response: N/A").
pub(crate) struct Envelope<T>(pub(crate) T);

/// A PRISM error answer.
#[derive(Debug)]
pub(crate) struct PrismError {
    status: StatusCode,
    name: &'static str,
    message: String,
    retry_after_secs: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a, T: Serialize> {
    success: bool,
    error_code: u16,
    error_name: Option<&'a str>,
    message: Option<&'a str>,
    data: Option<T>,
}

impl<T: Serialize> IntoResponse for Envelope<T> {
    fn into_response(self) -> Response {
        Json(Body {
            success: true,
            error_code: 0,
            error_name: None,
            message: None,
            data: Some(self.0),
        })
        .into_response()
    }
}

impl PrismError {
    fn new(status: StatusCode, name: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            name,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", message)
    }

    pub(crate) fn invalid_token(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "INVALID_TOKEN", message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    pub(crate) fn method_not_allowed(method: &Method) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            format!("method {method} is not allowed here"),
        )
    }

    pub(crate) fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("the request body is larger than {limit} bytes"),
        )
    }

    /// Maps a core error, naming inputs as PRISM spells them (`aliases` lists
    /// `(core field, PRISM field)` pairs) and resources in PRISM's words.
    pub(crate) fn from_core(e: Error, aliases: &[(&str, &str)]) -> Self {
        match e {
            Error::Invalid { field, reason } => {
                let field = aliases
                    .iter()
                    .find(|(core, _)| *core == field)
                    .map_or(field.as_str(), |(_, prism)| prism);
                Self::invalid(format!("invalid {field}: {reason}"))
            }
            Error::NotFound { resource } => Self::not_found(format!(
                "{} not found",
                match resource {
                    "channel" => "live",
                    "message" => "chat message",
                    other => other,
                }
            )),
            Error::Conflict(message) => Self::new(StatusCode::CONFLICT, "CONFLICT", message),
            Error::Forbidden(message) => Self::forbidden(message),
            Error::RateLimited { retry_after } => {
                let secs = retry_after.as_secs_f64().ceil().max(1.0) as u64;
                let mut e = Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TOO_MANY_REQUESTS",
                    format!("too many requests; retry after {secs} s"),
                );
                e.retry_after_secs = Some(secs);
                e
            }
            Error::Unavailable(cause) => {
                tracing::warn!(%cause, "service unavailable");
                let mut e = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "SERVICE_UNAVAILABLE",
                    "the service is temporarily unavailable; retry shortly",
                );
                e.retry_after_secs = Some(2);
                e
            }
            Error::Internal(cause) => {
                // The cause may hold internals: logged, never sent.
                tracing::error!(%cause, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_ERROR",
                    "an internal error occurred",
                )
            }
        }
    }
}

impl From<Error> for PrismError {
    fn from(e: Error) -> Self {
        Self::from_core(e, &[])
    }
}

impl IntoResponse for PrismError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(Body::<()> {
                success: false,
                error_code: self.status.as_u16(),
                error_name: Some(self.name),
                message: Some(&self.message),
                data: None,
            }),
        )
            .into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Unknown paths under `/prism`.
pub(crate) async fn not_found(uri: axum::http::Uri) -> PrismError {
    PrismError::not_found(format!("no API at {}", uri.path()))
}

/// Known paths with another verb.
pub(crate) async fn method_not_allowed(method: Method) -> PrismError {
    PrismError::method_not_allowed(&method)
}

/// PRISM's rule: OPTIONS and HEAD are never served. axum answers HEAD for every GET
/// route by itself, so both are refused here, before routing reaches a handler.
pub(crate) async fn refuse_options_and_head(request: Request, next: Next) -> Response {
    let method = request.method();
    if method == Method::OPTIONS || method == Method::HEAD {
        return PrismError::method_not_allowed(method).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_take_prism_names_and_classes() {
        let e = PrismError::from_core(
            Error::invalid("body", "must not be empty"),
            &[("body", "message")],
        );
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.name, "INVALID_PARAMETER");
        assert_eq!(e.message, "invalid message: must not be empty");
        let e = PrismError::from(Error::not_found("channel"));
        assert_eq!((e.status, e.name), (StatusCode::NOT_FOUND, "NOT_FOUND"));
        assert_eq!(e.message, "live not found");
        let e = PrismError::from(Error::Internal("db password is hunter2".into()));
        assert_eq!(e.message, "an internal error occurred");
        let e = PrismError::from(Error::Forbidden("you are banned in this room".into()));
        assert_eq!((e.status, e.name), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    }
}
