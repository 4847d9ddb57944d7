//! The ChatKitty Platform API dialect (`../shared/reference/chatkitty-api.md`).
//!
//! Served both under `/v1` and without the prefix, because the two generations of the
//! official client call the two forms. One file per resource; each handler decodes,
//! authorises, makes one engine call and encodes a ChatKitty resource.

pub mod analytics;
pub mod application;
pub mod channels;
pub mod error;
pub mod extract;
pub mod hal;
pub mod imports;
pub mod invites;
pub mod jobs;
pub mod keystrokes;
pub mod messages;
pub mod moderation;
pub mod notifications;
pub mod oauth;
pub mod participants;
pub mod receipts;
pub mod reports;
pub mod resources;
pub mod sessions;
pub mod threads;
pub mod users;

use crate::AppState;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The dialect's routes with their OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(oauth::issue_token))
        .routes(routes!(application::retrieve_application))
        .routes(routes!(
            application::retrieve_settings,
            application::update_settings
        ))
        .routes(routes!(
            users::list_users,
            users::create_user,
            users::check_user_exists
        ))
        .routes(routes!(
            users::retrieve_user,
            users::delete_user,
            users::update_user
        ))
        .routes(routes!(users::list_user_channels))
        .routes(routes!(users::list_user_messages))
        .routes(routes!(users::count_unread))
        .routes(routes!(users::update_display_picture))
        .routes(routes!(moderation::set_password))
        .routes(routes!(moderation::list_bans, moderation::ban_user))
        .routes(routes!(moderation::unban_user))
        .routes(routes!(moderation::list_mutes, moderation::mute_user))
        .routes(routes!(moderation::unmute_user))
        .routes(routes!(
            users::retrieve_secret,
            users::set_secret,
            users::remove_secret
        ))
        .routes(routes!(channels::list_channels, channels::create_channel))
        .routes(routes!(
            channels::retrieve_channel,
            channels::update_channel,
            channels::delete_channel
        ))
        .routes(routes!(channels::list_members, channels::add_member))
        .routes(routes!(channels::remove_member))
        .routes(routes!(channels::list_memberships))
        .routes(routes!(channels::list_moderators, channels::add_moderator))
        .routes(routes!(channels::remove_moderator))
        .routes(routes!(
            channels::list_channel_messages,
            channels::send_message
        ))
        .routes(routes!(channels::send_event))
        .routes(routes!(messages::list_messages, messages::delete_messages))
        .routes(routes!(
            messages::retrieve_message,
            messages::update_message,
            messages::delete_message
        ))
        .routes(routes!(
            invites::list_channel_invites,
            invites::send_channel_invite
        ))
        .routes(routes!(participants::list_channel_participants))
        .routes(routes!(keystrokes::send_channel_keystrokes))
        .routes(routes!(reports::list_channel_reported_messages))
        .routes(routes!(receipts::mark_channel_read))
        .routes(routes!(threads::retrieve_thread))
        .routes(routes!(
            threads::list_thread_messages,
            threads::send_thread_message
        ))
        .routes(routes!(keystrokes::send_thread_keystrokes))
        .routes(routes!(receipts::list_message_read_receipts))
        .routes(routes!(reports::report_message))
        .routes(routes!(receipts::retrieve_read_receipt_summaries))
        .routes(routes!(notifications::list_user_notifications))
        .routes(routes!(sessions::list_user_sessions))
        .routes(routes!(sessions::list_chat_sessions))
        .routes(routes!(jobs::list_jobs))
        .routes(routes!(jobs::retrieve_job))
        .routes(routes!(jobs::download_job_file))
        .routes(routes!(analytics::export_messages))
        .routes(routes!(analytics::export_users))
        .merge(uploads())
        .layer(middleware::from_fn(negotiate_content_type))
}

/// The import routes: their bodies are files, streamed to disk under the imports size
/// limit rather than the JSON body limit.
fn uploads() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(imports::import_users))
        .routes(routes!(imports::import_channels))
        .routes(routes!(imports::import_members))
        .routes(routes!(imports::import_messages))
        .layer(DefaultBodyLimit::disable())
}

/// Answers JSON as `application/vnd.chatkitty+json` to clients that ask for it (the
/// official client does), and as `application/json` otherwise. Bodies are identical.
async fn negotiate_content_type(request: Request, next: Next) -> Response {
    let wants_vnd = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("application/vnd.chatkitty+json"));
    let mut response = next.run(request).await;
    if wants_vnd {
        let is_json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|ct| ct.as_bytes().starts_with(b"application/json"));
        if is_json {
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/vnd.chatkitty+json"),
            );
        }
    }
    response
}
