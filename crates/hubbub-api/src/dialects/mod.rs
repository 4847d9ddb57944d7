//! The live-stream dialects: thin edges over the same Engine and the same live rooms
//! (DESIGN.md "One room, many names"), each in its own envelope and error format.
//!
//! * [`prism`] — NAVER PRISM Live Studio's service API (`/prism/v1/service/...`) and
//!   its OAuth 2.0 authorization server (`/oauth/authorize`).
//! * [`kitkot`] — the kitkot TikTok-LIVE API (`/kitkot/api/...`, all GET).
//! * [`allmine`] — Allmine's stream chat and OTP login (`/api/v1/...`).
//! * [`tencent`] — Tencent Cloud live rooms, robots and account import (`/v4/...`).

pub mod allmine;
pub mod kitkot;
pub mod prism;
pub mod tencent;

use crate::AppState;
use axum::Router;

/// Every dialect's routes. Each dialect answers unknown paths and methods under its
/// own prefix in its own format.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(prism::router())
        .merge(kitkot::router())
        .merge(allmine::router())
        .merge(tencent::router())
}
