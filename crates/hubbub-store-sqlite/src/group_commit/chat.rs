//! The writer's operations for invites, reports and sessions, and the clean-ups the
//! generic writes call when messages, channels or users go away. Each operation runs
//! in its own SAVEPOINT like every other [`Op`](super::Op).

use super::{Deferred, Reply, fail, settle};
use crate::driver_error;
use crate::queries::channels::channel_exists;
use crate::queries::invites::get_pending_invite;
use crate::queries::reports::{find_user_report, get_report};
use crate::queries::sessions::{get_chat_session, get_user_session};
use crate::queries::users::user_exists;
use crate::rows::ts_to_db;
use hubbub_core::ids::{AppId, ChannelId, ChatSessionId, ReportId, UserId, UserSessionId};
use hubbub_core::model::{
    ChatSession, Invite, MessageView, NewReport, NewUserSession, Report, UserSession, now,
};
use hubbub_core::{Error, Result};
use sqlx::SqliteConnection;

pub(crate) enum ChatOp {
    CreateInvite {
        app: AppId,
        channel: ChannelId,
        user: UserId,
        invited_by: Option<UserId>,
        reply: Reply<Invite>,
    },
    ReportMessage {
        app: AppId,
        new: NewReport,
        reply: Reply<Report>,
    },
    StartUserSession {
        app: AppId,
        new: NewUserSession,
        reply: Reply<UserSession>,
    },
    EndUserSession {
        app: AppId,
        session: UserSessionId,
        reply: Reply<()>,
    },
    StartChatSession {
        app: AppId,
        user_session: UserSessionId,
        channel: ChannelId,
        reply: Reply<ChatSession>,
    },
    EndChatSession {
        app: AppId,
        session: ChatSessionId,
        reply: Reply<()>,
    },
    EndActiveSessions {
        reply: Reply<u64>,
    },
}

impl ChatOp {
    pub(super) fn fail(self, e: &Error) {
        match self {
            ChatOp::CreateInvite { reply, .. } => fail(reply, e),
            ChatOp::ReportMessage { reply, .. } => fail(reply, e),
            ChatOp::StartUserSession { reply, .. } => fail(reply, e),
            ChatOp::EndUserSession { reply, .. } => fail(reply, e),
            ChatOp::StartChatSession { reply, .. } => fail(reply, e),
            ChatOp::EndChatSession { reply, .. } => fail(reply, e),
            ChatOp::EndActiveSessions { reply } => fail(reply, e),
        }
    }

    /// Runs the operation; the answer is delivered after the commit.
    pub(super) async fn apply(self, conn: &mut SqliteConnection) -> (Deferred, bool) {
        match self {
            ChatOp::CreateInvite {
                app,
                channel,
                user,
                invited_by,
                reply,
            } => settle(
                reply,
                create_invite(conn, app, channel, user, invited_by).await,
            ),
            ChatOp::ReportMessage { app, new, reply } => {
                settle(reply, report_message(conn, app, new).await)
            }
            ChatOp::StartUserSession { app, new, reply } => {
                settle(reply, start_user_session(conn, app, new).await)
            }
            ChatOp::EndUserSession {
                app,
                session,
                reply,
            } => settle(reply, end_user_session(conn, app, session).await),
            ChatOp::StartChatSession {
                app,
                user_session,
                channel,
                reply,
            } => settle(
                reply,
                start_chat_session(conn, app, user_session, channel).await,
            ),
            ChatOp::EndChatSession {
                app,
                session,
                reply,
            } => settle(reply, end_chat_session(conn, app, session).await),
            ChatOp::EndActiveSessions { reply } => settle(reply, end_active_sessions(conn).await),
        }
    }
}

async fn exec(conn: &mut SqliteConnection, sql: &str, binds: &[i64]) -> Result<u64> {
    let mut query = sqlx::query(sql);
    for b in binds {
        query = query.bind(*b);
    }
    let done = query.execute(&mut *conn).await.map_err(driver_error::map)?;
    Ok(done.rows_affected())
}

async fn create_invite(
    conn: &mut SqliteConnection,
    app: AppId,
    channel: ChannelId,
    user: UserId,
    invited_by: Option<UserId>,
) -> Result<Invite> {
    if !channel_exists(&mut *conn, app, channel).await? {
        return Err(Error::not_found("channel"));
    }
    if !user_exists(&mut *conn, app, user).await? {
        return Err(Error::not_found("user"));
    }
    // A stale invite of a user who became a member and left is renewed.
    sqlx::query(
        "INSERT INTO channel_invites (app_id, channel_id, user_id, invited_by, created_at) \
         VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (channel_id, user_id) DO UPDATE SET \
         invited_by = excluded.invited_by, created_at = excluded.created_at \
         WHERE EXISTS (SELECT 1 FROM channel_members cm \
             WHERE cm.channel_id = excluded.channel_id AND cm.user_id = excluded.user_id)",
    )
    .bind(app.0)
    .bind(channel.0)
    .bind(user.0)
    .bind(invited_by.map(|u| u.0))
    .bind(ts_to_db(now()))
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    get_pending_invite(&mut *conn, app, channel, user)
        .await?
        .ok_or_else(|| Error::Conflict("the user is already a member of this channel".into()))
}

