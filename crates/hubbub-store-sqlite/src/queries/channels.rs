//! Reads of channels, members and moderators.

use super::filters::{
    page_size, properties_filter_in_sql, push_limit, push_order_by, push_properties_filter,
    slice_page,
};
use super::users::user_sort_column;
use crate::driver_error;
use crate::rows::{channel_at, membership, ts_to_db, user_at};
use hubbub_core::ids::{AppId, ChannelId, UserId};
use hubbub_core::model::{Channel, ChannelFilter, Membership, User};
use hubbub_core::names::ChannelName;
use hubbub_core::paging::{Page, PageRequest, SortField};
use hubbub_core::{Error, Result};
use sqlx::{Executor, QueryBuilder, Sqlite, SqliteConnection};

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
    E: Executor<'e, Database = Sqlite>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        channel_columns!(),
        " FROM channels c WHERE c.app_id = ? AND c.id = ?"
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
    E: Executor<'e, Database = Sqlite>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        channel_columns!(),
        " FROM channels c WHERE c.app_id = ? AND c.name = ?"
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
    E: Executor<'e, Database = Sqlite>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        channel_columns!(),
        " FROM channels c WHERE c.app_id = ? AND c.direct_key = ?"
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
    E: Executor<'e, Database = Sqlite>,
{
    let row = sqlx::query("SELECT 1 FROM channels WHERE app_id = ? AND id = ?")
        .bind(app.0)
        .bind(channel.0)
        .fetch_optional(e)
        .await
        .map_err(driver_error::map)?;
    Ok(row.is_some())
}

fn push_channel_filter<'a>(
    qb: &mut QueryBuilder<'a, Sqlite>,
    app: AppId,
    filter: &'a ChannelFilter,
    properties_in_sql: bool,
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
        qb.push_bind(ts_to_db(from));
    }
    if let Some(to) = filter.created_to {
        qb.push(" AND c.created_at <= ");
        qb.push_bind(ts_to_db(to));
    }
    if let (Some(props), true) = (&filter.properties, properties_in_sql) {
        push_properties_filter(qb, "c.properties", props);
    }
}

pub(crate) async fn list_channels(
    conn: &mut SqliteConnection,
    app: AppId,
    filter: &ChannelFilter,
    page: &PageRequest,
) -> Result<Page<Channel>> {
    let in_sql = filter
        .properties
        .as_ref()
        .is_none_or(properties_filter_in_sql);
    let request = PageRequest {
        size: page_size(page),
        ..page.clone()
    };

    let mut select = QueryBuilder::new(concat!("SELECT ", channel_columns!(), " FROM channels c"));
    push_channel_filter(&mut select, app, filter, in_sql);
    push_order_by(&mut select, &page.sort, channel_sort_column, "c.id", "c.id");
    if in_sql {
        push_limit(&mut select, page);
    }
    let rows = select
        .build()
        .fetch_all(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    let channels = rows
        .iter()
        .map(|r| channel_at(r, 0))
        .collect::<Result<Vec<_>>>()?;

    if !in_sql {
        let props = filter.properties.as_ref();
        let matching: Vec<Channel> = channels
            .into_iter()
            .filter(|c| props.is_none_or(|p| c.properties.contains(p)))
            .collect();
        let total = matching.len() as u64;
        return Ok(Page {
            items: slice_page(matching, page),
            request,
            total,
        });
    }

    let mut count = QueryBuilder::new("SELECT count(*) FROM channels c");
    push_channel_filter(&mut count, app, filter, true);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    Ok(Page {
        items: channels,
        request,
        total: u64::try_from(total).unwrap_or(0),
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
    E: Executor<'e, Database = Sqlite>,
{
    let sql = match role {
        Role::Member => {
            "SELECT 1 FROM channel_members WHERE app_id = ? AND channel_id = ? AND user_id = ?"
        }
        Role::Moderator => {
            "SELECT 1 FROM channel_moderators WHERE app_id = ? AND channel_id = ? AND user_id = ?"
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

/// Counts the users holding `role` in `channel` and pushes the common FROM/WHERE.
fn push_role_from<'a>(
    qb: &mut QueryBuilder<'a, Sqlite>,
    role: Role,
    app: AppId,
    channel: ChannelId,
) {
    qb.push(" FROM ");
    qb.push(role.table());
    qb.push(" r JOIN users u ON u.id = r.user_id AND u.app_id = r.app_id WHERE r.app_id = ");
    qb.push_bind(app.0);
    qb.push(" AND r.channel_id = ");
    qb.push_bind(channel.0);
}

async fn count_role(
    conn: &mut SqliteConnection,
    role: Role,
    app: AppId,
    channel: ChannelId,
) -> Result<u64> {
    let mut count = QueryBuilder::new("SELECT count(*)");
    push_role_from(&mut count, role, app, channel);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    Ok(u64::try_from(total).unwrap_or(0))
}

async fn require_channel(
    conn: &mut SqliteConnection,
    app: AppId,
    channel: ChannelId,
) -> Result<()> {
    if channel_exists(&mut *conn, app, channel).await? {
        Ok(())
    } else {
        Err(Error::not_found("channel"))
    }
}

/// Users holding `role` in `channel`, paged; default order: when they got the role.
/// Sorting by created time sorts by the users' creation.
pub(crate) async fn list_role(
    conn: &mut SqliteConnection,
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
        request: PageRequest {
            size: page_size(page),
            ..page.clone()
        },
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
    conn: &mut SqliteConnection,
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
        request: PageRequest {
            size: page_size(page),
            ..page.clone()
        },
        total: count_role(&mut *conn, Role::Member, app, channel).await?,
    })
}

pub(crate) async fn direct_members(
    conn: &mut SqliteConnection,
    app: AppId,
    channel: ChannelId,
) -> Result<Vec<User>> {
    require_channel(&mut *conn, app, channel).await?;
    let rows = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM channel_members r JOIN users u ON u.id = r.user_id AND u.app_id = r.app_id \
         WHERE r.app_id = ? AND r.channel_id = ? ORDER BY u.id"
    ))
    .bind(app.0)
    .bind(channel.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    rows.iter().map(|r| user_at(r, 0)).collect()
}
