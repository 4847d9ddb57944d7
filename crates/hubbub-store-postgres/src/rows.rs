//! Rows to domain values and back: decoding by column position (the column lists are
//! in `columns`), and the encodings of JSON columns (bound as text, cast to `json` in
//! the SQL).
//!
//! Stored values were validated on the way in, so a value that no longer parses means
//! a damaged database or a bug: it becomes `Error::Internal`, never a panic.

use crate::driver_error;
use hubbub_core::ids::{AppId, ChannelId, MessageId, UserId};
use hubbub_core::model::{
    AppCredentials, AppSettings, Application, CallStatus, Channel, ChannelKind, FileRef, LiveRoom,
    Membership, Mention, Message, MessageContent, MessageView, Timestamp, User, UserKind,
};
use hubbub_core::names::{
    ChannelName, DisplayName, ExternalUrl, IdempotencyKey, MessageBody, Properties, UserName,
};
use hubbub_core::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{Decode, Postgres, Row, Type};

const APPLICATION_WIDTH: usize = 6;
pub(crate) const MESSAGE_WIDTH: usize = 18;
pub(crate) const USER_WIDTH: usize = 11;
pub(crate) const CHANNEL_WIDTH: usize = 12;

/// `kind` column values of messages.
pub(crate) const KIND_TEXT: &str = "text";
pub(crate) const KIND_FILE: &str = "file";

/// Reads column `i`, mapping a decode failure to `Internal`.
pub(crate) fn col<'r, T>(row: &'r PgRow, i: usize) -> Result<T>
where
    T: Decode<'r, Postgres> + Type<Postgres>,
{
    row.try_get(i).map_err(driver_error::map)
}

/// Reads JSON column `i` into `T`.
pub(crate) fn json_col<T: DeserializeOwned>(row: &PgRow, i: usize, what: &str) -> Result<T> {
    let Json(value) = row.try_get::<Json<T>, _>(i).map_err(|e| corrupt(what, e))?;
    Ok(value)
}

/// Reads nullable JSON column `i` into `T`.
pub(crate) fn optional_json_col<T: DeserializeOwned>(
    row: &PgRow,
    i: usize,
    what: &str,
) -> Result<Option<T>> {
    let value = row
        .try_get::<Option<Json<T>>, _>(i)
        .map_err(|e| corrupt(what, e))?;
    Ok(value.map(|Json(v)| v))
}

pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> Error {
    Error::Internal(format!("stored {what} is invalid: {detail}"))
}

// ----- encodings --------------------------------------------------------------------

/// A value as JSON text (bound as text, cast with `::json` in the statement).
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

fn count_from_db(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

// ----- decoders ---------------------------------------------------------------------

/// The application at columns `base..base + 6` (`application_columns!`).
pub(crate) fn application_at(row: &PgRow, base: usize) -> Result<Application> {
    Ok(Application {
        id: AppId(col(row, base)?),
        name: col(row, base + 1)?,
        client_id: col(row, base + 2)?,
        created_at: col(row, base + 3)?,
        properties: json_col(row, base + 4, "properties")?,
        settings: json_col::<AppSettings>(row, base + 5, "settings")?,
    })
}

/// An application followed by `client_secret_hash, signing_secret`.
pub(crate) fn credentials_at(row: &PgRow, base: usize) -> Result<AppCredentials> {
    Ok(AppCredentials {
        app: application_at(row, base)?,
        client_secret_hash: col(row, base + APPLICATION_WIDTH)?,
        signing_secret: col(row, base + APPLICATION_WIDTH + 1)?,
    })
}

/// The user at columns `base..base + 11` (`user_columns!`).
pub(crate) fn user_at(row: &PgRow, base: usize) -> Result<User> {
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
        properties: json_col(row, base + 9, "properties")?,
        created_at: col(row, base + 10)?,
    })
}

/// The user at `base`, or `None` when a LEFT JOIN found none.
pub(crate) fn optional_user_at(row: &PgRow, base: usize) -> Result<Option<User>> {
    let id: Option<i64> = col(row, base)?;
    match id {
        Some(_) => user_at(row, base).map(Some),
        None => Ok(None),
    }
}

/// The channel at columns `base..base + 12` (`channel_columns!`).
pub(crate) fn channel_at(row: &PgRow, base: usize) -> Result<Channel> {
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
        properties: json_col(row, base + 6, "properties")?,
        created_at: col(row, base + 7)?,
        epoch: col(row, base + 8)?,
        last_seq: col(row, base + 9)?,
        last_message_id: col::<Option<i64>>(row, base + 10)?.map(MessageId),
        live: json_col::<LiveRoom>(row, base + 11, "live room")?,
    })
}

/// The message at columns `base..base + 18` (`message_columns!`).
pub(crate) fn message_at(row: &PgRow, base: usize) -> Result<Message> {
    let kind: &str = col(row, base + 5)?;
    let content = match kind {
        KIND_TEXT => {
            let body: &str = col(row, base + 6)?;
            MessageContent::Text {
                body: MessageBody::parse(body, usize::MAX)
                    .map_err(|e| corrupt("message body", e))?,
            }
        }
        KIND_FILE => MessageContent::File {
            file: json_col::<FileRef>(row, base + 7, "file")?,
        },
        other => return Err(corrupt("message kind", other)),
    };
    let key: Option<&str> = col(row, base + 14)?;
    Ok(Message {
        id: MessageId(col(row, base)?),
        app_id: AppId(col(row, base + 1)?),
        channel_id: ChannelId(col(row, base + 2)?),
        seq: col(row, base + 3)?,
        user_id: col::<Option<i64>>(row, base + 4)?.map(UserId),
        content,
        group_tag: col(row, base + 8)?,
        properties: json_col(row, base + 9, "properties")?,
        created_at: col(row, base + 10)?,
        edited_at: col::<Option<Timestamp>>(row, base + 11)?,
        parent_id: col::<Option<i64>>(row, base + 12)?.map(MessageId),
        nested_level: col(row, base + 13)?,
        idempotency_key: key
            .map(IdempotencyKey::parse)
            .transpose()
            .map_err(|e| corrupt("idempotency key", e))?,
        mentions: optional_json_col::<Vec<Mention>>(row, base + 15, "mentions")?
            .unwrap_or_default(),
        replies_count: count_from_db(col(row, base + 16)?),
        report_count: count_from_db(col(row, base + 17)?),
    })
}

/// A row of `message_view_select!`.
pub(crate) fn message_view(row: &PgRow) -> Result<MessageView> {
    Ok(MessageView {
        message: message_at(row, 0)?,
        user: optional_user_at(row, MESSAGE_WIDTH)?,
    })
}

/// A membership: `r.channel_id, r.created_at` followed by the user's columns.
pub(crate) fn membership(row: &PgRow) -> Result<Membership> {
    Ok(Membership {
        channel_id: ChannelId(col(row, 0)?),
        created_at: col(row, 1)?,
        user: user_at(row, 2)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_match_the_column_lists() {
        assert_eq!(application_columns!().split(',').count(), APPLICATION_WIDTH);
        assert_eq!(user_columns!().split(',').count(), USER_WIDTH);
        assert_eq!(channel_columns!().split(',').count(), CHANNEL_WIDTH);
        assert_eq!(message_columns!().split(',').count(), MESSAGE_WIDTH);
    }
}
