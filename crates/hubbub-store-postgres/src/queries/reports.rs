//! Reads of message reports and reported messages.

use super::channels::require_channel;
use super::filters::{count, push_limit, push_order_by, served};
use crate::driver_error;
use crate::rows::{col, message_view};
use hubbub_core::Result;
use hubbub_core::ids::{AppId, ChannelId, MessageId, ReportId, UserId};
use hubbub_core::model::{MessageView, Report};
use hubbub_core::paging::{Page, PageRequest, SortField};
use sqlx::postgres::PgRow;
use sqlx::{Executor, PgConnection, Postgres, QueryBuilder};

macro_rules! report_columns {
    () => {
        "r.id, r.app_id, r.channel_id, r.message_id, r.user_id, r.reason, r.created_at"
    };
}

fn report_at(row: &PgRow) -> Result<Report> {
    Ok(Report {
        id: ReportId(col(row, 0)?),
        app_id: AppId(col(row, 1)?),
        channel_id: ChannelId(col(row, 2)?),
        message_id: MessageId(col(row, 3)?),
        user_id: col::<Option<i64>>(row, 4)?.map(UserId),
        reason: col(row, 5)?,
        created_at: col(row, 6)?,
    })
}

pub(crate) async fn get_report<'e, E>(e: E, app: AppId, report: ReportId) -> Result<Option<Report>>
where
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        report_columns!(),
        " FROM message_reports r WHERE r.app_id = $1 AND r.id = $2"
    ))
    .bind(app.0)
    .bind(report.0)
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|r| report_at(&r)).transpose()
}

/// A user's report of a message, if they made one.
pub(crate) async fn find_user_report<'e, E>(
    e: E,
    app: AppId,
    message: MessageId,
    user: UserId,
) -> Result<Option<Report>>
where
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        report_columns!(),
        " FROM message_reports r WHERE r.app_id = $1 AND r.message_id = $2 AND r.user_id = $3"
    ))
    .bind(app.0)
    .bind(message.0)
    .bind(user.0)
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|r| report_at(&r)).transpose()
}

/// Run inside a read transaction, so the page and its total agree.
pub(crate) async fn list_reported_messages(
    conn: &mut PgConnection,
    app: AppId,
    channel: ChannelId,
    page: &PageRequest,
) -> Result<Page<MessageView>> {
    require_channel(&mut *conn, app, channel).await?;
    let mut select = QueryBuilder::new(concat!(
        "SELECT ",
        message_columns!(),
        ", ",
        user_columns!(),
        " FROM (SELECT message_id, max(id) AS last FROM message_reports WHERE app_id = "
    ));
    select.push_bind(app.0);
    select.push(" AND channel_id = ");
    select.push_bind(channel.0);
    select.push(" GROUP BY message_id) r JOIN messages m ON m.id = r.message_id AND m.app_id = ");
    select.push_bind(app.0);
    select.push(" LEFT JOIN users u ON u.id = m.user_id AND u.app_id = m.app_id");
    push_order_by(
        &mut select,
        &page.sort,
        |f| match f {
            SortField::CreatedTime => "m.created_at",
            _ => "m.id",
        },
        "r.last DESC",
        "m.id",
    );
    push_limit(&mut select, page);
    let rows = select
        .build()
        .fetch_all(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    let items = rows.iter().map(message_view).collect::<Result<Vec<_>>>()?;
    let total: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT r.message_id) FROM message_reports r \
         JOIN messages m ON m.id = r.message_id AND m.app_id = r.app_id \
         WHERE r.app_id = $1 AND r.channel_id = $2",
    )
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
