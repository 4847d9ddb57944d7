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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MintRequest {
    user: Option<UserRef>,
    ttl: Option<u64>,
}

/// Mints a connection token.
pub async fn mint(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!({
        "token": token,
        "expires_in": ttl,
        "expires_at": expires_at,
        "user": user,
    })))
}
