//! Reads of jobs and import keys, and the keyset walks analytics exports stream from.

use super::filters::{page_size, push_limit, push_order_by};
use crate::driver_error;
use crate::rows::{col, message_view, ts_from_db, user_at};
use hubbub_core::ids::{AppId, ChannelId, JobId, MessageId, UserId};
use hubbub_core::model::{
    Job, JobFile, JobFilter, JobItemError, JobKind, JobProgress, JobState, MessageView, User,
};
use hubbub_core::names::IdempotencyKey;
use hubbub_core::paging::{Page, PageRequest, SortField};
use hubbub_core::{Error, Result};
use sqlx::sqlite::SqliteRow;
use sqlx::{Executor, QueryBuilder, Sqlite, SqliteConnection};

/// The columns [`job_at`] decodes, in order.
macro_rules! job_columns {
    () => {
        "j.id, j.app_id, j.kind, j.state, j.channel_id, j.created_at, j.started_at, \
         j.ended_at, j.progress, j.errors, j.failure, j.file, j.runner, j.heartbeat_at"
    };
}

/// `state IN (...)` of active (pending or running) jobs, as the partial index has it.
pub(crate) const ACTIVE: &str = "('PENDING', 'RUNNING')";

fn corrupt(what: &str, detail: impl std::fmt::Display) -> Error {
    Error::Internal(format!("stored job {what} is invalid: {detail}"))
}

fn json<T: serde::de::DeserializeOwned>(what: &str, raw: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|e| corrupt(what, e))
}

/// A row of `SELECT job_columns!()`.
pub(crate) fn job_at(row: &SqliteRow) -> Result<Job> {
    let kind: &str = col(row, 2)?;
    let state: &str = col(row, 3)?;
    let file: Option<&str> = col(row, 11)?;
    Ok(Job {
        id: JobId(col(row, 0)?),
        app_id: AppId(col(row, 1)?),
        kind: JobKind::parse(kind).ok_or_else(|| corrupt("kind", kind))?,
        state: JobState::parse(state).ok_or_else(|| corrupt("state", state))?,
        channel_id: col::<Option<i64>>(row, 4)?.map(ChannelId),
        created_at: ts_from_db(col(row, 5)?)?,
        started_at: col::<Option<i64>>(row, 6)?.map(ts_from_db).transpose()?,
        ended_at: col::<Option<i64>>(row, 7)?.map(ts_from_db).transpose()?,
        progress: json::<JobProgress>("progress", col(row, 8)?)?,
        errors: json::<Vec<JobItemError>>("errors", col(row, 9)?)?,
        failure: col(row, 10)?,
        file: file.map(|f| json::<JobFile>("file", f)).transpose()?,
        runner: col(row, 12)?,
        heartbeat_at: ts_from_db(col(row, 13)?)?,
    })
}

pub(crate) async fn get_job<'e, E>(e: E, app: AppId, job: JobId) -> Result<Option<Job>>
where
    E: Executor<'e, Database = Sqlite>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs j WHERE j.app_id = ? AND j.id = ?"
    ))
    .bind(app.0)
    .bind(job.0)
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|r| job_at(&r)).transpose()
}

fn job_sort_column(field: SortField) -> &'static str {
    match field {
        SortField::CreatedTime => "j.created_at",
        _ => "j.id",
    }
}

fn push_job_filter(qb: &mut QueryBuilder<'_, Sqlite>, app: AppId, filter: &JobFilter) {
    qb.push(" WHERE j.app_id = ");
    qb.push_bind(app.0);
    match filter.running {
        Some(true) => {
            qb.push(" AND j.state IN ");
            qb.push(ACTIVE);
        }
        Some(false) => {
            qb.push(" AND j.state NOT IN ");
            qb.push(ACTIVE);
        }
        None => {}
    }
}

pub(crate) async fn list_jobs(
    conn: &mut SqliteConnection,
    app: AppId,
    filter: &JobFilter,
    page: &PageRequest,
) -> Result<Page<Job>> {
    let mut select = QueryBuilder::new(concat!("SELECT ", job_columns!(), " FROM jobs j"));
    push_job_filter(&mut select, app, filter);
    push_order_by(&mut select, &page.sort, job_sort_column, "j.id", "j.id");
    push_limit(&mut select, page);
    let rows = select
        .build()
        .fetch_all(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    let items = rows.iter().map(job_at).collect::<Result<Vec<_>>>()?;
    let mut count = QueryBuilder::new("SELECT count(*) FROM jobs j");
    push_job_filter(&mut count, app, filter);
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
        total: total.max(0) as u64,
    })
}

pub(crate) async fn find_import_key<'e, E>(
    e: E,
    app: AppId,
    scope: &str,
    key: &IdempotencyKey,
) -> Result<Option<i64>>
where
    E: Executor<'e, Database = Sqlite>,
{
    sqlx::query_scalar(
        "SELECT resource_id FROM import_keys WHERE app_id = ? AND scope = ? AND key = ?",
    )
    .bind(app.0)
    .bind(scope)
    .bind(key.as_str())
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)
}

pub(crate) async fn messages_after_id<'e, E>(
    e: E,
    app: AppId,
    after: Option<MessageId>,
    limit: u32,
) -> Result<Vec<MessageView>>
where
    E: Executor<'e, Database = Sqlite>,
{
    // (app_id, id) is the messages_by_app index: a range scan, whatever the table size.
    let rows = sqlx::query(concat!(
        message_view_select!(),
        " WHERE m.app_id = ? AND m.id > ? ORDER BY m.id LIMIT ?"
    ))
    .bind(app.0)
    .bind(after.map_or(0, |m| m.0))
    .bind(i64::from(limit))
    .fetch_all(e)
    .await
    .map_err(driver_error::map)?;
    rows.iter().map(message_view).collect()
}

pub(crate) async fn users_after_id<'e, E>(
    e: E,
    app: AppId,
    after: Option<UserId>,
    limit: u32,
) -> Result<Vec<User>>
where
    E: Executor<'e, Database = Sqlite>,
{
    let rows = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users u WHERE u.app_id = ? AND u.id > ? ORDER BY u.id LIMIT ?"
    ))
    .bind(app.0)
    .bind(after.map_or(0, |u| u.0))
    .bind(i64::from(limit))
    .fetch_all(e)
    .await
    .map_err(driver_error::map)?;
    rows.iter().map(|r| user_at(r, 0)).collect()
}
