//! Writes of invites, reports and sessions, and the clean-ups the generic writes call
//! when messages, channels or users go away.

use super::{exec, map_missing, require_user};
use crate::driver_error;
use crate::queries::channels::require_channel;
use crate::queries::invites::get_pending_invite;
use crate::queries::reports::{find_user_report, get_report};
use crate::queries::sessions::{get_chat_session, get_user_session};
use hubbub_core::ids::{AppId, ChannelId, ChatSessionId, ReportId, UserId, UserSessionId};
use hubbub_core::model::{
    ChatSession, Invite, MessageView, NewReport, NewUserSession, Report, UserSession, now,
};
use hubbub_core::{Error, Result};
use sqlx::PgConnection;

pub(crate) async fn create_invite(
    conn: &mut PgConnection,
    app: AppId,
    channel: ChannelId,
    user: UserId,
    invited_by: Option<UserId>,
) -> Result<Invite> {
    require_channel(conn, app, channel).await?;
    require_user(conn, app, user).await?;
    // A stale invite of a user who became a member and left is renewed.
    sqlx::query(
        "INSERT INTO channel_invites (app_id, channel_id, user_id, invited_by, created_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (channel_id, user_id) DO UPDATE SET \
         invited_by = excluded.invited_by, created_at = excluded.created_at \
         WHERE EXISTS (SELECT 1 FROM channel_members cm \
             WHERE cm.channel_id = excluded.channel_id AND cm.user_id = excluded.user_id)",
    )
    .bind(app.0)
    .bind(channel.0)
    .bind(user.0)
    .bind(invited_by.map(|u| u.0))
    .bind(now())
    .execute(&mut *conn)
    .await
    .map_err(|e| map_missing(e, "user"))?;
    get_pending_invite(&mut *conn, app, channel, user)
        .await?
        .ok_or_else(|| Error::Conflict("the user is already a member of this channel".into()))
}

