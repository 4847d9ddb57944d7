//! The ChatKitty error format: every failure of the Platform API is an `ApiError`
//! body (`{error, message, explanation?, properties?, timestamp}`), and OAuth token
//! failures an RFC 6749 `{error, error_description}` body.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hubbub_core::Error;
use serde::Serialize;
use utoipa::ToSchema;

/// The ChatKitty `ApiError` body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiErrorBody {
    /// Machine-readable error name, e.g. `ResourceNotFoundError`.
    pub error: String,
    /// What went wrong, for humans.
    pub message: String,
    /// How to fix it, when there is advice to give.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<serde_json::Map<String, serde_json::Value>>,
    /// ISO date-time of the error.
    pub timestamp: String,
}

/// An error of the Platform API, rendered as an `ApiError` body.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: &'static str,
    pub message: String,
    pub explanation: Option<String>,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            error,
            message: message.into(),
            explanation: None,
            retry_after_secs: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidRequestError", message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UnauthorizedError", message).explain(
            "Full authentication is required to access this resource: send \
             'Authorization: Bearer <access token>' from POST /oauth/token.",
        )
    }
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLargeError",
            format!("request body is larger than the limit of {limit} bytes"),
        )
    }
    pub fn unsupported_media_type(got: &str, expected: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaTypeError",
            format!("content type '{got}' is not supported here; send {expected}"),
        )
    }
    pub fn explain(mut self, explanation: impl Into<String>) -> Self {
        self.explanation = Some(explanation.into());
        self
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid { field, reason } => {
                ApiError::bad_request(format!("invalid {field}: {reason}"))
            }
            Error::NotFound { resource } => ApiError::new(
                StatusCode::NOT_FOUND,
                "ResourceNotFoundError",
                format!("{resource} not found"),
            ),
            Error::Conflict(message) => {
                ApiError::new(StatusCode::CONFLICT, "DuplicateResourceError", message)
            }
            Error::Forbidden(message) => {
                ApiError::new(StatusCode::FORBIDDEN, "AccessDeniedError", message)
            }
            Error::RateLimited { retry_after } => {
                let secs = retry_after.as_secs_f64().ceil().max(1.0) as u64;
                let mut err = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "RateLimitExceededError",
                    format!("too many requests; retry after {secs} s"),
                );
                err.retry_after_secs = Some(secs);
                err
            }
            Error::Unavailable(cause) => {
                tracing::warn!(%cause, "service unavailable");
                let mut err = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailableError",
                    "the service is temporarily unavailable; retry shortly",
                );
                err.retry_after_secs = Some(2);
                err
            }
            Error::Internal(cause) => {
                // The cause may hold internals; log it, never send it.
                tracing::error!(%cause, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalServerError",
                    "an internal error occurred",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ApiErrorBody {
            error: self.error.to_owned(),
            message: self.message,
            explanation: self.explanation,
            properties: None,
            timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"hubbub\""),
            );
        }
        response
    }
}

/// Unknown paths answer with an `ApiError`, like every other failure.
pub async fn fallback_not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundError",
        format!("no resource at {}", uri.path()),
    )
}

/// Known paths with an unsupported method.
pub async fn fallback_method_not_allowed(method: axum::http::Method) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowedError",
        format!("method {method} is not allowed on this resource"),
    )
}

/// RFC 6749 section 5.2 error body of the token endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthenticationError {
    pub error: String,
    pub error_description: String,
}

/// A token endpoint failure.
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(AuthenticationError {
                error: self.error.to_owned(),
                error_description: self.description,
            }),
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"hubbub\""),
            );
        }
        response
    }
}
