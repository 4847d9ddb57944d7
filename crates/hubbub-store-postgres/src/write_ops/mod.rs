//! Every write except message appends. Each runs in a transaction of its own on a
//! pool connection (see `PostgresStore::write`), reading through that transaction,
//! and is run again from the start if PostgreSQL aborts it as a deadlock or a
//! serialization failure.
//!
//! Lock order: whatever locks a channel row does so before it locks any message row
//! (the appends' writer locks channels, then bumps parents' `replies_count`), and
//! several channels are locked in id order, so writers of different nodes queue
//! instead of deadlocking.

pub(crate) mod chat;
pub(crate) mod jobs;
pub(crate) mod moderation;

use crate::driver_error::{self, FOREIGN_KEY_VIOLATION, sqlstate};
use crate::queries::applications::get_application;
use crate::queries::channels::{Role, get_channel, require_channel};
use crate::queries::messages::get_message_view;
use crate::queries::users::{get_user, user_exists};
use crate::rows::{json_to_db, properties_to_db};
use hubbub_core::credentials::random_token;
use hubbub_core::ids::{AppId, ChannelId, MessageId, UserId};
use hubbub_core::model::{
    AppSettings, Application, CallStatus, Channel, ChannelChanges, MessageChanges, MessageContent,
    MessageView, NewApplication, NewChannel, NewUser, Timestamp, User, UserChanges, now,
};
use hubbub_core::names::SecretName;
use hubbub_core::{Error, Result};
use sqlx::{PgConnection, Postgres, QueryBuilder};

/// Presence and call status of a new user.
const INITIAL_STATUS: &str = "AVAILABLE";

/// Maps a driver error where a foreign key names `resource`: a row it references
/// went away meanwhile (another node deleted it), so the resource is not found.
pub(crate) fn map_missing(e: sqlx::Error, resource: &'static str) -> Error {
    if sqlstate(&e).as_deref() == Some(FOREIGN_KEY_VIOLATION) {
        Error::not_found(resource)
    } else {
        driver_error::map(e)
    }
}

pub(crate) async fn exec(conn: &mut PgConnection, sql: &str, binds: &[i64]) -> Result<u64> {
    let mut query = sqlx::query(sql);
    for b in binds {
        query = query.bind(*b);
    }
    let done = query.execute(&mut *conn).await.map_err(driver_error::map)?;
    Ok(done.rows_affected())
}

async fn require_application(conn: &mut PgConnection, app: AppId) -> Result<()> {
    let found = sqlx::query("SELECT 1 FROM applications WHERE id = $1")
        .bind(app.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    found
        .map(|_| ())
        .ok_or_else(|| Error::not_found("application"))
}

pub(crate) async fn require_user(conn: &mut PgConnection, app: AppId, user: UserId) -> Result<()> {
    if user_exists(&mut *conn, app, user).await? {
        Ok(())
    } else {
        Err(Error::not_found("user"))
    }
}

/// Takes the row lock of a channel of `app` (appends to it wait until this commits).
pub(crate) async fn lock_channel(
    conn: &mut PgConnection,
    app: AppId,
    channel: ChannelId,
) -> Result<()> {
    let found = sqlx::query("SELECT 1 FROM channels WHERE app_id = $1 AND id = $2 FOR UPDATE")
        .bind(app.0)
        .bind(channel.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    found.map(|_| ()).ok_or_else(|| Error::not_found("channel"))
}

// ----- applications -----------------------------------------------------------------

pub(crate) async fn create_application(
    conn: &mut PgConnection,
    new: &NewApplication,
) -> Result<Application> {
    let created_at = now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO applications \
         (name, client_id, client_secret_hash, signing_secret, created_at, properties, settings) \
         VALUES ($1, $2, $3, $4, $5, $6::json, $7::json) RETURNING id",
    )
    .bind(&new.name)
    .bind(&new.client_id)
    .bind(&new.client_secret_hash)
    .bind(&new.signing_secret)
    .bind(created_at)
    .bind(properties_to_db(&new.properties)?)
    .bind(json_to_db(&new.settings)?)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| {
        driver_error::map_with_conflict(e, |_| {
            format!(
                "an application with client id '{}' already exists",
                new.client_id
            )
        })
    })?;
    Ok(Application {
        id: AppId(id),
        name: new.name.clone(),
        client_id: new.client_id.clone(),
        created_at,
        properties: new.properties.clone(),
        settings: new.settings,
    })
}

