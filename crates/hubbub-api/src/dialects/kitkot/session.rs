//! `/login` [P] and `/session` [S]: a user's session and what kitkot shows of it.

use super::KitkotState;
use super::auth::{AppCaller, Caller};
use super::error::{KitkotError, KitkotResult, success};
use super::login_limit::Attempt;
use crate::AppState;
use axum::Extension;
use axum::extract::{ConnectInfo, State};
use hubbub_core::model::User;
use serde_json::{Map, Value, json};
use std::net::SocketAddr;
use std::sync::Arc;

/// `GET /kitkot/api/login?api_key&(username|email)&password` — a new `session_key`.
pub(crate) async fn login(
    State(state): State<AppState>,
    Extension(kitkot): Extension<Arc<KitkotState>>,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    AppCaller { app, params }: AppCaller,
) -> KitkotResult {
    let password = params.required("password")?;
    // A user logging in by email is the user whose name is that email.
    let name = match (params.get("username"), params.get("email")) {
        (Some(username), None) => username,
        (None, Some(email)) if looks_like_email(email) => email,
        (None, Some(_)) => return Err(KitkotError::incorrect_email()),
        _ => return Err(KitkotError::invalid_parameters()),
    };
    let attempt = Attempt::new(
        app.id,
        name,
        info.map(|Extension(ConnectInfo(addr))| addr.ip()),
    );
    kitkot
        .logins
        .check(&attempt)
        .map_err(|wait| KitkotError::too_many_attempts(wait.as_secs()))?;
    let Some(user) = state
        .engine
        .verify_user_password(app.id, name, password)
        .await?
    else {
        kitkot.logins.failed(&attempt);
        return Err(KitkotError::incorrect_login());
    };
    kitkot.logins.succeeded(&attempt);
    let session_key = state.engine.issue_kitkot_session(app.id, user.id).await?;
    Ok(success(session_payload(&user, &session_key)))
}

/// `GET /kitkot/api/session?api_key&session_key` — the session's user.
pub(crate) async fn session(caller: Caller) -> KitkotResult {
    Ok(success(session_payload(&caller.user, &caller.session_key)))
}

/// The Session page's fields [S], filled from the user [P]: `user_id` is the user
/// id, `screen_name` the display name, `email` the user name when it is an email.
fn session_payload(user: &User, session_key: &str) -> Map<String, Value> {
    let name = user.name.as_str();
    let payload = json!({
        "region": "",
        "email": if looks_like_email(name) { name } else { "" },
        "screen_name": user.display_name.as_str(),
        "phone": "",
        "is_verified": false,
        "user_id": user.id.0.to_string(),
        "sec_user_id": "",
        "profile_picture": user.display_picture_url.as_ref().map(|u| u.as_str()).unwrap_or(""),
        "session_key": session_key,
        "need_device_create": {"code": 0, "msg": ""},
        "is_new_user": 0,
        "cloud_token": "",
        "connects": [],
    });
    match payload {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `local@domain.tld`, roughly: enough to tell an email from a user name.
fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn emails_are_told_from_names() {
        for ok in ["a@b.co", "first.last@example.org"] {
            assert!(super::looks_like_email(ok), "{ok}");
        }
        for bad in [
            "alice", "@b.co", "a@b", "a@.co", "a@co.", "a b@c.de", "a@b@c.de",
        ] {
            assert!(!super::looks_like_email(bad), "{bad}");
        }
    }
}
