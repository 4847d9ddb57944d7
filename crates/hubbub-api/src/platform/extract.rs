//! Request decoding for the Platform API: authenticated actor, JSON bodies in any of
//! ChatKitty's content types (snake_case or camelCase keys), merge patches, query
//! strings with repeated keys, numeric path ids, and the base URL for HAL links.

use super::error::ApiError;
use crate::AppState;
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use hubbub_core::engine::Actor;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The authenticated caller: an application backend holding a bearer token.
pub struct AppActor(pub Actor);

impl FromRequestParts<AppState> for AppActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing Authorization header"))?;
        let value = header
            .to_str()
            .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthorized("expected a Bearer token"))?;
        match state.authenticate(token).await? {
            Some(app) => Ok(AppActor(Actor::App(app))),
            None => Err(ApiError::unauthorized(
                "the access token is unknown or expired",
            )),
        }
    }
}

/// A numeric path id. Anything else is a 404: no resource can have that id.
pub struct PathId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let raw = params
            .iter()
            .find(|(k, _)| k == "id")
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        parse_id("id", raw).map(PathId)
    }
}

/// Parses a numeric id from the path or a query.
pub fn parse_id(what: &str, raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .map_err(|_| ApiError::bad_request(format!("{what} must be a 64-bit integer, not '{raw}'")))
}

/// The path parameters of two-parameter routes (`/channels/{id}/members/{user_id}`).
pub struct PathParams(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for PathParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        Ok(PathParams(params))
    }
}

impl PathParams {
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }
    pub fn id(&self, name: &str) -> Result<i64, ApiError> {
        parse_id(name, self.get(name))
    }
}

/// The query string as ordered pairs; repeated keys (`sort=a&sort=b`) are kept, and
/// comma-joined lists are accepted where a list is expected.
pub struct Query(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw = parts.uri.query().unwrap_or_default();
        Ok(Query(
            form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }
}

impl Query {
    /// The last value of a key (camelCase spellings accepted too).
    pub fn get(&self, key: &str) -> Option<&str> {
        let camel = snake_to_camel(key);
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key || *k == camel)
            .map(|(_, v)| v.as_str())
    }
    /// Every value of a repeated key.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }
    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.get(key)
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| {
                    ApiError::bad_request(format!("query parameter '{key}' must be an integer"))
                })
            })
            .transpose()
    }
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        self.get(key)
            .map(|v| match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err(ApiError::bad_request(format!(
                    "query parameter '{key}' must be true or false"
                ))),
            })
            .transpose()
    }
}

fn snake_to_camel(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = false;
    for c in s.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn camel_to_snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Rewrites camelCase keys to snake_case, recursively, except inside free-form
/// members (`properties`, `secret`) whose keys belong to the client.
fn normalize_keys(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut v) in entries {
                let key = camel_to_snake(&key);
                if key != "properties" && key != "secret" {
                    normalize_keys(&mut v);
                }
                map.insert(key, v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize_keys),
        _ => {}
    }
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn is_json_type(content_type: &str, allow_merge_patch: bool) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let json = essence == "application/json"
        || essence == "application/vnd.chatkitty+json"
        || essence == "application/vnd.chatkitty.v1+json"
        || essence == "application/hal+json"
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    let merge =
        essence == "application/json+merge-patch" || essence == "application/merge-patch+json";
    json || (allow_merge_patch && merge)
}

/// Reads, size-checks, parses, depth-checks and key-normalizes a JSON body.
async fn read_json(req: Request, state: &AppState, merge_patch: bool) -> Result<Value, ApiError> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default();
        if !is_json_type(ct, merge_patch) {
            let expected = if merge_patch {
                "application/json+merge-patch or application/merge-patch+json"
            } else {
                "application/json or application/vnd.chatkitty+json"
            };
            return Err(ApiError::unsupported_media_type(ct, expected));
        }
    }
    let limit = state.config.max_body_bytes;
    let bytes = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| ApiError::payload_too_large(limit))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "request body is empty; a JSON object is required",
        ));
    }
    let mut value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("request body is not valid JSON: {e}")))?;
    if depth(&value) > state.config.max_json_depth {
        return Err(ApiError::bad_request(format!(
            "request body is nested deeper than {} levels",
            state.config.max_json_depth
        )));
    }
    if !value.is_object() {
        return Err(ApiError::bad_request("request body must be a JSON object"));
    }
    normalize_keys(&mut value);
    Ok(value)
}

