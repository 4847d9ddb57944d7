//! The writer's operations for channel moderation (restrictions, robots), dialect
//! credentials and tokens, and user passwords. Each runs in its own SAVEPOINT like
//! every other [`Op`](super::Op).

use super::{Deferred, Reply, fail, settle};
use crate::driver_error;
use crate::queries::moderation::{TOKEN_COLUMNS, get_restriction, token_at};
use crate::rows::{json_to_db, ts_to_db};
use crate::write_ops::{require_application, require_channel, require_user};
use hubbub_core::ids::{AppId, ChannelId, UserId};
use hubbub_core::model::{
    DialectCredential, DialectToken, DialectTokenKind, NewRestriction, Restriction,
    RestrictionKind, Timestamp, now,
};
use hubbub_core::{Error, Result};
use sqlx::SqliteConnection;

pub(crate) enum ModerationOp {
    SetRestriction {
        app: AppId,
        channel: ChannelId,
        new: NewRestriction,
        reply: Reply<Restriction>,
    },
    LiftRestriction {
        app: AppId,
        channel: ChannelId,
        user: UserId,
        kind: RestrictionKind,
        reply: Reply<bool>,
    },
    AddRobot {
        app: AppId,
        channel: ChannelId,
        user: UserId,
        max: usize,
        reply: Reply<bool>,
    },
    RemoveRobot {
        app: AppId,
        channel: ChannelId,
        user: UserId,
        reply: Reply<bool>,
    },
    PutDialectCredential {
        app: AppId,
        credential: DialectCredential,
        reply: Reply<()>,
    },
    InsertDialectToken {
        token: DialectToken,
        reply: Reply<()>,
    },
    TakeDialectToken {
        kind: DialectTokenKind,
        token_hash: String,
        now: Timestamp,
        reply: Reply<Option<DialectToken>>,
    },
    RevokeDialectTokens {
        app: AppId,
        user: UserId,
        kinds: Vec<DialectTokenKind>,
        reply: Reply<u64>,
    },
    SetUserPassword {
        app: AppId,
        user: UserId,
        password_hash: Option<String>,
        reply: Reply<()>,
    },
}

impl ModerationOp {
    pub(super) fn fail(self, e: &Error) {
        match self {
            ModerationOp::SetRestriction { reply, .. } => fail(reply, e),
            ModerationOp::LiftRestriction { reply, .. } => fail(reply, e),
            ModerationOp::AddRobot { reply, .. } => fail(reply, e),
            ModerationOp::RemoveRobot { reply, .. } => fail(reply, e),
            ModerationOp::PutDialectCredential { reply, .. } => fail(reply, e),
            ModerationOp::InsertDialectToken { reply, .. } => fail(reply, e),
            ModerationOp::TakeDialectToken { reply, .. } => fail(reply, e),
            ModerationOp::RevokeDialectTokens { reply, .. } => fail(reply, e),
            ModerationOp::SetUserPassword { reply, .. } => fail(reply, e),
        }
    }

    /// Runs the operation; the answer is delivered after the commit.
    pub(super) async fn apply(self, conn: &mut SqliteConnection) -> (Deferred, bool) {
        match self {
            ModerationOp::SetRestriction {
                app,
                channel,
                new,
                reply,
            } => settle(reply, set_restriction(conn, app, channel, new).await),
            ModerationOp::LiftRestriction {
                app,
                channel,
                user,
                kind,
                reply,
            } => settle(
                reply,
                lift_restriction(conn, app, channel, user, kind).await,
            ),
            ModerationOp::AddRobot {
                app,
                channel,
                user,
                max,
                reply,
            } => settle(reply, add_robot(conn, app, channel, user, max).await),
            ModerationOp::RemoveRobot {
                app,
                channel,
                user,
                reply,
            } => settle(reply, remove_robot(conn, app, channel, user).await),
            ModerationOp::PutDialectCredential {
                app,
                credential,
                reply,
            } => settle(reply, put_dialect_credential(conn, app, credential).await),
            ModerationOp::InsertDialectToken { token, reply } => {
                settle(reply, insert_dialect_token(conn, token).await)
            }
            ModerationOp::TakeDialectToken {
                kind,
                token_hash,
                now,
                reply,
            } => settle(
                reply,
                take_dialect_token(conn, kind, &token_hash, now).await,
            ),
            ModerationOp::RevokeDialectTokens {
                app,
                user,
                kinds,
                reply,
            } => settle(reply, revoke_dialect_tokens(conn, app, user, &kinds).await),
            ModerationOp::SetUserPassword {
                app,
                user,
                password_hash,
                reply,
            } => settle(
                reply,
                set_user_password(conn, app, user, password_hash).await,
            ),
        }
    }
}

