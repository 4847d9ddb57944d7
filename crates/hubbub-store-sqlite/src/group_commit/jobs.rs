//! The writer's job operations: creating and updating jobs, heartbeats, giving up
//! abandoned jobs, and recording import keys. Each runs in its own SAVEPOINT like every
//! other [`Op`](super::Op).

use super::{Deferred, Reply, fail, settle};
use crate::driver_error;
use crate::queries::jobs::{ACTIVE, get_job};
use crate::rows::{json_to_db, ts_to_db};
use hubbub_core::ids::{AppId, JobId};
use hubbub_core::model::{Job, JobProgress, JobState, JobUpdate, NewJob, Timestamp, now};
use hubbub_core::names::IdempotencyKey;
use hubbub_core::{Error, Result};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

pub(crate) enum JobOp {
    Create {
        app: AppId,
        new: NewJob,
        reply: Reply<Job>,
    },
    Update {
        app: AppId,
        job: JobId,
        update: JobUpdate,
        reply: Reply<Job>,
    },
    Heartbeat {
        runner: String,
        now: Timestamp,
        reply: Reply<u64>,
    },
    FailAbandoned {
        runner: Option<String>,
        heartbeat_before: Timestamp,
        reason: String,
        now: Timestamp,
        reply: Reply<u64>,
    },
    PutImportKey {
        app: AppId,
        scope: String,
        key: IdempotencyKey,
        resource: i64,
        reply: Reply<()>,
    },
}

impl JobOp {
    pub(super) fn fail(self, e: &Error) {
        match self {
            JobOp::Create { reply, .. } => fail(reply, e),
            JobOp::Update { reply, .. } => fail(reply, e),
            JobOp::Heartbeat { reply, .. } => fail(reply, e),
            JobOp::FailAbandoned { reply, .. } => fail(reply, e),
            JobOp::PutImportKey { reply, .. } => fail(reply, e),
        }
    }

    /// Runs the operation; the answer is delivered after the commit.
    pub(super) async fn apply(self, conn: &mut SqliteConnection) -> (Deferred, bool) {
        match self {
            JobOp::Create { app, new, reply } => settle(reply, create_job(conn, app, new).await),
            JobOp::Update {
                app,
                job,
                update,
                reply,
            } => settle(reply, update_job(conn, app, job, update).await),
            JobOp::Heartbeat { runner, now, reply } => {
                settle(reply, heartbeat(conn, &runner, now).await)
            }
            JobOp::FailAbandoned {
                runner,
                heartbeat_before,
                reason,
                now,
                reply,
            } => settle(
                reply,
                fail_abandoned(conn, runner.as_deref(), heartbeat_before, &reason, now).await,
            ),
            JobOp::PutImportKey {
                app,
                scope,
                key,
                resource,
                reply,
            } => settle(
                reply,
                put_import_key(conn, app, &scope, &key, resource).await,
            ),
        }
    }
}

async fn create_job(conn: &mut SqliteConnection, app: AppId, new: NewJob) -> Result<Job> {
    let at = ts_to_db(now());
    let progress = JobProgress {
        total: new.total,
        ..JobProgress::default()
    };
    let done = sqlx::query(
        "INSERT INTO jobs (app_id, kind, state, channel_id, created_at, progress, runner, \
         heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(app.0)
    .bind(new.kind.as_str())
    .bind(JobState::Pending.as_str())
    .bind(new.channel_id.map(|c| c.0))
    .bind(at)
    .bind(json_to_db(&progress)?)
    .bind(&new.runner)
    .bind(at)
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    get_job(&mut *conn, app, JobId(done.last_insert_rowid()))
        .await?
        .ok_or_else(|| Error::internal("created job vanished"))
}

async fn update_job(
    conn: &mut SqliteConnection,
    app: AppId,
    job: JobId,
    update: JobUpdate,
) -> Result<Job> {
    let current = get_job(&mut *conn, app, job)
        .await?
        .ok_or_else(|| Error::not_found("job"))?;
    if !current.state.is_active() {
        return Err(Error::Conflict(format!(
            "job {} has already ended ({})",
            job.0,
            current.state.as_str()
        )));
    }
    let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new("UPDATE jobs SET heartbeat_at = ");
    qb.push_bind(ts_to_db(now()));
    if let Some(state) = update.state {
        qb.push(", state = ");
        qb.push_bind(state.as_str());
    }
    if let Some(at) = update.started_at {
        qb.push(", started_at = ");
        qb.push_bind(ts_to_db(at));
    }
    if let Some(at) = update.ended_at {
        qb.push(", ended_at = ");
        qb.push_bind(ts_to_db(at));
    }
    if let Some(progress) = &update.progress {
        qb.push(", progress = ");
        qb.push_bind(json_to_db(progress)?);
    }
    if let Some(errors) = &update.errors {
        qb.push(", errors = ");
        qb.push_bind(json_to_db(errors)?);
    }
    if let Some(failure) = update.failure {
        qb.push(", failure = ");
        qb.push_bind(failure);
    }
    if let Some(file) = &update.file {
        qb.push(", file = ");
        qb.push_bind(json_to_db(file)?);
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

async fn heartbeat(conn: &mut SqliteConnection, runner: &str, at: Timestamp) -> Result<u64> {
    let done = sqlx::query(concat!(
        "UPDATE jobs SET heartbeat_at = ? WHERE runner = ? AND state IN ",
        "('PENDING', 'RUNNING')"
    ))
    .bind(ts_to_db(at))
    .bind(runner)
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    Ok(done.rows_affected())
}

async fn fail_abandoned(
    conn: &mut SqliteConnection,
    runner: Option<&str>,
    heartbeat_before: Timestamp,
    reason: &str,
    at: Timestamp,
) -> Result<u64> {
    let mut qb: QueryBuilder<'_, Sqlite> =
        QueryBuilder::new("UPDATE jobs SET state = 'FAILED', ended_at = ");
    qb.push_bind(ts_to_db(at));
    qb.push(", failure = ");
    qb.push_bind(reason);
    qb.push(" WHERE state IN ");
    qb.push(ACTIVE);
    qb.push(" AND heartbeat_at < ");
    qb.push_bind(ts_to_db(heartbeat_before));
    if let Some(runner) = runner {
        qb.push(" AND runner = ");
        qb.push_bind(runner);
    }
    let done = qb
        .build()
        .execute(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    Ok(done.rows_affected())
}

async fn put_import_key(
    conn: &mut SqliteConnection,
    app: AppId,
    scope: &str,
    key: &IdempotencyKey,
    resource: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO import_keys (app_id, scope, key, resource_id) VALUES (?, ?, ?, ?) \
         ON CONFLICT (app_id, scope, key) DO UPDATE SET resource_id = excluded.resource_id",
    )
    .bind(app.0)
    .bind(scope)
    .bind(key.as_str())
    .bind(resource)
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        // The application was deleted meanwhile.
        match driver_error::map(e) {
            Error::Internal(m) if m.contains("FOREIGN KEY") => Error::not_found("application"),
            other => other,
        }
    })?;
    Ok(())
}
