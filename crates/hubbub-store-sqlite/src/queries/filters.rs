//! Pieces shared by the list queries: property subset filters, sort whitelists,
//! offset paging and LIKE escaping.

use hubbub_core::paging::{MAX_PAGE_SIZE, PageRequest, SortField, SortKey};
use serde_json::{Map, Value};
use sqlx::{QueryBuilder, Sqlite};

/// One `key = value` condition of a property filter, in a form SQLite can check.
enum PropertyCondition {
    /// `null`, `true` or `false`: the JSON type says it all.
    Type(&'static str),
    Integer(i64),
    Real(f64),
    Text(String),
}

/// The filter as SQL conditions, or `None` when a value (an object, an array, an
/// integer beyond i64) cannot be compared exactly in SQL; the caller then filters in
/// Rust with [`Properties::contains`](hubbub_core::names::Properties::contains).
fn sql_conditions(filter: &Map<String, Value>) -> Option<Vec<(String, PropertyCondition)>> {
    filter
        .iter()
        .map(|(key, value)| {
            let condition = match value {
                Value::Null => PropertyCondition::Type("null"),
                Value::Bool(true) => PropertyCondition::Type("true"),
                Value::Bool(false) => PropertyCondition::Type("false"),
                Value::Number(n) => {
                    if let Some(i) = n.as_i64() {
                        PropertyCondition::Integer(i)
                    } else if n.is_f64() {
                        PropertyCondition::Real(n.as_f64()?)
                    } else {
                        return None;
                    }
                }
                Value::String(s) => PropertyCondition::Text(s.clone()),
                Value::Array(_) | Value::Object(_) => return None,
            };
            Some((key.clone(), condition))
        })
        .collect()
}

/// True when [`push_properties_filter`] can express `filter` exactly.
pub(crate) fn properties_filter_in_sql(filter: &Map<String, Value>) -> bool {
    sql_conditions(filter).is_some()
}

/// Appends `AND` conditions matching rows whose `column` (a JSON object) contains every
/// key of `filter` with an equal value. Returns false (and appends nothing) when the
/// filter needs the Rust fallback.
pub(crate) fn push_properties_filter(
    qb: &mut QueryBuilder<'_, Sqlite>,
    column: &str,
    filter: &Map<String, Value>,
) -> bool {
    let Some(conditions) = sql_conditions(filter) else {
        return false;
    };
    for (key, condition) in conditions {
        qb.push(" AND EXISTS (SELECT 1 FROM json_each(");
        qb.push(column);
        qb.push(") je WHERE je.key = ");
        qb.push_bind(key);
        match condition {
            PropertyCondition::Type(t) => {
                qb.push(" AND je.type = '");
                qb.push(t);
                qb.push("'");
            }
            PropertyCondition::Integer(i) => {
                qb.push(" AND je.type = 'integer' AND je.atom = ");
                qb.push_bind(i);
            }
            PropertyCondition::Real(f) => {
                qb.push(" AND je.type = 'real' AND je.atom = ");
                qb.push_bind(f);
            }
            PropertyCondition::Text(s) => {
                qb.push(" AND je.type = 'text' AND je.atom = ");
                qb.push_bind(s);
            }
        }
        qb.push(")");
    }
    true
}

/// Appends `ORDER BY`: the requested keys mapped through `column` (the whitelist), then
/// `tiebreak` so pages never overlap; `default` when nothing was requested.
pub(crate) fn push_order_by(
    qb: &mut QueryBuilder<'_, Sqlite>,
    sort: &[SortKey],
    column: impl Fn(SortField) -> &'static str,
    default: &'static str,
    tiebreak: &'static str,
) {
    qb.push(" ORDER BY ");
    if sort.is_empty() {
        qb.push(default);
        return;
    }
    for key in sort {
        qb.push(column(key.field));
        qb.push(if key.descending { " DESC, " } else { " ASC, " });
    }
    qb.push(tiebreak);
}

/// The page size actually served: 1 to [`MAX_PAGE_SIZE`].
pub(crate) fn page_size(page: &PageRequest) -> u32 {
    page.size.clamp(1, MAX_PAGE_SIZE)
}

/// Appends `LIMIT ... OFFSET ...` for an offset page.
pub(crate) fn push_limit(qb: &mut QueryBuilder<'_, Sqlite>, page: &PageRequest) {
    let size = page_size(page);
    qb.push(" LIMIT ");
    qb.push_bind(i64::from(size));
    qb.push(" OFFSET ");
    qb.push_bind(i64::try_from(page.page as u64 * size as u64).unwrap_or(i64::MAX));
}

/// The `items` of page `page` out of every match, for lists filtered in Rust.
pub(crate) fn slice_page<T>(all: Vec<T>, page: &PageRequest) -> Vec<T> {
    let size = page_size(page) as usize;
    let offset = (page.page as usize).saturating_mul(size);
    all.into_iter().skip(offset).take(size).collect()
}

/// A `LIKE` pattern matching `text` anywhere, with `%`, `_` and the escape character
/// itself taken literally (use with `ESCAPE '\'`).
pub(crate) fn like_contains(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_contains("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(like_contains(""), "%%");
    }

    #[test]
    fn nested_values_need_the_rust_fallback() {
        let scalar = json!({"a": 1, "b": "x", "c": null, "d": true, "e": 1.5});
        assert!(properties_filter_in_sql(scalar.as_object().unwrap()));
        let nested = json!({"a": {"b": 1}});
        assert!(!properties_filter_in_sql(nested.as_object().unwrap()));
        let huge = json!({"a": u64::MAX});
        assert!(!properties_filter_in_sql(huge.as_object().unwrap()));
    }
}
