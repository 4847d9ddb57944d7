//! `/users/{id}/notifications`: a user's notifications, newest first, cursor paged
//! like messages (`size`, `start`, `next`, `relation`; cursors are notification ids).

use super::error::{ApiError, ApiErrorBody};
use super::extract::{AppActor, LinkBase, PathId, Query};
use super::hal::{self, CursorPagedModelNotificationResource};
use super::resources::NotificationResource;
use crate::AppState;
use axum::Json;
use axum::extract::State;
use hubbub_core::ids::UserId;
use hubbub_core::model::NotificationCursor;

/// List a user's notifications, newest first.
#[utoipa::path(get, path = "/users/{id}/notifications", tag = "Users", operation_id = "listUserNotifications",
    params(("id" = i64, Path), ("size" = Option<i64>, Query), ("start" = Option<i64>, Query), ("next" = Option<i64>, Query),
        ("relation" = Option<String>, Query, description = "SELF, NEXT or PREVIOUS")),
    responses((status = 200, body = CursorPagedModelNotificationResource), (status = 404, body = ApiErrorBody)))]
pub async fn list_user_notifications(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    query: Query,
) -> Result<Json<CursorPagedModelNotificationResource>, ApiError> {
    let cursor = hal::cursor_request(&query)?;
    let found = state
        .engine
        .list_notifications(&actor, UserId(id), &NotificationCursor::from(&cursor))
        .await?;
    let first = found.items.first().map(|n| n.view.notification.id.0);
    let last = found.items.last().map(|n| n.view.notification.id.0);
    let (meta, links) = hal::cursor_parts(
        first,
        last,
        found.has_more,
        found.total,
        &cursor,
        &base,
        &query,
    );
    let items = found
        .items
        .iter()
        .map(|n| NotificationResource::new(n, &base))
        .collect();
    Ok(Json(CursorPagedModelNotificationResource::from_parts(
        items, meta, links,
    )))
}
