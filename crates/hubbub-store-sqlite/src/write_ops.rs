//! Every write except message appends, as run by the writer inside its open
//! transaction (each in its own SAVEPOINT, see [`group_commit`](crate::group_commit)).
//! They read through the same connection, so they see the batch's earlier writes.

use crate::driver_error;
use crate::group_commit::{chat, moderation};
use crate::queries::applications::get_application;
use crate::queries::channels::{Role, channel_exists};
use crate::queries::messages::get_message_view;
use crate::queries::users::{get_user, user_exists};
use crate::rows::{json_to_db, properties_to_db, ts_to_db};
use hubbub_core::credentials::random_token;
use hubbub_core::ids::{AppId, ChannelId, MessageId, UserId};
use hubbub_core::model::{
    AppSettings, Application, Channel, ChannelChanges, MessageChanges, MessageContent, MessageView,
    NewApplication, NewChannel, NewUser, Timestamp, User, UserChanges, now,
};
use hubbub_core::names::SecretName;
use hubbub_core::{Error, Result};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

/// Presence and call status of a new user.
const INITIAL_STATUS: &str = "AVAILABLE";

pub(crate) async fn require_application(conn: &mut SqliteConnection, app: AppId) -> Result<()> {
    let found = sqlx::query("SELECT 1 FROM applications WHERE id = ?")
        .bind(app.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    found
        .map(|_| ())
        .ok_or_else(|| Error::not_found("application"))
}

pub(crate) async fn require_user(
    conn: &mut SqliteConnection,
    app: AppId,
    user: UserId,
) -> Result<()> {
    if user_exists(&mut *conn, app, user).await? {
        Ok(())
    } else {
        Err(Error::not_found("user"))
    }
}

pub(crate) async fn require_channel(
    conn: &mut SqliteConnection,
    app: AppId,
    channel: ChannelId,
) -> Result<()> {
    if channel_exists(&mut *conn, app, channel).await? {
        Ok(())
    } else {
        Err(Error::not_found("channel"))
    }
}

// ----- applications -----------------------------------------------------------------

pub(crate) async fn create_application(
    conn: &mut SqliteConnection,
    new: NewApplication,
) -> Result<Application> {
    let created_at = now();
    let properties = properties_to_db(&new.properties)?;
    let settings = json_to_db(&new.settings)?;
    let done = sqlx::query(
        "INSERT INTO applications \
         (name, client_id, client_secret_hash, signing_secret, created_at, properties, settings) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&new.name)
    .bind(&new.client_id)
    .bind(&new.client_secret_hash)
    .bind(&new.signing_secret)
    .bind(ts_to_db(created_at))
    .bind(properties)
    .bind(settings)
    .execute(&mut *conn)
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
        id: AppId(done.last_insert_rowid()),
        name: new.name,
        client_id: new.client_id,
        created_at,
        properties: new.properties,
        settings: new.settings,
    })
}

pub(crate) async fn update_app_settings(
    conn: &mut SqliteConnection,
    app: AppId,
    settings: AppSettings,
) -> Result<Application> {
    sqlx::query("UPDATE applications SET settings = ? WHERE id = ?")
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
    conn: &mut SqliteConnection,
    app: AppId,
    token_hash: &str,
    expires_at: Timestamp,
) -> Result<()> {
    require_application(conn, app).await?;
    sqlx::query("INSERT INTO access_tokens (token_hash, app_id, expires_at) VALUES (?, ?, ?)")
        .bind(token_hash)
        .bind(app.0)
        .bind(ts_to_db(expires_at))
        .execute(&mut *conn)
        .await
        .map_err(|e| {
            driver_error::map_with_conflict(e, |_| "this access token already exists".into())
        })?;
    Ok(())
}

pub(crate) async fn purge_expired_tokens(
    conn: &mut SqliteConnection,
    at: Timestamp,
) -> Result<u64> {
    let done = sqlx::query("DELETE FROM access_tokens WHERE expires_at < ?")
        .bind(ts_to_db(at))
        .execute(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    Ok(done.rows_affected())
}

// ----- users ------------------------------------------------------------------------

pub(crate) async fn create_user(
    conn: &mut SqliteConnection,
    app: AppId,
    new: NewUser,
) -> Result<User> {
    require_application(conn, app).await?;
    let created_at = now();
    let done = sqlx::query(
        "INSERT INTO users (app_id, name, display_name, display_picture_url, kind, is_guest, \
         presence_status, call_status, properties, created_at) \
         VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)",
    )
    .bind(app.0)
    .bind(new.name.as_str())
    .bind(new.display_name.as_str())
    .bind(new.kind.as_str())
    .bind(new.is_guest)
    .bind(INITIAL_STATUS)
    .bind(hubbub_core::model::CallStatus::Available.as_str())
    .bind(properties_to_db(&new.properties)?)
    .bind(ts_to_db(created_at))
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        driver_error::map_with_conflict(e, |_| {
            format!("a user named '{}' already exists", new.name.as_str())
        })
    })?;
    Ok(User {
        id: UserId(done.last_insert_rowid()),
        app_id: app,
        name: new.name,
        display_name: new.display_name,
        display_picture_url: None,
        kind: new.kind,
        is_guest: new.is_guest,
        presence_status: INITIAL_STATUS.to_owned(),
        call_status: hubbub_core::model::CallStatus::Available,
        properties: new.properties,
        created_at,
    })
}

