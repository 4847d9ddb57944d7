//! Reads of users and their secrets.

use super::filters::{
    page_size, properties_filter_in_sql, push_limit, push_order_by, push_properties_filter,
    slice_page,
};
use crate::driver_error;
use crate::rows::{col, user_at};
use hubbub_core::ids::{AppId, UserId};
use hubbub_core::model::{User, UserFilter};
use hubbub_core::names::{SecretName, UserName};
use hubbub_core::paging::{Page, PageRequest, SortField};
use hubbub_core::{Error, Result};
use sqlx::{Executor, QueryBuilder, Sqlite, SqliteConnection};

/// True when user `u` (the correlated alias) has an unread message: one in a channel
/// they are a member of, above their read mark there, not sent by them.
pub(crate) const HAS_UNREAD: &str = "EXISTS (SELECT 1 FROM channel_members cm \
     WHERE cm.user_id = u.id AND EXISTS (SELECT 1 FROM messages m \
     WHERE m.channel_id = cm.channel_id \
     AND m.seq > coalesce((SELECT rm.last_read_seq FROM read_marks rm \
     WHERE rm.user_id = cm.user_id AND rm.channel_id = cm.channel_id), 0) \
     AND m.user_id IS NOT u.id))";

/// Sort whitelist of users.
pub(crate) fn user_sort_column(field: SortField) -> &'static str {
    match field {
        SortField::Id => "u.id",
        SortField::Name => "u.name",
        SortField::DisplayName => "u.display_name",
        SortField::CreatedTime => "u.created_at",
    }
}

pub(crate) async fn get_user<'e, E>(e: E, app: AppId, user: UserId) -> Result<Option<User>>
where
    E: Executor<'e, Database = Sqlite>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users u WHERE u.app_id = ? AND u.id = ?"
    ))
    .bind(app.0)
    .bind(user.0)
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|r| user_at(&r, 0)).transpose()
}

pub(crate) async fn get_user_by_name<'e, E>(
    e: E,
    app: AppId,
    name: &UserName,
) -> Result<Option<User>>
where
    E: Executor<'e, Database = Sqlite>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users u WHERE u.app_id = ? AND u.name = ?"
    ))
    .bind(app.0)
    .bind(name.as_str())
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|r| user_at(&r, 0)).transpose()
}

pub(crate) async fn user_exists<'e, E>(e: E, app: AppId, user: UserId) -> Result<bool>
where
    E: Executor<'e, Database = Sqlite>,
{
    let row = sqlx::query("SELECT 1 FROM users WHERE app_id = ? AND id = ?")
        .bind(app.0)
        .bind(user.0)
        .fetch_optional(e)
        .await
        .map_err(driver_error::map)?;
    Ok(row.is_some())
}

fn push_user_filter<'a>(
    qb: &mut QueryBuilder<'a, Sqlite>,
    app: AppId,
    filter: &'a UserFilter,
    properties_in_sql: bool,
) {
    qb.push(" WHERE u.app_id = ");
    qb.push_bind(app.0);
    if let Some(name) = &filter.name {
        qb.push(" AND u.name = ");
        qb.push_bind(name.as_str());
    }
    if let (Some(props), true) = (&filter.properties, properties_in_sql) {
        push_properties_filter(qb, "u.properties", props);
    }
    match filter.has_unread {
        Some(true) => {
            qb.push(" AND ");
            qb.push(HAS_UNREAD);
        }
        Some(false) => {
            qb.push(" AND NOT ");
            qb.push(HAS_UNREAD);
        }
        None => {}
    }
}

pub(crate) async fn list_users(
    conn: &mut SqliteConnection,
    app: AppId,
    filter: &UserFilter,
    page: &PageRequest,
) -> Result<Page<User>> {
    let in_sql = filter
        .properties
        .as_ref()
        .is_none_or(properties_filter_in_sql);
    let request = PageRequest {
        size: page_size(page),
        ..page.clone()
    };

    let mut select = QueryBuilder::new(concat!("SELECT ", user_columns!(), " FROM users u"));
    push_user_filter(&mut select, app, filter, in_sql);
    push_order_by(&mut select, &page.sort, user_sort_column, "u.id", "u.id");
    if in_sql {
        push_limit(&mut select, page);
    }
    let rows = select
        .build()
        .fetch_all(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    let users = rows
        .iter()
        .map(|r| user_at(r, 0))
        .collect::<Result<Vec<_>>>()?;

    if !in_sql {
        // A property filter SQLite cannot compare exactly: filter every match here.
        let props = filter.properties.as_ref();
        let matching: Vec<User> = users
            .into_iter()
            .filter(|u| props.is_none_or(|p| u.properties.contains(p)))
            .collect();
        let total = matching.len() as u64;
        return Ok(Page {
            items: slice_page(matching, page),
            request,
            total,
        });
    }

    let mut count = QueryBuilder::new("SELECT count(*) FROM users u");
    push_user_filter(&mut count, app, filter, true);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    Ok(Page {
        items: users,
        request,
        total: u64::try_from(total).unwrap_or(0),
    })
}

pub(crate) async fn get_user_secret<'e, E>(
    e: E,
    app: AppId,
    user: UserId,
    name: &SecretName,
) -> Result<Option<serde_json::Value>>
where
    E: Executor<'e, Database = Sqlite>,
{
    let row =
        sqlx::query("SELECT value FROM user_secrets WHERE app_id = ? AND user_id = ? AND name = ?")
            .bind(app.0)
            .bind(user.0)
            .bind(name.as_str())
            .fetch_optional(e)
            .await
            .map_err(driver_error::map)?;
    row.map(|r| {
        let raw: &str = col(&r, 0)?;
        serde_json::from_str(raw)
            .map_err(|e| Error::Internal(format!("stored secret is invalid: {e}")))
    })
    .transpose()
}
