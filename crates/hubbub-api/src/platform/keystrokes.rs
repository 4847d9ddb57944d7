//! `/channels/{id}/keystrokes` and `/threads/{id}/keystrokes`: typing indicators on
//! behalf of a user, published to the channel's realtime subscribers as a `keystrokes`
//! event and never stored. One per user and channel per 200 ms; faster ones get 429.

use super::channels::UserReference;
use super::error::{ApiError, ApiErrorBody};
use super::extract::{AppActor, JsonBody, LinkBase, PathId};
use super::resources::{ReplyThreadKeystrokesResource, self_link};
use crate::AppState;
use axum::Json;
use axum::extract::State;
use hubbub_core::ids::{ChannelId, ThreadId};
use serde::Deserialize;
use utoipa::ToSchema;

/// `CreateDelegatedReplyThreadKeystrokesResource`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeystrokesRequest {
    /// The text typed so far (may be empty).
    pub keys: String,
    /// Who is typing: `{"username": ...}` or `{"id": ...}`.
    pub user: UserReference,
}

/// Send keystrokes in a channel (its main thread).
#[utoipa::path(post, path = "/channels/{id}/keystrokes", tag = "Channels", operation_id = "sendChannelKeystrokes",
    params(("id" = i64, Path)),
    request_body(content = CreateKeystrokesRequest, content_type = "application/json"),
    responses((status = 200, body = ReplyThreadKeystrokesResource), (status = 400, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 429, body = ApiErrorBody)))]
pub async fn send_channel_keystrokes(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    JsonBody(input): JsonBody<CreateKeystrokesRequest>,
) -> Result<Json<ReplyThreadKeystrokesResource>, ApiError> {
    let user = input.user.resolve("user")?;
    let typist = state
        .engine
        .send_channel_keystrokes(&actor, ChannelId(id), Some(&user), input.keys.clone())
        .await?;
    Ok(Json(ReplyThreadKeystrokesResource {
        keys: input.keys,
        username: typist.name.as_str().to_owned(),
        _links: self_link(format!("{}/channels/{id}", base.base)),
    }))
}

/// Send keystrokes in a thread.
#[utoipa::path(post, path = "/threads/{id}/keystrokes", tag = "Threads", operation_id = "sendThreadKeystrokes",
    params(("id" = i64, Path)),
    request_body(content = CreateKeystrokesRequest, content_type = "application/json"),
    responses((status = 200, body = ReplyThreadKeystrokesResource), (status = 400, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 429, body = ApiErrorBody)))]
pub async fn send_thread_keystrokes(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    JsonBody(input): JsonBody<CreateKeystrokesRequest>,
) -> Result<Json<ReplyThreadKeystrokesResource>, ApiError> {
    let user = input.user.resolve("user")?;
    let typist = state
        .engine
        .send_thread_keystrokes(&actor, ThreadId(id), Some(&user), input.keys.clone())
        .await?;
    Ok(Json(ReplyThreadKeystrokesResource {
        keys: input.keys,
        username: typist.name.as_str().to_owned(),
        _links: self_link(format!("{}/threads/{id}", base.base)),
    }))
}