pub(crate) async fn update_app_settings(
    conn: &mut PgConnection,
    app: AppId,
    settings: AppSettings,
) -> Result<Application> {
    sqlx::query("UPDATE applications SET settings = $1::json WHERE id = $2")
        .bind(json_to_db(&settings)?)
        .bind(app.0)
        .execute(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    get_application(&mut *conn, app)
        .await?
        .ok_or_else(|| Error::not_found("application"))
}

// ----- access tokens ----------------------------------------------------------------

pub(crate) async fn insert_access_token(
    conn: &mut PgConnection,
    app: AppId,
    token_hash: &str,
    expires_at: Timestamp,
) -> Result<()> {
    require_application(conn, app).await?;
    sqlx::query("INSERT INTO access_tokens (token_hash, app_id, expires_at) VALUES ($1, $2, $3)")
        .bind(token_hash)
        .bind(app.0)
        .bind(expires_at)
        .execute(&mut *conn)
        .await
        .map_err(|e| match sqlstate(&e).as_deref() {
            Some(FOREIGN_KEY_VIOLATION) => Error::not_found("application"),
            _ => driver_error::map_with_conflict(e, |_| "this access token already exists".into()),
        })?;
    Ok(())
}

pub(crate) async fn purge_expired_tokens(conn: &mut PgConnection, at: Timestamp) -> Result<u64> {
    let done = sqlx::query("DELETE FROM access_tokens WHERE expires_at < $1")
        .bind(at)
        .execute(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    Ok(done.rows_affected())
}

// ----- users ------------------------------------------------------------------------

pub(crate) async fn create_user(
    conn: &mut PgConnection,
    app: AppId,
    new: &NewUser,
) -> Result<User> {
    require_application(conn, app).await?;
    let created_at = now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (app_id, name, display_name, display_picture_url, kind, is_guest, \
         presence_status, call_status, properties, created_at) \
         VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, $8::json, $9) RETURNING id",
    )
    .bind(app.0)
    .bind(new.name.as_str())
    .bind(new.display_name.as_str())
    .bind(new.kind.as_str())
    .bind(new.is_guest)
    .bind(INITIAL_STATUS)
    .bind(CallStatus::Available.as_str())
    .bind(properties_to_db(&new.properties)?)
    .bind(created_at)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match sqlstate(&e).as_deref() {
        Some(FOREIGN_KEY_VIOLATION) => Error::not_found("application"),
        _ => driver_error::map_with_conflict(e, |_| {
            format!("a user named '{}' already exists", new.name.as_str())
        }),
    })?;
    Ok(User {
        id: UserId(id),
        app_id: app,
        name: new.name.clone(),
        display_name: new.display_name.clone(),
        display_picture_url: None,
        kind: new.kind,
        is_guest: new.is_guest,
        presence_status: INITIAL_STATUS.to_owned(),
        call_status: CallStatus::Available,
        properties: new.properties.clone(),
        created_at,
    })
}

