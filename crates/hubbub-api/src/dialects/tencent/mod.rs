//! Tencent Cloud live rooms (TUILiveKit's `live_engine_http_srv`), their robots, and
//! Tencent Chat's account import (`im_open_login_svc`), served at Tencent's own
//! paths under `/v4/` (seed 003; seed-surfaces section 4; docs/dialects/tencent.md).
//!
//! * Every call is a POST with `?sdkappid=&identifier=&usersig=&random=&contenttype=json`,
//!   made by an App admin: see [`auth`] (and [`usersig`] for the signature).
//! * Every answer is HTTP 200 with `{ActionStatus, ErrorInfo, ErrorCode, RequestId}`
//!   ([`error`]), unknown paths and wrong methods included.
//! * A Tencent room is a live channel whose name is the `RoomId`; an account is a
//!   user whose name is the `UserID`. Handlers resolve the `RoomId` to its channel,
//!   then make one Engine call.

mod accounts;
mod auth;
mod body;
mod error;
mod messages;
mod moderation;
mod rate_limit;
mod robots;
mod rooms;
pub(crate) mod usersig;

use crate::AppState;
use axum::Router;
use axum::extract::Request;
use axum::routing::post;
use error::{TencentError, code};
use std::sync::Arc;

/// The two Tencent services hubbub speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    /// `live_engine_http_srv`: live rooms, members, admins, robots, messages.
    LiveEngine,
    /// `im_open_login_svc`: account import.
    OpenLogin,
}

impl Service {
    fn path(self) -> &'static str {
        match self {
            Service::LiveEngine => "live_engine_http_srv",
            Service::OpenLogin => "im_open_login_svc",
        }
    }

    /// The code of a bad request field: the live engine's "invalid parameter", or
    /// the account API's.
    pub(crate) fn bad_field_code(self) -> u32 {
        match self {
            Service::LiveEngine => code::INVALID_PARAM,
            Service::OpenLogin => code::ACCOUNT_BAD_PARAM,
        }
    }
}

/// A command and its rate limit per application [S].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Command {
    pub(crate) service: Service,
    pub(crate) name: &'static str,
    pub(crate) per_second: u32,
}

const fn command(service: Service, name: &'static str, per_second: u32) -> Command {
    Command {
        service,
        name,
        per_second,
    }
}

use Service::{LiveEngine, OpenLogin};

/// Every command served, with Tencent's documented calls per second.
const COMMANDS: &[Command] = &[
    command(LiveEngine, "create_room", 200),
    command(LiveEngine, "destroy_room", 200),
    command(LiveEngine, "update_room_info", 200),
    command(LiveEngine, "get_room_info", 200),
    command(LiveEngine, "get_room_list", 10),
    command(LiveEngine, "send_text_msg", 200),
    command(LiveEngine, "mute_member", 200),
    command(LiveEngine, "get_muted_member_list", 200),
    command(LiveEngine, "ban_member", 200),
    command(LiveEngine, "unban_member", 200),
    command(LiveEngine, "get_banned_member_list", 200),
    command(LiveEngine, "modify_admin", 200),
    command(LiveEngine, "get_admin_list", 200),
    command(LiveEngine, "add_robot", 100),
    command(LiveEngine, "del_robot", 100),
    command(LiveEngine, "get_robot", 100),
    command(OpenLogin, "account_import", 200),
    command(OpenLogin, "multiaccount_import", 100),
];

impl Command {
    /// The command a request path (`…/{service}/{command}`) names.
    pub(crate) fn from_path(path: &str) -> Option<Command> {
        let mut segments = path.trim_end_matches('/').rsplit('/');
        let name = segments.next()?;
        let service = segments.next()?;
        COMMANDS
            .iter()
            .find(|c| c.name == name && c.service.path() == service)
            .copied()
    }

    fn route(&self) -> String {
        format!("/{}/{}", self.service.path(), self.name)
    }
}

pub(crate) fn router() -> Router<AppState> {
    let mut routes = Router::new();
    for c in COMMANDS {
        let path = c.route();
        routes = match c.name {
            "create_room" => routes.route(&path, post(rooms::create_room)),
            "destroy_room" => routes.route(&path, post(rooms::destroy_room)),
            "update_room_info" => routes.route(&path, post(rooms::update_room_info)),
            "get_room_info" => routes.route(&path, post(rooms::get_room_info)),
            "get_room_list" => routes.route(&path, post(rooms::get_room_list)),
            "send_text_msg" => routes.route(&path, post(messages::send_text_msg)),
            "mute_member" => routes.route(&path, post(moderation::mute_member)),
            "get_muted_member_list" => routes.route(&path, post(moderation::get_muted_member_list)),
            "ban_member" => routes.route(&path, post(moderation::ban_member)),
            "unban_member" => routes.route(&path, post(moderation::unban_member)),
            "get_banned_member_list" => {
                routes.route(&path, post(moderation::get_banned_member_list))
            }
            "modify_admin" => routes.route(&path, post(moderation::modify_admin)),
            "get_admin_list" => routes.route(&path, post(moderation::get_admin_list)),
            "add_robot" => routes.route(&path, post(robots::add_robot)),
            "del_robot" => routes.route(&path, post(robots::del_robot)),
            "get_robot" => routes.route(&path, post(robots::get_robot)),
            "account_import" => routes.route(&path, post(accounts::account_import)),
            "multiaccount_import" => routes.route(&path, post(accounts::multiaccount_import)),
            other => unreachable!("command {other} has no handler"),
        };
    }
    let routes = routes
        .fallback(unknown_command)
        .method_not_allowed_fallback(not_post)
        .layer(axum::Extension(Arc::new(rate_limit::RateLimiter::new())));
    Router::new().nest("/v4", routes)
}

/// Any path under `/v4/` that is not a command.
async fn unknown_command(req: Request) -> TencentError {
    TencentError::new(
        code::BAD_URL,
        format!("no such command: {}", req.uri().path()),
    )
}

/// Every command is a POST [S]; another method is a malformed HTTP request [P].
async fn not_post(req: Request) -> TencentError {
    TencentError::new(
        code::HTTP_PARSE,
        format!("{} is not allowed; every command is a POST", req.method()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_their_commands() {
        let c = Command::from_path("/v4/live_engine_http_srv/add_robot").unwrap();
        assert_eq!((c.name, c.per_second), ("add_robot", 100));
        let c = Command::from_path("/im_open_login_svc/multiaccount_import").unwrap();
        assert_eq!((c.service, c.per_second), (Service::OpenLogin, 100));
        assert_eq!(
            Command::from_path("/v4/live_engine_http_srv/get_room_list")
                .unwrap()
                .per_second,
            10
        );
        assert!(Command::from_path("/v4/im_open_login_svc/add_robot").is_none());
        assert!(Command::from_path("/v4/live_engine_http_srv/nope").is_none());
        assert!(Command::from_path("").is_none());
    }
}
