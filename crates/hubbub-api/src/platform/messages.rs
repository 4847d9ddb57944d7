//! `/messages`: every message of the application.

use super::channels::UserReference;
use super::error::{ApiError, ApiErrorBody};
use super::extract::{AppActor, LinkBase, MergePatch, PathId, Query};
use super::hal::{self, CursorPagedModelMessageResource};
use super::resources::{ApplicationResource, MessageResource, ReplyThreadResource};
use super::users::ExternalFileInput;
use crate::AppState;
use axum::Json;
use axum::extract::State;
use hubbub_core::engine::{Engine, MessagePatch, SendContent, SendMessage};
use hubbub_core::ids::MessageId;
use hubbub_core::model::MessageFilter;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

/// `CreateMessageResource`: `{"type": "TEXT", "body": ...}` or
/// `{"type": "FILE", "file": {url, name, content_type, size}}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMessageRequest {
    /// `TEXT` or `FILE`.
    #[serde(rename = "type")]
    pub kind: String,
    pub body: Option<String>,
    pub file: Option<ExternalFileInput>,
    pub group_tag: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub properties: Value,
    /// Send on behalf of this user; without it the message is a system message.
    pub user: Option<UserReference>,
    /// Same as the `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
}

/// Turns a decoded send into the engine's request. The header and body keys must
/// agree when both are given.
pub fn send_request(
    input: CreateMessageRequest,
    header_key: Option<String>,
) -> Result<SendMessage, ApiError> {
    let content =
        match input.kind.to_ascii_uppercase().as_str() {
            "TEXT" => {
                if input.file.is_some() {
                    return Err(ApiError::bad_request(
                        "a TEXT message has a body, not a file",
                    ));
                }
                SendContent::Text(input.body.ok_or_else(|| {
                    ApiError::bad_request("invalid body: required for TEXT messages")
                })?)
            }
            "FILE" => {
                if input.body.is_some() {
                    return Err(ApiError::bad_request(
                        "a FILE message has a file, not a body",
                    ));
                }
                let file = input.file.ok_or_else(|| {
                    ApiError::bad_request("invalid file: required for FILE messages")
                })?;
                SendContent::ExternalFile {
                    url: file.url,
                    name: file.name,
                    content_type: file.content_type,
                    size: file.size,
                }
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "invalid type '{other}': must be TEXT or FILE"
                )));
            }
        };
    let idempotency_key = match (header_key, input.idempotency_key) {
        (Some(h), Some(b)) if h != b => {
            return Err(ApiError::bad_request(
                "the Idempotency-Key header and idempotency_key differ",
            ));
        }
        (h, b) => h.or(b),
    };
    Ok(SendMessage {
        on_behalf_of: input.user.as_ref().map(|u| u.resolve("user")).transpose()?,
        content,
        group_tag: input.group_tag,
        properties: input.properties,
        idempotency_key,
    })
}

/// The `username` and `query` filters of message lists.
pub fn message_filter(query: &Query) -> Result<MessageFilter, ApiError> {
    Ok(MessageFilter {
        sender_name: query
            .get("username")
            .map(Engine::parse_sender_name)
            .transpose()?,
        query: query
            .get("query")
            .map(str::to_owned)
            .filter(|q| !q.is_empty()),
        ..Default::default()
    })
}

/// List every message of the application, newest first.
#[utoipa::path(get, path = "/messages", tag = "Messages", operation_id = "listMessages",
    params(("size" = Option<i64>, Query), ("start" = Option<i64>, Query), ("next" = Option<i64>, Query),
        ("relation" = Option<String>, Query, description = "SELF, NEXT or PREVIOUS"),
        ("username" = Option<String>, Query), ("query" = Option<String>, Query)),
    responses((status = 200, body = CursorPagedModelMessageResource), (status = 400, body = ApiErrorBody)))]
pub async fn list_messages(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    query: Query,
) -> Result<Json<CursorPagedModelMessageResource>, ApiError> {
    let cursor = hal::cursor_request(&query)?;
    let found = state
        .engine
        .list_messages(&actor, message_filter(&query)?, &cursor)
        .await?;
    Ok(Json(hal::message_page(found, &cursor, &base, &query)))
}

/// Retrieve a message.
#[utoipa::path(get, path = "/messages/{id}", tag = "Messages", operation_id = "retrieveMessage",
    params(("id" = i64, Path)),
    responses((status = 200, body = MessageResource), (status = 404, body = ApiErrorBody)))]
pub async fn retrieve_message(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
) -> Result<Json<MessageResource>, ApiError> {
    let view = state.engine.get_message(&actor, MessageId(id)).await?;
    Ok(Json(MessageResource::new(&view, &base)))
}

/// Update a message with a JSON merge patch of `body` and `properties`.
#[utoipa::path(patch, path = "/messages/{id}", tag = "Messages", operation_id = "updateMessage",
    params(("id" = i64, Path)),
    request_body(content = Object, content_type = "application/json+merge-patch"),
    responses((status = 200, body = MessageResource), (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn update_message(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    patch: MergePatch,
) -> Result<Json<MessageResource>, ApiError> {
    patch.check(
        &["body", "properties"],
        &[
            "id",
            "type",
            "channel_id",
            "created_time",
            "user",
            "file",
            "seq",
            "nested_level",
            "last_edited_time",
            "replies_count",
            "report_count",
            "reactions",
            "links",
            "mentions",
            "group_tag",
        ],
    )?;
    let view = state
        .engine
        .update_message(
            &actor,
            MessageId(id),
            MessagePatch {
                body: patch.string("body")?,
                properties: patch.0.get("properties").cloned(),
            },
        )
        .await?;
    Ok(Json(MessageResource::new(&view, &base)))
}

/// Delete a message. Answers with the thread it was in: its channel's main thread, or
/// for a reply the reply thread of its parent.
#[utoipa::path(delete, path = "/messages/{id}", tag = "Messages", operation_id = "deleteMessage",
    params(("id" = i64, Path)),
    responses((status = 200, body = ReplyThreadResource), (status = 404, body = ApiErrorBody)))]
pub async fn delete_message(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
) -> Result<Json<ReplyThreadResource>, ApiError> {
    let thread = state
        .engine
        .delete_message_from_thread(&actor, MessageId(id))
        .await?;
    Ok(Json(ReplyThreadResource::new(&thread, &base)))
}

/// Delete every message of the application. Answers with the application.
#[utoipa::path(delete, path = "/messages", tag = "Messages", operation_id = "deleteMessages",
    responses((status = 200, body = ApplicationResource), (status = 401, body = ApiErrorBody)))]
pub async fn delete_messages(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
) -> Result<Json<ApplicationResource>, ApiError> {
    state.engine.delete_all_messages(&actor).await?;
    let app = state.engine.get_application(&actor).await?;
    Ok(Json(ApplicationResource::new(&app, &base)))
}
