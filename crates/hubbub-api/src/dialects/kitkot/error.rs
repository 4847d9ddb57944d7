//! kitkot's envelope: every answer is `{code, msg, …payload}` with the HTTP status
//! equal to `code` (seed-surfaces 2.1). Success is `{code:200, msg:"success", …}`;
//! a failure is `{code, msg}` alone. The core's errors map here, once.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hubbub_core::Error;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// A failed kitkot call.
#[derive(Debug)]
pub(crate) struct KitkotError {
    pub(crate) status: StatusCode,
    pub(crate) msg: Cow<'static, str>,
    retry_after_secs: Option<u64>,
}

impl KitkotError {
    pub(crate) fn new(status: StatusCode, msg: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            msg: msg.into(),
            retry_after_secs: None,
        }
    }

    /// A required parameter is missing or a parameter cannot be read [S].
    pub(crate) fn invalid_parameters() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Invalid parameters")
    }

    /// [S]
    pub(crate) fn room_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "That room does not exist")
    }

    /// A `room_ids` entry that is not a room id [S].
    pub(crate) fn unparsable_rooms() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Failed to parse livestream(s)")
    }

    /// A missing or unknown `api_key` [P].
    pub(crate) fn invalid_api_key() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Invalid api_key")
    }

    /// A missing, unknown, expired or foreign `session_key` [P].
    pub(crate) fn invalid_session_key() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Invalid session_key")
    }

    /// A `cursor`/`internalExt` pair this server did not hand out for this room [P].
    pub(crate) fn invalid_cursor() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Invalid cursor")
    }

    /// [S] (the Session page's login errors)
    pub(crate) fn incorrect_login() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Incorrect username/password")
    }

    /// [S]: an `email` that is not an email address.
    pub(crate) fn incorrect_email() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Incorrect email")
    }

    /// [S]
    pub(crate) fn too_many_attempts(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "Too many attempts, try again later",
        );
        e.retry_after_secs = Some(retry_after_secs.max(1));
        e
    }

    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found")
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
    }
}

impl From<Error> for KitkotError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid { field, .. } if field == "cursor" => KitkotError::invalid_cursor(),
            Error::Invalid { field, reason } => KitkotError::new(
                StatusCode::BAD_REQUEST,
                format!("Invalid parameters: {} {reason}", kitkot_field(&field)),
            ),
            Error::NotFound { resource } => match resource {
                "channel" => KitkotError::room_not_found(),
                "message" => KitkotError::new(StatusCode::NOT_FOUND, "That message does not exist"),
                "user" => KitkotError::new(StatusCode::NOT_FOUND, "That user does not exist"),
                other => KitkotError::new(
                    StatusCode::NOT_FOUND,
                    format!("{} not found", capitalized(other)),
                ),
            },
            Error::Conflict(message) => {
                KitkotError::new(StatusCode::CONFLICT, capitalized(&message))
            }
            Error::Forbidden(message) => {
                KitkotError::new(StatusCode::FORBIDDEN, capitalized(&message))
            }
            Error::RateLimited { retry_after } => {
                let mut e = KitkotError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many requests, try again later",
                );
                e.retry_after_secs = Some(retry_after.as_secs_f64().ceil().max(1.0) as u64);
                e
            }
            Error::Unavailable(cause) => {
                tracing::warn!(%cause, "kitkot: service unavailable");
                let mut e = KitkotError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service unavailable, try again later",
                );
                e.retry_after_secs = Some(2);
                e
            }
            Error::Internal(cause) => {
                // The cause may hold internals; log it, never send it.
                tracing::error!(%cause, "kitkot: internal error");
                KitkotError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
            }
        }
    }
}

/// The core names message bodies `body`; kitkot calls them `content`.
fn kitkot_field(field: &str) -> &str {
    match field {
        "body" => "content",
        other => other,
    }
}

/// kitkot's messages start with a capital ("That room does not exist").
fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl IntoResponse for KitkotError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"code": self.status.as_u16(), "msg": self.msg});
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// `{code:200, msg:"success", …payload}`, keys in that order.
pub(crate) fn success(payload: Map<String, Value>) -> Response {
    let mut body = Map::with_capacity(payload.len() + 2);
    body.insert("code".into(), Value::from(200));
    body.insert("msg".into(), Value::from("success"));
    body.extend(payload);
    (StatusCode::OK, Json(Value::Object(body))).into_response()
}

pub(crate) type KitkotResult = Result<Response, KitkotError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_keep_kitkot_words() {
        let e = KitkotError::from(Error::not_found("channel"));
        assert_eq!(
            (e.status, e.msg.as_ref()),
            (StatusCode::NOT_FOUND, "That room does not exist")
        );
        let e = KitkotError::from(Error::invalid("body", "must not be empty"));
        assert_eq!(e.msg, "Invalid parameters: content must not be empty");
        let e = KitkotError::from(Error::invalid("cursor", "whatever"));
        assert_eq!(
            (e.status, e.msg.as_ref()),
            (StatusCode::BAD_REQUEST, "Invalid cursor")
        );
        let e = KitkotError::from(Error::Forbidden("you are banned in this room".into()));
        assert_eq!(
            (e.status, e.msg.as_ref()),
            (StatusCode::FORBIDDEN, "You are banned in this room")
        );
        let e = KitkotError::from(Error::internal("disk on fire at /secret/path"));
        assert_eq!(e.msg, "Internal server error");
    }
}
