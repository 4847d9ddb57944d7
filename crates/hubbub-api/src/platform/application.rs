//! `/application`: the caller's application and its settings.

use super::error::{ApiError, ApiErrorBody};
use super::extract::{AppActor, JsonBody, LinkBase};
use super::resources::{ApplicationResource, ApplicationSettingsResource, Toggle};
use crate::AppState;
use axum::Json;
use axum::extract::State;
use hubbub_core::model::AppSettings;
use serde::Deserialize;
use utoipa::ToSchema;

/// Retrieve the authenticated application.
#[utoipa::path(get, path = "/application", tag = "Application", operation_id = "retrieveApplication",
    responses((status = 200, body = ApplicationResource), (status = 401, body = ApiErrorBody)))]
pub async fn retrieve_application(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
) -> Result<Json<ApplicationResource>, ApiError> {
    let app = state.engine.get_application(&actor).await?;
    Ok(Json(ApplicationResource::new(&app, &base)))
}

/// Retrieve the application's settings.
#[utoipa::path(get, path = "/application/settings", tag = "Application", operation_id = "retrieveApplicationSettings",
    responses((status = 200, body = ApplicationSettingsResource), (status = 401, body = ApiErrorBody)))]
pub async fn retrieve_settings(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
) -> Result<Json<ApplicationSettingsResource>, ApiError> {
    let app = state.engine.get_application(&actor).await?;
    Ok(Json(ApplicationSettingsResource::new(&app.settings, &base)))
}

/// The writable application settings. Omitted members keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationSettingsInput {
    pub guest_users: Option<Toggle>,
    pub user_created_channels: Option<Toggle>,
    /// Accepted for round trips of the resource; ignored.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub _links: Option<serde_json::Value>,
}

/// Update the application's settings.
#[utoipa::path(put, path = "/application/settings", tag = "Application", operation_id = "updateApplicationSettings",
    request_body(content = ApplicationSettingsInput, content_type = "application/vnd.chatkitty+json"),
    responses((status = 200, body = ApplicationSettingsResource), (status = 400, body = ApiErrorBody), (status = 401, body = ApiErrorBody)))]
pub async fn update_settings(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    JsonBody(input): JsonBody<ApplicationSettingsInput>,
) -> Result<Json<ApplicationSettingsResource>, ApiError> {
    let current = state.engine.get_application(&actor).await?.settings;
    let settings = AppSettings {
        guest_users: input
            .guest_users
            .map_or(current.guest_users, |t| t == Toggle::Enabled),
        user_created_channels: input
            .user_created_channels
            .map_or(current.user_created_channels, |t| t == Toggle::Enabled),
        ..current
    };
    let app = state.engine.update_app_settings(&actor, settings).await?;
    Ok(Json(ApplicationSettingsResource::new(&app.settings, &base)))
}
