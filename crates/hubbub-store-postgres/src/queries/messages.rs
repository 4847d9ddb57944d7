//! Reads of messages: by id, cursor-paged lists, recovery by seq, unread counts.

use super::filters::{count, like_contains};
use crate::driver_error;
use crate::rows::message_view;
use hubbub_core::Result;
use hubbub_core::ids::{AppId, ChannelId, MessageId, UserId};
use hubbub_core::model::{MessageFilter, MessageView, ThreadFilter};
use hubbub_core::paging::{CursorDirection, CursorPage, CursorRequest, MAX_PAGE_SIZE};
use sqlx::{Executor, PgConnection, Postgres, QueryBuilder};

pub(crate) async fn get_message_view<'e, E>(
    e: E,
    app: AppId,
    message: MessageId,
) -> Result<Option<MessageView>>
where
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(concat!(
        message_view_select!(),
        " WHERE m.app_id = $1 AND m.id = $2"
    ))
    .bind(app.0)
    .bind(message.0)
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|r| message_view(&r)).transpose()
}

fn push_message_filter<'a>(
    qb: &mut QueryBuilder<'a, Postgres>,
    app: AppId,
    filter: &'a MessageFilter,
) {
    qb.push(" WHERE m.app_id = ");
    qb.push_bind(app.0);
    if let Some(channel) = filter.channel_id {
        qb.push(" AND m.channel_id = ");
        qb.push_bind(channel.0);
    }
    if let Some(sender) = filter.sender {
        qb.push(" AND m.user_id = ");
        qb.push_bind(sender.0);
    }
    if let Some(name) = &filter.sender_name {
        qb.push(" AND m.user_id IN (SELECT id FROM users WHERE app_id = ");
        qb.push_bind(app.0);
        qb.push(" AND name = ");
        qb.push_bind(name.as_str());
        qb.push(")");
    }
    if let Some(query) = &filter.query {
        qb.push(" AND m.kind = 'text' AND m.body ILIKE ");
        qb.push_bind(like_contains(query));
        qb.push(" ESCAPE '\\'");
    }
    if let Some(member) = filter.member {
        qb.push(" AND m.channel_id IN (SELECT channel_id FROM channel_members WHERE app_id = ");
        qb.push_bind(app.0);
        qb.push(" AND user_id = ");
        qb.push_bind(member.0);
        qb.push(")");
    }
    match filter.thread {
        None => {}
        Some(ThreadFilter::TopLevel) => {
            qb.push(" AND m.parent_id IS NULL");
        }
        Some(ThreadFilter::RepliesTo(parent)) => {
            qb.push(" AND m.parent_id = ");
            qb.push_bind(parent.0);
        }
    }
    if let Some(reader) = filter.unread_for {
        qb.push(" AND m.channel_id IN (SELECT channel_id FROM channel_members WHERE app_id = ");
        qb.push_bind(app.0);
        qb.push(" AND user_id = ");
        qb.push_bind(reader.0);
        qb.push(
            ") AND m.seq > coalesce((SELECT rm.last_read_seq FROM read_marks rm \
             WHERE rm.user_id = ",
        );
        qb.push_bind(reader.0);
        qb.push(" AND rm.channel_id = m.channel_id), 0) AND m.user_id IS DISTINCT FROM ");
        qb.push_bind(reader.0);
    }
}

