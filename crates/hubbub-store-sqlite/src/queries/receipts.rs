//! Reads of read state: read marks, per-message read receipts, unread summaries.

use super::filters::{page_size, push_limit, push_order_by};
use crate::driver_error;
use crate::rows::{channel_at, col, ts_from_db, user_at};
use hubbub_core::ids::{AppId, ChannelId, MessageId, UserId};
use hubbub_core::model::{ReadMark, ReadReceipt, UnreadSummary};
use hubbub_core::paging::{Page, PageRequest, SortField};
use hubbub_core::{Error, Result};
use sqlx::{Executor, QueryBuilder, Sqlite, SqliteConnection};

pub(crate) async fn get_read_mark<'e, E>(
    e: E,
    app: AppId,
    channel: ChannelId,
    user: UserId,
) -> Result<Option<ReadMark>>
where
    E: Executor<'e, Database = Sqlite>,
{
    // Marks written before read times were kept read as the Unix epoch.
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT last_read_seq, coalesce(read_at, 0) FROM read_marks \
         WHERE app_id = ? AND channel_id = ? AND user_id = ?",
    )
    .bind(app.0)
    .bind(channel.0)
    .bind(user.0)
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|(last_read_seq, read_at)| {
        Ok(ReadMark {
            channel_id: channel,
            user_id: user,
            last_read_seq,
            read_at: ts_from_db(read_at)?,
        })
    })
    .transpose()
}

pub(crate) async fn list_read_receipts(
    conn: &mut SqliteConnection,
    app: AppId,
    message: MessageId,
    page: &PageRequest,
) -> Result<Page<ReadReceipt>> {
    let found: Option<(i64, i64)> =
        sqlx::query_as("SELECT channel_id, seq FROM messages WHERE app_id = ? AND id = ?")
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
    select.push(" GROUP BY r.user_id");
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
                read_at: ts_from_db(col(row, 0)?)?,
                user: user_at(row, 1)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let total: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT r.user_id) FROM read_receipts r \
         JOIN users u ON u.id = r.user_id AND u.app_id = r.app_id \
         WHERE r.app_id = ? AND r.channel_id = ? AND r.up_to_seq >= ?",
    )
    .bind(app.0)
    .bind(channel)
    .bind(seq)
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

/// Each membership of the application with its unread count, as `x`
/// (`channel_id, user_id, unread`), counted by the same rule as `count_unread`:
/// `UNREAD_HEAD`, the application id, then `UNREAD_TAIL`.
const UNREAD_HEAD: &str = "(SELECT cm.channel_id, cm.user_id, \
     (SELECT count(*) FROM messages m WHERE m.channel_id = cm.channel_id \
      AND m.seq > coalesce(rm.last_read_seq, 0) AND m.user_id IS NOT cm.user_id) AS unread \
     FROM channel_members cm \
     LEFT JOIN read_marks rm ON rm.user_id = cm.user_id AND rm.channel_id = cm.channel_id \
     WHERE cm.app_id = ";
const UNREAD_TAIL: &str = ") x";

pub(crate) async fn list_unread_summaries(
    conn: &mut SqliteConnection,
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
                count: u64::try_from(col::<i64>(row, 0)?).unwrap_or(0),
                channel: channel_at(row, 1)?,
                user: user_at(row, 13)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {UNREAD_HEAD}?{UNREAD_TAIL} WHERE x.unread > 0"
    ))
    .bind(app.0)
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