async fn report_message(conn: &mut SqliteConnection, app: AppId, new: NewReport) -> Result<Report> {
    let channel: Option<i64> =
        sqlx::query_scalar("SELECT channel_id FROM messages WHERE app_id = ? AND id = ?")
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
        if !user_exists(&mut *conn, app, user).await? {
            return Err(Error::not_found("user"));
        }
    }
    let done = sqlx::query(
        "INSERT INTO message_reports (app_id, channel_id, message_id, user_id, reason, created_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(app.0)
    .bind(channel)
    .bind(new.message_id.0)
    .bind(new.user_id.map(|u| u.0))
    .bind(&new.reason)
    .bind(ts_to_db(now()))
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    exec(
        conn,
        "UPDATE messages SET report_count = report_count + 1 WHERE app_id = ? AND id = ?",
        &[app.0, new.message_id.0],
    )
    .await?;
    get_report(&mut *conn, app, ReportId(done.last_insert_rowid()))
        .await?
        .ok_or_else(|| Error::internal("a report vanished after it was written"))
}

async fn start_user_session(
    conn: &mut SqliteConnection,
    app: AppId,
    new: NewUserSession,
) -> Result<UserSession> {
    if !user_exists(&mut *conn, app, new.user_id).await? {
        return Err(Error::not_found("user"));
    }
    let done = sqlx::query(
        "INSERT INTO user_sessions (app_id, user_id, user_agent, created_at) VALUES (?, ?, ?, ?)",
    )
    .bind(app.0)
    .bind(new.user_id.0)
    .bind(new.user_agent.as_deref())
    .bind(ts_to_db(now()))
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    get_user_session(&mut *conn, app, UserSessionId(done.last_insert_rowid()))
        .await?
        .ok_or_else(|| Error::internal("a user session vanished after it was written"))
}

async fn end_user_session(
    conn: &mut SqliteConnection,
    app: AppId,
    session: UserSessionId,
) -> Result<()> {
    if get_user_session(&mut *conn, app, session).await?.is_none() {
        return Err(Error::not_found("user session"));
    }
    let at = ts_to_db(now());
    exec(
        conn,
        "UPDATE chat_sessions SET ended_at = ? \
         WHERE app_id = ? AND user_session_id = ? AND ended_at IS NULL",
        &[at, app.0, session.0],
    )
    .await?;
    exec(
        conn,
        "UPDATE user_sessions SET ended_at = ? WHERE app_id = ? AND id = ? AND ended_at IS NULL",
        &[at, app.0, session.0],
    )
    .await?;
    Ok(())
}

async fn start_chat_session(
    conn: &mut SqliteConnection,
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
    if !channel_exists(&mut *conn, app, channel).await? {
        return Err(Error::not_found("channel"));
    }
    let done = sqlx::query(
        "INSERT INTO chat_sessions (app_id, user_session_id, channel_id, created_at) \
         VALUES (?, ?, ?, ?)",
    )
    .bind(app.0)
    .bind(user_session.0)
    .bind(channel.0)
    .bind(ts_to_db(now()))
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    get_chat_session(&mut *conn, app, ChatSessionId(done.last_insert_rowid()))
        .await?
        .ok_or_else(|| Error::internal("a chat session vanished after it was written"))
}

async fn end_chat_session(
    conn: &mut SqliteConnection,
    app: AppId,
    session: ChatSessionId,
) -> Result<()> {
    if get_chat_session(&mut *conn, app, session).await?.is_none() {
        return Err(Error::not_found("chat session"));
    }
    exec(
        conn,
        "UPDATE chat_sessions SET ended_at = ? WHERE app_id = ? AND id = ? AND ended_at IS NULL",
        &[ts_to_db(now()), app.0, session.0],
    )
    .await?;
    Ok(())
}

async fn end_active_sessions(conn: &mut SqliteConnection) -> Result<u64> {
    let at = ts_to_db(now());
    exec(
        conn,
        "UPDATE chat_sessions SET ended_at = ? WHERE ended_at IS NULL",
        &[at],
    )
    .await?;
    exec(
        conn,
        "UPDATE user_sessions SET ended_at = ? WHERE ended_at IS NULL",
        &[at],
    )
    .await
}

