//! `POST /v1/realtime/tokens` (and `/realtime/tokens`): a connection token for the
//! realtime gateway, for the application's backend (Bearer OAuth token).
//!
//! Body: `{"user": {"username": "jane"} | "jane" | null, "ttl": 3600}`. No user (or
//! an empty name) mints an anonymous viewer's token. `ttl` is seconds (default 3600,
//! at most 30 days). Answer: `{"token", "expires_in", "expires_at", "user"}`.

use crate::AppState;
use crate::platform::error::ApiError;
use crate::platform::extract::{AppActor, JsonBody};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum UserRef {
    Name(String),
    Object {
        #[serde(alias = "name")]
        username: Option<String>,
    },
}

/// A token request.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct MintRequest {
    /// `{"username": "jane"}`, `"jane"`, or absent for an anonymous viewer.
    #[schema(value_type = Option<Object>)]
    user: Option<UserRef>,
    /// Lifetime in seconds (default 3600, at most 30 days).
    ttl: Option<u64>,
}

/// A minted connection token.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MintResponse {
    /// HS256 JWT for the `connect` command (`sub` = user, `iss` = client id).
    pub token: String,
    pub expires_in: u64,
    #[schema(value_type = String)]
    pub expires_at: Value,
    /// The user name (empty for an anonymous viewer).
    pub user: String,
}

/// Mint a realtime connection token (app backend only).
#[utoipa::path(post, path = "/realtime/tokens", tag = "Realtime", operation_id = "mintRealtimeToken",
    request_body(content = MintRequest, content_type = "application/json"),
    responses(
        (status = 200, body = MintResponse),
        (status = 400, body = crate::platform::error::ApiErrorBody),
        (status = 401, body = crate::platform::error::ApiErrorBody),
        (status = 404, body = crate::platform::error::ApiErrorBody),
    ))]
pub async fn mint(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<MintResponse>, ApiError> {
    let request: MintRequest = serde_json::from_value(body)
        .map_err(|e| ApiError::bad_request(format!("invalid token request: {e}")))?;
    let user = match request.user {
        None => String::new(),
        Some(UserRef::Name(name)) => name,
        Some(UserRef::Object { username }) => username.unwrap_or_default(),
    };
    let ttl = request.ttl.unwrap_or(3600);
    let (token, expires_at) = state
        .engine
        .mint_realtime_token_for(&actor, &user, Duration::from_secs(ttl))
        .await?;
    Ok(Json(MintResponse {
        token,
        expires_in: ttl,
        expires_at: json!(expires_at),
        user,
    }))
}
