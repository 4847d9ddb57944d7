//! Who is calling: `api_key` names the application (its kitkot dialect credential),
//! `session_key` the user (a token from `/login` or `Engine::issue_kitkot_session`).
//! Both are query parameters on every call; `api_key` is checked first, so a call
//! without it is 401 "Invalid api_key" whatever else is wrong with it.

use super::error::KitkotError;
use super::params::Params;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use hubbub_core::engine::Actor;
use hubbub_core::model::{Application, Dialect, DialectTokenKind, User};

/// A call made with a valid `api_key` (the session is optional or absent).
pub(crate) struct AppCaller {
    pub(crate) app: Application,
    pub(crate) params: Params,
}

/// A call made with a valid `api_key` and a `session_key` of the same application.
pub(crate) struct Caller {
    pub(crate) app: Application,
    pub(crate) user: User,
    /// The `session_key` as given.
    pub(crate) session_key: String,
    pub(crate) params: Params,
}

impl Caller {
    pub(crate) fn actor(&self) -> Actor {
        Actor::User {
            app: self.app.id,
            user: self.user.id,
        }
    }
}

impl FromRequestParts<AppState> for AppCaller {
    type Rejection = KitkotError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, KitkotError> {
        let params = Params::from_request_parts(parts, state).await?;
        let app = application(state, &params).await?;
        Ok(Self { app, params })
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = KitkotError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, KitkotError> {
        let AppCaller { app, params } = AppCaller::from_request_parts(parts, state).await?;
        let session_key = params
            .get("session_key")
            .ok_or_else(KitkotError::invalid_session_key)?
            .to_owned();
        let user = session_user(state, &app, &session_key).await?;
        Ok(Self {
            app,
            user,
            session_key,
            params,
        })
    }
}

/// The application whose kitkot `api_key` this is.
async fn application(state: &AppState, params: &Params) -> Result<Application, KitkotError> {
    let key = params
        .get("api_key")
        .ok_or_else(KitkotError::invalid_api_key)?;
    if key.len() > 128 {
        return Err(KitkotError::invalid_api_key());
    }
    state
        .engine
        .find_dialect_app(Dialect::Kitkot, key)
        .await?
        .map(|(app, _)| app)
        .ok_or_else(KitkotError::invalid_api_key)
}

/// The user of a `session_key`, which must belong to `app`.
pub(crate) async fn session_user(
    state: &AppState,
    app: &Application,
    session_key: &str,
) -> Result<User, KitkotError> {
    let identity = state
        .engine
        .authenticate_dialect_token(DialectTokenKind::KitkotSession, session_key)
        .await?
        .ok_or_else(KitkotError::invalid_session_key)?;
    if identity.app.id != app.id {
        return Err(KitkotError::invalid_session_key());
    }
    Ok(identity.user)
}
