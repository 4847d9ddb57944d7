//! Validated newtypes for what clients send. Each `parse` is the single place where a
//! rule is written; once a value is of one of these types, it is valid.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Longest user or channel name, in characters.
pub const MAX_NAME_CHARS: usize = 128;
/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 256;
/// Largest serialized `properties` object, in bytes.
pub const MAX_PROPERTIES_BYTES: usize = 16 * 1024;

fn check_name(field: &str, raw: &str, max_chars: usize) -> Result<()> {
    if raw.trim().is_empty() {
        return Err(Error::invalid(field, "must not be empty or blank"));
    }
    let chars = raw.chars().count();
    if chars > max_chars {
        return Err(Error::invalid(
            field,
            format!("must be at most {max_chars} characters (got {chars})"),
        ));
    }
    if raw.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(())
}

/// A user's unique name within an application ("username").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserName(String);

impl UserName {
    /// Accepts 1..=128 characters, no control characters, not blank, no leading or
    /// trailing whitespace (names are identifiers and are matched exactly).
    pub fn parse(raw: &str) -> Result<Self> {
        check_name("name", raw, MAX_NAME_CHARS)?;
        if raw.trim() != raw {
            return Err(Error::invalid(
                "name",
                "must not start or end with whitespace",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A channel's unique name within an application.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChannelName(String);

impl ChannelName {
    /// Same rules as [`UserName`].
    pub fn parse(raw: &str) -> Result<Self> {
        check_name("name", raw, MAX_NAME_CHARS)?;
        if raw.trim() != raw {
            return Err(Error::invalid(
                "name",
                "must not start or end with whitespace",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
    /// A fresh random name, used when a group channel is created without one.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A human readable name shown to other users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self> {
        check_name("display_name", raw, MAX_DISPLAY_NAME_CHARS)?;
        Ok(Self(raw.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message's text. The maximum size is configurable (see
/// [`Limits`](crate::limits::Limits)), so parsing takes the limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageBody(String);

impl MessageBody {
    pub fn parse(raw: &str, max_bytes: usize) -> Result<Self> {
        if raw.trim().is_empty() {
            return Err(Error::invalid("body", "must not be empty or blank"));
        }
        if raw.len() > max_bytes {
            return Err(Error::invalid(
                "body",
                format!(
                    "must be at most {max_bytes} bytes of UTF-8 (got {})",
                    raw.len()
                ),
            ));
        }
        if raw
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(Error::invalid(
                "body",
                "must not contain control characters other than newline and tab",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Custom data attached to a resource: a JSON object of bounded size.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Properties(Map<String, Value>);

impl Properties {
    /// `field` names the input for the error message.
    pub fn parse(field: &str, value: Value) -> Result<Self> {
        match value {
            Value::Object(map) => Self::from_map(field, map),
            Value::Null => Ok(Self::default()),
            _ => Err(Error::invalid(field, "must be a JSON object")),
        }
    }
    pub fn from_map(field: &str, map: Map<String, Value>) -> Result<Self> {
        let size = serde_json::to_vec(&map).map(|v| v.len()).unwrap_or(0);
        if size > MAX_PROPERTIES_BYTES {
            return Err(Error::invalid(
                field,
                format!("must serialize to at most {MAX_PROPERTIES_BYTES} bytes (got {size})"),
            ));
        }
        Ok(Self(map))
    }
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
    /// True when every key of `filter` is present here with an equal value.
    pub fn contains(&self, filter: &Map<String, Value>) -> bool {
        filter.iter().all(|(k, v)| self.0.get(k) == Some(v))
    }
}

/// A URL given by a client (display pictures, external files). Only http(s) URLs are
/// accepted so that nothing like `javascript:` ends up rendered by a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExternalUrl(String);

impl ExternalUrl {
    pub const MAX_BYTES: usize = 2048;
    pub fn parse(field: &str, raw: &str) -> Result<Self> {
        let lower = raw.to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://")) {
            return Err(Error::invalid(field, "must be an http or https URL"));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(Error::invalid(
                field,
                format!("must be at most {} bytes", Self::MAX_BYTES),
            ));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::invalid(field, "must not contain whitespace"));
        }
        if raw.len() <= "https://".len() {
            return Err(Error::invalid(field, "must name a host"));
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A client-chosen key that makes a send idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_BYTES: usize = 255;
    pub fn parse(raw: &str) -> Result<Self> {
        if raw.is_empty() || raw.len() > Self::MAX_BYTES {
            return Err(Error::invalid(
                "idempotency_key",
                format!("must be 1 to {} bytes", Self::MAX_BYTES),
            ));
        }
        if raw.chars().any(|c| c.is_control()) {
            return Err(Error::invalid(
                "idempotency_key",
                "must not contain control characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name of a user secret (`/users/{id}/secrets/{name}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretName(String);

impl SecretName {
    pub fn parse(raw: &str) -> Result<Self> {
        if raw.is_empty() || raw.len() > 128 {
            return Err(Error::invalid("name", "must be 1 to 128 bytes"));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(Error::invalid(
                "name",
                "may contain only ASCII letters, digits, '_', '-' and '.'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_names_are_checked() {
        assert!(UserName::parse("jane@example.com").is_ok());
        assert!(UserName::parse("").is_err());
        assert!(UserName::parse("   ").is_err());
        assert!(UserName::parse(" jane").is_err());
        assert!(UserName::parse("ja\u{0}ne").is_err());
        assert!(UserName::parse(&"x".repeat(MAX_NAME_CHARS)).is_ok());
        assert!(UserName::parse(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        // Limits count characters, not bytes.
        assert!(UserName::parse(&"é".repeat(MAX_NAME_CHARS)).is_ok());
    }

    #[test]
    fn message_bodies_respect_the_limit() {
        assert!(MessageBody::parse("hi", 4).is_ok());
        assert!(MessageBody::parse("hello", 4).is_err());
        assert!(MessageBody::parse("", 4).is_err());
        assert!(MessageBody::parse("a\nb", 4).is_ok());
        assert!(MessageBody::parse("a\u{7}b", 8).is_err());
    }

    #[test]
    fn properties_must_be_objects_of_bounded_size() {
        assert!(Properties::parse("properties", json!({"a": 1})).is_ok());
        assert!(Properties::parse("properties", json!([1])).is_err());
        assert!(
            Properties::parse("properties", json!(null))
                .unwrap()
                .as_map()
                .is_empty()
        );
        let big = "x".repeat(MAX_PROPERTIES_BYTES);
        assert!(Properties::parse("properties", json!({ "a": big })).is_err());
    }

    #[test]
    fn properties_filter_is_a_subset_match() {
        let p = Properties::parse("p", json!({"team": "red", "n": 1})).unwrap();
        assert!(p.contains(json!({"team": "red"}).as_object().unwrap()));
        assert!(!p.contains(json!({"team": "blue"}).as_object().unwrap()));
    }

    #[test]
    fn urls_must_be_http() {
        assert!(ExternalUrl::parse("url", "https://example.com/a.png").is_ok());
        assert!(ExternalUrl::parse("url", "javascript:alert(1)").is_err());
        assert!(ExternalUrl::parse("url", "https://").is_err());
        assert!(ExternalUrl::parse("url", "https://a b").is_err());
    }

    #[test]
    fn secret_names_are_restricted() {
        assert!(SecretName::parse("api-key_1.v2").is_ok());
        assert!(SecretName::parse("a/b").is_err());
        assert!(SecretName::parse("").is_err());
    }
}
