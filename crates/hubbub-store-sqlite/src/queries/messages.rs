//! Reads of messages: by id, cursor-paged lists, recovery by seq, unread counts.

use super::filters::like_contains;
use crate::driver_error;
use crate::rows::message_view;
use hubbub_core::Result;
use hubbub_core::ids::{AppId, ChannelId, MessageId};
use hubbub_core::model::{MessageFilter, MessageView, ThreadFilter};
use hubbub_core::paging::{CursorDirection, CursorPage, CursorRequest, MAX_PAGE_SIZE};
use sqlx::{Executor, QueryBuilder, Sqlite, SqliteConnection};

pub(crate) async fn get_message_view<'e, E>(
    e: E,
    app: AppId,
    message: MessageId,
) -> Result<Option<MessageView>>
where
    E: Executor<'e, Database = Sqlite>,
{
    let row = sqlx::query(concat!(
        message_view_select!(),
        " WHERE m.app_id = ? AND m.id = ?"
    ))
    .bind(app.0)
    .bind(message.0)
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|r| message_view(&r)).transpose()
}

fn push_message_filter<'a>(
    qb: &mut QueryBuilder<'a, Sqlite>,
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
        // LIKE folds ASCII letters only; other scripts match case-sensitively.
        qb.push(" AND m.kind = 'text' AND m.body LIKE ");
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
        qb.push(") AND m.seq > coalesce((SELECT rm.last_read_seq FROM read_marks rm WHERE rm.user_id = ");
        qb.push_bind(reader.0);
        qb.push(" AND rm.channel_id = m.channel_id), 0) AND m.user_id IS NOT ");
        qb.push_bind(reader.0);
    }
}

/// The page query of [`list_messages`]; fetches one row more than the page size.
///
/// Within a channel, ids and seqs grow together (the single writer assigns both in
/// the same order), so a channel's history is read in seq order through its
/// `UNIQUE (channel_id, seq)` index, the cursor id translated to a seq bound. The id
/// condition stays as well, so the result is right even when the cursor message is
/// gone (then the bound is looked up, or left out).
fn page_query<'a>(
    app: AppId,
    filter: &'a MessageFilter,
    cursor: &CursorRequest,
    size: u32,
) -> QueryBuilder<'a, Sqlite> {
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
/// it (or the oldest without one), still returned newest first.
pub(crate) async fn list_messages(
    conn: &mut SqliteConnection,
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

    let mut count = QueryBuilder::new("SELECT count(*) FROM messages m");
    push_message_filter(&mut count, app, filter);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    Ok(CursorPage {
        items,
        total: u64::try_from(total).unwrap_or(0),
        has_more,
    })
}

pub(crate) async fn messages_after_seq(
    conn: &mut SqliteConnection,
    app: AppId,
    channel: ChannelId,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<MessageView>> {
    let rows = sqlx::query(concat!(
        message_view_select!(),
        " WHERE m.app_id = ? AND m.channel_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?"
    ))
    .bind(app.0)
    .bind(channel.0)
    .bind(after_seq)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    rows.iter().map(message_view).collect()
}

pub(crate) async fn count_unread(
    conn: &mut SqliteConnection,
    app: AppId,
    user: hubbub_core::ids::UserId,
) -> Result<u64> {
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM channel_members cm \
         JOIN messages m ON m.channel_id = cm.channel_id \
         WHERE cm.app_id = ? AND cm.user_id = ? \
         AND m.seq > coalesce((SELECT rm.last_read_seq FROM read_marks rm \
             WHERE rm.user_id = cm.user_id AND rm.channel_id = cm.channel_id), 0) \
         AND m.user_id IS NOT cm.user_id",
    )
    .bind(app.0)
    .bind(user.0)
    .fetch_one(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    Ok(u64::try_from(count).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    //! The hot reads must be served by an index, never by a scan plus a sort.

    use super::*;
    use crate::{SqliteOptions, SqliteStore};
    use hubbub_core::ids::UserId;
    use sqlx::ConnectOptions;
    use sqlx::sqlite::SqliteConnectOptions;

    async fn plan_of(conn: &mut SqliteConnection, sql: &str) -> String {
        let rows: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                .fetch_all(&mut *conn)
                .await
                .expect("explain");
        rows.into_iter()
            .map(|r| r.3)
            .collect::<Vec<_>>()
            .join(" | ")
    }

    #[tokio::test]
    async fn channel_history_uses_the_seq_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("plans.db");
        let store = SqliteStore::open(SqliteOptions::new(&path))
            .await
            .expect("open");
        let mut conn = SqliteConnectOptions::new()
            .filename(&path)
            .connect()
            .await
            .expect("connection");
        let in_channel = MessageFilter {
            channel_id: Some(ChannelId(1)),
            ..Default::default()
        };
        let with_cursor = |direction| CursorRequest {
            size: 25,
            cursor: Some(MessageId(100)),
            direction,
        };
        let cases = [
            (CursorRequest::default(), "(channel_id=?)"),
            (
                with_cursor(CursorDirection::Older),
                "(channel_id=? AND seq<?)",
            ),
            (
                with_cursor(CursorDirection::Newer),
                "(channel_id=? AND seq>?)",
            ),
        ];
        for (cursor, expected) in cases {
            let query = page_query(AppId(1), &in_channel, &cursor, 25);
            let plan = plan_of(&mut conn, query.sql()).await;
            assert!(plan.contains(expected), "{cursor:?}: {plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{cursor:?}: {plan}");
        }

        let app_wide = MessageFilter::default();
        let plan = plan_of(
            &mut conn,
            page_query(AppId(1), &app_wide, &CursorRequest::default(), 25).sql(),
        )
        .await;
        assert!(plan.contains("messages_by_app"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");

        let recovery = plan_of(
            &mut conn,
            concat!(
                message_view_select!(),
                " WHERE m.app_id = ? AND m.channel_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?"
            ),
        )
        .await;
        assert!(recovery.contains("(channel_id=? AND seq>?)"), "{recovery}");

        let by_sender = MessageFilter {
            channel_id: Some(ChannelId(1)),
            sender: Some(UserId(7)),
            ..Default::default()
        };
        let plan = plan_of(
            &mut conn,
            page_query(AppId(1), &by_sender, &CursorRequest::default(), 25).sql(),
        )
        .await;
        assert!(plan.contains("(channel_id=?)"), "{plan}");
        store.close().await;
    }
}