pub(crate) async fn update_user(
    conn: &mut PgConnection,
    app: AppId,
    user: UserId,
    changes: &UserChanges,
) -> Result<User> {
    let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new("UPDATE users SET ");
    let mut any = false;
    {
        let mut set = qb.separated(", ");
        if let Some(display_name) = &changes.display_name {
            set.push("display_name = ");
            set.push_bind_unseparated(display_name.as_str());
            any = true;
        }
        if let Some(picture) = &changes.display_picture_url {
            set.push("display_picture_url = ");
            set.push_bind_unseparated(picture.as_ref().map(|p| p.as_str()));
            any = true;
        }
        if let Some(is_guest) = changes.is_guest {
            set.push("is_guest = ");
            set.push_bind_unseparated(is_guest);
            any = true;
        }
        if let Some(status) = &changes.presence_status {
            set.push("presence_status = ");
            set.push_bind_unseparated(status.as_str());
            any = true;
        }
        if let Some(properties) = &changes.properties {
            set.push("properties = ");
            set.push_bind_unseparated(properties_to_db(properties)?);
            set.push_unseparated("::json");
            any = true;
        }
        if let Some(kind) = changes.kind {
            set.push("kind = ");
            set.push_bind_unseparated(kind.as_str());
            any = true;
        }
    }
    if any {
        qb.push(" WHERE app_id = ");
        qb.push_bind(app.0);
        qb.push(" AND id = ");
        qb.push_bind(user.0);
        qb.build()
            .execute(&mut *conn)
            .await
            .map_err(driver_error::map)?;
    }
    get_user(&mut *conn, app, user)
        .await?
        .ok_or_else(|| Error::not_found("user"))
}

/// Deletes the user with their memberships, moderator roles, secrets and read marks.
/// Their messages keep `user_id`, which no longer resolves (`MessageView::user` is
/// `None`), so they still read as user messages rather than system messages.
pub(crate) async fn delete_user(conn: &mut PgConnection, app: AppId, user: UserId) -> Result<()> {
    require_user(conn, app, user).await?;
    chat::user_deleted(conn, app, user).await?;
    moderation::user_deleted(conn, app, user).await?;
    for sql in [
        "DELETE FROM channel_members WHERE app_id = $1 AND user_id = $2",
        "DELETE FROM channel_moderators WHERE app_id = $1 AND user_id = $2",
        "DELETE FROM user_secrets WHERE app_id = $1 AND user_id = $2",
        "DELETE FROM read_marks WHERE app_id = $1 AND user_id = $2",
        "DELETE FROM users WHERE app_id = $1 AND id = $2",
    ] {
        exec(conn, sql, &[app.0, user.0]).await?;
    }
    Ok(())
}

// ----- user secrets -----------------------------------------------------------------

pub(crate) async fn set_user_secret(
    conn: &mut PgConnection,
    app: AppId,
    user: UserId,
    name: &SecretName,
    value: &serde_json::Value,
) -> Result<()> {
    require_user(conn, app, user).await?;
    sqlx::query(
        "INSERT INTO user_secrets (app_id, user_id, name, value) VALUES ($1, $2, $3, $4::json) \
         ON CONFLICT (user_id, name) DO UPDATE SET value = excluded.value",
    )
    .bind(app.0)
    .bind(user.0)
    .bind(name.as_str())
    .bind(json_to_db(value)?)
    .execute(&mut *conn)
    .await
    .map_err(|e| map_missing(e, "user"))?;
    Ok(())
}

pub(crate) async fn delete_user_secret(
    conn: &mut PgConnection,
    app: AppId,
    user: UserId,
    name: &SecretName,
) -> Result<()> {
    let done =
        sqlx::query("DELETE FROM user_secrets WHERE app_id = $1 AND user_id = $2 AND name = $3")
            .bind(app.0)
            .bind(user.0)
            .bind(name.as_str())
            .execute(&mut *conn)
            .await
            .map_err(driver_error::map)?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("secret"));
    }
    Ok(())
}

// ----- channels ---------------------------------------------------------------------

