//! Writes of channel moderation (restrictions, robots), dialect credentials and
//! tokens, and user passwords, and their clean-ups when users or channels go away.

use super::{exec, lock_channel, map_missing, require_user};
use crate::driver_error;
use crate::queries::channels::require_channel;
use crate::queries::moderation::{get_restriction, token_at, token_columns};
use crate::rows::json_to_db;
use hubbub_core::ids::{AppId, ChannelId, UserId};
use hubbub_core::model::{
    DialectCredential, DialectToken, DialectTokenKind, NewRestriction, Restriction,
    RestrictionKind, Timestamp, now,
};
use hubbub_core::{Error, Result};
use sqlx::PgConnection;

pub(crate) async fn set_restriction(
    conn: &mut PgConnection,
    app: AppId,
    channel: ChannelId,
    new: &NewRestriction,
) -> Result<Restriction> {
    require_channel(conn, app, channel).await?;
    require_user(conn, app, new.user_id).await?;
    sqlx::query(
        "INSERT INTO channel_restrictions \
         (app_id, channel_id, user_id, kind, until_at, reason, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (channel_id, user_id, kind) DO UPDATE SET \
         until_at = excluded.until_at, reason = excluded.reason, \
         created_by = excluded.created_by, created_at = excluded.created_at",
    )
    .bind(app.0)
    .bind(channel.0)
    .bind(new.user_id.0)
    .bind(new.kind.as_str())
    .bind(new.until)
    .bind(&new.reason)
    .bind(new.created_by.map(|u| u.0))
    .bind(now())
    .execute(&mut *conn)
    .await
    .map_err(|e| map_missing(e, "user"))?;
    get_restriction(&mut *conn, app, channel, new.user_id, new.kind)
        .await?
        .ok_or_else(|| Error::internal("restriction vanished after its insert"))
}

