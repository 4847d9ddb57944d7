//! Request decoding for PRISM: path ids, and JSON bodies whose fields PRISM types
//! loosely (its tables say String where its examples print numbers, so ids, counts
//! and page tokens are accepted as a number or a string).

use super::error::PrismError;
use crate::AppState;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use hubbub_core::ids::{ChannelId, MessageId, UserId};
use serde_json::{Map, Value};

/// The path parameters of a route, as strings.
pub(crate) struct PathParams(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for PathParams {
    type Rejection = PrismError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, PrismError> {
        // A path that does not decode names nothing.
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|_| PrismError::not_found("no such resource"))?;
        Ok(Self(params))
    }
}

impl PathParams {
    fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// `{liveId}`: a channel id in decimal. Anything else names no live.
    pub(crate) fn live(&self) -> Result<ChannelId, PrismError> {
        positive(self.get("liveId"))
            .map(ChannelId)
            .ok_or_else(|| PrismError::not_found("live not found"))
    }

    /// `{userId}` (a view-chat `authorId`): a user id in decimal.
    pub(crate) fn user(&self) -> Result<UserId, PrismError> {
        positive(self.get("userId"))
            .map(UserId)
            .ok_or_else(|| PrismError::not_found("user not found"))
    }

    /// `{channelId}`: PRISM's channel is the streamer, so a user id in decimal.
    pub(crate) fn channel(&self) -> Result<UserId, PrismError> {
        positive(self.get("channelId"))
            .map(UserId)
            .ok_or_else(|| PrismError::not_found("channel not found"))
    }

    /// `{chatId}`: a message id in decimal.
    pub(crate) fn chat(&self) -> Result<MessageId, PrismError> {
        positive(self.get("chatId"))
            .map(MessageId)
            .ok_or_else(|| PrismError::not_found("chat message not found"))
    }
}

fn positive(raw: &str) -> Option<i64> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse::<i64>().ok().filter(|id| *id > 0)
}

/// A JSON object body. An empty body is an empty object (PRISM's own request
/// examples send none); anything but an object is refused.
pub(crate) struct JsonObject(pub(crate) Map<String, Value>);

impl FromRequest<AppState> for JsonObject {
    type Rejection = PrismError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, PrismError> {
        let limit = state.config.max_body_bytes;
        let bytes = axum::body::to_bytes(request.into_body(), limit)
            .await
            .map_err(|_| PrismError::payload_too_large(limit))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Map::new()));
        }
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| PrismError::invalid(format!("the body is not valid JSON: {e}")))?;
        if depth(&value) > state.config.max_json_depth {
            return Err(PrismError::invalid(format!(
                "the body nests deeper than {} levels",
                state.config.max_json_depth
            )));
        }
        match value {
            Value::Object(map) => Ok(Self(map)),
            _ => Err(PrismError::invalid("the body must be a JSON object")),
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
    /// A whole number given as a JSON number or a string of digits; `null` or
    /// absent is `None`.
    pub(crate) fn integer(&self, name: &str) -> Result<Option<i64>, PrismError> {
        let bad = || PrismError::invalid(format!("{name} must be a whole number"));
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(bad),
            Some(Value::String(s)) => {
                let s = s.trim();
                let digits = s.strip_prefix('-').unwrap_or(s);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                s.parse::<i64>().map(Some).map_err(|_| bad())
            }
            Some(_) => Err(bad()),
        }
    }

    /// A string; `null` or absent is `None`.
    pub(crate) fn string(&self, name: &str) -> Result<Option<&str>, PrismError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(PrismError::invalid(format!("{name} must be a string"))),
        }
    }

    /// A token typed String but printed as a number in PRISM's examples: a string,
    /// or a number taken as its decimal text. Absent, `null` or `""` is `None`.
    pub(crate) fn token(&self, name: &str) -> Result<Option<String>, PrismError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(PrismError::invalid(format!(
                "{name} must be a string or a number"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> JsonObject {
        JsonObject(v.as_object().unwrap().clone())
    }

    #[test]
    fn numbers_are_accepted_as_numbers_or_digit_strings() {
        let b = body(
            json!({"a": 5, "b": "12", "c": " 7 ", "d": null, "e": "1e3", "f": 1.5, "g": true, "h": "-3"}),
        );
        assert_eq!(b.integer("a").unwrap(), Some(5));
        assert_eq!(b.integer("b").unwrap(), Some(12));
        assert_eq!(b.integer("c").unwrap(), Some(7));
        assert_eq!(b.integer("d").unwrap(), None);
        assert_eq!(b.integer("missing").unwrap(), None);
        assert_eq!(b.integer("h").unwrap(), Some(-3));
        for bad in ["e", "f", "g"] {
            assert!(b.integer(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tokens_are_strings_or_numbers() {
        let b = body(json!({"a": "abc", "b": 8239, "c": "", "d": [1]}));
        assert_eq!(b.token("a").unwrap().as_deref(), Some("abc"));
        assert_eq!(b.token("b").unwrap().as_deref(), Some("8239"));
        assert_eq!(b.token("c").unwrap(), None);
        assert!(b.token("d").is_err());
    }

    #[test]
    fn path_ids_are_positive_decimals() {
        assert_eq!(positive("42"), Some(42));
        for bad in ["", "0", "-1", "+1", "1e3", "abc", "99999999999999999999"] {
            assert_eq!(positive(bad), None, "{bad}");
        }
    }
}
