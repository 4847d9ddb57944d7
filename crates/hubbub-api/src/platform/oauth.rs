//! `POST /oauth/token`: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4), as the
//! official `chatkitty` client calls it — HTTP Basic client authentication and a
//! multipart or form-urlencoded body with `grant_type=client_credentials`.

use super::error::{AuthenticationError, OAuthError};
use crate::AppState;
use axum::Json;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hubbub_core::Error;
use serde::Serialize;
use utoipa::ToSchema;

/// The token response.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessTokenResponse {
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
    pub scope: &'static str,
}

const SCOPE: &str = "create:* read:* update:* delete:*";
const MAX_FORM_BYTES: usize = 16 * 1024;

/// Issue an access token (client-credentials grant).
#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "Authorization",
    request_body(content_type = "application/x-www-form-urlencoded", description = "grant_type=client_credentials; client credentials by HTTP Basic (or client_id/client_secret form fields)"),
    responses(
        (status = 200, description = "Token issued", body = AccessTokenResponse),
        (status = 400, description = "Bad request", body = AuthenticationError),
        (status = 401, description = "Bad client credentials", body = AuthenticationError),
    ),
    security(("client_basic" = []))
)]
pub async fn issue_token(State(state): State<AppState>, request: Request) -> Response {
    match token(state, request).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn token(state: AppState, request: Request) -> Result<Response, OAuthError> {
    let basic = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|h| parse_basic(h.to_str().unwrap_or_default()))
        .transpose()?;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let fields = if content_type.starts_with("multipart/form-data") {
        multipart_fields(request).await?
    } else if content_type.starts_with("application/x-www-form-urlencoded")
        || content_type.is_empty()
    {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES)
            .await
            .map_err(|_| invalid_request("request body too large"))?;
        form_urlencoded::parse(&bytes)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    } else {
        return Err(invalid_request(
            "send the token request as application/x-www-form-urlencoded or multipart/form-data",
        ));
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };

    match field("grant_type") {
        None => return Err(invalid_request("grant_type is required")),
        Some("client_credentials") => {}
        Some(other) => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("grant type '{other}' is not supported; use client_credentials"),
            ));
        }
    }
    let (client_id, client_secret) = match (basic, field("client_id"), field("client_secret")) {
        (Some(pair), None, None) => pair,
        (None, Some(id), Some(secret)) => (id.to_owned(), secret.to_owned()),
        (Some(_), _, _) => {
            return Err(invalid_request(
                "use exactly one client authentication method",
            ));
        }
        _ => {
            return Err(OAuthError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication is required (HTTP Basic with client_id:client_secret)",
            ));
        }
    };
    let ttl = state.config.access_token_ttl;
    match state
        .engine
        .issue_access_token(&client_id, &client_secret, ttl)
        .await
    {
        Ok((_, issued)) => {
            let mut response = Json(AccessTokenResponse {
                access_token: issued.access_token.0,
                token_type: "bearer",
                expires_in: issued.expires_in.as_secs(),
                scope: SCOPE,
            })
            .into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(response)
        }
        Err(Error::Forbidden(_)) => Err(OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        )),
        Err(Error::Unavailable(_)) => Err(OAuthError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the service is temporarily unavailable; retry shortly",
        )),
        Err(e) => {
            tracing::error!(error = %e, "token issue failed");
            Err(OAuthError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "an internal error occurred",
            ))
        }
    }
}

fn invalid_request(description: &str) -> OAuthError {
    OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", description)
}

/// `Basic base64(urlencode(id):urlencode(secret))` per RFC 6749 §2.3.1.
fn parse_basic(value: &str) -> Result<(String, String), OAuthError> {
    let bad = || {
        OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "malformed HTTP Basic client authentication",
        )
    };
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
        .ok_or_else(bad)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok((unescape(id), unescape(secret)))
}

async fn multipart_fields(request: Request) -> Result<Vec<(String, String)>, OAuthError> {
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| invalid_request(&format!("malformed multipart body: {e}")))?;
    let mut fields = Vec::new();
    let mut total = 0usize;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| invalid_request(&format!("malformed multipart body: {e}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let value = field
            .text()
            .await
            .map_err(|e| invalid_request(&format!("malformed multipart field: {e}")))?;
        total += name.len() + value.len();
        if total > MAX_FORM_BYTES || fields.len() > 32 {
            return Err(invalid_request("request body too large"));
        }
        fields.push((name, value));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_decoded_and_unescaped() {
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("my%3Aid:s%20ecret")
        );
        let (id, secret) = parse_basic(&header).ok().unwrap();
        assert_eq!(id, "my:id");
        assert_eq!(secret, "s ecret");
        assert!(parse_basic("Bearer x").is_err());
        assert!(parse_basic("Basic !!!").is_err());
    }
}
