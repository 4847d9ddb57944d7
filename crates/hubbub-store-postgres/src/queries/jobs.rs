//! Reads of jobs and import keys, and the keyset walks analytics exports stream from.

use super::filters::{count, push_limit, push_order_by, served};
use crate::driver_error;
use crate::rows::{col, corrupt, json_col, message_view, optional_json_col, user_at};
use hubbub_core::Result;
use hubbub_core::ids::{AppId, ChannelId, JobId, MessageId, UserId};
use hubbub_core::model::{
    Job, JobFile, JobFilter, JobItemError, JobKind, JobProgress, JobState, MessageView, User,
};
use hubbub_core::names::IdempotencyKey;
use hubbub_core::paging::{Page, PageRequest, SortField};
use sqlx::postgres::PgRow;
use sqlx::{Executor, PgConnection, Postgres, QueryBuilder};

/// The columns [`job_at`] decodes, in order.
macro_rules! job_columns {
    () => {
        "j.id, j.app_id, j.kind, j.state, j.channel_id, j.created_at, j.started_at, \
         j.ended_at, j.progress, j.errors, j.failure, j.file, j.runner, j.heartbeat_at"
    };
}

/// `state IN (...)` of active (pending or running) jobs, as the partial index has it.
pub(crate) const ACTIVE: &str = "('PENDING', 'RUNNING')";

/// A row of `SELECT job_columns!()`.
pub(crate) fn job_at(row: &PgRow) -> Result<Job> {
    let kind: &str = col(row, 2)?;
    let state: &str = col(row, 3)?;
    Ok(Job {
        id: JobId(col(row, 0)?),
        app_id: AppId(col(row, 1)?),
        kind: JobKind::parse(kind).ok_or_else(|| corrupt("job kind", kind))?,
        state: JobState::parse(state).ok_or_else(|| corrupt("job state", state))?,
        channel_id: col::<Option<i64>>(row, 4)?.map(ChannelId),
        created_at: col(row, 5)?,
        started_at: col(row, 6)?,
        ended_at: col(row, 7)?,
        progress: json_col::<JobProgress>(row, 8, "job progress")?,
        errors: json_col::<Vec<JobItemError>>(row, 9, "job errors")?,
        failure: col(row, 10)?,
        file: optional_json_col::<JobFile>(row, 11, "job file")?,
        runner: col(row, 12)?,
        heartbeat_at: col(row, 13)?,
    })
}

pub(crate) async fn get_job<'e, E>(e: E, app: AppId, job: JobId) -> Result<Option<Job>>
where
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs j WHERE j.app_id = $1 AND j.id = $2"
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

fn push_job_filter(qb: &mut QueryBuilder<'_, Postgres>, app: AppId, filter: &JobFilter) {
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

/// Run inside a read transaction, so the page and its total agree.
pub(crate) async fn list_jobs(
    conn: &mut PgConnection,
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
    let mut total = QueryBuilder::new("SELECT count(*) FROM jobs j");
    push_job_filter(&mut total, app, filter);
    let total: i64 = total
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    Ok(Page {
        items,
        request: served(page),
        total: count(total),
    })
}

pub(crate) async fn find_import_key<'e, E>(
    e: E,
    app: AppId,
    scope: &str,
    key: &IdempotencyKey,
) -> Result<Option<i64>>
where
    E: Executor<'e, Database = Postgres>,
{
    sqlx::query_scalar(
        "SELECT resource_id FROM import_keys WHERE app_id = $1 AND scope = $2 AND key = $3",
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
    E: Executor<'e, Database = Postgres>,
{
    // (app_id, id) is the messages_by_app index: a range scan, whatever the table size.
    let rows = sqlx::query(concat!(
        message_view_select!(),
        " WHERE m.app_id = $1 AND m.id > $2 ORDER BY m.id LIMIT $3"
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
    E: Executor<'e, Database = Postgres>,
{
    let rows = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users u WHERE u.app_id = $1 AND u.id > $2 ORDER BY u.id LIMIT $3"
    ))
    .bind(app.0)
    .bind(after.map_or(0, |u| u.0))
    .bind(i64::from(limit))
    .fetch_all(e)
    .await
    .map_err(driver_error::map)?;
    rows.iter().map(|r| user_at(r, 0)).collect()
}
