//! kitkot takes every input as a query parameter. They are read strictly: values are
//! percent-decoded (`+` is a space, as in forms) and must be UTF-8, and a parameter
//! given twice is refused rather than guessed at.

use super::error::KitkotError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::collections::HashMap;

/// The decoded query parameters of one call.
#[derive(Debug, Default)]
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    /// Decodes a raw query string (without the `?`).
    pub(crate) fn parse(raw: &str) -> Result<Self, KitkotError> {
        let mut map = HashMap::new();
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = decode(key).ok_or_else(KitkotError::invalid_parameters)?;
            let value = decode(value).ok_or_else(KitkotError::invalid_parameters)?;
            if map.insert(key, value).is_some() {
                return Err(KitkotError::invalid_parameters());
            }
        }
        Ok(Self(map))
    }

    /// A parameter's value; an empty value counts as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A required parameter, or 400 "Invalid parameters".
    pub(crate) fn required(&self, name: &str) -> Result<&str, KitkotError> {
        self.get(name).ok_or_else(KitkotError::invalid_parameters)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = KitkotError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Params::parse(parts.uri.query().unwrap_or(""))
    }
}

/// Percent-decodes one key or value. A `%` not followed by two hex digits stays as
/// it is (browsers send a bare `%` that way); bytes that are not UTF-8 are refused.
fn decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(hex),
                bytes.get(i + 2).and_then(hex),
            ) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn hex(b: &u8) -> Option<u8> {
    (*b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_percent_decoded_utf8() {
        let p =
            Params::parse("content=Hello%20from%20a%20program!&room_id=7&x=%E4%BD%A0%E5%A5%BD+ok")
                .unwrap();
        assert_eq!(p.get("content"), Some("Hello from a program!"));
        assert_eq!(p.get("room_id"), Some("7"));
        assert_eq!(p.get("x"), Some("你好 ok"));
        assert_eq!(p.get("missing"), None);
    }

    #[test]
    fn a_bare_percent_stays_and_empty_means_absent() {
        let p = Params::parse("content=100%&a=%4&b=%zz&empty=").unwrap();
        assert_eq!(p.get("content"), Some("100%"));
        assert_eq!(p.get("a"), Some("%4"));
        assert_eq!(p.get("b"), Some("%zz"));
        assert_eq!(p.get("empty"), None);
        assert!(p.required("empty").is_err());
    }

    #[test]
    fn bad_utf8_and_repeated_parameters_are_refused() {
        assert!(Params::parse("content=%FF%FE").is_err());
        let e = Params::parse("a=1&a=2").unwrap_err();
        assert_eq!(e.msg, "Invalid parameters");
    }
}
