//! Reads of channels, members and moderators.

use super::filters::{count, push_limit, push_order_by, push_properties_filter, served};
use super::users::user_sort_column;
use crate::driver_error;
use crate::rows::{channel_at, membership, user_at};
use hubbub_core::ids::{AppId, ChannelId, UserId};
use hubbub_core::model::{Channel, ChannelFilter, Membership, User};
use hubbub_core::names::ChannelName;
use hubbub_core::paging::{Page, PageRequest, SortField};
use hubbub_core::{Error, Result};
use sqlx::{Executor, PgConnection, Postgres, QueryBuilder};

/// The two role tables a user can have in a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Member,
    Moderator,
}

impl Role {
    pub(crate) fn table(self) -> &'static str {
        match self {
            Role::Member => "channel_members",
            Role::Moderator => "channel_moderators",
        }
    }
    pub(crate) fn resource(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Moderator => "moderator",
        }
    }
}

fn channel_sort_column(field: SortField) -> &'static str {
    match field {
        SortField::Id => "c.id",
        SortField::Name => "c.name",
        SortField::DisplayName => "c.display_name",
        SortField::CreatedTime => "c.created_at",
    }
}

pub(crate) async fn get_channel<'e, E>(
    e: E,
    app: AppId,
    channel: ChannelId,
) -> Result<Option<Channel>>
where
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        channel_columns!(),
        " FROM channels c WHERE c.app_id = $1 AND c.id = $2"
    ))
    .bind(app.0)
    .bind(channel.0)
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|r| channel_at(&r, 0)).transpose()
}

pub(crate) async fn get_channel_by_name<'e, E>(
    e: E,
    app: AppId,
    name: &ChannelName,
) -> Result<Option<Channel>>
where
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        channel_columns!(),
        " FROM channels c WHERE c.app_id = $1 AND c.name = $2"
    ))
    .bind(app.0)
    .bind(name.as_str())
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|r| channel_at(&r, 0)).transpose()
}

pub(crate) async fn find_direct_channel<'e, E>(
    e: E,
    app: AppId,
    direct_key: &str,
) -> Result<Option<Channel>>
where
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        channel_columns!(),
        " FROM channels c WHERE c.app_id = $1 AND c.direct_key = $2"
    ))
    .bind(app.0)
    .bind(direct_key)
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|r| channel_at(&r, 0)).transpose()
}

pub(crate) async fn channel_exists<'e, E>(e: E, app: AppId, channel: ChannelId) -> Result<bool>
where
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query("SELECT 1 FROM channels WHERE app_id = $1 AND id = $2")
        .bind(app.0)
        .bind(channel.0)
        .fetch_optional(e)
        .await
        .map_err(driver_error::map)?;
    Ok(row.is_some())
}

pub(crate) async fn require_channel(
    conn: &mut PgConnection,
    app: AppId,
    channel: ChannelId,
) -> Result<()> {
    if channel_exists(&mut *conn, app, channel).await? {
        Ok(())
    } else {
        Err(Error::not_found("channel"))
    }
}

fn push_channel_filter<'a>(
    qb: &mut QueryBuilder<'a, Postgres>,
    app: AppId,
    filter: &'a ChannelFilter,
) {
    qb.push(" WHERE c.app_id = ");
    qb.push_bind(app.0);
    if let Some(kind) = filter.kind {
        qb.push(" AND c.kind = ");
        qb.push_bind(kind.as_str());
    }
    for user in filter.members.iter().chain(filter.member.iter()) {
        qb.push(
            " AND EXISTS (SELECT 1 FROM channel_members cm \
             WHERE cm.channel_id = c.id AND cm.user_id = ",
        );
        qb.push_bind(user.0);
        qb.push(")");
    }
    // The engine resolves names into `members`; honouring them here too keeps the
    // store correct if it is called directly.
    for name in &filter.member_names {
        qb.push(
            " AND EXISTS (SELECT 1 FROM channel_members cm JOIN users mu ON mu.id = cm.user_id \
             WHERE cm.channel_id = c.id AND mu.app_id = c.app_id AND mu.name = ",
        );
        qb.push_bind(name.as_str());
        qb.push(")");
    }
    if let Some(from) = filter.created_from {
        qb.push(" AND c.created_at >= ");
        qb.push_bind(from);
    }
    if let Some(to) = filter.created_to {
        qb.push(" AND c.created_at <= ");
        qb.push_bind(to);
    }
    if let Some(props) = &filter.properties {
        push_properties_filter(qb, "c.properties", props);
    }
}

