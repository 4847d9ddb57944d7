//! `/channels/{id}/invites`: inviting users to group channels.

use super::channels::UserReference;
use super::error::{ApiError, ApiErrorBody};
use super::extract::{AppActor, JsonBody, LinkBase, PathId, Query};
use super::hal::{self, PagedModelChannelInviteResource};
use super::resources::ChannelInviteResource;
use crate::AppState;
use axum::Json;
use axum::extract::State;
use hubbub_core::ids::ChannelId;
use hubbub_core::paging::SortField;
use serde::Deserialize;
use utoipa::ToSchema;

const INVITE_SORTS: &[SortField] = &[
    SortField::Id,
    SortField::Name,
    SortField::DisplayName,
    SortField::CreatedTime,
];

/// `CreateChannelInviteResource`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannelInviteRequest {
    /// The invited user: `{"username": ...}` or `{"id": ...}`.
    pub user: UserReference,
}

/// List a channel's pending invites (of users who are not members yet).
#[utoipa::path(get, path = "/channels/{id}/invites", tag = "Channels", operation_id = "listChannelInvites",
    params(("id" = i64, Path), ("page" = Option<i64>, Query), ("size" = Option<i64>, Query), ("sort" = Option<Vec<String>>, Query)),
    responses((status = 200, body = PagedModelChannelInviteResource), (status = 404, body = ApiErrorBody)))]
pub async fn list_channel_invites(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    query: Query,
) -> Result<Json<PagedModelChannelInviteResource>, ApiError> {
    let page = hal::page_request(&query, INVITE_SORTS)?;
    let found = state
        .engine
        .list_invites(&actor, ChannelId(id), &page)
        .await?;
    let (items, meta, links) = hal::offset_page(found, &base, &query, |i| {
        ChannelInviteResource::new(i, &base)
    });
    Ok(Json(PagedModelChannelInviteResource::from_parts(
        items, meta, links,
    )))
}

/// Invite a user to a group channel. Inviting a member is a 409; inviting again
/// returns the pending invite.
#[utoipa::path(post, path = "/channels/{id}/invites", tag = "Channels", operation_id = "sendChannelInvite",
    params(("id" = i64, Path)),
    request_body(content = CreateChannelInviteRequest, content_type = "application/vnd.chatkitty+json"),
    responses((status = 200, body = ChannelInviteResource), (status = 400, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody)))]
pub async fn send_channel_invite(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    JsonBody(input): JsonBody<CreateChannelInviteRequest>,
) -> Result<Json<ChannelInviteResource>, ApiError> {
    let user = input.user.resolve("user")?;
    let invite = state.engine.invite(&actor, ChannelId(id), &user).await?;
    Ok(Json(ChannelInviteResource::new(&invite, &base)))
}
