//! Writes of jobs: creating and updating them, heartbeats, giving up abandoned jobs,
//! and recording import keys.

use super::map_missing;
use crate::driver_error;
use crate::queries::jobs::{ACTIVE, get_job};
use crate::rows::json_to_db;
use hubbub_core::ids::{AppId, JobId};
use hubbub_core::model::{Job, JobProgress, JobState, JobUpdate, NewJob, Timestamp, now};
use hubbub_core::names::IdempotencyKey;
use hubbub_core::{Error, Result};
use sqlx::{PgConnection, Postgres, QueryBuilder};

pub(crate) async fn create_job(conn: &mut PgConnection, app: AppId, new: &NewJob) -> Result<Job> {
    let at = now();
    let progress = JobProgress {
        total: new.total,
        ..JobProgress::default()
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO jobs (app_id, kind, state, channel_id, created_at, progress, runner, \
         heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6::json, $7, $8) RETURNING id",
    )
    .bind(app.0)
    .bind(new.kind.as_str())
    .bind(JobState::Pending.as_str())
    .bind(new.channel_id.map(|c| c.0))
    .bind(at)
    .bind(json_to_db(&progress)?)
    .bind(&new.runner)
    .bind(at)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| map_missing(e, "application"))?;
    get_job(&mut *conn, app, JobId(id))
        .await?
        .ok_or_else(|| Error::internal("created job vanished"))
}

pub(crate) async fn update_job(
    conn: &mut PgConnection,
    app: AppId,
    job: JobId,
    update: &JobUpdate,
) -> Result<Job> {
    // The job's row lock first: a runner's update and a sweep giving the job up are
    // applied one after the other, and the later one sees the earlier verdict.
    let state: Option<String> =
        sqlx::query_scalar("SELECT state FROM jobs WHERE app_id = $1 AND id = $2 FOR UPDATE")
            .bind(app.0)
            .bind(job.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(driver_error::map)?;
    let state = state.ok_or_else(|| Error::not_found("job"))?;
    if !JobState::parse(&state).is_some_and(JobState::is_active) {
        return Err(Error::Conflict(format!(
            "job {} has already ended ({state})",
            job.0
        )));
    }
    let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new("UPDATE jobs SET heartbeat_at = ");
    qb.push_bind(now());
    if let Some(state) = update.state {
        qb.push(", state = ");
        qb.push_bind(state.as_str());
    }
    if let Some(at) = update.started_at {
        qb.push(", started_at = ");
        qb.push_bind(at);
    }
    if let Some(at) = update.ended_at {
        qb.push(", ended_at = ");
        qb.push_bind(at);
    }
    if let Some(progress) = &update.progress {
        qb.push(", progress = ");
        qb.push_bind(json_to_db(progress)?);
        qb.push("::json");
    }
    if let Some(errors) = &update.errors {
        qb.push(", errors = ");
        qb.push_bind(json_to_db(errors)?);
        qb.push("::json");
    }
    if let Some(failure) = &update.failure {
        qb.push(", failure = ");
        qb.push_bind(failure.clone());
    }
    if let Some(file) = &update.file {
        qb.push(", file = ");
        qb.push_bind(json_to_db(file)?);
        qb.push("::json");
    }
    qb.push(" WHERE app_id = ");
    qb.push_bind(app.0);
    qb.push(" AND id = ");
    qb.push_bind(job.0);
    qb.build()
        .execute(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    get_job(&mut *conn, app, job)
        .await?
        .ok_or_else(|| Error::internal("updated job vanished"))
}

pub(crate) async fn heartbeat(conn: &mut PgConnection, runner: &str, at: Timestamp) -> Result<u64> {
    let done = sqlx::query(concat!(
        "UPDATE jobs SET heartbeat_at = $1 WHERE runner = $2 AND state IN ",
        "('PENDING', 'RUNNING')"
    ))
    .bind(at)
    .bind(runner)
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    Ok(done.rows_affected())
}

pub(crate) async fn fail_abandoned(
    conn: &mut PgConnection,
    runner: Option<&str>,
    heartbeat_before: Timestamp,
    reason: &str,
    at: Timestamp,
) -> Result<u64> {
    let mut qb: QueryBuilder<'_, Postgres> =
        QueryBuilder::new("UPDATE jobs SET state = 'FAILED', ended_at = ");
    qb.push_bind(at);
    qb.push(", failure = ");
    qb.push_bind(reason.to_owned());
    qb.push(" WHERE state IN ");
    qb.push(ACTIVE);
    qb.push(" AND heartbeat_at < ");
    qb.push_bind(heartbeat_before);
    if let Some(runner) = runner {
        qb.push(" AND runner = ");
        qb.push_bind(runner.to_owned());
    }
    let done = qb
        .build()
        .execute(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    Ok(done.rows_affected())
}

pub(crate) async fn put_import_key(
    conn: &mut PgConnection,
    app: AppId,
    scope: &str,
    key: &IdempotencyKey,
    resource: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO import_keys (app_id, scope, key, resource_id) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (app_id, scope, key) DO UPDATE SET resource_id = excluded.resource_id",
    )
    .bind(app.0)
    .bind(scope)
    .bind(key.as_str())
    .bind(resource)
    .execute(&mut *conn)
    .await
    .map_err(|e| map_missing(e, "application"))?;
    Ok(())
}
