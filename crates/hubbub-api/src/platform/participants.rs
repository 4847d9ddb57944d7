//! `/channels/{id}/participants`: the users present in a channel right now (connected
//! over the realtime gateway and subscribed to it).

use super::error::{ApiError, ApiErrorBody};
use super::extract::{AppActor, LinkBase, PathId, Query};
use super::hal::{self, PagedModelChatUserResource};
use super::resources::ChatUserResource;
use crate::AppState;
use axum::Json;
use axum::extract::State;
use hubbub_core::ids::ChannelId;
use hubbub_core::paging::SortField;

/// List a channel's participants, by name.
#[utoipa::path(get, path = "/channels/{id}/participants", tag = "Channels", operation_id = "listChannelParticipants",
    params(("id" = i64, Path), ("page" = Option<i64>, Query), ("size" = Option<i64>, Query),
        ("sort" = Option<Vec<String>>, Query, description = "name,(asc|desc)")),
    responses((status = 200, body = PagedModelChatUserResource), (status = 404, body = ApiErrorBody)))]
pub async fn list_channel_participants(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    query: Query,
) -> Result<Json<PagedModelChatUserResource>, ApiError> {
    let page = hal::page_request(&query, &[SortField::Name])?;
    let found = state
        .engine
        .list_participants(
            &actor,
            ChannelId(id),
            state.gateway.presence.as_ref(),
            &page,
        )
        .await?;
    let (items, meta, links) = hal::offset_page(found, &base, &query, |u| {
        ChatUserResource::new(u, &base).online(state.engine.is_online(u.app_id, u.id))
    });
    Ok(Json(PagedModelChatUserResource::from_parts(
        items, meta, links,
    )))
}
