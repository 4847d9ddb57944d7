//! Rows to domain values and back: the column lists every query selects, decoding by
//! column position, and the encodings of timestamps (INTEGER microseconds since the
//! Unix epoch, UTC) and JSON columns (TEXT).
//!
//! Stored values were validated on the way in, so a value that no longer parses means
//! a damaged database or a bug: it becomes `Error::Internal`, never a panic.

use crate::driver_error;
use hubbub_core::ids::{AppId, ChannelId, MessageId, UserId};
use hubbub_core::model::{
    AppCredentials, AppSettings, Application, CallStatus, Channel, ChannelKind, FileRef, LiveRoom,
    Membership, Message, MessageContent, MessageView, Timestamp, User, UserKind,
};
use hubbub_core::names::{
    ChannelName, DisplayName, ExternalUrl, IdempotencyKey, MessageBody, Properties, UserName,
};
use hubbub_core::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::sqlite::SqliteRow;
use sqlx::{Decode, Row, Sqlite, Type};

const APPLICATION_WIDTH: usize = 6;
pub(crate) const MESSAGE_WIDTH: usize = 18;

/// `kind` column values of messages.
pub(crate) const KIND_TEXT: &str = "text";
pub(crate) const KIND_FILE: &str = "file";

/// Reads column `i`, mapping a decode failure to `Internal`.
pub(crate) fn col<'r, T>(row: &'r SqliteRow, i: usize) -> Result<T>
where
    T: Decode<'r, Sqlite> + Type<Sqlite>,
{
    row.try_get(i).map_err(driver_error::map)
}

fn corrupt(what: &str, detail: impl std::fmt::Display) -> Error {
    Error::Internal(format!("stored {what} is invalid: {detail}"))
}

// ----- encodings --------------------------------------------------------------------

pub(crate) fn ts_to_db(ts: Timestamp) -> i64 {
    ts.timestamp_micros()
}

pub(crate) fn ts_from_db(micros: i64) -> Result<Timestamp> {
    chrono::DateTime::from_timestamp_micros(micros).ok_or_else(|| corrupt("timestamp", micros))
}

pub(crate) fn json_to_db(value: &impl Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(Error::internal)
}

/// Properties as stored; the common empty object skips serde.
pub(crate) fn properties_to_db(p: &Properties) -> Result<String> {
    if p.as_map().is_empty() {
        Ok("{}".to_owned())
    } else {
        json_to_db(p)
    }
}

fn json_from_db<T: DeserializeOwned>(what: &str, raw: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|e| corrupt(what, e))
}

fn properties_from_db(raw: &str) -> Result<Properties> {
    if raw == "{}" {
        Ok(Properties::default())
    } else {
        json_from_db("properties", raw)
    }
}

// ----- decoders ---------------------------------------------------------------------

/// The application at columns `base..base + 6` (`application_columns!`).
pub(crate) fn application_at(row: &SqliteRow, base: usize) -> Result<Application> {
    Ok(Application {
        id: AppId(col(row, base)?),
        name: col(row, base + 1)?,
        client_id: col(row, base + 2)?,
        created_at: ts_from_db(col(row, base + 3)?)?,
        properties: properties_from_db(col(row, base + 4)?)?,
        settings: json_from_db::<AppSettings>("settings", col(row, base + 5)?)?,
    })
}

/// An application followed by `client_secret_hash, signing_secret`.
pub(crate) fn credentials_at(row: &SqliteRow, base: usize) -> Result<AppCredentials> {
    Ok(AppCredentials {
        app: application_at(row, base)?,
        client_secret_hash: col(row, base + APPLICATION_WIDTH)?,
        signing_secret: col(row, base + APPLICATION_WIDTH + 1)?,
    })
}

/// The user at columns `base..base + 11` (`user_columns!`).
pub(crate) fn user_at(row: &SqliteRow, base: usize) -> Result<User> {
    let name: &str = col(row, base + 2)?;
    let display_name: &str = col(row, base + 3)?;
    let picture: Option<&str> = col(row, base + 4)?;
    let kind: &str = col(row, base + 5)?;
    let call_status: &str = col(row, base + 8)?;
    Ok(User {
        id: UserId(col(row, base)?),
        app_id: AppId(col(row, base + 1)?),
        name: UserName::parse(name).map_err(|e| corrupt("user name", e))?,
        display_name: DisplayName::parse(display_name).map_err(|e| corrupt("display name", e))?,
        display_picture_url: picture
            .map(|p| ExternalUrl::parse("display_picture_url", p))
            .transpose()
            .map_err(|e| corrupt("picture url", e))?,
        kind: UserKind::parse(kind).ok_or_else(|| corrupt("user kind", kind))?,
        is_guest: col(row, base + 6)?,
        presence_status: col(row, base + 7)?,
        call_status: CallStatus::parse(call_status)
            .ok_or_else(|| corrupt("call status", call_status))?,
        properties: properties_from_db(col(row, base + 9)?)?,
        created_at: ts_from_db(col(row, base + 10)?)?,
    })
}

