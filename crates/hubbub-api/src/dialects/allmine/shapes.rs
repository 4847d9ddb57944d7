//! Allmine's resource shapes (seed 002, reference section 3.3): messages, senders,
//! profile photos and users, with engine ids as 24-hex strings.

use super::error::iso;
use hubbub_core::engine::TokenPair;
use hubbub_core::model::{MessageContent, MessageView, User};
use serde_json::{Value, json};

/// An engine id as a MongoDB-style 24-hex id (`format!("{:024x}", id)`), the mapping
/// every dialect shares.
pub(super) fn hex_id(id: i64) -> String {
    format!("{id:024x}")
}

/// `profilePhoto`: `null` without a display picture. hubbub keeps no image variants,
/// so both variants are the picture's URL; the photo's `_id` is derived from its URL
/// and its dates are the user's creation date.
fn profile_photo(user: &User) -> Value {
    let Some(url) = &user.display_picture_url else {
        return Value::Null;
    };
    let url = url.as_str();
    let created = iso(&user.created_at);
    json!({
        "_id": &hubbub_core::credentials::hash_secret(url)[..24],
        "url": url,
        "type": "image",
        "variants": {"40": url, "76": url},
        "createdAt": created,
        "updatedAt": created,
    })
}

/// `surname`: the user's `surname` property when it is a string, else `null`
/// (hubbub has one display name, rendered as `name`).
fn surname(user: &User) -> Value {
    match user.properties.as_map().get("surname") {
        Some(Value::String(s)) => Value::String(s.clone()),
        _ => Value::Null,
    }
}

/// `senderSnapshot` of a superlike: the sender without availability.
pub(super) fn sender_snapshot(user: &User) -> Value {
    json!({
        "_id": hex_id(user.id.0),
        "username": user.name.as_str(),
        "name": user.display_name.as_str(),
        "surname": surname(user),
        "profilePhoto": profile_photo(user),
    })
}

/// A message's `sender`: `availabilityStatus` is the user's presence status in lower
/// case (`available`, `away`, `busy`, ...).
pub(super) fn sender(user: &User) -> Value {
    let mut sender = sender_snapshot(user);
    sender["availabilityStatus"] = Value::String(user.presence_status.to_lowercase());
    sender
}

/// A chat message. A file message's `content` is the file's URL; a system message
/// (no author) has `sender: null`.
pub(super) fn message(view: &MessageView) -> Value {
    let m = &view.message;
    let content = match &m.content {
        MessageContent::Text { body } => body.as_str(),
        MessageContent::File { file } => file.url.as_str(),
    };
    json!({
        "_id": hex_id(m.id.0),
        "streamId": hex_id(m.channel_id.0),
        "content": content,
        "sender": view.user.as_ref().map_or(Value::Null, sender),
        "createdAt": iso(&m.created_at),
        "updatedAt": iso(m.edited_at.as_ref().unwrap_or(&m.created_at)),
    })
}

/// The `user` of a login: the sender's fields and the account's dates.
pub(super) fn user(user: &User) -> Value {
    let mut out = sender(user);
    out["createdAt"] = Value::String(iso(&user.created_at));
    out["updatedAt"] = Value::String(iso(&user.created_at));
    out
}

/// The token part of a login or refresh answer.
pub(super) fn tokens(pair: &TokenPair) -> Value {
    json!({
        "accessToken": pair.access_token,
        "refreshToken": pair.refresh_token,
        "expiresIn": pair.expires_in.as_secs(),
        "refreshExpiresIn": pair.refresh_expires_in.as_secs(),
    })
}
