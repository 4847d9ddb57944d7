//! Reads of notifications, each joined with the message that caused it and, for a
//! reply, the message replied to (with their authors).

use super::filters::count;
use crate::driver_error;
use crate::rows::{MESSAGE_WIDTH, USER_WIDTH, col, message_at, optional_user_at};
use hubbub_core::ids::{AppId, ChannelId, MessageId, NotificationId, UserId};
use hubbub_core::model::{
    MessageView, Notification, NotificationCursor, NotificationKind, NotificationView,
};
use hubbub_core::paging::{CursorDirection, CursorPage, MAX_PAGE_SIZE};
use hubbub_core::{Error, Result};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, QueryBuilder};
use std::sync::LazyLock;

const NOTIFICATION_COLUMNS: &str = "n.id, n.app_id, n.user_id, n.kind, n.title, n.body, \
     n.channel_id, n.message_id, n.created_at, n.read_at, n.muted";
const NOTIFICATION_WIDTH: usize = 11;

/// The select of a notification view: the notification, its message `m` and author
/// `u`, the parent message `p` and its author `pu` (the last two may be NULLs).
static SELECT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {NOTIFICATION_COLUMNS}, {m}, {u}, {p}, {pu} FROM notifications n \
         JOIN messages m ON m.id = n.message_id AND m.app_id = n.app_id \
         LEFT JOIN users u ON u.id = m.user_id AND u.app_id = m.app_id \
         LEFT JOIN messages p ON p.id = m.parent_id AND p.app_id = m.app_id \
         LEFT JOIN users pu ON pu.id = p.user_id AND pu.app_id = p.app_id",
        m = message_columns!(),
        u = user_columns!(),
        p = message_columns!().replace("m.", "p."),
        pu = user_columns!().replace("u.", "pu."),
    )
});

fn notification_at(row: &PgRow) -> Result<Notification> {
    let kind: &str = col(row, 3)?;
    Ok(Notification {
        id: NotificationId(col(row, 0)?),
        app_id: AppId(col(row, 1)?),
        user_id: UserId(col(row, 2)?),
        kind: NotificationKind::parse(kind).ok_or_else(|| {
            Error::Internal(format!("stored notification kind is invalid: {kind}"))
        })?,
        title: col(row, 4)?,
        body: col(row, 5)?,
        channel_id: ChannelId(col(row, 6)?),
        message_id: MessageId(col(row, 7)?),
        created_at: col(row, 8)?,
        read_at: col(row, 9)?,
        muted: col(row, 10)?,
    })
}

fn notification_view(row: &PgRow) -> Result<NotificationView> {
    let m = NOTIFICATION_WIDTH;
    let p = m + MESSAGE_WIDTH + USER_WIDTH;
    let parent = match col::<Option<i64>>(row, p)? {
        Some(_) => Some(MessageView {
            message: message_at(row, p)?,
            user: optional_user_at(row, p + MESSAGE_WIDTH)?,
        }),
        None => None,
    };
    Ok(NotificationView {
        notification: notification_at(row)?,
        message: MessageView {
            message: message_at(row, m)?,
            user: optional_user_at(row, m + MESSAGE_WIDTH)?,
        },
        parent,
    })
}

/// A user's notifications newest first, from the cursor in its direction. Run inside
/// a read transaction, so the page and its total agree.
pub(crate) async fn list_notifications(
    conn: &mut PgConnection,
    app: AppId,
    user: UserId,
    cursor: &NotificationCursor,
) -> Result<CursorPage<NotificationView>> {
    let size = cursor.size.clamp(1, MAX_PAGE_SIZE);
    let newer = cursor.direction == CursorDirection::Newer;
    let mut select = QueryBuilder::new(SELECT.as_str());
    select.push(" WHERE n.app_id = ");
    select.push_bind(app.0);
    select.push(" AND n.user_id = ");
    select.push_bind(user.0);
    if let Some(at) = cursor.cursor {
        select.push(if newer {
            " AND n.id > "
        } else {
            " AND n.id < "
        });
        select.push_bind(at.0);
    }
    select.push(if newer {
        " ORDER BY n.id ASC LIMIT "
    } else {
        " ORDER BY n.id DESC LIMIT "
    });
    select.push_bind(i64::from(size) + 1);
    let rows = select
        .build()
        .fetch_all(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    let has_more = rows.len() > size as usize;
    let mut items = rows
        .iter()
        .take(size as usize)
        .map(notification_view)
        .collect::<Result<Vec<_>>>()?;
    if newer {
        items.reverse();
    }
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notifications n \
         JOIN messages m ON m.id = n.message_id AND m.app_id = n.app_id \
         WHERE n.app_id = $1 AND n.user_id = $2",
    )
    .bind(app.0)
    .bind(user.0)
    .fetch_one(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    Ok(CursorPage {
        items,
        total: count(total),
        has_more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_match_the_column_lists() {
        assert_eq!(NOTIFICATION_COLUMNS.split(',').count(), NOTIFICATION_WIDTH);
    }
}