/// Run inside a read transaction, so the page and its total agree.
pub(crate) async fn list_channels(
    conn: &mut PgConnection,
    app: AppId,
    filter: &ChannelFilter,
    page: &PageRequest,
) -> Result<Page<Channel>> {
    let mut select = QueryBuilder::new(concat!("SELECT ", channel_columns!(), " FROM channels c"));
    push_channel_filter(&mut select, app, filter);
    push_order_by(&mut select, &page.sort, channel_sort_column, "c.id", "c.id");
    push_limit(&mut select, page);
    let rows = select
        .build()
        .fetch_all(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    let items = rows
        .iter()
        .map(|r| channel_at(r, 0))
        .collect::<Result<Vec<_>>>()?;

    let mut total = QueryBuilder::new("SELECT count(*) FROM channels c");
    push_channel_filter(&mut total, app, filter);
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

pub(crate) async fn has_role<'e, E>(
    e: E,
    role: Role,
    app: AppId,
    channel: ChannelId,
    user: UserId,
) -> Result<bool>
where
    E: Executor<'e, Database = Postgres>,
{
    let sql = match role {
        Role::Member => {
            "SELECT 1 FROM channel_members WHERE app_id = $1 AND channel_id = $2 AND user_id = $3"
        }
        Role::Moderator => {
            "SELECT 1 FROM channel_moderators \
             WHERE app_id = $1 AND channel_id = $2 AND user_id = $3"
        }
    };
    let row = sqlx::query(sql)
        .bind(app.0)
        .bind(channel.0)
        .bind(user.0)
        .fetch_optional(e)
        .await
        .map_err(driver_error::map)?;
    Ok(row.is_some())
}

/// The common FROM/WHERE of the users holding `role` in `channel`.
fn push_role_from(qb: &mut QueryBuilder<'_, Postgres>, role: Role, app: AppId, channel: ChannelId) {
    qb.push(" FROM ");
    qb.push(role.table());
    qb.push(" r JOIN users u ON u.id = r.user_id AND u.app_id = r.app_id WHERE r.app_id = ");
    qb.push_bind(app.0);
    qb.push(" AND r.channel_id = ");
    qb.push_bind(channel.0);
}

async fn count_role(
    conn: &mut PgConnection,
    role: Role,
    app: AppId,
    channel: ChannelId,
) -> Result<u64> {
    let mut total = QueryBuilder::new("SELECT count(*)");
    push_role_from(&mut total, role, app, channel);
    let total: i64 = total
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    Ok(count(total))
}

/// Users holding `role` in `channel`, paged; default order: when they got the role.
/// Sorting by created time sorts by the users' creation.
pub(crate) async fn list_role(
    conn: &mut PgConnection,
    role: Role,
    app: AppId,
    channel: ChannelId,
    page: &PageRequest,
) -> Result<Page<User>> {
    require_channel(&mut *conn, app, channel).await?;
    let mut select = QueryBuilder::new(concat!("SELECT ", user_columns!()));
    push_role_from(&mut select, role, app, channel);
    push_order_by(
        &mut select,
        &page.sort,
        user_sort_column,
        "r.created_at, u.id",
        "u.id",
    );
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
    Ok(Page {
        items,
        request: served(page),
        total: count_role(&mut *conn, role, app, channel).await?,
    })
}

fn membership_sort_column(field: SortField) -> &'static str {
    match field {
        SortField::CreatedTime => "r.created_at",
        other => user_sort_column(other),
    }
}

pub(crate) async fn list_memberships(
    conn: &mut PgConnection,
    app: AppId,
    channel: ChannelId,
    page: &PageRequest,
) -> Result<Page<Membership>> {
    require_channel(&mut *conn, app, channel).await?;
    let mut select = QueryBuilder::new(concat!(
        "SELECT r.channel_id, r.created_at, ",
        user_columns!()
    ));
    push_role_from(&mut select, Role::Member, app, channel);
    push_order_by(
        &mut select,
        &page.sort,
        membership_sort_column,
        "r.created_at, u.id",
        "u.id",
    );
    push_limit(&mut select, page);
    let rows = select
        .build()
        .fetch_all(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    let items = rows.iter().map(membership).collect::<Result<Vec<_>>>()?;
    Ok(Page {
        items,
        request: served(page),
        total: count_role(&mut *conn, Role::Member, app, channel).await?,
    })
}

pub(crate) async fn direct_members(
    conn: &mut PgConnection,
    app: AppId,
    channel: ChannelId,
) -> Result<Vec<User>> {
    require_channel(&mut *conn, app, channel).await?;
    let rows = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM channel_members r JOIN users u ON u.id = r.user_id AND u.app_id = r.app_id \
         WHERE r.app_id = $1 AND r.channel_id = $2 ORDER BY u.id"
    ))
    .bind(app.0)
    .bind(channel.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    rows.iter().map(|r| user_at(r, 0)).collect()
}