// ----- clean-ups called by the generic writes ---------------------------------------

/// After a message was deleted: its reports and notifications go, and its parent has
/// one reply less.
pub(crate) async fn message_deleted(
    conn: &mut SqliteConnection,
    app: AppId,
    deleted: &MessageView,
) -> Result<()> {
    let id = deleted.message.id.0;
    exec(
        conn,
        "DELETE FROM message_reports WHERE app_id = ? AND message_id = ?",
        &[app.0, id],
    )
    .await?;
    exec(
        conn,
        "DELETE FROM notifications WHERE app_id = ? AND message_id = ?",
        &[app.0, id],
    )
    .await?;
    if let Some(parent) = deleted.message.parent_id {
        exec(
            conn,
            "UPDATE messages SET replies_count = max(replies_count - 1, 0) \
             WHERE app_id = ? AND id = ?",
            &[app.0, parent.0],
        )
        .await?;
    }
    Ok(())
}

/// After every message of the application was deleted.
pub(crate) async fn all_messages_deleted(conn: &mut SqliteConnection, app: AppId) -> Result<()> {
    for sql in [
        "DELETE FROM message_reports WHERE app_id = ?",
        "DELETE FROM notifications WHERE app_id = ?",
    ] {
        exec(conn, sql, &[app.0]).await?;
    }
    Ok(())
}

/// Before a channel is deleted: everything of it that names it.
pub(crate) async fn channel_deleted(
    conn: &mut SqliteConnection,
    app: AppId,
    channel: ChannelId,
) -> Result<()> {
    for sql in [
        "DELETE FROM message_reports WHERE app_id = ? AND channel_id = ?",
        "DELETE FROM notifications WHERE app_id = ? AND channel_id = ?",
        "DELETE FROM read_receipts WHERE app_id = ? AND channel_id = ?",
        "DELETE FROM channel_invites WHERE app_id = ? AND channel_id = ?",
        "DELETE FROM chat_sessions WHERE app_id = ? AND channel_id = ?",
    ] {
        exec(conn, sql, &[app.0, channel.0]).await?;
    }
    Ok(())
}

/// Before a user is deleted: their notifications, invites, read history and sessions.
/// Their reports stay, by a reporter who no longer resolves.
pub(crate) async fn user_deleted(
    conn: &mut SqliteConnection,
    app: AppId,
    user: UserId,
) -> Result<()> {
    for sql in [
        "DELETE FROM notifications WHERE app_id = ? AND user_id = ?",
        "DELETE FROM channel_invites WHERE app_id = ? AND user_id = ?",
        "DELETE FROM read_receipts WHERE app_id = ? AND user_id = ?",
        "DELETE FROM chat_sessions WHERE app_id = ? AND user_session_id IN \
         (SELECT id FROM user_sessions WHERE app_id = ?1 AND user_id = ?2)",
        "DELETE FROM user_sessions WHERE app_id = ? AND user_id = ?",
    ] {
        exec(conn, sql, &[app.0, user.0]).await?;
    }
    Ok(())
}

/// After a read mark moved to `seq`: remembers when, for read receipts.
pub(crate) async fn read_mark_moved(
    conn: &mut SqliteConnection,
    app: AppId,
    channel: ChannelId,
    user: UserId,
    seq: i64,
) -> Result<()> {
    let at = ts_to_db(now());
    let reached: Option<i64> = sqlx::query_scalar(
        "SELECT max(up_to_seq) FROM read_receipts WHERE channel_id = ? AND user_id = ?",
    )
    .bind(channel.0)
    .bind(user.0)
    .fetch_one(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    if reached.is_some_and(|r| r >= seq) || seq <= 0 {
        // Not a new high: only a mark first written now gets its time.
        exec(
            conn,
            "UPDATE read_marks SET read_at = ? \
             WHERE app_id = ? AND channel_id = ? AND user_id = ? AND read_at IS NULL",
            &[at, app.0, channel.0, user.0],
        )
        .await?;
        return Ok(());
    }
    exec(
        conn,
        "INSERT INTO read_receipts (app_id, channel_id, user_id, up_to_seq, read_at) \
         VALUES (?, ?, ?, ?, ?)",
        &[app.0, channel.0, user.0, seq, at],
    )
    .await?;
    exec(
        conn,
        "UPDATE read_marks SET read_at = ? WHERE app_id = ? AND channel_id = ? AND user_id = ?",
        &[at, app.0, channel.0, user.0],
    )
    .await?;
    Ok(())
}
