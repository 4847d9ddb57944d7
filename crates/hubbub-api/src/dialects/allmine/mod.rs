//! The Allmine dialect (seed 002; reference section 3): a live stream's chat and the
//! mobile app's OTP login, under `/api/v1`. See `docs/dialects/allmine.md`.
//!
//! * [`auth`] — `auth/send-otp-email`, `auth/verify-otp-email`, `auth/send-otp`,
//!   `auth/verify-otp`, `auth/refresh`, `auth/logout`.
//! * [`chat`] — `live-stream/{streamId}/chat/messages` (send, list),
//!   `.../messages/{messageId}` (delete), `.../chat/superlike`.
//!
//! Every answer, errors and unknown paths under `/api/v1` included, is Allmine's
//! `{isSuccess, statusCode, data, errors?, timestamp}` envelope ([`error`]).
//! Access tokens are HS256 JWTs issued and checked by the engine with the
//! application's Allmine credential (`iss` = its key), so a request names its
//! application through its token; the OTP endpoints, which have none yet, name it with
//! the `x-allmine-app` header (or the server's only application is used).

mod auth;
mod chat;
mod error;
mod extract;
mod shapes;

use crate::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, post};

pub(crate) fn router() -> Router<AppState> {
    let api = Router::new()
        .route("/auth/send-otp-email", post(auth::send_otp_email))
        .route("/auth/verify-otp-email", post(auth::verify_otp_email))
        .route("/auth/send-otp", post(auth::send_otp_phone))
        .route("/auth/verify-otp", post(auth::verify_otp_phone))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/logout", post(auth::logout))
        .route(
            "/live-stream/{streamId}/chat/messages",
            post(chat::send_message).get(chat::list_messages),
        )
        .route(
            "/live-stream/{streamId}/chat/messages/{messageId}",
            delete(chat::delete_message),
        )
        .route(
            "/live-stream/{streamId}/chat/superlike",
            post(chat::superlike),
        )
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        // Bodies are read with the configured limit (413 in the envelope).
        .layer(DefaultBodyLimit::disable());
    Router::new().nest("/api/v1", api)
}
