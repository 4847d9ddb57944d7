//! `/analytics`: exports of the application's messages and users as jobs.

use super::error::{ApiError, ApiErrorBody};
use super::extract::{AppActor, LinkBase};
use super::jobs::ApplicationJobResource;
use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hubbub_core::engine::ExportKind;

/// Export every message as JSON Lines. Answers 202 with the job; the finished job's
/// `file` is the download URL.
#[utoipa::path(post, path = "/analytics/messages", tag = "Analytics", operation_id = "exportMessageAnalytics",
    responses((status = 202, body = ApplicationJobResource), (status = 401, body = ApiErrorBody)))]
pub async fn export_messages(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
) -> Result<(StatusCode, Json<ApplicationJobResource>), ApiError> {
    let job = state
        .engine
        .submit_export(&actor, ExportKind::Messages)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ApplicationJobResource::new(&job, &base)),
    ))
}

/// Export every user as JSON Lines. Answers 202 with the job (type
/// `USER_ANALYTICS_EXPORT`).
#[utoipa::path(post, path = "/analytics/users", tag = "Analytics", operation_id = "exportUserAnalytics",
    responses((status = 202, body = ApplicationJobResource), (status = 401, body = ApiErrorBody)))]
pub async fn export_users(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
) -> Result<(StatusCode, Json<ApplicationJobResource>), ApiError> {
    let job = state
        .engine
        .submit_export(&actor, ExportKind::Users)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ApplicationJobResource::new(&job, &base)),
    ))
}
