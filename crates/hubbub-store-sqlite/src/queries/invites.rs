//! Reads of channel invites.

use super::channels::channel_exists;
use super::filters::{page_size, push_limit, push_order_by};
use crate::driver_error;
use crate::rows::{col, ts_from_db, user_at};
use hubbub_core::ids::{AppId, ChannelId, UserId};
use hubbub_core::model::Invite;
use hubbub_core::paging::{Page, PageRequest, SortField};
use hubbub_core::{Error, Result};
use sqlx::sqlite::SqliteRow;
use sqlx::{Executor, QueryBuilder, Sqlite, SqliteConnection};

/// Invites whose user is not (yet) a member: the pending ones.
const PENDING: &str = " FROM channel_invites i JOIN users u ON u.id = i.user_id AND u.app_id = i.app_id \
     WHERE NOT EXISTS (SELECT 1 FROM channel_members cm \
     WHERE cm.channel_id = i.channel_id AND cm.user_id = i.user_id)";

/// `i.channel_id, i.invited_by, i.created_at` then the user's columns.
fn invite_at(row: &SqliteRow) -> Result<Invite> {
    Ok(Invite {
        channel_id: ChannelId(col(row, 0)?),
        invited_by: col::<Option<i64>>(row, 1)?.map(UserId),
        created_at: ts_from_db(col(row, 2)?)?,
        user: user_at(row, 3)?,
    })
}

pub(crate) async fn get_pending_invite<'e, E>(
    e: E,
    app: AppId,
    channel: ChannelId,
    user: UserId,
) -> Result<Option<Invite>>
where
    E: Executor<'e, Database = Sqlite>,
{
    let sql = format!(
        "SELECT i.channel_id, i.invited_by, i.created_at, {}{PENDING} \
         AND i.app_id = ? AND i.channel_id = ? AND i.user_id = ?",
        user_columns!()
    );
    let row = sqlx::query(&sql)
        .bind(app.0)
        .bind(channel.0)
        .bind(user.0)
        .fetch_optional(e)
        .await
        .map_err(driver_error::map)?;
    row.map(|r| invite_at(&r)).transpose()
}

pub(crate) async fn list_invites(
    conn: &mut SqliteConnection,
    app: AppId,
    channel: ChannelId,
    page: &PageRequest,
) -> Result<Page<Invite>> {
    if !channel_exists(&mut *conn, app, channel).await? {
        return Err(Error::not_found("channel"));
    }
    let mut select = QueryBuilder::new(format!(
        "SELECT i.channel_id, i.invited_by, i.created_at, {}{PENDING} AND i.app_id = ",
        user_columns!()
    ));
    select.push_bind(app.0);
    select.push(" AND i.channel_id = ");
    select.push_bind(channel.0);
    push_order_by(
        &mut select,
        &page.sort,
        |f| match f {
            SortField::Id => "u.id",
            SortField::Name => "u.name",
            SortField::DisplayName => "u.display_name",
            SortField::CreatedTime => "i.created_at",
        },
        "i.created_at, u.id",
        "u.id",
    );
    push_limit(&mut select, page);
    let rows = select
        .build()
        .fetch_all(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    let items = rows.iter().map(invite_at).collect::<Result<Vec<_>>>()?;
    let mut count = QueryBuilder::new(format!("SELECT count(*){PENDING} AND i.app_id = "));
    count.push_bind(app.0);
    count.push(" AND i.channel_id = ");
    count.push_bind(channel.0);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    Ok(Page {
        items,
        request: PageRequest {
            size: page_size(page),
            ..page.clone()
        },
        total: u64::try_from(total).unwrap_or(0),
    })
}