pub(crate) async fn lift_restriction(
    conn: &mut PgConnection,
    app: AppId,
    channel: ChannelId,
    user: UserId,
    kind: RestrictionKind,
) -> Result<bool> {
    require_channel(conn, app, channel).await?;
    let done = sqlx::query(
        "DELETE FROM channel_restrictions \
         WHERE app_id = $1 AND channel_id = $2 AND user_id = $3 AND kind = $4",
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

/// The channel's row lock comes first, so two nodes adding robots to one room count
/// one after the other and the cap holds.
pub(crate) async fn add_robot(
    conn: &mut PgConnection,
    app: AppId,
    channel: ChannelId,
    user: UserId,
    max: usize,
) -> Result<bool> {
    lock_channel(conn, app, channel).await?;
    require_user(conn, app, user).await?;
    let present: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM channel_robots WHERE app_id = $1 AND channel_id = $2 AND user_id = $3",
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
    let robots: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM channel_robots WHERE app_id = $1 AND channel_id = $2",
    )
    .bind(app.0)
    .bind(channel.0)
    .fetch_one(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    if usize::try_from(robots).unwrap_or(usize::MAX) >= max {
        return Err(Error::Conflict(format!(
            "the room already has its maximum of {max} robots"
        )));
    }
    sqlx::query(
        "INSERT INTO channel_robots (app_id, channel_id, user_id, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(app.0)
    .bind(channel.0)
    .bind(user.0)
    .bind(now())
    .execute(&mut *conn)
    .await
    .map_err(|e| map_missing(e, "user"))?;
    Ok(true)
}

pub(crate) async fn remove_robot(
    conn: &mut PgConnection,
    app: AppId,
    channel: ChannelId,
    user: UserId,
) -> Result<bool> {
    require_channel(conn, app, channel).await?;
    let removed = exec(
        conn,
        "DELETE FROM channel_robots WHERE app_id = $1 AND channel_id = $2 AND user_id = $3",
        &[app.0, channel.0, user.0],
    )
    .await?;
    Ok(removed > 0)
}

/// Replaces the application's credential for the dialect. The application's row lock
/// comes first, so two replacements of one credential apply one after the other.
pub(crate) async fn put_dialect_credential(
    conn: &mut PgConnection,
    app: AppId,
    credential: &DialectCredential,
) -> Result<()> {
    let exists: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM applications WHERE id = $1 FOR UPDATE")
            .bind(app.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(driver_error::map)?;
    if exists.is_none() {
        return Err(Error::not_found("application"));
    }
    sqlx::query("DELETE FROM dialect_credentials WHERE app_id = $1 AND dialect = $2")
        .bind(app.0)
        .bind(credential.dialect.as_str())
        .execute(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    sqlx::query(
        "INSERT INTO dialect_credentials (dialect, key, app_id, secret, admins) \
         VALUES ($1, $2, $3, $4, $5::json)",
    )
    .bind(credential.dialect.as_str())
    .bind(&credential.key)
    .bind(app.0)
    .bind(&credential.secret)
    .bind(json_to_db(&credential.admins)?)
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        driver_error::map_with_conflict(e, |_| {
            format!(
                "another application already holds this {} key",
                credential.dialect.as_str()
            )
        })
    })?;
    Ok(())
}

pub(crate) async fn insert_dialect_token(
    conn: &mut PgConnection,
    token: &DialectToken,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO dialect_tokens \
         (token_hash, kind, app_id, user_id, expires_at, data, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6::json, $7)",
    )
    .bind(&token.token_hash)
    .bind(token.kind.as_str())
    .bind(token.app_id.0)
    .bind(token.user_id.map(|u| u.0))
    .bind(token.expires_at)
    .bind(json_to_db(&token.data)?)
    .bind(token.created_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| match driver_error::sqlstate(&e).as_deref() {
        Some(driver_error::FOREIGN_KEY_VIOLATION) => Error::not_found("application"),
        _ => driver_error::map_with_conflict(e, |_| "this token already exists".into()),
    })?;
    Ok(())
}

/// `DELETE … RETURNING` is atomic: of two concurrent takes of one token (on any
/// nodes), one deletes the row and the other then finds none.
pub(crate) async fn take_dialect_token(
    conn: &mut PgConnection,
    kind: DialectTokenKind,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<DialectToken>> {
    let row = sqlx::query(concat!(
        "DELETE FROM dialect_tokens WHERE token_hash = $1 AND kind = $2 RETURNING ",
        token_columns!()
    ))
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

pub(crate) async fn revoke_dialect_tokens(
    conn: &mut PgConnection,
    app: AppId,
    user: UserId,
    kinds: &[DialectTokenKind],
) -> Result<u64> {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let done = sqlx::query(
        "DELETE FROM dialect_tokens WHERE app_id = $1 AND user_id = $2 AND kind = ANY($3)",
    )
    .bind(app.0)
    .bind(user.0)
    .bind(&kinds)
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    Ok(done.rows_affected())
}

pub(crate) async fn set_user_password(
    conn: &mut PgConnection,
    app: AppId,
    user: UserId,
    password_hash: Option<&str>,
) -> Result<()> {
    let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE app_id = $2 AND id = $3")
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
pub(crate) async fn user_deleted(conn: &mut PgConnection, app: AppId, user: UserId) -> Result<()> {
    for sql in [
        "DELETE FROM channel_restrictions WHERE app_id = $1 AND user_id = $2",
        "DELETE FROM channel_robots WHERE app_id = $1 AND user_id = $2",
        "DELETE FROM dialect_tokens WHERE app_id = $1 AND user_id = $2",
    ] {
        exec(conn, sql, &[app.0, user.0]).await?;
    }
    Ok(())
}

/// Clean-up when a channel is deleted.
pub(crate) async fn channel_deleted(
    conn: &mut PgConnection,
    app: AppId,
    channel: ChannelId,
) -> Result<()> {
    for sql in [
        "DELETE FROM channel_restrictions WHERE app_id = $1 AND channel_id = $2",
        "DELETE FROM channel_robots WHERE app_id = $1 AND channel_id = $2",
    ] {
        exec(conn, sql, &[app.0, channel.0]).await?;
    }
    Ok(())
}
