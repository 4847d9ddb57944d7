//! NAVER Cloud "B2B PRISM Live Studio" service API (seed-surfaces section 1;
//! `docs/dialects/prism.md`). hubbub is the "service": PRISM Live Studio calls these
//! endpoints to sign a streamer in, manage their lives and run their chat.
//!
//! | Method and path | Handler |
//! |---|---|
//! | `GET /oauth/authorize`, `POST /oauth/authorize` | [`authorize`] login page and form |
//! | `GET /prism/v1/service/oauth2/token` | [`oauth::token`] |
//! | `GET /prism/v1/service/user` | [`channels::me`] |
//! | `GET /prism/v1/service/channel/list` | [`channels::list`] |
//! | `GET /prism/v1/service/channel/{channelId}` | [`channels::info`] |
//! | `GET /prism/v1/service/channel/{channelId}/lives` | [`lives::list`] |
//! | `POST /prism/v1/service/channel/{channelId}/live` | [`lives::create`] |
//! | `GET /prism/v1/service/live/{liveId}` | [`lives::status`] |
//! | `PUT /prism/v1/service/live/{liveId}/start` | [`lives::start`] |
//! | `PUT /prism/v1/service/live/{liveId}/stop` (and `/end`) | [`lives::stop`] |
//! | `POST`/`PUT /prism/v1/service/live/{liveId}/chat` | [`chat::view`], [`chat::send`] |
//! | `DELETE /prism/v1/service/live/{liveId}/chat/{chatId}` | [`chat::delete`] |
//! | `PUT /prism/v1/service/live/{liveId}/{ban,timedBan,unban,mod,unmod}/{userId}` | [`moderation`] |
//!
//! Everything under `/prism` answers in PRISM's envelope ([`error`]), unknown paths
//! and other verbs included; `OPTIONS` and `HEAD` are refused everywhere (405).

mod auth;
mod authorize;
mod channels;
mod chat;
mod error;
mod extract;
mod lives;
mod moderation;
mod oauth;

use crate::AppState;
use axum::Router;
use axum::middleware;
use axum::routing::{any, get, post, put};

/// The PRISM routes: `/prism/...` and the login page `/oauth/authorize`.
pub(crate) fn router() -> Router<AppState> {
    let prism = Router::new()
        .route("/v1/service/oauth2/token", get(oauth::token))
        .route("/v1/service/user", get(channels::me))
        .route("/v1/service/channel/list", get(channels::list))
        .route("/v1/service/channel/{channelId}", get(channels::info))
        .route("/v1/service/channel/{channelId}/lives", get(lives::list))
        .route("/v1/service/channel/{channelId}/live", post(lives::create))
        .route("/v1/service/live/{liveId}", get(lives::status))
        .route("/v1/service/live/{liveId}/start", put(lives::start))
        .route("/v1/service/live/{liveId}/stop", put(lives::stop))
        .route("/v1/service/live/{liveId}/end", put(lives::stop))
        .route(
            "/v1/service/live/{liveId}/chat",
            post(chat::view).put(chat::send),
        )
        .route(
            "/v1/service/live/{liveId}/chat/{chatId}",
            axum::routing::delete(chat::delete),
        )
        .route(
            "/v1/service/live/{liveId}/ban/{userId}",
            put(moderation::ban),
        )
        .route(
            "/v1/service/live/{liveId}/timedBan/{userId}",
            put(moderation::timed_ban),
        )
        .route(
            "/v1/service/live/{liveId}/unban/{userId}",
            put(moderation::unban),
        )
        .route(
            "/v1/service/live/{liveId}/mod/{userId}",
            put(moderation::grant_manager),
        )
        .route(
            "/v1/service/live/{liveId}/unmod/{userId}",
            put(moderation::revoke_manager),
        )
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(middleware::from_fn(error::refuse_options_and_head));
    let login = Router::new()
        .route(
            "/oauth/authorize",
            get(authorize::page)
                .post(authorize::sign_in)
                .fallback(error::method_not_allowed),
        )
        .layer(middleware::from_fn(error::refuse_options_and_head));
    // `nest` covers `/prism` and `/prism/<more>`; `/prism/` is its own path.
    let bare = Router::new()
        .route("/prism/", any(error::not_found))
        .layer(middleware::from_fn(error::refuse_options_and_head));
    Router::new().nest("/prism", prism).merge(bare).merge(login)
}
