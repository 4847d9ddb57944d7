//! `/api/v1/live-stream/{streamId}/chat/...`: a live room's chat (send, list, delete)
//! and superlikes. `streamId` is the room's channel id as 24 hex digits.

use super::error::{AllmineError, Success, iso};
use super::extract::{AllmineUser, JsonObject, PathParams, Query};
use super::shapes;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use hubbub_core::engine::{SendContent, SendMessage};
use hubbub_core::ids::{ChannelId, MessageId};
use hubbub_core::paging::PageRequest;
use serde_json::{Value, json};

/// Longest message, in characters, after trimming.
const MAX_CONTENT_CHARS: usize = 500;
/// Page size when `limit` is absent, and its range.
const DEFAULT_LIMIT: u32 = 30;
const MAX_LIMIT: u32 = 100;
/// Highest page number accepted (deeper pages would only be empty or slow).
const MAX_PAGE: u32 = 1_000_000;
/// What a superlike costs. hubbub keeps no wallet, so superlikes are free.
const SUPERLIKE_PRICE: u64 = 0;

/// `POST /api/v1/live-stream/{streamId}/chat/messages` `{content}` → the message.
/// `content` is trimmed and must then be 1 to 500 characters.
pub(super) async fn send_message(
    State(state): State<AppState>,
    user: AllmineUser,
    path: PathParams,
    body: JsonObject,
) -> Result<Success, AllmineError> {
    let stream = path.id("streamId")?;
    let content = body.required("content")?.trim();
    let chars = content.chars().count();
    if !(1..=MAX_CONTENT_CHARS).contains(&chars) {
        return Err(AllmineError::validation(format_args!(
            "content must be 1 to {MAX_CONTENT_CHARS} characters (got {chars})"
        )));
    }
    let (_, view) = state
        .engine
        .send_live_message(
            &user.actor(),
            ChannelId(stream),
            SendMessage {
                on_behalf_of: None,
                content: SendContent::Text(content.to_owned()),
                group_tag: None,
                properties: Value::Null,
                idempotency_key: None,
            },
        )
        .await?;
    Ok(Success(StatusCode::CREATED, shapes::message(&view)))
}

/// `GET /api/v1/live-stream/{streamId}/chat/messages?page=&limit=` → a page of
/// messages, newest first, with the totals.
pub(super) async fn list_messages(
    State(state): State<AppState>,
    user: AllmineUser,
    path: PathParams,
    query: Query,
) -> Result<Success, AllmineError> {
    let stream = path.id("streamId")?;
    let page = query.int_in("page", 1, 1..=MAX_PAGE)?;
    let limit = query.int_in("limit", DEFAULT_LIMIT, 1..=MAX_LIMIT)?;
    let found = state
        .engine
        .list_messages_by_page(
            &user.actor(),
            ChannelId(stream),
            &PageRequest {
                page: page - 1,
                size: limit,
                sort: Vec::new(),
            },
        )
        .await?;
    let total_pages = found.total_pages();
    let messages: Vec<Value> = found.items.iter().map(shapes::message).collect();
    Ok(Success(
        StatusCode::OK,
        json!({
            "messages": messages,
            "page": page,
            "limit": limit,
            "total": found.total,
            "totalPages": total_pages,
            "hasNextPage": u64::from(page) < total_pages,
            "hasPreviousPage": page > 1,
        }),
    ))
}

/// `DELETE /api/v1/live-stream/{streamId}/chat/messages/{messageId}` →
/// `{_id, deleted: true}`. The sender, the stream's owner or a moderator.
pub(super) async fn delete_message(
    State(state): State<AppState>,
    user: AllmineUser,
    path: PathParams,
) -> Result<Success, AllmineError> {
    let stream = path.id("streamId")?;
    let message = path.id("messageId")?;
    let deleted = state
        .engine
        .delete_channel_message(&user.actor(), ChannelId(stream), MessageId(message))
        .await?;
    Ok(Success(
        StatusCode::OK,
        json!({ "_id": shapes::hex_id(deleted.message.id.0), "deleted": true }),
    ))
}

/// `POST /api/v1/live-stream/{streamId}/chat/superlike` → `{streamId, senderId,
/// senderSnapshot, price, timestamp}`. A like of the stream, not a chat message.
pub(super) async fn superlike(
    State(state): State<AppState>,
    user: AllmineUser,
    path: PathParams,
) -> Result<Success, AllmineError> {
    let stream = path.id("streamId")?;
    let room = state
        .engine
        .like_live(&user.actor(), ChannelId(stream))
        .await?;
    let sender = &user.0.user;
    Ok(Success(
        StatusCode::CREATED,
        json!({
            "streamId": shapes::hex_id(room.id.0),
            "senderId": shapes::hex_id(sender.id.0),
            "senderSnapshot": shapes::sender_snapshot(sender),
            "price": SUPERLIKE_PRICE,
            "timestamp": iso(&chrono::Utc::now()),
        }),
    ))
}
