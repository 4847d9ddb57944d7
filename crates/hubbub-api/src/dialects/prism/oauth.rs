//! `GET /prism/v1/service/oauth2/token` (seed-surfaces 1.3): PRISM exchanges an
//! authorization code (from the login page, `authorize.rs`) or a refresh token for an
//! access token. The application is identified by `x-prism-client-id` (its PRISM
//! credential key) and authenticated by `x-prism-client-secret`, compared in constant
//! time. Answers are RFC 6749 bodies at the top level, not in the PRISM envelope.
//!
//! Codes last 10 minutes and are single use; access tokens an hour; refresh tokens
//! 30 days, and each refresh hands out a new one and uses the old one up. The refresh
//! token is read from `refresh_token` or (the Oct-2026 revision's name) `token`.

use crate::AppState;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hubbub_core::credentials::{hash_secret, verify_secret};
use hubbub_core::engine::TokenPair;
use hubbub_core::model::{Application, Dialect, DialectTokenKind};
use hubbub_core::{Error, ids::UserId};
use serde::Serialize;
use serde_json::Value;

pub(crate) const CLIENT_ID_HEADER: &str = "x-prism-client-id";
pub(crate) const CLIENT_SECRET_HEADER: &str = "x-prism-client-secret";

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    expires_in: u64,
}

/// An RFC 6749 section 5.2 error.
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

#[derive(Serialize)]
struct OAuthErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }
    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }
    fn invalid_client() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        )
    }
    fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }
}

impl From<Error> for OAuthError {
    fn from(e: Error) -> Self {
        match e {
            Error::Unavailable(cause) => {
                tracing::warn!(%cause, "prism token: service unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "the service is temporarily unavailable; retry shortly",
                )
            }
            other => {
                tracing::error!(error = %other, "prism token: internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "an internal error occurred",
                )
            }
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        no_store(
            (
                self.status,
                Json(OAuthErrorBody {
                    error: self.error,
                    error_description: &self.description,
                }),
            )
                .into_response(),
        )
    }
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// `GET /prism/v1/service/oauth2/token?grant_type=…` — issue tokens.
pub(crate) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match exchange(&state, &headers, query.as_deref().unwrap_or_default()).await {
        Ok(pair) => no_store(
            Json(TokenResponse {
                access_token: pair.access_token,
                refresh_token: pair.refresh_token,
                token_type: "bearer",
                expires_in: pair.expires_in.as_secs(),
            })
            .into_response(),
        ),
        Err(e) => e.into_response(),
    }
}

async fn exchange(
    state: &AppState,
    headers: &HeaderMap,
    query: &str,
) -> Result<TokenPair, OAuthError> {
    let app = authenticate_client(state, headers).await?;
    let params = Params::parse(query)?;
    match params.get("grant_type") {
        None => Err(OAuthError::invalid_request("grant_type is required")),
        Some("authorization_code") => {
            let code = params
                .get("code")
                .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
            let taken = state
                .engine
                .take_dialect_token(DialectTokenKind::PrismCode, code)
                .await?
                .filter(|t| t.app_id == app.id)
                .ok_or_else(|| {
                    OAuthError::invalid_grant("the code is unknown, used, expired or not yours")
                })?;
            let issued_for = taken.data.get("redirect_uri").and_then(Value::as_str);
            if issued_for.is_some() && params.get("redirect_uri") != issued_for {
                return Err(OAuthError::invalid_grant(
                    "redirect_uri does not match the one the code was issued for",
                ));
            }
            issue(state, &app, taken.user_id).await
        }
        Some("refresh_token") => {
            let token = match (params.get("refresh_token"), params.get("token")) {
                (Some(a), Some(b)) if a != b => {
                    return Err(OAuthError::invalid_request(
                        "refresh_token and token disagree; send one",
                    ));
                }
                (Some(t), _) | (None, Some(t)) => t,
                (None, None) => {
                    return Err(OAuthError::invalid_request(
                        "refresh_token (or token) is required",
                    ));
                }
            };
            let taken = state
                .engine
                .take_dialect_token(DialectTokenKind::PrismRefresh, token)
                .await?
                .filter(|t| t.app_id == app.id)
                .ok_or_else(|| {
                    OAuthError::invalid_grant(
                        "the refresh token is unknown, used, expired or not yours",
                    )
                })?;
            issue(state, &app, taken.user_id).await
        }
        Some(other) => Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!(
                "grant_type '{other}' is not supported; use authorization_code or refresh_token"
            ),
        )),
    }
}

async fn issue(
    state: &AppState,
    app: &Application,
    user: Option<UserId>,
) -> Result<TokenPair, OAuthError> {
    let user = user.ok_or_else(|| OAuthError::invalid_grant("the grant names no user"))?;
    Ok(state.engine.issue_prism_tokens(app.id, user).await?)
}

/// The application whose PRISM client id and secret the headers carry.
async fn authenticate_client(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Application, OAuthError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let (Some(id), Some(secret)) = (header(CLIENT_ID_HEADER), header(CLIENT_SECRET_HEADER)) else {
        return Err(OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "x-prism-client-id and x-prism-client-secret are required",
        ));
    };
    match state.engine.find_dialect_app(Dialect::Prism, id).await? {
        // Both sides hashed, then compared in constant time.
        Some((app, credential)) if verify_secret(secret, &hash_secret(&credential.secret)) => {
            Ok(app)
        }
        _ => Err(OAuthError::invalid_client()),
    }
}

/// The query's parameters; RFC 6749 forbids repeating one.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(query: &str) -> Result<Self, OAuthError> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        for (i, (key, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(k, _)| k == key) {
                return Err(OAuthError::invalid_request(format!(
                    "parameter '{key}' is repeated"
                )));
            }
        }
        Ok(Self(pairs))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}
