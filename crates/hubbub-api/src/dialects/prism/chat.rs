//! Chat of a live (seed-surfaces 1.4): view, send and delete.
//!
//! View is polled by PRISM about every five seconds. `pageToken` is an opaque engine
//! cursor bound to the live ([`ChatCursor`]); resending a `nextPageToken` with
//! nothing new returns `messages: []` and the same token.

use super::auth::PrismUser;
use super::error::{Envelope, PrismError};
use super::extract::{JsonObject, PathParams};
use crate::AppState;
use axum::extract::State;
use hubbub_core::engine::prism_support::{ChatCursor, ChatEntry};
use hubbub_core::engine::{SendContent, SendMessage};
use hubbub_core::model::{MessageContent, Timestamp};
use serde::Serialize;

/// PRISM's page size rule: at most 100; 0 (or absent) or more than 100 means 100.
const MAX_RESULTS: i64 = 100;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChatPage {
    live_id: String,
    next_page_token: String,
    messages: Vec<ChatMessage>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChatMessage {
    message_id: String,
    /// The text; a file message shows its URL.
    message: String,
    message_at: String,
    /// `null` for a system message (no author), which PRISM may ignore.
    author_id: Option<String>,
    author_name: Option<String>,
    author_profile_thumbnail: Option<String>,
    is_live_owner: bool,
    is_live_manager: bool,
}

impl ChatMessage {
    fn new(entry: &ChatEntry) -> Self {
        let message = &entry.view.message;
        let author = entry.view.user.as_ref();
        Self {
            message_id: message.id.to_string(),
            message: match &message.content {
                MessageContent::Text { body } => body.as_str().to_owned(),
                MessageContent::File { file } => file.url.as_str().to_owned(),
            },
            message_at: iso(&message.created_at),
            author_id: author.map(|u| u.id.to_string()),
            author_name: author.map(|u| u.display_name.as_str().to_owned()),
            author_profile_thumbnail: author
                .and_then(|u| u.display_picture_url.as_ref())
                .map(|url| url.as_str().to_owned()),
            is_live_owner: entry.by_owner,
            is_live_manager: entry.by_moderator,
        }
    }
}

/// ISO 8601 with an offset, as PRISM prints it (`2023-09-05T11:10:27+00:00`).
pub(crate) fn iso(at: &Timestamp) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// `POST /prism/v1/service/live/{liveId}/chat` — view chat: `{maxResults, pageToken}`.
pub(crate) async fn view(
    State(state): State<AppState>,
    user: PrismUser,
    path: PathParams,
    body: JsonObject,
) -> Result<Envelope<ChatPage>, PrismError> {
    let live = path.live()?;
    let limit = match body.integer("maxResults")? {
        Some(n) if n < 0 => return Err(PrismError::invalid("maxResults must be 0 or more")),
        Some(n) if n > 0 && n <= MAX_RESULTS => n as u32,
        _ => MAX_RESULTS as u32,
    };
    let after = body
        .token("pageToken")?
        .map(|raw| {
            ChatCursor::decode(&raw)
                .ok_or_else(|| PrismError::invalid("invalid pageToken: not a page token of hubbub"))
        })
        .transpose()?;
    let poll = state
        .engine
        .poll_chat(&user.actor(), live, after.as_ref(), limit)
        .await
        .map_err(|e| PrismError::from_core(e, &[("cursor", "pageToken")]))?;
    Ok(Envelope(ChatPage {
        live_id: poll.channel.id.to_string(),
        next_page_token: poll.next.encode(),
        messages: poll.entries.iter().map(ChatMessage::new).collect(),
    }))
}

/// `PUT /prism/v1/service/live/{liveId}/chat` — send chat as the token's user:
/// `{"message": "..."}`.
pub(crate) async fn send(
    State(state): State<AppState>,
    user: PrismUser,
    path: PathParams,
    body: JsonObject,
) -> Result<Envelope<()>, PrismError> {
    let live = path.live()?;
    let text = body
        .string("message")?
        .ok_or_else(|| PrismError::invalid("message is required"))?;
    state
        .engine
        .send_message(
            &user.actor(),
            live,
            SendMessage {
                on_behalf_of: None,
                content: SendContent::Text(text.to_owned()),
                group_tag: None,
                properties: serde_json::Value::Null,
                idempotency_key: None,
            },
        )
        .await
        .map_err(|e| PrismError::from_core(e, &[("body", "message")]))?;
    Ok(Envelope(()))
}

/// `DELETE /prism/v1/service/live/{liveId}/chat/{chatId}` — delete a message (its
/// author, the owner or a manager).
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: PrismUser,
    path: PathParams,
) -> Result<Envelope<()>, PrismError> {
    let (live, chat) = (path.live()?, path.chat()?);
    state
        .engine
        .delete_room_message(&user.actor(), live, chat)
        .await?;
    Ok(Envelope(()))
}