async fn set_restriction(
    conn: &mut SqliteConnection,
    app: AppId,
    channel: ChannelId,
    new: NewRestriction,
) -> Result<Restriction> {
    require_channel(conn, app, channel).await?;
    require_user(conn, app, new.user_id).await?;
    sqlx::query(
        "INSERT INTO channel_restrictions \
         (app_id, channel_id, user_id, kind, until_at, reason, created_by, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (channel_id, user_id, kind) DO UPDATE SET \
         until_at = excluded.until_at, reason = excluded.reason, \
         created_by = excluded.created_by, created_at = excluded.created_at",
    )
    .bind(app.0)
    .bind(channel.0)
    .bind(new.user_id.0)
    .bind(new.kind.as_str())
    .bind(new.until.map(ts_to_db))
    .bind(&new.reason)
    .bind(new.created_by.map(|u| u.0))
    .bind(ts_to_db(now()))
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    get_restriction(&mut *conn, app, channel, new.user_id, new.kind)
        .await?
        .ok_or_else(|| Error::internal("restriction vanished after its insert"))
}

async fn lift_restriction(
    conn: &mut SqliteConnection,
    app: AppId,
    channel: ChannelId,
    user: UserId,
    kind: RestrictionKind,
) -> Result<bool> {
    require_channel(conn, app, channel).await?;
    let done = sqlx::query(
        "DELETE FROM channel_restrictions \
         WHERE app_id = ? AND channel_id = ? AND user_id = ? AND kind = ?",
    )
    .bind(app.0)
    .bind(channel.0)
    .bind(user.0)
    .bind(kind.as_str())
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    Ok(done.rows_affected() > 0)
}

async fn add_robot(
    conn: &mut SqliteConnection,
    app: AppId,
    channel: ChannelId,
    user: UserId,
    max: usize,
) -> Result<bool> {
    require_channel(conn, app, channel).await?;
    require_user(conn, app, user).await?;
    let present: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM channel_robots WHERE app_id = ? AND channel_id = ? AND user_id = ?",
    )
    .bind(app.0)
    .bind(channel.0)
    .bind(user.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    if present.is_some() {
        return Ok(false);
    }
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM channel_robots WHERE app_id = ? AND channel_id = ?",
    )
    .bind(app.0)
    .bind(channel.0)
    .fetch_one(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    if count as usize >= max {
        return Err(Error::Conflict(format!(
            "the room already has its maximum of {max} robots"
        )));
    }
    sqlx::query(
        "INSERT INTO channel_robots (app_id, channel_id, user_id, created_at) VALUES (?, ?, ?, ?)",
    )
    .bind(app.0)
    .bind(channel.0)
    .bind(user.0)
    .bind(ts_to_db(now()))
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    Ok(true)
}

async fn remove_robot(
    conn: &mut SqliteConnection,
    app: AppId,
    channel: ChannelId,
    user: UserId,
) -> Result<bool> {
    require_channel(conn, app, channel).await?;
    let done = sqlx::query(
        "DELETE FROM channel_robots WHERE app_id = ? AND channel_id = ? AND user_id = ?",
    )
    .bind(app.0)
    .bind(channel.0)
    .bind(user.0)
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    Ok(done.rows_affected() > 0)
}

