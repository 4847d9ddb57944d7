//! Reads of message reports and reported messages.

use super::filters::{page_size, push_limit, push_order_by};
use crate::driver_error;
use crate::rows::{col, message_view, ts_from_db};
use hubbub_core::ids::{AppId, ChannelId, MessageId, ReportId, UserId};
use hubbub_core::model::{MessageView, Report};
use hubbub_core::paging::{Page, PageRequest, SortField};
use hubbub_core::{Error, Result};
use sqlx::sqlite::SqliteRow;
use sqlx::{Executor, QueryBuilder, Sqlite, SqliteConnection};

const REPORT_COLUMNS: &str =
    "r.id, r.app_id, r.channel_id, r.message_id, r.user_id, r.reason, r.created_at";

fn report_at(row: &SqliteRow) -> Result<Report> {
    Ok(Report {
        id: ReportId(col(row, 0)?),
        app_id: AppId(col(row, 1)?),
        channel_id: ChannelId(col(row, 2)?),
        message_id: MessageId(col(row, 3)?),
        user_id: col::<Option<i64>>(row, 4)?.map(UserId),
        reason: col(row, 5)?,
        created_at: ts_from_db(col(row, 6)?)?,
    })
}

pub(crate) async fn get_report<'e, E>(e: E, app: AppId, report: ReportId) -> Result<Option<Report>>
where
    E: Executor<'e, Database = Sqlite>,
{
    let sql =
        format!("SELECT {REPORT_COLUMNS} FROM message_reports r WHERE r.app_id = ? AND r.id = ?");
    let row = sqlx::query(&sql)
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
    E: Executor<'e, Database = Sqlite>,
{
    let sql = format!(
        "SELECT {REPORT_COLUMNS} FROM message_reports r \
         WHERE r.app_id = ? AND r.message_id = ? AND r.user_id = ?"
    );
    let row = sqlx::query(&sql)
        .bind(app.0)
        .bind(message.0)
        .bind(user.0)
        .fetch_optional(e)
        .await
        .map_err(driver_error::map)?;
    row.map(|r| report_at(&r)).transpose()
}

pub(crate) async fn list_reported_messages(
    conn: &mut SqliteConnection,
    app: AppId,
    channel: ChannelId,
    page: &PageRequest,
) -> Result<Page<MessageView>> {
    if !super::channels::channel_exists(&mut *conn, app, channel).await? {
        return Err(Error::not_found("channel"));
    }
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
         WHERE r.app_id = ? AND r.channel_id = ?",
    )
    .bind(app.0)
    .bind(channel.0)
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
