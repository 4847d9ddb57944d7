//! # hubbub-api
//!
//! The HTTP edge of hubbub. Every handler reads: decode → authorise → one
//! [`Engine`](hubbub_core::Engine) call → encode in the dialect's own shapes.
//!
//! * [`platform`] — the ChatKitty Platform API (`/v1/...` and un-prefixed), with its
//!   OAuth 2.0 client-credentials token endpoint.
//! * [`ops`] — `/healthz`, `/readyz`, `/metrics`.
//! * [`gateway`] — realtime: the Centrifugo client protocol over WebSocket
//!   (`/connection/websocket`), SSE (`/connection/sse`) and connection tokens.
//! * [`dialects`] — PRISM Live Studio, kitkot (TikTok-LIVE), Allmine and Tencent
//!   live rooms.
//! * [`docs`] — `/openapi.json` (generated from the handlers) and `/docs`.
//!
//! Depends on hubbub-core and axum; never on a store or broker crate.

pub mod dialects;
pub mod docs;
pub mod gateway;
pub mod metrics;
pub mod ops;
pub mod platform;
mod state;

pub use state::{ApiConfig, AppState};

use axum::Router;
use std::sync::Arc;

/// The whole HTTP application: every dialect, operations endpoints and docs.
pub fn router(state: AppState) -> Router {
    let (platform, mut openapi) = platform::router()
        .merge(gateway::rest_routes())
        .split_for_parts();
    let (connections, connection_docs) = gateway::connection_routes(&state).split_for_parts();
    openapi.merge(connection_docs);
    let openapi = Arc::new(docs::finish(openapi));
    Router::new()
        .merge(ops::router())
        .merge(connections)
        .merge(platform.clone())
        .nest("/v1", platform)
        .merge(dialects::router())
        .merge(docs::router(openapi))
        .fallback(platform::error::fallback_not_found)
        .method_not_allowed_fallback(platform::error::fallback_method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track_requests,
        ))
        .with_state(state)
}
