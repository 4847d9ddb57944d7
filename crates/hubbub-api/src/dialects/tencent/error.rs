//! Tencent's envelope: HTTP 200 always, `{ActionStatus, ErrorInfo, ErrorCode,
//! RequestId}` plus the command's data, and the mapping of the core's errors to
//! Tencent error codes (seed-surfaces 4.2).

use axum::Json;
use axum::response::{IntoResponse, Response};
use hubbub_core::Error;
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// Common error codes (60000–79999) and the live engine's private ones used here.
pub(crate) mod code {
    /// HTTP or URL parse error: bad `random` or `contenttype`, a method other than POST.
    pub(crate) const HTTP_PARSE: u32 = 60002;
    /// The body is empty, not JSON, or not a JSON object.
    pub(crate) const JSON_PARSE: u32 = 60003;
    /// The SDKAppID is not a known application's.
    pub(crate) const INVALID_SDKAPPID: u32 = 60006;
    /// Over the command's calls per second for the application.
    pub(crate) const RATE_LIMITED: u32 = 60007;
    /// No such command (resource URL).
    pub(crate) const BAD_URL: u32 = 60009;
    /// The identifier is not an App admin.
    pub(crate) const NOT_ADMIN: u32 = 60010;
    /// The URL has no SDKAppID.
    pub(crate) const MISSING_SDKAPPID: u32 = 60012;
    /// An account that was never imported.
    pub(crate) const NOT_IMPORTED: u32 = 70107;
    /// account_import / multiaccount_import: a bad parameter.
    pub(crate) const ACCOUNT_BAD_PARAM: u32 = 70402;
    /// account_import: a value over 500 bytes.
    pub(crate) const ACCOUNT_VALUE_TOO_LONG: u32 = 40601;
    /// Tencent Chat's "muted in this group": the sender of send_text_msg is muted or
    /// banned in the room.
    pub(crate) const SENDER_RESTRICTED: u32 = 10017;
    /// Internal error, retry.
    pub(crate) const INTERNAL: u32 = 100001;
    /// A bad field or a limit exceeded.
    pub(crate) const INVALID_PARAM: u32 = 100002;
    /// create_room with a RoomId that exists ([P]).
    pub(crate) const ROOM_EXISTS: u32 = 100003;
    /// The room does not exist or was dissolved.
    pub(crate) const NO_SUCH_ROOM: u32 = 100004;
    /// The channel exists but is not a live room.
    pub(crate) const NOT_LIVE_ROOM: u32 = 100006;
    /// More than five admins.
    pub(crate) const TOO_MANY_ADMINS: u32 = 100020;
}

/// A failed call: HTTP 200 with `ActionStatus: "FAIL"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TencentError {
    pub(crate) code: u32,
    pub(crate) info: String,
}

impl TencentError {
    pub(crate) fn new(code: u32, info: impl Into<String>) -> Self {
        Self {
            code,
            info: info.into(),
        }
    }

    pub(crate) fn invalid(info: impl Into<String>) -> Self {
        Self::new(code::INVALID_PARAM, info)
    }
}

/// Every core error in the live engine's words. Handlers remap the few whose
/// meaning depends on the command (a conflict on create_room, a refused sender).
impl From<Error> for TencentError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid { field, reason } => {
                Self::invalid(format!("invalid parameter {field}: {reason}"))
            }
            Error::NotFound { resource: "user" } => Self::new(
                code::NOT_IMPORTED,
                "the account was never imported (account_import)",
            ),
            Error::NotFound {
                resource: "channel",
            } => Self::new(
                code::NO_SUCH_ROOM,
                "the room does not exist or was dissolved",
            ),
            Error::NotFound { resource } => Self::invalid(format!("{resource} not found")),
            Error::Conflict(m) => Self::new(code::ROOM_EXISTS, m),
            Error::Forbidden(m) => Self::invalid(m),
            Error::RateLimited { retry_after } => Self::new(
                code::RATE_LIMITED,
                format!(
                    "too many requests; retry in {} s",
                    retry_after.as_secs().max(1)
                ),
            ),
            Error::Unavailable(cause) => {
                tracing::warn!(%cause, "tencent: store or bus unavailable");
                Self::new(code::INTERNAL, "service temporarily unavailable, retry")
            }
            Error::Internal(cause) => {
                tracing::error!(%cause, "tencent: internal error");
                Self::new(code::INTERNAL, "internal server error, retry")
            }
        }
    }
}

/// A successful call's data.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reply {
    /// Nothing besides the envelope.
    Empty,
    /// The live engine's commands: the data under `Response`.
    Response(Value),
    /// The IM commands (account import): the data beside the envelope's fields.
    Fields(Map<String, Value>),
}

/// What every handler returns.
pub(crate) type TencentResult = Result<Reply, TencentError>;

static REQUEST_SEQ: AtomicU64 = AtomicU64::new(1);

/// `Id-<32 hex>-O-Seq-<n>`, unique per request.
pub(crate) fn request_id() -> String {
    format!(
        "Id-{}-O-Seq-{}",
        uuid::Uuid::new_v4().simple(),
        REQUEST_SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

fn envelope(ok: bool, code: u32, info: String) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert(
        "ActionStatus".into(),
        (if ok { "OK" } else { "FAIL" }).into(),
    );
    body.insert("ErrorInfo".into(), info.into());
    body.insert("ErrorCode".into(), code.into());
    body.insert("RequestId".into(), request_id().into());
    body
}

impl IntoResponse for TencentError {
    fn into_response(self) -> Response {
        Json(Value::Object(envelope(false, self.code, self.info))).into_response()
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut body = envelope(true, 0, String::new());
        match self {
            Reply::Empty => {}
            Reply::Response(data) => {
                body.insert("Response".into(), data);
            }
            Reply::Fields(fields) => body.extend(fields),
        }
        Json(Value::Object(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_have_tencents_shape_and_differ() {
        let a = request_id();
        let b = request_id();
        assert_ne!(a, b);
        let hex = a
            .strip_prefix("Id-")
            .and_then(|r| r.split_once("-O-Seq-"))
            .unwrap();
        assert_eq!(hex.0.len(), 32);
        assert!(hex.0.bytes().all(|c| c.is_ascii_hexdigit()));
        assert!(hex.1.parse::<u64>().is_ok());
    }

    #[test]
    fn core_errors_map_to_tencent_codes() {
        let cases = [
            (Error::invalid("RoomId", "too long"), code::INVALID_PARAM),
            (Error::not_found("user"), code::NOT_IMPORTED),
            (Error::not_found("channel"), code::NO_SUCH_ROOM),
            (Error::Conflict("taken".into()), code::ROOM_EXISTS),
            (Error::Forbidden("no".into()), code::INVALID_PARAM),
            (Error::internal("disk on fire"), code::INTERNAL),
            (Error::Unavailable("db".into()), code::INTERNAL),
        ];
        for (e, expected) in cases {
            assert_eq!(TencentError::from(e).code, expected);
        }
        // Internal causes are logged, never shown.
        assert!(
            !TencentError::from(Error::internal("disk on fire"))
                .info
                .contains("disk")
        );
    }
}
