//! Pieces shared by the list queries: property subset filters, sort whitelists,
//! offset paging and LIKE escaping.

use crate::rows::json_to_db;
use hubbub_core::paging::{MAX_PAGE_SIZE, PageRequest, SortField, SortKey};
use serde_json::{Map, Value};
use sqlx::{Postgres, QueryBuilder};

/// Appends `AND` conditions matching rows whose `column` (a JSON object) holds every
/// key of `filter` with an equal value.
///
/// Values are compared as `jsonb` text: PostgreSQL normalises both sides the same way
/// (object keys sorted, numbers kept as written), so the comparison is serde_json's
/// equality — objects regardless of key order, arrays in order, `1` unlike `1.0` —
/// for nested values too, all in SQL.
pub(crate) fn push_properties_filter(
    qb: &mut QueryBuilder<'_, Postgres>,
    column: &str,
    filter: &Map<String, Value>,
) {
    for (key, value) in filter {
        qb.push(" AND (");
        qb.push(column);
        qb.push("::jsonb -> ");
        qb.push_bind(key.clone());
        qb.push(")::text = (");
        // A serde_json::Value always serializes.
        qb.push_bind(json_to_db(value).unwrap_or_else(|_| "null".to_owned()));
        qb.push("::jsonb)::text");
    }
}

/// Appends `ORDER BY`: the requested keys mapped through `column` (the whitelist), then
/// `tiebreak` so pages never overlap; `default` when nothing was requested.
pub(crate) fn push_order_by(
    qb: &mut QueryBuilder<'_, Postgres>,
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
        // SQLite sorts NULLs first ascending and last descending; so does this.
        qb.push(if key.descending {
            " DESC NULLS LAST, "
        } else {
            " ASC NULLS FIRST, "
        });
    }
    qb.push(tiebreak);
}

/// The page size actually served: 1 to [`MAX_PAGE_SIZE`].
pub(crate) fn page_size(page: &PageRequest) -> u32 {
    page.size.clamp(1, MAX_PAGE_SIZE)
}

/// The request as served (its size clamped).
pub(crate) fn served(page: &PageRequest) -> PageRequest {
    PageRequest {
        size: page_size(page),
        ..page.clone()
    }
}

/// Appends `LIMIT ... OFFSET ...` for an offset page.
pub(crate) fn push_limit(qb: &mut QueryBuilder<'_, Postgres>, page: &PageRequest) {
    let size = page_size(page);
    qb.push(" LIMIT ");
    qb.push_bind(i64::from(size));
    qb.push(" OFFSET ");
    qb.push_bind(i64::try_from(page.page as u64 * size as u64).unwrap_or(i64::MAX));
}

/// A count as the API reports it.
pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// An `ILIKE` pattern matching `text` anywhere, with `%`, `_` and the escape character
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
    fn each_filter_key_is_one_condition_with_two_binds() {
        let mut qb = QueryBuilder::<Postgres>::new("SELECT 1 FROM users u WHERE true");
        let filter = json!({"a": 1, "b": {"c": [1, 2]}});
        push_properties_filter(&mut qb, "u.properties", filter.as_object().unwrap());
        let sql = qb.sql();
        assert_eq!(sql.matches("u.properties::jsonb -> ").count(), 2);
        assert!(sql.contains("$4::jsonb"), "{sql}");
    }
}
