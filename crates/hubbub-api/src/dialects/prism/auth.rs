//! Authentication of PRISM's calls: every call but the token endpoint carries
//! `x-prism-access-token`, an access token from the OAuth flow (see `oauth.rs`).
//! The token names the application and the user (the streamer) it speaks for.

use super::error::PrismError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use hubbub_core::engine::{Actor, DialectIdentity};
use hubbub_core::model::DialectTokenKind;

pub(crate) const ACCESS_TOKEN_HEADER: &str = "x-prism-access-token";

/// The streamer (or manager) a PRISM call is made by.
pub(crate) struct PrismUser {
    pub(crate) identity: DialectIdentity,
}

impl PrismUser {
    /// The engine actor of the call: the token's user acting for themselves.
    pub(crate) fn actor(&self) -> Actor {
        Actor::User {
            app: self.identity.app.id,
            user: self.identity.user.id,
        }
    }
}

impl FromRequestParts<AppState> for PrismUser {
    type Rejection = PrismError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PrismError> {
        let token = parts
            .headers
            .get(ACCESS_TOKEN_HEADER)
            .ok_or_else(|| PrismError::invalid_token("x-prism-access-token is required"))?
            .to_str()
            .map(str::trim)
            .map_err(|_| PrismError::invalid_token("the access token is unknown or expired"))?;
        match state
            .engine
            .authenticate_dialect_token(DialectTokenKind::PrismAccess, token)
            .await?
        {
            Some(identity) => Ok(Self { identity }),
            None => Err(PrismError::invalid_token(
                "the access token is unknown or expired",
            )),
        }
    }
}
