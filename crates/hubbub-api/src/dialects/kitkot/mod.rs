//! The kitkot TikTok-LIVE API (seed 000; seed-surfaces section 2), served under
//! `/kitkot/api/...`. Every call is a `GET` with query parameters only, and every
//! answer is `{code, msg, …payload}` with the HTTP status equal to `code`
//! ([`error`]). `api_key` is the application's kitkot credential, `session_key` a
//! user's login ([`auth`]).
//!
//! | Route | Handler |
//! |---|---|
//! | `/login`, `/session` | [`session`] |
//! | `/live/join`, `/live/leave`, `/live/room_exists` | [`live`] |
//! | `/live/chat/send_message`, `/live/chat`, `/live/chat/delete_message` | [`chat`] |
//!
//! A room is a channel (`room_id` = the channel id in decimal); its owner is the
//! anchor, its moderators are its admins. The room object ([`room`]) keeps the whole
//! shape of the seed's example.

mod auth;
mod chat;
mod error;
mod live;
mod login_limit;
mod params;
mod room;
mod session;
mod viewers;

use crate::AppState;
use axum::http::Method;
use axum::routing::get;
use axum::{Extension, Router};
use error::KitkotError;
use std::sync::Arc;

/// Where the dialect is mounted.
pub const PREFIX: &str = "/kitkot/api";

/// What the dialect keeps between calls on this node.
#[derive(Default)]
pub(crate) struct KitkotState {
    logins: login_limit::LoginAttempts,
    viewers: viewers::KitkotViewers,
}

pub(crate) fn router() -> Router<AppState> {
    let api = Router::new()
        .route("/login", get(session::login))
        .route("/session", get(session::session))
        .route("/live/join", get(live::join))
        .route("/live/leave", get(live::leave))
        .route("/live/room_exists", get(live::room_exists))
        .route("/live/chat", get(chat::fetch))
        .route("/live/chat/send_message", get(chat::send_message))
        .route("/live/chat/delete_message", get(chat::delete_message))
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(Extension(Arc::new(KitkotState::default())));
    Router::new().nest(PREFIX, api)
}

/// Unknown paths: 404 for a `GET`, and 405 for any other method, as on known paths.
async fn fallback(method: Method) -> KitkotError {
    if method == Method::GET || method == Method::HEAD {
        KitkotError::not_found()
    } else {
        KitkotError::method_not_allowed()
    }
}

async fn method_not_allowed() -> KitkotError {
    KitkotError::method_not_allowed()
}

/// A `room_id` (or `msg_id`) parameter: a decimal id. Anything else names nothing.
fn parse_id(raw: &str) -> Option<i64> {
    raw.trim().parse::<i64>().ok().filter(|id| *id > 0)
}

/// A fresh `request_id` for join and send answers [P].
fn request_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