/// The user at `base`, or `None` when a LEFT JOIN found none.
pub(crate) fn optional_user_at(row: &SqliteRow, base: usize) -> Result<Option<User>> {
    let id: Option<i64> = col(row, base)?;
    match id {
        Some(_) => user_at(row, base).map(Some),
        None => Ok(None),
    }
}

/// The channel at columns `base..base + 12` (`channel_columns!`).
pub(crate) fn channel_at(row: &SqliteRow, base: usize) -> Result<Channel> {
    let kind: &str = col(row, base + 2)?;
    let name: Option<&str> = col(row, base + 3)?;
    let display_name: Option<&str> = col(row, base + 4)?;
    Ok(Channel {
        id: ChannelId(col(row, base)?),
        app_id: AppId(col(row, base + 1)?),
        kind: ChannelKind::parse(kind).ok_or_else(|| corrupt("channel kind", kind))?,
        name: name
            .map(ChannelName::parse)
            .transpose()
            .map_err(|e| corrupt("channel name", e))?,
        display_name: display_name
            .map(DisplayName::parse)
            .transpose()
            .map_err(|e| corrupt("display name", e))?,
        creator: col::<Option<i64>>(row, base + 5)?.map(UserId),
        properties: properties_from_db(col(row, base + 6)?)?,
        created_at: ts_from_db(col(row, base + 7)?)?,
        epoch: col(row, base + 8)?,
        last_seq: col(row, base + 9)?,
        last_message_id: col::<Option<i64>>(row, base + 10)?.map(MessageId),
        live: json_from_db::<LiveRoom>("live room", col(row, base + 11)?)?,
    })
}

/// The message at columns `base..base + 18` (`message_columns!`).
pub(crate) fn message_at(row: &SqliteRow, base: usize) -> Result<Message> {
    let kind: &str = col(row, base + 5)?;
    let content = match kind {
        KIND_TEXT => {
            let body: &str = col(row, base + 6)?;
            MessageContent::Text {
                body: MessageBody::parse(body, usize::MAX)
                    .map_err(|e| corrupt("message body", e))?,
            }
        }
        KIND_FILE => {
            let file: &str = col(row, base + 7)?;
            MessageContent::File {
                file: json_from_db::<FileRef>("file", file)?,
            }
        }
        other => return Err(corrupt("message kind", other)),
    };
    let key: Option<&str> = col(row, base + 14)?;
    let mentions: Option<&str> = col(row, base + 15)?;
    Ok(Message {
        id: MessageId(col(row, base)?),
        app_id: AppId(col(row, base + 1)?),
        channel_id: ChannelId(col(row, base + 2)?),
        seq: col(row, base + 3)?,
        user_id: col::<Option<i64>>(row, base + 4)?.map(UserId),
        content,
        group_tag: col(row, base + 8)?,
        properties: properties_from_db(col(row, base + 9)?)?,
        created_at: ts_from_db(col(row, base + 10)?)?,
        edited_at: col::<Option<i64>>(row, base + 11)?
            .map(ts_from_db)
            .transpose()?,
        parent_id: col::<Option<i64>>(row, base + 12)?.map(MessageId),
        nested_level: col(row, base + 13)?,
        idempotency_key: key
            .map(IdempotencyKey::parse)
            .transpose()
            .map_err(|e| corrupt("idempotency key", e))?,
        mentions: mentions
            .map(|m| json_from_db("mentions", m))
            .transpose()?
            .unwrap_or_default(),
        replies_count: col::<i64>(row, base + 16)?.clamp(0, u32::MAX as i64) as u32,
        report_count: col::<i64>(row, base + 17)?.clamp(0, u32::MAX as i64) as u32,
    })
}

/// A row of `message_view_select!`.
pub(crate) fn message_view(row: &SqliteRow) -> Result<MessageView> {
    Ok(MessageView {
        message: message_at(row, 0)?,
        user: optional_user_at(row, MESSAGE_WIDTH)?,
    })
}

/// A membership: `cm.channel_id, cm.created_at` followed by the user's columns.
pub(crate) fn membership(row: &SqliteRow) -> Result<Membership> {
    Ok(Membership {
        channel_id: ChannelId(col(row, 0)?),
        created_at: ts_from_db(col(row, 1)?)?,
        user: user_at(row, 2)?,
    })
}