/// The page query of [`list_messages`]; fetches one row more than the page size.
///
/// Within a channel ids and seqs grow together — the writer takes message ids only
/// after it holds the channel's row lock, on every node — so a channel's history is
/// read in seq order through `UNIQUE (channel_id, seq)`, the cursor id translated to a
/// seq bound. The id condition stays as well, so the result is right even when the
/// cursor message is gone (then the bound is looked up, or left out).
fn page_query<'a>(
    app: AppId,
    filter: &'a MessageFilter,
    cursor: &CursorRequest,
    size: u32,
) -> QueryBuilder<'a, Postgres> {
    let newer = cursor.direction == CursorDirection::Newer;
    let mut select = QueryBuilder::new(message_view_select!());
    push_message_filter(&mut select, app, filter);
    if let Some(at) = cursor.cursor {
        select.push(if newer {
            " AND m.id > "
        } else {
            " AND m.id < "
        });
        select.push_bind(at.0);
        if let Some(channel) = filter.channel_id {
            select.push(if newer {
                " AND m.seq > "
            } else {
                " AND m.seq < "
            });
            select.push("coalesce((SELECT x.seq FROM messages x WHERE x.id = ");
            select.push_bind(at.0);
            select.push(" AND x.channel_id = ");
            select.push_bind(channel.0);
            if newer {
                // A vanished cursor: the seq of the newest message below it.
                select.push("), (SELECT x.seq FROM messages x WHERE x.channel_id = ");
                select.push_bind(channel.0);
                select.push(" AND x.id < ");
                select.push_bind(at.0);
                select.push(" ORDER BY x.seq DESC LIMIT 1), 0)");
            } else {
                select.push("), 9223372036854775807)");
            }
        }
    }
    let order = match (filter.channel_id.is_some(), newer) {
        (true, false) => " ORDER BY m.seq DESC LIMIT ",
        (true, true) => " ORDER BY m.seq ASC LIMIT ",
        (false, false) => " ORDER BY m.id DESC LIMIT ",
        (false, true) => " ORDER BY m.id ASC LIMIT ",
    };
    select.push(order);
    // One more than asked tells whether there is more beyond this page.
    select.push_bind(i64::from(size) + 1);
    select
}

/// Messages matching `filter`, newest first. `Older` takes the `size` messages just
/// below the cursor (or the newest without one); `Newer` the `size` messages just above
/// it (or the oldest without one), still returned newest first. Run inside a read
/// transaction, so the page and its total agree.
pub(crate) async fn list_messages(
    conn: &mut PgConnection,
    app: AppId,
    filter: &MessageFilter,
    cursor: &CursorRequest,
) -> Result<CursorPage<MessageView>> {
    let size = cursor.size.clamp(1, MAX_PAGE_SIZE);
    let rows = page_query(app, filter, cursor, size)
        .build()
        .fetch_all(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    let has_more = rows.len() > size as usize;
    let mut items = rows
        .iter()
        .take(size as usize)
        .map(message_view)
        .collect::<Result<Vec<_>>>()?;
    if cursor.direction == CursorDirection::Newer {
        items.reverse();
    }

    let mut total = QueryBuilder::new("SELECT count(*) FROM messages m");
    push_message_filter(&mut total, app, filter);
    let total: i64 = total
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    Ok(CursorPage {
        items,
        total: count(total),
        has_more,
    })
}

pub(crate) async fn messages_after_seq<'e, E>(
    e: E,
    app: AppId,
    channel: ChannelId,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<MessageView>>
where
    E: Executor<'e, Database = Postgres>,
{
    let rows = sqlx::query(concat!(
        message_view_select!(),
        " WHERE m.app_id = $1 AND m.channel_id = $2 AND m.seq > $3 ORDER BY m.seq LIMIT $4"
    ))
    .bind(app.0)
    .bind(channel.0)
    .bind(after_seq)
    .bind(i64::from(limit))
    .fetch_all(e)
    .await
    .map_err(driver_error::map)?;
    rows.iter().map(message_view).collect()
}

pub(crate) async fn count_unread<'e, E>(e: E, app: AppId, user: UserId) -> Result<u64>
where
    E: Executor<'e, Database = Postgres>,
{
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM channel_members cm \
         JOIN messages m ON m.channel_id = cm.channel_id \
         WHERE cm.app_id = $1 AND cm.user_id = $2 \
         AND m.seq > coalesce((SELECT rm.last_read_seq FROM read_marks rm \
             WHERE rm.user_id = cm.user_id AND rm.channel_id = cm.channel_id), 0) \
         AND m.user_id IS DISTINCT FROM cm.user_id",
    )
    .bind(app.0)
    .bind(user.0)
    .fetch_one(e)
    .await
    .map_err(driver_error::map)?;
    Ok(count(total))
}
