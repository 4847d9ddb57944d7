//! Reads of users and their secrets.

use super::filters::{count, push_limit, push_order_by, push_properties_filter, served};
use crate::driver_error;
use crate::rows::{json_col, user_at};
use hubbub_core::Result;
use hubbub_core::ids::{AppId, UserId};
use hubbub_core::model::{User, UserFilter};
use hubbub_core::names::{SecretName, UserName};
use hubbub_core::paging::{Page, PageRequest, SortField};
use sqlx::{Executor, PgConnection, Postgres, QueryBuilder};

/// True when user `u` (the correlated alias) has an unread message: one in a channel
/// they are a member of, above their read mark there, not sent by them.
pub(crate) const HAS_UNREAD: &str = "EXISTS (SELECT 1 FROM channel_members cm \
     WHERE cm.user_id = u.id AND EXISTS (SELECT 1 FROM messages m \
     WHERE m.channel_id = cm.channel_id \
     AND m.seq > coalesce((SELECT rm.last_read_seq FROM read_marks rm \
     WHERE rm.user_id = cm.user_id AND rm.channel_id = cm.channel_id), 0) \
     AND m.user_id IS DISTINCT FROM u.id))";

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
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users u WHERE u.app_id = $1 AND u.id = $2"
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
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users u WHERE u.app_id = $1 AND u.name = $2"
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
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query("SELECT 1 FROM users WHERE app_id = $1 AND id = $2")
        .bind(app.0)
        .bind(user.0)
        .fetch_optional(e)
        .await
        .map_err(driver_error::map)?;
    Ok(row.is_some())
}

fn push_user_filter<'a>(qb: &mut QueryBuilder<'a, Postgres>, app: AppId, filter: &'a UserFilter) {
    qb.push(" WHERE u.app_id = ");
    qb.push_bind(app.0);
    if let Some(name) = &filter.name {
        qb.push(" AND u.name = ");
        qb.push_bind(name.as_str());
    }
    if let Some(props) = &filter.properties {
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

/// Run inside a read transaction, so the page and its total agree.
pub(crate) async fn list_users(
    conn: &mut PgConnection,
    app: AppId,
    filter: &UserFilter,
    page: &PageRequest,
) -> Result<Page<User>> {
    let mut select = QueryBuilder::new(concat!("SELECT ", user_columns!(), " FROM users u"));
    push_user_filter(&mut select, app, filter);
    push_order_by(&mut select, &page.sort, user_sort_column, "u.id", "u.id");
    push_limit(&mut select, page);
    let rows = select
        .build()
        .fetch_all(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    let items = rows
        .iter()
        .map(|r| user_at(r, 0))
        .collect::<Result<Vec<_>>>()?;

    let mut total = QueryBuilder::new("SELECT count(*) FROM users u");
    push_user_filter(&mut total, app, filter);
    let total: i64 = total
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    Ok(Page {
        items,
        request: served(page),
        total: count(total),
    })
}

pub(crate) async fn get_user_secret<'e, E>(
    e: E,
    app: AppId,
    user: UserId,
    name: &SecretName,
) -> Result<Option<serde_json::Value>>
where
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(
        "SELECT value FROM user_secrets WHERE app_id = $1 AND user_id = $2 AND name = $3",
    )
    .bind(app.0)
    .bind(user.0)
    .bind(name.as_str())
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|r| json_col(&r, 0, "secret")).transpose()
}