pub(crate) async fn create_channel(
    conn: &mut PgConnection,
    app: AppId,
    new: &NewChannel,
) -> Result<Channel> {
    require_application(conn, app).await?;
    if let Some(creator) = new.creator {
        require_user(conn, app, creator).await?;
    }
    let created_at = now();
    let epoch = random_token(8);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO channels (app_id, kind, name, display_name, creator_id, properties, \
         created_at, epoch, last_seq, last_message_id, live, direct_key) \
         VALUES ($1, $2, $3, $4, $5, $6::json, $7, $8, 0, NULL, $9::json, $10) RETURNING id",
    )
    .bind(app.0)
    .bind(new.kind.as_str())
    .bind(new.name.as_ref().map(|n| n.as_str()))
    .bind(new.display_name.as_ref().map(|d| d.as_str()))
    .bind(new.creator.map(|c| c.0))
    .bind(properties_to_db(&new.properties)?)
    .bind(created_at)
    .bind(&epoch)
    .bind(json_to_db(&new.live)?)
    .bind(new.direct_key.as_deref())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| {
        driver_error::map_with_conflict(e, |constraint| match &new.name {
            Some(name) if !constraint.contains("direct_key") => {
                format!("a channel named '{}' already exists", name.as_str())
            }
            _ => "a direct channel with these members already exists".to_owned(),
        })
    })?;

    let mut members: Vec<i64> = new.members.iter().map(|m| m.0).collect();
    members.sort_unstable();
    members.dedup();
    if !members.is_empty() {
        let added = sqlx::query(
            "INSERT INTO channel_members (app_id, channel_id, user_id, created_at) \
             SELECT $1, $2, u.id, $3 FROM users u WHERE u.app_id = $1 AND u.id = ANY($4)",
        )
        .bind(app.0)
        .bind(id)
        .bind(created_at)
        .bind(&members)
        .execute(&mut *conn)
        .await
        .map_err(|e| map_missing(e, "user"))?;
        if added.rows_affected() != members.len() as u64 {
            return Err(Error::not_found("user"));
        }
    }

    Ok(Channel {
        id: ChannelId(id),
        app_id: app,
        kind: new.kind,
        name: new.name.clone(),
        display_name: new.display_name.clone(),
        creator: new.creator,
        properties: new.properties.clone(),
        created_at,
        epoch,
        last_seq: 0,
        last_message_id: None,
        live: new.live.clone(),
    })
}

pub(crate) async fn update_channel(
    conn: &mut PgConnection,
    app: AppId,
    channel: ChannelId,
    changes: &ChannelChanges,
) -> Result<Channel> {
    let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new("UPDATE channels SET ");
    let mut any = false;
    {
        let mut set = qb.separated(", ");
        if let Some(display_name) = &changes.display_name {
            set.push("display_name = ");
            set.push_bind_unseparated(display_name.as_str());
            any = true;
        }
        if let Some(properties) = &changes.properties {
            set.push("properties = ");
            set.push_bind_unseparated(properties_to_db(properties)?);
            set.push_unseparated("::json");
            any = true;
        }
        if let Some(live) = &changes.live {
            set.push("live = ");
            set.push_bind_unseparated(json_to_db(live)?);
            set.push_unseparated("::json");
            any = true;
        }
    }
    if any {
        qb.push(" WHERE app_id = ");
        qb.push_bind(app.0);
        qb.push(" AND id = ");
        qb.push_bind(channel.0);
        qb.build()
            .execute(&mut *conn)
            .await
            .map_err(driver_error::map)?;
    }
    get_channel(&mut *conn, app, channel)
        .await?
        .ok_or_else(|| Error::not_found("channel"))
}

