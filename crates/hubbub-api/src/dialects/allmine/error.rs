//! Allmine's envelope. A global interceptor wraps every response, success or failure,
//! in `BaseResponseDto<T> = {isSuccess, statusCode, data, errors?, timestamp}`; a
//! failure has `data: null` and one fixed message per status (seed 002).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hubbub_core::Error;
use serde::Serialize;
use serde_json::Value;

/// `BaseResponseDto<T>`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    is_success: bool,
    status_code: u16,
    data: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<&'static str>>,
    /// ISO 8601 with milliseconds and `Z`: `2026-01-15T10:30:00.000Z`.
    timestamp: String,
}

/// The envelope's time format, also used for every date in the dialect's bodies.
pub(super) fn iso(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn envelope(status: StatusCode, data: Value, errors: Option<Vec<&'static str>>) -> Response {
    let body = Envelope {
        is_success: errors.is_none(),
        status_code: status.as_u16(),
        data,
        errors,
        timestamp: iso(&chrono::Utc::now()),
    };
    (status, Json(body)).into_response()
}

/// A successful answer: `data` at `status` (201 for a POST, 200 otherwise).
pub(super) struct Success(pub StatusCode, pub Value);

impl IntoResponse for Success {
    fn into_response(self) -> Response {
        envelope(self.0, self.1, None)
    }
}

/// A failure of the dialect, rendered as an envelope with `data: null`.
#[derive(Debug)]
pub(super) struct AllmineError {
    status: StatusCode,
    retry_after_secs: Option<u64>,
}

impl AllmineError {
    fn new(status: StatusCode) -> Self {
        Self {
            status,
            retry_after_secs: None,
        }
    }
    /// 400 `Validation failed`: bad JSON, a missing or ill-typed field, an out-of-range
    /// value. `why` is logged at debug level; the body is the seed's, byte for byte.
    pub(super) fn validation(why: impl std::fmt::Display) -> Self {
        tracing::debug!(%why, "allmine: validation failed");
        Self::new(StatusCode::BAD_REQUEST)
    }
    /// 401 `Authentication required`.
    pub(super) fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED)
    }
    /// 404 `Resource not found`.
    pub(super) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND)
    }
    pub(super) fn payload_too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE)
    }
    #[cfg(test)]
    pub(super) fn status(&self) -> StatusCode {
        self.status
    }

    /// The one message of each status. The first five are the seed's.
    fn message(&self) -> &'static str {
        match self.status {
            StatusCode::BAD_REQUEST => "Validation failed",
            StatusCode::UNAUTHORIZED => "Authentication required",
            StatusCode::FORBIDDEN => "Insufficient permissions",
            StatusCode::NOT_FOUND => "Resource not found",
            StatusCode::CONFLICT => {
                "Resource already exists or cannot be changed in its current state"
            }
            StatusCode::METHOD_NOT_ALLOWED => "Method not allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "Payload too large",
            StatusCode::TOO_MANY_REQUESTS => "Too many requests",
            StatusCode::SERVICE_UNAVAILABLE => "Service unavailable",
            _ => "Internal server error",
        }
    }
}

impl From<Error> for AllmineError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid { field, reason } => {
                AllmineError::validation(format_args!("{field}: {reason}"))
            }
            Error::NotFound { .. } => AllmineError::not_found(),
            Error::Conflict(_) => AllmineError::new(StatusCode::CONFLICT),
            Error::Forbidden(_) => AllmineError::new(StatusCode::FORBIDDEN),
            Error::RateLimited { retry_after } => AllmineError {
                status: StatusCode::TOO_MANY_REQUESTS,
                retry_after_secs: Some(retry_after.as_secs_f64().ceil().max(1.0) as u64),
            },
            Error::Unavailable(cause) => {
                tracing::warn!(%cause, "service unavailable");
                AllmineError {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    retry_after_secs: Some(2),
                }
            }
            Error::Internal(cause) => {
                // The cause may hold internals; log it, never send it.
                tracing::error!(%cause, "internal error");
                AllmineError::new(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

impl IntoResponse for AllmineError {
    fn into_response(self) -> Response {
        let mut response = envelope(self.status, Value::Null, Some(vec![self.message()]));
        let headers = response.headers_mut();
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"allmine\""),
            );
        }
        response
    }
}

/// Unknown paths under `/api/v1`.
pub(super) async fn not_found() -> AllmineError {
    AllmineError::not_found()
}

/// Known paths under `/api/v1` with a method they do not serve.
pub(super) async fn method_not_allowed() -> AllmineError {
    AllmineError::new(StatusCode::METHOD_NOT_ALLOWED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_map_to_the_seed_statuses() {
        let cases = [
            (Error::invalid("content", "empty"), 400),
            (Error::not_found("channel"), 404),
            (Error::Conflict("ended".into()), 409),
            (Error::Forbidden("muted".into()), 403),
            (
                Error::RateLimited {
                    retry_after: std::time::Duration::from_millis(10),
                },
                429,
            ),
            (Error::Unavailable("db".into()), 503),
            (Error::internal("boom"), 500),
        ];
        for (error, status) in cases {
            assert_eq!(AllmineError::from(error).status().as_u16(), status);
        }
    }

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-01-15T10:30:00.123456+00:00")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(iso(&t), "2026-01-15T10:30:00.123Z");
    }
}
