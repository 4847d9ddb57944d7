//! `/user-sessions` and `/chat-sessions`: realtime clients of users (a user session
//! per connection, from connect to disconnect) and their channel subscriptions (a chat
//! session per subscribed channel).

use super::error::{ApiError, ApiErrorBody};
use super::extract::{AppActor, LinkBase, Query};
use super::hal::{self, PagedModelChatSessionResource, PagedModelChatUserSessionResource};
use super::resources::{ChatSessionResource, ChatUserSessionResource};
use crate::AppState;
use axum::Json;
use axum::extract::State;
use hubbub_core::model::SessionState;
use hubbub_core::paging::SortField;

const SESSION_SORTS: &[SortField] = &[SortField::Id, SortField::CreatedTime];

fn state_param(query: &Query) -> Result<Option<SessionState>, ApiError> {
    query
        .get("state")
        .map(|s| {
            SessionState::parse(s).ok_or_else(|| {
                ApiError::bad_request("query parameter 'state' must be ACTIVE or ENDED")
            })
        })
        .transpose()
}

/// List user sessions.
#[utoipa::path(get, path = "/user-sessions", tag = "UserSessions", operation_id = "listUserSessions",
    params(("page" = Option<i64>, Query), ("size" = Option<i64>, Query), ("sort" = Option<Vec<String>>, Query),
        ("state" = Option<String>, Query, description = "ACTIVE or ENDED")),
    responses((status = 200, body = PagedModelChatUserSessionResource), (status = 400, body = ApiErrorBody)))]
pub async fn list_user_sessions(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    query: Query,
) -> Result<Json<PagedModelChatUserSessionResource>, ApiError> {
    let page = hal::page_request(&query, SESSION_SORTS)?;
    let found = state
        .engine
        .list_user_sessions(&actor, state_param(&query)?, &page)
        .await?;
    let (items, meta, links) = hal::offset_page(found, &base, &query, |s| {
        let mut r = ChatUserSessionResource::new(s, &base);
        r.user = r.user.online(state.engine.is_online(s.app_id, s.user.id));
        r
    });
    Ok(Json(PagedModelChatUserSessionResource::from_parts(
        items, meta, links,
    )))
}

/// List chat sessions.
#[utoipa::path(get, path = "/chat-sessions", tag = "ChatSessions", operation_id = "listChatSessions",
    params(("page" = Option<i64>, Query), ("size" = Option<i64>, Query), ("sort" = Option<Vec<String>>, Query),
        ("state" = Option<String>, Query, description = "ACTIVE or ENDED")),
    responses((status = 200, body = PagedModelChatSessionResource), (status = 400, body = ApiErrorBody)))]
pub async fn list_chat_sessions(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    query: Query,
) -> Result<Json<PagedModelChatSessionResource>, ApiError> {
    let page = hal::page_request(&query, SESSION_SORTS)?;
    let found = state
        .engine
        .list_chat_sessions(&actor, state_param(&query)?, &page)
        .await?;
    let (items, meta, links) =
        hal::offset_page(found, &base, &query, |s| ChatSessionResource::new(s, &base));
    Ok(Json(PagedModelChatSessionResource::from_parts(
        items, meta, links,
    )))
}
