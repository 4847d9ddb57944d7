//! Read state: `/messages/{id}/read-receipts`,
//! `/application/message-read-receipt-summaries`, and the hubbub extension
//! `POST /v1/channels/{id}/read` that moves a user's read mark (ChatKitty marks
//! messages read from its client SDK only; the realtime gateway's `read` rpc does the
//! same for connected users).

use super::channels::UserReference;
use super::error::{ApiError, ApiErrorBody};
use super::extract::{AppActor, JsonBody, LinkBase, PathId, Query};
use super::hal::{
    self, PagedModelMessageReadReceiptResource, PagedModelMessageReadReceiptSummaryResource,
};
use super::resources::{
    MessageReadReceiptResource, MessageReadReceiptSummaryResource, ReadMarkResource,
};
use crate::AppState;
use axum::Json;
use axum::extract::State;
use hubbub_core::ids::{ChannelId, MessageId};
use hubbub_core::paging::SortField;
use serde::Deserialize;
use utoipa::ToSchema;

const RECEIPT_SORTS: &[SortField] = &[
    SortField::Id,
    SortField::Name,
    SortField::DisplayName,
    SortField::CreatedTime,
];
const SUMMARY_SORTS: &[SortField] = &[SortField::Id, SortField::Name, SortField::CreatedTime];

/// hubbub: `POST /v1/channels/{id}/read`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkReadRequest {
    /// Whose read mark moves: `{"username": ...}` or `{"id": ...}`.
    pub user: UserReference,
    /// Read up to and including this message of the channel (default: its newest).
    pub message_id: Option<i64>,
}

/// List who has read a message (users whose read mark covers it), earliest first.
#[utoipa::path(get, path = "/messages/{id}/read-receipts", tag = "Messages", operation_id = "listMessageReadReceipts",
    params(("id" = i64, Path), ("page" = Option<i64>, Query), ("size" = Option<i64>, Query), ("sort" = Option<Vec<String>>, Query)),
    responses((status = 200, body = PagedModelMessageReadReceiptResource), (status = 404, body = ApiErrorBody)))]
pub async fn list_message_read_receipts(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    query: Query,
) -> Result<Json<PagedModelMessageReadReceiptResource>, ApiError> {
    let page = hal::page_request(&query, RECEIPT_SORTS)?;
    let found = state
        .engine
        .list_read_receipts(&actor, MessageId(id), &page)
        .await?;
    let (items, meta, links) = hal::offset_page(found, &base, &query, |r| {
        MessageReadReceiptResource::new(r, &base)
    });
    Ok(Json(PagedModelMessageReadReceiptResource::from_parts(
        items, meta, links,
    )))
}

/// Unread messages per channel and member, for every member with unread messages.
#[utoipa::path(get, path = "/application/message-read-receipt-summaries", tag = "Application",
    operation_id = "retrieveApplicationMessageReadReceiptSummaries",
    params(("page" = Option<i64>, Query), ("size" = Option<i64>, Query), ("sort" = Option<Vec<String>>, Query)),
    responses((status = 200, body = PagedModelMessageReadReceiptSummaryResource), (status = 401, body = ApiErrorBody)))]
pub async fn retrieve_read_receipt_summaries(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    query: Query,
) -> Result<Json<PagedModelMessageReadReceiptSummaryResource>, ApiError> {
    let page = hal::page_request(&query, SUMMARY_SORTS)?;
    let found = state.engine.list_unread_summaries(&actor, &page).await?;
    let (items, meta, links) = hal::offset_page(found, &base, &query, |s| {
        MessageReadReceiptSummaryResource::new(s, &base)
    });
    Ok(Json(
        PagedModelMessageReadReceiptSummaryResource::from_parts(items, meta, links),
    ))
}

/// hubbub: marks a channel read by a user, up to `message_id` or its newest message.
/// Read marks never move backwards. Answers with the user's read mark.
#[utoipa::path(post, path = "/channels/{id}/read", tag = "Channels", operation_id = "markChannelRead",
    params(("id" = i64, Path)),
    request_body(content = MarkReadRequest, content_type = "application/json"),
    responses((status = 200, body = ReadMarkResource), (status = 400, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn mark_channel_read(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    JsonBody(input): JsonBody<MarkReadRequest>,
) -> Result<Json<ReadMarkResource>, ApiError> {
    let user = input.user.resolve("user")?;
    let mark = state
        .engine
        .mark_read(
            &actor,
            ChannelId(id),
            Some(&user),
            input.message_id.map(MessageId),
        )
        .await?;
    Ok(Json(ReadMarkResource::new(&mark, &base)))
}
