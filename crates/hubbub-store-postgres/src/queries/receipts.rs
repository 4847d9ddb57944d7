//! Reads of read state: read marks, per-message read receipts, unread summaries.

use super::filters::{count, push_limit, push_order_by, served};
use crate::driver_error;
use crate::rows::{CHANNEL_WIDTH, channel_at, col, user_at};
use hubbub_core::ids::{AppId, ChannelId, MessageId, UserId};
use hubbub_core::model::{ReadMark, ReadReceipt, Timestamp, UnreadSummary};
use hubbub_core::paging::{Page, PageRequest, SortField};
use hubbub_core::{Error, Result};
use sqlx::{Executor, PgConnection, Postgres, QueryBuilder};

pub(crate) async fn get_read_mark<'e, E>(
    e: E,
    app: AppId,
    channel: ChannelId,
    user: UserId,
) -> Result<Option<ReadMark>>
where
    E: Executor<'e, Database = Postgres>,
{
    // A mark without a time (none is written so, but SQLite databases migrated from
    // before read times have them) reads as the Unix epoch, as in SQLite.
    let row: Option<(i64, Timestamp)> = sqlx::query_as(
        "SELECT last_read_seq, coalesce(read_at, 'epoch'::timestamptz) FROM read_marks \
         WHERE app_id = $1 AND channel_id = $2 AND user_id = $3",
    )
    .bind(app.0)
    .bind(channel.0)
    .bind(user.0)
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    Ok(row.map(|(last_read_seq, read_at)| ReadMark {
        channel_id: channel,
        user_id: user,
        last_read_seq,
        read_at,
    }))
}

/// Run inside a read transaction, so the page and its total agree.
pub(crate) async fn list_read_receipts(
    conn: &mut PgConnection,
    app: AppId,
    message: MessageId,
    page: &PageRequest,
) -> Result<Page<ReadReceipt>> {
    let found: Option<(i64, i64)> =
        sqlx::query_as("SELECT channel_id, seq FROM messages WHERE app_id = $1 AND id = $2")
            .bind(app.0)
            .bind(message.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(driver_error::map)?;
    let (channel, seq) = found.ok_or_else(|| Error::not_found("message"))?;
    let mut select = QueryBuilder::new(concat!(
        "SELECT min(r.read_at) AS first_read, ",
        user_columns!(),
        " FROM read_receipts r JOIN users u ON u.id = r.user_id AND u.app_id = r.app_id \
         WHERE r.app_id = "
    ));
    select.push_bind(app.0);
    select.push(" AND r.channel_id = ");
    select.push_bind(channel);
    select.push(" AND r.up_to_seq >= ");
    select.push_bind(seq);
    select.push(" GROUP BY u.id");
    push_order_by(
        &mut select,
        &page.sort,
        |f| match f {
            SortField::Id => "u.id",
            SortField::Name => "u.name",
            SortField::DisplayName => "u.display_name",
            SortField::CreatedTime => "first_read",
        },
        "first_read, u.id",
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
        .map(|row| {
            Ok(ReadReceipt {
                read_at: col(row, 0)?,
                user: user_at(row, 1)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let total: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT r.user_id) FROM read_receipts r \
         JOIN users u ON u.id = r.user_id AND u.app_id = r.app_id \
         WHERE r.app_id = $1 AND r.channel_id = $2 AND r.up_to_seq >= $3",
    )
    .bind(app.0)
    .bind(channel)
    .bind(seq)
    .fetch_one(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    Ok(Page {
        items,
        request: served(page),
        total: count(total),
    })
}

/// Each membership of the application with its unread count, as `x`
/// (`channel_id, user_id, unread`), counted by the same rule as `count_unread`:
/// `UNREAD_HEAD`, the application id, then `UNREAD_TAIL`.
const UNREAD_HEAD: &str = "(SELECT cm.channel_id, cm.user_id, \
     (SELECT count(*) FROM messages m WHERE m.channel_id = cm.channel_id \
      AND m.seq > coalesce(rm.last_read_seq, 0) \
      AND m.user_id IS DISTINCT FROM cm.user_id) AS unread \
     FROM channel_members cm \
     LEFT JOIN read_marks rm ON rm.user_id = cm.user_id AND rm.channel_id = cm.channel_id \
     WHERE cm.app_id = ";
const UNREAD_TAIL: &str = ") x";

/// Run inside a read transaction, so the page and its total agree.
pub(crate) async fn list_unread_summaries(
    conn: &mut PgConnection,
    app: AppId,
    page: &PageRequest,
) -> Result<Page<UnreadSummary>> {
    let mut select = QueryBuilder::new(format!(
        "SELECT x.unread, {}, {} FROM {UNREAD_HEAD}",
        channel_columns!(),
        user_columns!()
    ));
    select.push_bind(app.0);
    select.push(UNREAD_TAIL);
    select.push(
        " JOIN channels c ON c.id = x.channel_id JOIN users u ON u.id = x.user_id \
         WHERE x.unread > 0",
    );
    push_order_by(
        &mut select,
        &page.sort,
        |f| match f {
            SortField::Name => "u.name",
            SortField::CreatedTime => "c.created_at",
            _ => "x.channel_id",
        },
        "x.channel_id, x.user_id",
        "x.channel_id, x.user_id",
    );
    push_limit(&mut select, page);
    let rows = select
        .build()
        .fetch_all(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    let items = rows
        .iter()
        .map(|row| {
            Ok(UnreadSummary {
                count: count(col::<i64>(row, 0)?),
                channel: channel_at(row, 1)?,
                user: user_at(row, 1 + CHANNEL_WIDTH)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {UNREAD_HEAD}$1{UNREAD_TAIL} WHERE x.unread > 0"
    ))
    .bind(app.0)
    .fetch_one(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    Ok(Page {
        items,
        request: served(page),
        total: count(total),
    })
}