/// Deletes the channel with its messages, members, moderators and read marks. The
/// channel's row lock comes first, so no append can slip a message in meanwhile.
pub(crate) async fn delete_channel(
    conn: &mut PgConnection,
    app: AppId,
    channel: ChannelId,
) -> Result<()> {
    lock_channel(conn, app, channel).await?;
    chat::channel_deleted(conn, app, channel).await?;
    moderation::channel_deleted(conn, app, channel).await?;
    for sql in [
        "DELETE FROM messages WHERE app_id = $1 AND channel_id = $2",
        "DELETE FROM read_marks WHERE app_id = $1 AND channel_id = $2",
        "DELETE FROM channel_members WHERE app_id = $1 AND channel_id = $2",
        "DELETE FROM channel_moderators WHERE app_id = $1 AND channel_id = $2",
        "DELETE FROM channels WHERE app_id = $1 AND id = $2",
    ] {
        exec(conn, sql, &[app.0, channel.0]).await?;
    }
    Ok(())
}

// ----- members and moderators -------------------------------------------------------

/// Gives `user` the role in `channel`; a no-op if they already hold it.
pub(crate) async fn add_role(
    conn: &mut PgConnection,
    role: Role,
    app: AppId,
    channel: ChannelId,
    user: UserId,
) -> Result<()> {
    require_channel(conn, app, channel).await?;
    require_user(conn, app, user).await?;
    let sql = match role {
        Role::Member => {
            "INSERT INTO channel_members (app_id, channel_id, user_id, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
        }
        Role::Moderator => {
            "INSERT INTO channel_moderators (app_id, channel_id, user_id, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
        }
    };
    sqlx::query(sql)
        .bind(app.0)
        .bind(channel.0)
        .bind(user.0)
        .bind(now())
        .execute(&mut *conn)
        .await
        .map_err(|e| map_missing(e, "user"))?;
    Ok(())
}

/// Takes the role away; `NotFound` if the user did not hold it.
pub(crate) async fn remove_role(
    conn: &mut PgConnection,
    role: Role,
    app: AppId,
    channel: ChannelId,
    user: UserId,
) -> Result<()> {
    require_channel(conn, app, channel).await?;
    let sql = match role {
        Role::Member => {
            "DELETE FROM channel_members WHERE app_id = $1 AND channel_id = $2 AND user_id = $3"
        }
        Role::Moderator => {
            "DELETE FROM channel_moderators \
             WHERE app_id = $1 AND channel_id = $2 AND user_id = $3"
        }
    };
    if exec(conn, sql, &[app.0, channel.0, user.0]).await? == 0 {
        return Err(Error::not_found(role.resource()));
    }
    Ok(())
}

// ----- messages ---------------------------------------------------------------------

