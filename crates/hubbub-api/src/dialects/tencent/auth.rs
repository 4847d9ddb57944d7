//! The calling convention (seed-surfaces 4.1): `?sdkappid=&identifier=&usersig=
//! &random=&contenttype=json`, an App admin's UserSig, a JSON object body. The
//! [`Call`] extractor checks all of it, in this order, before any handler runs:
//!
//! 1. `sdkappid` present (60012); `random` a uint32 and `contenttype=json` (60002);
//! 2. `sdkappid` names an application's Tencent credential (60006);
//! 3. `identifier` present (60010: no identifier is no admin);
//! 4. the UserSig (70003, 70014, 70013, 70001, 70009; see [`usersig`]);
//! 5. `identifier` is one of the credential's admins (60010);
//! 6. the command's rate for the application (60007);
//! 7. the body is one JSON object (60003).
//!
//! The signature is checked before admin membership so that a caller without a
//! valid sig learns nothing about who the admins are.

use super::body::Body;
use super::error::{TencentError, code};
use super::rate_limit::RateLimiter;
use super::usersig::{self, Expected};
use super::{Command, Service};
use crate::AppState;
use axum::extract::{FromRequest, Request};
use hubbub_core::engine::Actor;
use hubbub_core::model::Dialect;
use serde_json::Value;
use std::sync::Arc;

/// An authenticated call of an App admin, with its decoded body.
pub(crate) struct Call {
    pub(crate) actor: Actor,
    /// The admin identifier the call was made as.
    pub(crate) identifier: String,
    pub(crate) body: Body,
}

struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    fn parse(query: Option<&str>) -> Self {
        Self(
            form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of a (case-sensitive) parameter.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl FromRequest<AppState> for Call {
    type Rejection = TencentError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, TencentError> {
        let command = Command::from_path(req.uri().path()).ok_or_else(|| {
            TencentError::new(
                code::BAD_URL,
                format!("no such command: {}", req.uri().path()),
            )
        })?;
        let query = QueryParams::parse(req.uri().query());
        let sdkappid = query
            .get("sdkappid")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| TencentError::new(code::MISSING_SDKAPPID, "the URL has no sdkappid"))?;
        if query
            .get("random")
            .and_then(|r| r.parse::<u32>().ok())
            .is_none()
        {
            return Err(TencentError::new(
                code::HTTP_PARSE,
                "random must be a 32-bit unsigned integer (0 to 4294967295)",
            ));
        }
        if query.get("contenttype") != Some("json") {
            return Err(TencentError::new(
                code::HTTP_PARSE,
                "contenttype must be json",
            ));
        }
        let unknown_app = || TencentError::new(code::INVALID_SDKAPPID, "invalid sdkappid");
        let app_id = sdkappid.parse::<u32>().map_err(|_| unknown_app())?;
        let (app, credential) = state
            .engine
            .find_dialect_app(Dialect::Tencent, &app_id.to_string())
            .await?
            .ok_or_else(unknown_app)?;
        let identifier = query
            .get("identifier")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                TencentError::new(
                    code::NOT_ADMIN,
                    "identifier is required: an App admin account",
                )
            })?;
        usersig::verify(
            query.get("usersig").unwrap_or_default(),
            &Expected {
                sdkappid: u64::from(app_id),
                identifier,
                key: &credential.secret,
                userbuf: None,
                now: chrono::Utc::now().timestamp(),
            },
        )
        .map_err(|e| TencentError::new(e.code(), e.message()))?;
        if !credential.admins.iter().any(|a| a == identifier) {
            return Err(TencentError::new(
                code::NOT_ADMIN,
                format!("{identifier} is not an App admin of this SDKAppID"),
            ));
        }
        let limiter = req.extensions().get::<Arc<RateLimiter>>().cloned();
        if let Some(limiter) = limiter
            && !limiter.allow(app.id, command.name, command.per_second)
        {
            return Err(TencentError::new(
                code::RATE_LIMITED,
                format!(
                    "{} is limited to {} calls per second per SDKAppID",
                    command.name, command.per_second
                ),
            ));
        }
        let identifier = identifier.to_owned();
        let body = read_body(req, state, command.service).await?;
        Ok(Call {
            actor: Actor::App(app.id),
            identifier,
            body,
        })
    }
}

/// The body must be one JSON object (`{}` when a command needs no field).
async fn read_body(req: Request, state: &AppState, service: Service) -> Result<Body, TencentError> {
    let limit = state.config.max_body_bytes;
    let bytes = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| {
            TencentError::new(
                code::JSON_PARSE,
                format!("the request body is over {limit} bytes"),
            )
        })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(TencentError::new(
            code::JSON_PARSE,
            "the request body is empty; send a JSON object ({} when there is no field)",
        ));
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        TencentError::new(
            code::JSON_PARSE,
            format!("the request body is not JSON: {e}"),
        )
    })?;
    if depth(&value) > state.config.max_json_depth {
        return Err(TencentError::new(
            code::JSON_PARSE,
            format!(
                "the request body is nested deeper than {} levels",
                state.config.max_json_depth
            ),
        ));
    }
    match value {
        Value::Object(map) => Ok(Body::new(map, service.bad_field_code())),
        _ => Err(TencentError::new(
            code::JSON_PARSE,
            "the request body must be a JSON object",
        )),
    }
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}
