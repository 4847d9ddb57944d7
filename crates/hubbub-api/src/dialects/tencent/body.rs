//! Reading Tencent's PascalCase request fields. Tencent's own documents disagree on
//! some types (an `Owner_Account` printed as a number, `IsMessageDisabled` typed
//! String, `TakeSeatMode` as 1/2), so the readers accept both forms [S]. Unknown
//! fields are ignored, as Tencent does; `null` counts as absent.

use super::error::TencentError;
use hubbub_core::engine::UserRef;
use hubbub_core::names::UserName;
use serde_json::{Map, Value};

/// Longest RoomId, in bytes [S].
pub(crate) const MAX_ROOM_ID_BYTES: usize = 48;

/// A JSON object of the request, with the error code its bad fields get (100002 for
/// the live engine, 70402 for account import).
pub(crate) struct Body {
    map: Map<String, Value>,
    bad_field: u32,
}

impl Body {
    pub(crate) fn new(map: Map<String, Value>, bad_field: u32) -> Self {
        Self { map, bad_field }
    }

    pub(crate) fn bad(&self, info: impl Into<String>) -> TencentError {
        TencentError::new(self.bad_field, info)
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A nested object.
    pub(crate) fn object(&self, key: &str) -> Result<Body, TencentError> {
        match self.get(key) {
            Some(Value::Object(map)) => Ok(Body::new(map.clone(), self.bad_field)),
            Some(_) => Err(self.bad(format!("{key} must be an object"))),
            None => Err(self.bad(format!("{key} is required"))),
        }
    }

    pub(crate) fn str(&self, key: &str) -> Result<Option<&str>, TencentError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.bad(format!("{key} must be a string"))),
        }
    }

    pub(crate) fn required_str(&self, key: &str) -> Result<&str, TencentError> {
        self.str(key)?
            .ok_or_else(|| self.bad(format!("{key} is required")))
    }

    /// A string of at most `max` bytes.
    pub(crate) fn str_max(&self, key: &str, max: usize) -> Result<Option<&str>, TencentError> {
        match self.str(key)? {
            Some(s) if s.len() > max => Err(self.bad(format!(
                "{key} is {} bytes; at most {max} are allowed",
                s.len()
            ))),
            other => Ok(other),
        }
    }

    /// A boolean, also written `"true"`/`"false"` or `1`/`0`.
    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, TencentError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" => Ok(Some(false)),
            Some(Value::Number(n)) if n.as_u64() == Some(1) => Ok(Some(true)),
            Some(Value::Number(n)) if n.as_u64() == Some(0) => Ok(Some(false)),
            Some(_) => Err(self.bad(format!("{key} must be true or false"))),
        }
    }

    /// A non-negative integer.
    pub(crate) fn uint(&self, key: &str) -> Result<Option<u64>, TencentError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.bad(format!("{key} must be a non-negative integer"))),
        }
    }

    /// A signed integer.
    pub(crate) fn int(&self, key: &str) -> Result<Option<i64>, TencentError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.bad(format!("{key} must be an integer"))),
        }
    }

    /// An account id, a string (or, as one document prints it, a number).
    pub(crate) fn account(&self, key: &str) -> Result<Option<String>, TencentError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) if n.is_u64() => Ok(Some(n.to_string())),
            Some(_) => Err(self.bad(format!("{key} must be a string"))),
        }
    }

    /// A required, non-empty array of at most `max` account ids.
    pub(crate) fn accounts(&self, key: &str, max: usize) -> Result<Vec<UserRef>, TencentError> {
        let items = match self.get(key) {
            Some(Value::Array(items)) => items,
            Some(_) => return Err(self.bad(format!("{key} must be an array of account ids"))),
            None => return Err(self.bad(format!("{key} is required"))),
        };
        if items.is_empty() {
            return Err(self.bad(format!("{key} must not be empty")));
        }
        if items.len() > max {
            return Err(self.bad(format!(
                "{key} has {} accounts; at most {max} are allowed",
                items.len()
            )));
        }
        items
            .iter()
            .map(|item| match item {
                Value::String(s) => account_ref(s)
                    .map_err(|_| self.bad(format!("{key}: {s:?} is not a valid account id"))),
                _ => Err(self.bad(format!("{key} must be an array of strings"))),
            })
            .collect()
    }

    /// The request's `RoomId`: required, 1 to 48 bytes.
    pub(crate) fn room_id(&self) -> Result<&str, TencentError> {
        let id = self.required_str("RoomId")?;
        if id.is_empty() || id.len() > MAX_ROOM_ID_BYTES {
            return Err(self.bad(format!(
                "RoomId must be 1 to {MAX_ROOM_ID_BYTES} bytes (got {})",
                id.len()
            )));
        }
        Ok(id)
    }

    /// The raw value, for fields stored as given.
    pub(crate) fn value(&self, key: &str) -> Option<&Value> {
        self.get(key)
    }
}

/// An account id as a user reference (Tencent `UserID` = hubbub user name).
pub(crate) fn account_ref(id: &str) -> Result<UserRef, hubbub_core::Error> {
    UserName::parse(id).map(UserRef::Name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Body {
        match v {
            Value::Object(map) => Body::new(map, 100002),
            _ => unreachable!(),
        }
    }

    #[test]
    fn both_documented_forms_are_read() {
        let b = body(json!({
            "Owner_Account": 144115233775727695u64,
            "IsMessageDisabled": "true",
            "Flag": 0,
            "Gone": null,
        }));
        assert_eq!(
            b.account("Owner_Account").unwrap().as_deref(),
            Some("144115233775727695")
        );
        assert_eq!(b.bool("IsMessageDisabled").unwrap(), Some(true));
        assert_eq!(b.bool("Flag").unwrap(), Some(false));
        assert_eq!(b.str("Gone").unwrap(), None);
    }

    #[test]
    fn bad_fields_carry_the_body_code() {
        let b = body(json!({"RoomId": "x".repeat(49), "N": -1, "L": ["a", 1]}));
        assert_eq!(b.room_id().unwrap_err().code, 100002);
        assert_eq!(b.uint("N").unwrap_err().code, 100002);
        assert_eq!(b.accounts("L", 20).unwrap_err().code, 100002);
        assert_eq!(b.accounts("Missing", 20).unwrap_err().code, 100002);
        let accounts = Body::new(Map::new(), 70402);
        assert_eq!(accounts.required_str("UserID").unwrap_err().code, 70402);
    }

    #[test]
    fn account_lists_are_bounded_and_non_empty() {
        let b = body(json!({"L": ["a", "b", "c"], "E": []}));
        assert_eq!(b.accounts("L", 3).unwrap().len(), 3);
        assert!(b.accounts("L", 2).is_err());
        assert!(b.accounts("E", 20).is_err());
        let exact = body(json!({"RoomId": "r".repeat(MAX_ROOM_ID_BYTES)}));
        assert!(exact.room_id().is_ok());
    }
}