/// Applies `changes`; `edited_at` is set only when the body actually changes.
pub(crate) async fn update_message(
    conn: &mut PgConnection,
    app: AppId,
    message: MessageId,
    changes: &MessageChanges,
) -> Result<MessageView> {
    // The row lock first: a concurrent edit cannot slip between the read and the write.
    let current = sqlx::query("SELECT 1 FROM messages WHERE app_id = $1 AND id = $2 FOR UPDATE")
        .bind(app.0)
        .bind(message.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    if current.is_none() {
        return Err(Error::not_found("message"));
    }
    let current = get_message_view(&mut *conn, app, message)
        .await?
        .ok_or_else(|| Error::not_found("message"))?;
    let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new("UPDATE messages SET ");
    let mut any = false;
    {
        let mut set = qb.separated(", ");
        if let Some(body) = &changes.body {
            match &current.message.content {
                MessageContent::Text { body: old } => {
                    if old != body {
                        set.push("body = ");
                        set.push_bind_unseparated(body.as_str());
                        set.push("edited_at = ");
                        set.push_bind_unseparated(now());
                        any = true;
                    }
                }
                MessageContent::File { .. } => {
                    return Err(Error::invalid("body", "only text messages have a body"));
                }
            }
        }
        if let Some(properties) = &changes.properties {
            set.push("properties = ");
            set.push_bind_unseparated(properties_to_db(properties)?);
            set.push_unseparated("::json");
            any = true;
        }
        if let Some(group_tag) = &changes.group_tag {
            set.push("group_tag = ");
            set.push_bind_unseparated(group_tag.as_deref());
            any = true;
        }
    }
    if !any {
        return Ok(current);
    }
    qb.push(" WHERE app_id = ");
    qb.push_bind(app.0);
    qb.push(" AND id = ");
    qb.push_bind(message.0);
    qb.build()
        .execute(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    get_message_view(&mut *conn, app, message)
        .await?
        .ok_or_else(|| Error::not_found("message"))
}

/// Deletes one message and points its channel's `last_message_id` at the newest
/// remaining message. The channel's `last_seq` stays: seqs are never reused.
pub(crate) async fn delete_message(
    conn: &mut PgConnection,
    app: AppId,
    message: MessageId,
) -> Result<MessageView> {
    let channel: Option<i64> =
        sqlx::query_scalar("SELECT channel_id FROM messages WHERE app_id = $1 AND id = $2")
            .bind(app.0)
            .bind(message.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(driver_error::map)?;
    let channel = channel.ok_or_else(|| Error::not_found("message"))?;
    // Channel first, then the message (the writer's lock order).
    lock_channel(conn, app, ChannelId(channel))
        .await
        .map_err(|_| Error::not_found("message"))?;
    let current = get_message_view(&mut *conn, app, message)
        .await?
        .ok_or_else(|| Error::not_found("message"))?;
    exec(
        conn,
        "DELETE FROM messages WHERE app_id = $1 AND id = $2",
        &[app.0, message.0],
    )
    .await?;
    exec(
        conn,
        "UPDATE channels SET last_message_id = \
         (SELECT max(id) FROM messages WHERE channel_id = $1) \
         WHERE id = $1 AND last_message_id = $2",
        &[current.message.channel_id.0, message.0],
    )
    .await?;
    chat::message_deleted(conn, app, &current).await?;
    Ok(current)
}

pub(crate) async fn delete_all_messages(conn: &mut PgConnection, app: AppId) -> Result<u64> {
    // Every channel of the application, locked in id order like the writer does.
    sqlx::query("SELECT id FROM channels WHERE app_id = $1 ORDER BY id FOR UPDATE")
        .bind(app.0)
        .fetch_all(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    let deleted = exec(conn, "DELETE FROM messages WHERE app_id = $1", &[app.0]).await?;
    exec(
        conn,
        "UPDATE channels SET last_message_id = NULL WHERE app_id = $1",
        &[app.0],
    )
    .await?;
    chat::all_messages_deleted(conn, app).await?;
    Ok(deleted)
}

// ----- read state -------------------------------------------------------------------

/// Raises the user's read mark in the channel to `seq`, clamped to the channel's
/// `last_seq` (nobody has read what was not written yet). Never lowers it.
pub(crate) async fn mark_read(
    conn: &mut PgConnection,
    app: AppId,
    channel: ChannelId,
    user: UserId,
    seq: i64,
) -> Result<()> {
    let last_seq: Option<i64> =
        sqlx::query_scalar("SELECT last_seq FROM channels WHERE app_id = $1 AND id = $2")
            .bind(app.0)
            .bind(channel.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(driver_error::map)?;
    let last_seq = last_seq.ok_or_else(|| Error::not_found("channel"))?;
    require_user(conn, app, user).await?;
    let seq = seq.clamp(0, last_seq.max(0));
    // The upsert holds the mark's row lock until commit, so concurrent marks of one
    // user in one channel (from any node) are applied one after the other.
    sqlx::query(
        "INSERT INTO read_marks (app_id, channel_id, user_id, last_read_seq) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, channel_id) \
         DO UPDATE SET last_read_seq = GREATEST(read_marks.last_read_seq, excluded.last_read_seq)",
    )
    .bind(app.0)
    .bind(channel.0)
    .bind(user.0)
    .bind(seq)
    .execute(&mut *conn)
    .await
    .map_err(|e| map_missing(e, "channel"))?;
    chat::read_mark_moved(conn, app, channel, user, seq).await
}
