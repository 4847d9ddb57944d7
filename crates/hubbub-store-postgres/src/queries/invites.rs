//! Reads of channel invites.

use super::channels::require_channel;
use super::filters::{count, push_limit, push_order_by, served};
use crate::driver_error;
use crate::rows::{col, user_at};
use hubbub_core::Result;
use hubbub_core::ids::{AppId, ChannelId, UserId};
use hubbub_core::model::Invite;
use hubbub_core::paging::{Page, PageRequest, SortField};
use sqlx::postgres::PgRow;
use sqlx::{Executor, PgConnection, Postgres, QueryBuilder};

/// Invites whose user is not (yet) a member: the pending ones.
macro_rules! pending_from {
    () => {
        " FROM channel_invites i JOIN users u ON u.id = i.user_id AND u.app_id = i.app_id \
         WHERE NOT EXISTS (SELECT 1 FROM channel_members cm \
         WHERE cm.channel_id = i.channel_id AND cm.user_id = i.user_id)"
    };
}

/// `i.channel_id, i.invited_by, i.created_at` then the user's columns.
fn invite_at(row: &PgRow) -> Result<Invite> {
    Ok(Invite {
        channel_id: ChannelId(col(row, 0)?),
        invited_by: col::<Option<i64>>(row, 1)?.map(UserId),
        created_at: col(row, 2)?,
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
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(concat!(
        "SELECT i.channel_id, i.invited_by, i.created_at, ",
        user_columns!(),
        pending_from!(),
        " AND i.app_id = $1 AND i.channel_id = $2 AND i.user_id = $3"
    ))
    .bind(app.0)
    .bind(channel.0)
    .bind(user.0)
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|r| invite_at(&r)).transpose()
}

/// Run inside a read transaction, so the page and its total agree.
pub(crate) async fn list_invites(
    conn: &mut PgConnection,
    app: AppId,
    channel: ChannelId,
    page: &PageRequest,
) -> Result<Page<Invite>> {
    require_channel(&mut *conn, app, channel).await?;
    let mut select = QueryBuilder::new(concat!(
        "SELECT i.channel_id, i.invited_by, i.created_at, ",
        user_columns!(),
        pending_from!(),
        " AND i.app_id = "
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
    let total: i64 = sqlx::query_scalar(concat!(
        "SELECT count(*)",
        pending_from!(),
        " AND i.app_id = $1 AND i.channel_id = $2"
    ))
    .bind(app.0)
    .bind(channel.0)
    .fetch_one(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    Ok(Page {
        items,
        request: served(page),
        total: count(total),
    })
}