pub(crate) async fn update_user(
    conn: &mut SqliteConnection,
    app: AppId,
    user: UserId,
    changes: UserChanges,
) -> Result<User> {
    let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new("UPDATE users SET ");
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
pub(crate) async fn delete_user(
    conn: &mut SqliteConnection,
    app: AppId,
    user: UserId,
) -> Result<()> {
    require_user(conn, app, user).await?;
    chat::user_deleted(conn, app, user).await?;
    moderation::user_deleted(conn, app, user).await?;
    for sql in [
        "DELETE FROM channel_members WHERE app_id = ? AND user_id = ?",
        "DELETE FROM channel_moderators WHERE app_id = ? AND user_id = ?",
        "DELETE FROM user_secrets WHERE app_id = ? AND user_id = ?",
        "DELETE FROM read_marks WHERE app_id = ? AND user_id = ?",
        "DELETE FROM users WHERE app_id = ? AND id = ?",
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

// ----- user secrets -----------------------------------------------------------------

pub(crate) async fn set_user_secret(
    conn: &mut SqliteConnection,
    app: AppId,
    user: UserId,
    name: &SecretName,
    value: &serde_json::Value,
) -> Result<()> {
    require_user(conn, app, user).await?;
    sqlx::query(
        "INSERT INTO user_secrets (app_id, user_id, name, value) VALUES (?, ?, ?, ?) \
         ON CONFLICT (user_id, name) DO UPDATE SET value = excluded.value",
    )
    .bind(app.0)
    .bind(user.0)
    .bind(name.as_str())
    .bind(json_to_db(value)?)
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    Ok(())
}

pub(crate) async fn delete_user_secret(
    conn: &mut SqliteConnection,
    app: AppId,
    user: UserId,
    name: &SecretName,
) -> Result<()> {
    let done =
        sqlx::query("DELETE FROM user_secrets WHERE app_id = ? AND user_id = ? AND name = ?")
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
    conn: &mut SqliteConnection,
    app: AppId,
    new: NewChannel,
) -> Result<Channel> {
    require_application(conn, app).await?;
    if let Some(creator) = new.creator {
        require_user(conn, app, creator).await?;
    }
    let created_at = now();
    let epoch = random_token(8);
    let done = sqlx::query(
        "INSERT INTO channels (app_id, kind, name, display_name, creator_id, properties, \
         created_at, epoch, last_seq, last_message_id, live, direct_key) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?, ?)",
    )
    .bind(app.0)
    .bind(new.kind.as_str())
    .bind(new.name.as_ref().map(|n| n.as_str()))
    .bind(new.display_name.as_ref().map(|d| d.as_str()))
    .bind(new.creator.map(|c| c.0))
    .bind(properties_to_db(&new.properties)?)
    .bind(ts_to_db(created_at))
    .bind(&epoch)
    .bind(json_to_db(&new.live)?)
    .bind(new.direct_key.as_deref())
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        driver_error::map_with_conflict(e, |message| match &new.name {
            Some(name) if !message.contains("direct_key") => {
                format!("a channel named '{}' already exists", name.as_str())
            }
            _ => "a direct channel with these members already exists".to_owned(),
        })
    })?;
    let id = ChannelId(done.last_insert_rowid());

    let mut members = new.members.clone();
    members.sort_unstable();
    members.dedup();
    for member in members {
        let added = sqlx::query(
            "INSERT INTO channel_members (app_id, channel_id, user_id, created_at) \
             SELECT ?, ?, u.id, ? FROM users u WHERE u.app_id = ? AND u.id = ?",
        )
        .bind(app.0)
        .bind(id.0)
        .bind(ts_to_db(created_at))
        .bind(app.0)
        .bind(member.0)
        .execute(&mut *conn)
        .await
        .map_err(driver_error::map)?;
        if added.rows_affected() == 0 {
            return Err(Error::not_found("user"));
        }
    }

    Ok(Channel {
        id,
        app_id: app,
        kind: new.kind,
        name: new.name,
        display_name: new.display_name,
        creator: new.creator,
        properties: new.properties,
        created_at,
        epoch,
        last_seq: 0,
        last_message_id: None,
        live: new.live,
    })
}

pub(crate) async fn update_channel(
    conn: &mut SqliteConnection,
    app: AppId,
    channel: ChannelId,
    changes: ChannelChanges,
) -> Result<Channel> {
    let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new("UPDATE channels SET ");
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
            any = true;
        }
        if let Some(live) = &changes.live {
            set.push("live = ");
            set.push_bind_unseparated(json_to_db(live)?);
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
    crate::queries::channels::get_channel(&mut *conn, app, channel)
        .await?
        .ok_or_else(|| Error::not_found("channel"))
}

/// Deletes the channel with its messages, members, moderators and read marks.
pub(crate) async fn delete_channel(
    conn: &mut SqliteConnection,
    app: AppId,
    channel: ChannelId,
) -> Result<()> {
    require_channel(conn, app, channel).await?;
    chat::channel_deleted(conn, app, channel).await?;
    moderation::channel_deleted(conn, app, channel).await?;
    for sql in [
        "DELETE FROM messages WHERE app_id = ? AND channel_id = ?",
        "DELETE FROM read_marks WHERE app_id = ? AND channel_id = ?",
        "DELETE FROM channel_members WHERE app_id = ? AND channel_id = ?",
        "DELETE FROM channel_moderators WHERE app_id = ? AND channel_id = ?",
        "DELETE FROM channels WHERE app_id = ? AND id = ?",
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

// ----- members and moderators -------------------------------------------------------

/// Gives `user` the role in `channel`; a no-op if they already hold it.
pub(crate) async fn add_role(
    conn: &mut SqliteConnection,
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
             VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
        }
        Role::Moderator => {
            "INSERT INTO channel_moderators (app_id, channel_id, user_id, created_at) \
             VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
        }
    };
    sqlx::query(sql)
        .bind(app.0)
        .bind(channel.0)
        .bind(user.0)
        .bind(ts_to_db(now()))
        .execute(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    Ok(())
}

/// Takes the role away; `NotFound` if the user did not hold it.
pub(crate) async fn remove_role(
    conn: &mut SqliteConnection,
    role: Role,
    app: AppId,
    channel: ChannelId,
    user: UserId,
) -> Result<()> {
    require_channel(conn, app, channel).await?;
    let sql = match role {
        Role::Member => {
            "DELETE FROM channel_members WHERE app_id = ? AND channel_id = ? AND user_id = ?"
        }
        Role::Moderator => {
            "DELETE FROM channel_moderators WHERE app_id = ? AND channel_id = ? AND user_id = ?"
        }
    };
    let done = sqlx::query(sql)
        .bind(app.0)
        .bind(channel.0)
        .bind(user.0)
        .execute(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found(role.resource()));
    }
    Ok(())
}

// ----- messages ---------------------------------------------------------------------

/// Applies `changes`; `edited_at` is set only when the body actually changes.
pub(crate) async fn update_message(
    conn: &mut SqliteConnection,
    app: AppId,
    message: MessageId,
    changes: MessageChanges,
) -> Result<MessageView> {
    let current = get_message_view(&mut *conn, app, message)
        .await?
        .ok_or_else(|| Error::not_found("message"))?;
    let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new("UPDATE messages SET ");
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
                        set.push_bind_unseparated(ts_to_db(now()));
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
    conn: &mut SqliteConnection,
    app: AppId,
    message: MessageId,
) -> Result<MessageView> {
    let current = get_message_view(&mut *conn, app, message)
        .await?
        .ok_or_else(|| Error::not_found("message"))?;
    sqlx::query("DELETE FROM messages WHERE app_id = ? AND id = ?")
        .bind(app.0)
        .bind(message.0)
        .execute(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    sqlx::query(
        "UPDATE channels SET last_message_id = \
         (SELECT max(id) FROM messages WHERE channel_id = ?1) \
         WHERE id = ?1 AND last_message_id = ?2",
    )
    .bind(current.message.channel_id.0)
    .bind(message.0)
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    chat::message_deleted(conn, app, &current).await?;
    Ok(current)
}

pub(crate) async fn delete_all_messages(conn: &mut SqliteConnection, app: AppId) -> Result<u64> {
    let done = sqlx::query("DELETE FROM messages WHERE app_id = ?")
        .bind(app.0)
        .execute(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    sqlx::query("UPDATE channels SET last_message_id = NULL WHERE app_id = ?")
        .bind(app.0)
        .execute(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    chat::all_messages_deleted(conn, app).await?;
    Ok(done.rows_affected())
}

// ----- read state -------------------------------------------------------------------

/// Raises the user's read mark in the channel to `seq`, clamped to the channel's
/// `last_seq` (nobody has read what was not written yet). Never lowers it.
pub(crate) async fn mark_read(
    conn: &mut SqliteConnection,
    app: AppId,
    channel: ChannelId,
    user: UserId,
    seq: i64,
) -> Result<()> {
    let last_seq: Option<i64> =
        sqlx::query_scalar("SELECT last_seq FROM channels WHERE app_id = ? AND id = ?")
            .bind(app.0)
            .bind(channel.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(driver_error::map)?;
    let last_seq = last_seq.ok_or_else(|| Error::not_found("channel"))?;
    require_user(conn, app, user).await?;
    sqlx::query(
        "INSERT INTO read_marks (app_id, channel_id, user_id, last_read_seq) VALUES (?, ?, ?, ?) \
         ON CONFLICT (user_id, channel_id) \
         DO UPDATE SET last_read_seq = max(last_read_seq, excluded.last_read_seq)",
    )
    .bind(app.0)
    .bind(channel.0)
    .bind(user.0)
    .bind(seq.clamp(0, last_seq.max(0)))
    .execute(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    chat::read_mark_moved(conn, app, channel, user, seq.clamp(0, last_seq.max(0))).await?;
    Ok(())
}