/// A JSON request body decoded into `T` (which should deny unknown fields).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let value = read_json(req, state, false).await?;
        serde_json::from_value(value)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
    }
}

/// A JSON merge patch (RFC 7386) body: an object with normalized keys.
pub struct MergePatch(pub Map<String, Value>);

impl FromRequest<AppState> for MergePatch {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        match read_json(req, state, true).await? {
            Value::Object(map) => Ok(MergePatch(map)),
            _ => Err(ApiError::bad_request("a merge patch must be a JSON object")),
        }
    }
}

impl MergePatch {
    /// Checks every member: writable ones are kept, read-only ones are refused (the
    /// patch is never partly applied), unknown ones are refused.
    pub fn check(&self, writable: &[&str], read_only: &[&str]) -> Result<(), ApiError> {
        for key in self.0.keys() {
            if writable.contains(&key.as_str()) {
                continue;
            }
            if read_only.contains(&key.as_str()) || key.starts_with('_') {
                return Err(ApiError::bad_request(format!(
                    "'{key}' is read-only and cannot be patched; writable fields: {}",
                    writable.join(", ")
                )));
            }
            return Err(ApiError::bad_request(format!(
                "unknown field '{key}'; writable fields: {}",
                writable.join(", ")
            )));
        }
        Ok(())
    }

    /// A string member; `null` is refused for members that cannot be removed.
    pub fn string(&self, key: &str) -> Result<Option<String>, ApiError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::bad_request(format!("'{key}' must be a string"))),
        }
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::bad_request(format!(
                "'{key}' must be true or false"
            ))),
        }
    }
}

/// The absolute base of this request (scheme, host and the `/v1` prefix if the
/// client used it) for HAL links.
pub struct LinkBase {
    pub base: String,
    pub path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for LinkBase {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let OriginalUri(uri) = OriginalUri::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::bad_request("bad request URI"))?;
        let origin = origin(&parts.headers);
        let path = uri.path().to_owned();
        let prefix = if path.starts_with("/v1/") || path == "/v1" {
            "/v1"
        } else {
            ""
        };
        Ok(LinkBase {
            base: format!("{origin}{prefix}"),
            path: format!("{origin}{path}"),
        })
    }
}

fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

/// The `Idempotency-Key` header, if sent.
pub fn idempotency_header(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map(str::to_owned)
                .map_err(|_| ApiError::bad_request("Idempotency-Key must be visible ASCII"))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_normalized_outside_properties() {
        let mut v = json!({"displayName": "x", "isGuest": true, "properties": {"keepMe": 1}, "file": {"contentType": "a/b"}});
        normalize_keys(&mut v);
        assert_eq!(
            v,
            json!({"display_name": "x", "is_guest": true, "properties": {"keepMe": 1}, "file": {"content_type": "a/b"}})
        );
    }

    #[test]
    fn depth_counts_nesting() {
        assert_eq!(depth(&json!({"a": {"b": [1]}})), 3);
        assert_eq!(depth(&json!(1)), 0);
    }

    #[test]
    fn content_types() {
        assert!(is_json_type(
            "application/vnd.chatkitty+json; charset=utf-8",
            false
        ));
        assert!(is_json_type("application/json", false));
        assert!(!is_json_type("application/json+merge-patch", false));
        assert!(is_json_type("application/json+merge-patch", true));
        assert!(is_json_type("application/merge-patch+json", true));
        assert!(!is_json_type("text/plain", true));
    }
}
