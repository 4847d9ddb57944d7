//! Reported messages: `/channels/{id}/reported-messages`, and the hubbub extension
//! `POST /v1/messages/{id}/reports` (the realtime gateway's `report` rpc does the same
//! for connected users).

use super::channels::UserReference;
use super::error::{ApiError, ApiErrorBody};
use super::extract::{AppActor, JsonBody, LinkBase, PathId, Query};
use super::hal::{self, PagedModelMessageResource};
use super::resources::{MessageReportResource, MessageResource};
use crate::AppState;
use axum::Json;
use axum::extract::State;
use hubbub_core::ids::{ChannelId, MessageId};
use hubbub_core::paging::SortField;
use serde::Deserialize;
use utoipa::ToSchema;

/// hubbub: `POST /v1/messages/{id}/reports`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReportRequest {
    /// Why the message is reported (1 to 1000 bytes).
    pub reason: String,
    /// The reporting user; without it the application reports.
    pub user: Option<UserReference>,
}

/// List a channel's reported messages, most recently reported first.
#[utoipa::path(get, path = "/channels/{id}/reported-messages", tag = "Channels", operation_id = "listChannelReportedMessages",
    params(("id" = i64, Path), ("page" = Option<i64>, Query), ("size" = Option<i64>, Query),
        ("sort" = Option<Vec<String>>, Query, description = "id or created_time (of the message); default: most recently reported first")),
    responses((status = 200, body = PagedModelMessageResource), (status = 404, body = ApiErrorBody)))]
pub async fn list_channel_reported_messages(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    query: Query,
) -> Result<Json<PagedModelMessageResource>, ApiError> {
    let page = hal::page_request(&query, &[SortField::Id, SortField::CreatedTime])?;
    let found = state
        .engine
        .list_reported_messages(&actor, ChannelId(id), &page)
        .await?;
    let (items, meta, links) =
        hal::offset_page(found, &base, &query, |m| MessageResource::new(m, &base));
    Ok(Json(PagedModelMessageResource::from_parts(
        items, meta, links,
    )))
}

/// hubbub: reports a message. A user's second report of a message returns the first;
/// nobody reports their own message.
#[utoipa::path(post, path = "/messages/{id}/reports", tag = "Messages", operation_id = "reportMessage",
    params(("id" = i64, Path)),
    request_body(content = CreateReportRequest, content_type = "application/json"),
    responses((status = 200, body = MessageReportResource), (status = 400, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn report_message(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    JsonBody(input): JsonBody<CreateReportRequest>,
) -> Result<Json<MessageReportResource>, ApiError> {
    let reporter = input.user.as_ref().map(|u| u.resolve("user")).transpose()?;
    let (report, message) = state
        .engine
        .report_message(&actor, MessageId(id), reporter.as_ref(), &input.reason)
        .await?;
    Ok(Json(MessageReportResource::new(&report, &message, &base)))
}
