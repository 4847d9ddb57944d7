//! `/threads`: reply threads. A channel's MAIN thread has id `-<channel id>`, a
//! message's reply thread has the message's id (see `hubbub_core::model::ThreadRef`).

use super::error::{ApiError, ApiErrorBody};
use super::extract::{AppActor, JsonBody, LinkBase, PathId, Query, idempotency_header};
use super::hal::{self, CursorPagedModelMessageResource};
use super::messages::{CreateMessageRequest, send_request};
use super::resources::{MessageResource, ReplyThreadResource};
use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use hubbub_core::ids::ThreadId;

/// Retrieve a thread.
#[utoipa::path(get, path = "/threads/{id}", tag = "Threads", operation_id = "retrieveThread",
    params(("id" = i64, Path, description = "-<channel id> for a channel's main thread, a message id for its replies")),
    responses((status = 200, body = ReplyThreadResource), (status = 404, body = ApiErrorBody)))]
pub async fn retrieve_thread(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
) -> Result<Json<ReplyThreadResource>, ApiError> {
    let thread = state.engine.get_thread(&actor, ThreadId(id)).await?;
    Ok(Json(ReplyThreadResource::new(&thread, &base)))
}

/// List a thread's messages, newest first: a channel's top-level messages, or the
/// replies to a message.
#[utoipa::path(get, path = "/threads/{id}/messages", tag = "Threads", operation_id = "listThreadMessages",
    params(("id" = i64, Path), ("size" = Option<i64>, Query), ("start" = Option<i64>, Query), ("next" = Option<i64>, Query),
        ("relation" = Option<String>, Query, description = "SELF, NEXT or PREVIOUS")),
    responses((status = 200, body = CursorPagedModelMessageResource), (status = 404, body = ApiErrorBody)))]
pub async fn list_thread_messages(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    query: Query,
) -> Result<Json<CursorPagedModelMessageResource>, ApiError> {
    let cursor = hal::cursor_request(&query)?;
    let found = state
        .engine
        .list_thread_messages(&actor, ThreadId(id), &cursor)
        .await?;
    Ok(Json(hal::message_page(found, &cursor, &base, &query)))
}

/// Send a message to a thread (a reply, for a message's thread): a system message, or
/// with `user` on behalf of that user. Replies are messages of the channel: they take
/// its next seq and honour `Idempotency-Key`.
#[utoipa::path(post, path = "/threads/{id}/messages", tag = "Threads", operation_id = "sendThreadMessage",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the original message")),
    request_body(content = CreateMessageRequest, content_type = "application/json"),
    responses((status = 200, body = MessageResource), (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn send_thread_message(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    headers: HeaderMap,
    JsonBody(input): JsonBody<CreateMessageRequest>,
) -> Result<Json<MessageResource>, ApiError> {
    let request = send_request(input, idempotency_header(&headers)?)?;
    let (_, view) = state
        .engine
        .send_thread_message(&actor, ThreadId(id), request)
        .await?;
    Ok(Json(MessageResource::new(&view, &base)))
}