pub(crate) async fn report_message(
    conn: &mut PgConnection,
    app: AppId,
    new: &NewReport,
) -> Result<Report> {
    // The message's row lock first: two reports of one message count one after the
    // other, and a user's second report finds the first.
    let channel: Option<i64> = sqlx::query_scalar(
        "SELECT channel_id FROM messages WHERE app_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(app.0)
    .bind(new.message_id.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    let channel = channel.ok_or_else(|| Error::not_found("message"))?;
    if let Some(user) = new.user_id {
        if let Some(first) = find_user_report(&mut *conn, app, new.message_id, user).await? {
            return Ok(first);
        }
        require_user(conn, app, user).await?;
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO message_reports (app_id, channel_id, message_id, user_id, reason, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(app.0)
    .bind(channel)
    .bind(new.message_id.0)
    .bind(new.user_id.map(|u| u.0))
    .bind(&new.reason)
    .bind(now())
    .fetch_one(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    exec(
        conn,
        "UPDATE messages SET report_count = report_count + 1 WHERE app_id = $1 AND id = $2",
        &[app.0, new.message_id.0],
    )
    .await?;
    get_report(&mut *conn, app, ReportId(id))
        .await?
        .ok_or_else(|| Error::internal("a report vanished after it was written"))
}

pub(crate) async fn start_user_session(
    conn: &mut PgConnection,
    app: AppId,
    new: &NewUserSession,
) -> Result<UserSession> {
    require_user(conn, app, new.user_id).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO user_sessions (app_id, user_id, user_agent, created_at) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(app.0)
    .bind(new.user_id.0)
    .bind(new.user_agent.as_deref())
    .bind(now())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| map_missing(e, "user"))?;
    get_user_session(&mut *conn, app, UserSessionId(id))
        .await?
        .ok_or_else(|| Error::internal("a user session vanished after it was written"))
}

pub(crate) async fn end_user_session(
    conn: &mut PgConnection,
    app: AppId,
    session: UserSessionId,
) -> Result<()> {
    if get_user_session(&mut *conn, app, session).await?.is_none() {
        return Err(Error::not_found("user session"));
    }
    let at = now();
    for sql in [
        "UPDATE chat_sessions SET ended_at = $1 \
         WHERE app_id = $2 AND user_session_id = $3 AND ended_at IS NULL",
        "UPDATE user_sessions SET ended_at = $1 WHERE app_id = $2 AND id = $3 AND ended_at IS NULL",
    ] {
        sqlx::query(sql)
            .bind(at)
            .bind(app.0)
            .bind(session.0)
            .execute(&mut *conn)
            .await
            .map_err(driver_error::map)?;
    }
    Ok(())
}

pub(crate) async fn start_chat_session(
    conn: &mut PgConnection,
    app: AppId,
    user_session: UserSessionId,
    channel: ChannelId,
) -> Result<ChatSession> {
    if get_user_session(&mut *conn, app, user_session)
        .await?
        .is_none()
    {
        return Err(Error::not_found("user session"));
    }
    require_channel(conn, app, channel).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO chat_sessions (app_id, user_session_id, channel_id, created_at) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(app.0)
    .bind(user_session.0)
    .bind(channel.0)
    .bind(now())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| map_missing(e, "channel"))?;
    get_chat_session(&mut *conn, app, ChatSessionId(id))
        .await?
        .ok_or_else(|| Error::internal("a chat session vanished after it was written"))
}

pub(crate) async fn end_chat_session(
    conn: &mut PgConnection,
    app: AppId,
    session: ChatSessionId,
) -> Result<()> {
    if get_chat_session(&mut *conn, app, session).await?.is_none() {
        return Err(Error::not_found("chat session"));
    }
    sqlx::query(
        "UPDATE chat_sessions SET ended_at = $1 \
         WHERE app_id = $2 AND id = $3 AND ended_at IS NULL",
    )
    .bind(now())
    .bind(app.0)
    .bind(session.0)
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    Ok(())
}

pub(crate) async fn end_active_sessions(conn: &mut PgConnection) -> Result<u64> {
    let at = now();
    sqlx::query("UPDATE chat_sessions SET ended_at = $1 WHERE ended_at IS NULL")
        .bind(at)
        .execute(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    let done = sqlx::query("UPDATE user_sessions SET ended_at = $1 WHERE ended_at IS NULL")
        .bind(at)
        .execute(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    Ok(done.rows_affected())
}

// ----- clean-ups called by the generic writes ---------------------------------------

/// After a message was deleted: its reports and notifications go, and its parent has
/// one reply less.
pub(crate) async fn message_deleted(
    conn: &mut PgConnection,
    app: AppId,
    deleted: &MessageView,
) -> Result<()> {
    let id = deleted.message.id.0;
    exec(
        conn,
        "DELETE FROM message_reports WHERE app_id = $1 AND message_id = $2",
        &[app.0, id],
    )
    .await?;
    exec(
        conn,
        "DELETE FROM notifications WHERE app_id = $1 AND message_id = $2",
        &[app.0, id],
    )
    .await?;
    if let Some(parent) = deleted.message.parent_id {
        exec(
            conn,
            "UPDATE messages SET replies_count = GREATEST(replies_count - 1, 0) \
             WHERE app_id = $1 AND id = $2",
            &[app.0, parent.0],
        )
        .await?;
    }
    Ok(())
}

/// After every message of the application was deleted.
pub(crate) async fn all_messages_deleted(conn: &mut PgConnection, app: AppId) -> Result<()> {
    for sql in [
        "DELETE FROM message_reports WHERE app_id = $1",
        "DELETE FROM notifications WHERE app_id = $1",
    ] {
        exec(conn, sql, &[app.0]).await?;
    }
    Ok(())
}

/// Before a channel is deleted: everything of it that names it.
pub(crate) async fn channel_deleted(
    conn: &mut PgConnection,
    app: AppId,
    channel: ChannelId,
) -> Result<()> {
    for sql in [
        "DELETE FROM message_reports WHERE app_id = $1 AND channel_id = $2",
        "DELETE FROM notifications WHERE app_id = $1 AND channel_id = $2",
        "DELETE FROM read_receipts WHERE app_id = $1 AND channel_id = $2",
        "DELETE FROM channel_invites WHERE app_id = $1 AND channel_id = $2",
        "DELETE FROM chat_sessions WHERE app_id = $1 AND channel_id = $2",
    ] {
        exec(conn, sql, &[app.0, channel.0]).await?;
    }
    Ok(())
}

/// Before a user is deleted: their notifications, invites, read history and sessions.
/// Their reports stay, by a reporter who no longer resolves.
pub(crate) async fn user_deleted(conn: &mut PgConnection, app: AppId, user: UserId) -> Result<()> {
    for sql in [
        "DELETE FROM notifications WHERE app_id = $1 AND user_id = $2",
        "DELETE FROM channel_invites WHERE app_id = $1 AND user_id = $2",
        "DELETE FROM read_receipts WHERE app_id = $1 AND user_id = $2",
        "DELETE FROM chat_sessions WHERE app_id = $1 AND user_session_id IN \
         (SELECT id FROM user_sessions WHERE app_id = $1 AND user_id = $2)",
        "DELETE FROM user_sessions WHERE app_id = $1 AND user_id = $2",
    ] {
        exec(conn, sql, &[app.0, user.0]).await?;
    }
    Ok(())
}

/// After a read mark moved to `seq`: remembers when, for read receipts.
pub(crate) async fn read_mark_moved(
    conn: &mut PgConnection,
    app: AppId,
    channel: ChannelId,
    user: UserId,
    seq: i64,
) -> Result<()> {
    let at = now();
    let reached: Option<i64> = sqlx::query_scalar(
        "SELECT max(up_to_seq) FROM read_receipts WHERE channel_id = $1 AND user_id = $2",
    )
    .bind(channel.0)
    .bind(user.0)
    .fetch_one(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    if reached.is_some_and(|r| r >= seq) || seq <= 0 {
        // Not a new high: only a mark first written now gets its time.
        sqlx::query(
            "UPDATE read_marks SET read_at = $1 \
             WHERE app_id = $2 AND channel_id = $3 AND user_id = $4 AND read_at IS NULL",
        )
        .bind(at)
        .bind(app.0)
        .bind(channel.0)
        .bind(user.0)
        .execute(&mut *conn)
        .await
        .map_err(driver_error::map)?;
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO read_receipts (app_id, channel_id, user_id, up_to_seq, read_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(app.0)
    .bind(channel.0)
    .bind(user.0)
    .bind(seq)
    .bind(at)
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    sqlx::query(
        "UPDATE read_marks SET read_at = $1 WHERE app_id = $2 AND channel_id = $3 AND user_id = $4",
    )
    .bind(at)
    .bind(app.0)
    .bind(channel.0)
    .bind(user.0)
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    Ok(())
}
