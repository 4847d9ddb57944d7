//! Request decoding for Allmine: the caller (a Bearer access JWT), the application of
//! the unauthenticated OTP endpoints, JSON bodies, 24-hex path ids and the query.

use super::error::AllmineError;
use crate::AppState;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header;
use axum::http::request::Parts;
use hubbub_core::engine::{Actor, DialectIdentity};
use hubbub_core::ids::AppId;
use hubbub_core::model::Dialect;
use serde_json::{Map, Value};

/// The header naming the application on the OTP endpoints: its Allmine credential key
/// (the JWT issuer).
pub(super) const APP_HEADER: &str = "x-allmine-app";

/// The logged-in caller: `Authorization: Bearer <access JWT>` (the bare JWT is
/// accepted too: Allmine's playground says to paste it without the prefix).
pub(super) struct AllmineUser(pub DialectIdentity);

impl AllmineUser {
    pub(super) fn actor(&self) -> Actor {
        Actor::User {
            app: self.0.app.id,
            user: self.0.user.id,
        }
    }
}

impl FromRequestParts<AppState> for AllmineUser {
    type Rejection = AllmineError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AllmineError> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .ok_or_else(AllmineError::unauthorized)?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or(value)
            .trim();
        match state.engine.authenticate_allmine(token).await? {
            Some(identity) => Ok(AllmineUser(identity)),
            None => Err(AllmineError::unauthorized()),
        }
    }
}

/// The application an OTP request is for: the one whose Allmine key is in the
/// `x-allmine-app` header or, without the header, the only application of the server.
/// An unknown key, or no header on a server with several applications, is a 401.
pub(super) struct OtpApp(pub AppId);

impl FromRequestParts<AppState> for OtpApp {
    type Rejection = AllmineError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AllmineError> {
        if let Some(key) = parts.headers.get(APP_HEADER) {
            let key = key
                .to_str()
                .map_err(|_| AllmineError::unauthorized())?
                .trim();
            return match state.engine.find_dialect_app(Dialect::Allmine, key).await? {
                Some((app, _)) => Ok(OtpApp(app.id)),
                None => Err(AllmineError::unauthorized()),
            };
        }
        match state.engine.list_applications().await?.as_slice() {
            [only] => Ok(OtpApp(only.id)),
            _ => Err(AllmineError::unauthorized()),
        }
    }
}

/// A JSON object body. No body (or an empty one) reads as `{}`, so that missing
/// fields fail validation like absent ones.
pub(super) struct JsonObject(pub Map<String, Value>);

impl FromRequest<AppState> for JsonObject {
    type Rejection = AllmineError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AllmineError> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let essence = ct
                .to_str()
                .unwrap_or_default()
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let json = essence == "application/json"
                || (essence.starts_with("application/") && essence.ends_with("+json"));
            if !json {
                return Err(AllmineError::validation(format_args!(
                    "content type {essence} is not JSON"
                )));
            }
        }
        let limit = state.config.max_body_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| AllmineError::payload_too_large())?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonObject(Map::new()));
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(AllmineError::validation)?;
        if depth(&value) > state.config.max_json_depth {
            return Err(AllmineError::validation("body nested too deep"));
        }
        match value {
            Value::Object(map) => Ok(JsonObject(map)),
            _ => Err(AllmineError::validation("body is not a JSON object")),
        }
    }
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

impl JsonObject {
    /// A string field; absent or `null` is `None`, any other type a 400.
    pub(super) fn string(&self, key: &str) -> Result<Option<&str>, AllmineError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(AllmineError::validation(format_args!(
                "{key} must be a string"
            ))),
        }
    }

    /// A required string field.
    pub(super) fn required(&self, key: &str) -> Result<&str, AllmineError> {
        self.string(key)?
            .ok_or_else(|| AllmineError::validation(format_args!("{key} is required")))
    }

    /// A required field given as a string or a non-negative integer (phone country
    /// codes and OTP codes arrive both ways); integers are rendered with at least
    /// `min_digits` digits, zero-padded, since a leading zero is lost in a number.
    pub(super) fn digits(&self, key: &str, min_digits: usize) -> Result<String, AllmineError> {
        match self.0.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) if n.as_u64().is_some() => {
                Ok(format!("{:0min_digits$}", n.as_u64().unwrap_or_default()))
            }
            _ => Err(AllmineError::validation(format_args!(
                "{key} is required as a string"
            ))),
        }
    }
}

/// A 24-hex path id (`streamId`, `messageId`) as the engine's id. Anything that is not
/// an id hubbub can have is a 404: no resource has it.
pub(super) fn parse_hex_id(raw: &str) -> Result<i64, AllmineError> {
    if raw.len() != 24 || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AllmineError::not_found());
    }
    u128::from_str_radix(raw, 16)
        .ok()
        .and_then(|n| i64::try_from(n).ok())
        .filter(|n| *n > 0)
        .ok_or_else(AllmineError::not_found)
}

/// The path parameters of a route, by name.
pub(super) struct PathParams(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for PathParams {
    type Rejection = AllmineError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AllmineError> {
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|_| AllmineError::not_found())?;
        Ok(PathParams(params))
    }
}

impl PathParams {
    /// A 24-hex id parameter.
    pub(super) fn id(&self, name: &str) -> Result<i64, AllmineError> {
        let raw = self
            .0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        parse_hex_id(raw)
    }
}

/// The query string; a repeated key keeps its last value.
pub(super) struct Query(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = AllmineError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AllmineError> {
        let raw = parts.uri.query().unwrap_or_default();
        Ok(Query(
            form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }
}

impl Query {
    /// An integer parameter within `range`, `default` when absent; anything else 400.
    pub(super) fn int_in(
        &self,
        key: &str,
        default: u32,
        range: std::ops::RangeInclusive<u32>,
    ) -> Result<u32, AllmineError> {
        let Some((_, raw)) = self.0.iter().rev().find(|(k, _)| k == key) else {
            return Ok(default);
        };
        raw.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                AllmineError::validation(format_args!(
                    "{key} must be an integer from {} to {}",
                    range.start(),
                    range.end()
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_ids_round_trip_and_refuse_the_rest() {
        assert_eq!(parse_hex_id(&format!("{:024x}", 42)).unwrap(), 42);
        assert_eq!(
            parse_hex_id(&format!("{:024x}", i64::MAX)).unwrap(),
            i64::MAX
        );
        assert_eq!(parse_hex_id("00000000000000000000002A").unwrap(), 42);
        for bad in [
            "",
            "string",
            "2a",
            &format!("{:025x}", 42),
            "64d15f9e2e6c8f4d5a12345g",
            "ffffffffffffffffffffffff",
            &format!("{:024x}", 0),
        ] {
            assert_eq!(parse_hex_id(bad).unwrap_err().status().as_u16(), 404);
        }
    }
}