async fn put_dialect_credential(
    conn: &mut SqliteConnection,
    app: AppId,
    credential: DialectCredential,
) -> Result<()> {
    require_application(conn, app).await?;
    sqlx::query("DELETE FROM dialect_credentials WHERE app_id = ? AND dialect = ?")
        .bind(app.0)
        .bind(credential.dialect.as_str())
        .execute(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    sqlx::query(
        "INSERT INTO dialect_credentials (dialect, key, app_id, secret, admins) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(credential.dialect.as_str())
    .bind(&credential.key)
    .bind(app.0)
    .bind(&credential.secret)
    .bind(json_to_db(&credential.admins)?)
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    Ok(())
}

async fn insert_dialect_token(conn: &mut SqliteConnection, token: DialectToken) -> Result<()> {
    sqlx::query(
        "INSERT INTO dialect_tokens \
         (token_hash, kind, app_id, user_id, expires_at, data, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&token.token_hash)
    .bind(token.kind.as_str())
    .bind(token.app_id.0)
    .bind(token.user_id.map(|u| u.0))
    .bind(ts_to_db(token.expires_at))
    .bind(json_to_db(&token.data)?)
    .bind(ts_to_db(token.created_at))
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    Ok(())
}

/// One writer applies operations one at a time, so the read and the delete cannot
/// interleave with another take of the same token.
async fn take_dialect_token(
    conn: &mut SqliteConnection,
    kind: DialectTokenKind,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<DialectToken>> {
    let sql = format!(
        "DELETE FROM dialect_tokens WHERE token_hash = ? AND kind = ? \
         RETURNING {TOKEN_COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(token_hash)
        .bind(kind.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    match row.map(|r| token_at(&r)).transpose()? {
        // An expired token is gone either way, but was never valid to take.
        Some(token) if token.expires_at > now => Ok(Some(token)),
        _ => Ok(None),
    }
}

async fn revoke_dialect_tokens(
    conn: &mut SqliteConnection,
    app: AppId,
    user: UserId,
    kinds: &[DialectTokenKind],
) -> Result<u64> {
    let mut revoked = 0;
    for kind in kinds {
        let done =
            sqlx::query("DELETE FROM dialect_tokens WHERE app_id = ? AND user_id = ? AND kind = ?")
                .bind(app.0)
                .bind(user.0)
                .bind(kind.as_str())
                .execute(&mut *conn)
                .await
                .map_err(driver_error::map)?;
        revoked += done.rows_affected();
    }
    Ok(revoked)
}

async fn set_user_password(
    conn: &mut SqliteConnection,
    app: AppId,
    user: UserId,
    password_hash: Option<String>,
) -> Result<()> {
    let done = sqlx::query("UPDATE users SET password_hash = ? WHERE app_id = ? AND id = ?")
        .bind(password_hash)
        .bind(app.0)
        .bind(user.0)
        .execute(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("user"));
    }
    Ok(())
}

/// Clean-up when a user is deleted: their restrictions, robot seats and tokens.
pub(crate) async fn user_deleted(
    conn: &mut SqliteConnection,
    app: AppId,
    user: UserId,
) -> Result<()> {
    for sql in [
        "DELETE FROM channel_restrictions WHERE app_id = ? AND user_id = ?",
        "DELETE FROM channel_robots WHERE app_id = ? AND user_id = ?",
        "DELETE FROM dialect_tokens WHERE app_id = ? AND user_id = ?",
    ] {
        sqlx::query(sql)
            .bind(app.0)
            .bind(user.0)
            .execute(&mut *conn)
            .await
            .map_err(driver_error::map)?;
    }
    Ok(())
}

/// Clean-up when a channel is deleted.
pub(crate) async fn channel_deleted(
    conn: &mut SqliteConnection,
    app: AppId,
    channel: ChannelId,
) -> Result<()> {
    for sql in [
        "DELETE FROM channel_restrictions WHERE app_id = ? AND channel_id = ?",
        "DELETE FROM channel_robots WHERE app_id = ? AND channel_id = ?",
    ] {
        sqlx::query(sql)
            .bind(app.0)
            .bind(channel.0)
            .execute(&mut *conn)
            .await
            .map_err(driver_error::map)?;
    }
    Ok(())
}
