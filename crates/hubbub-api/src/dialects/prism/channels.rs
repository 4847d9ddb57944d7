//! The streamer and their channel. hubbub has no channels above users, so (as PRISM
//! asks of such services) a streamer's channel is the streamer: `channelId` = the user
//! id, `channelName` = the display name.
//!
//! * `GET /prism/v1/service/user` — the token's user.
//! * `GET /prism/v1/service/channel/list` — the caller's channels: exactly one.
//! * `GET /prism/v1/service/channel/{channelId}` — the caller's own channel only
//!   (another streamer's is 403, an unknown one 404).
//!
//! `channelLink`, `channelDescription` and `channelTags` come from the user's
//! `properties.prism` object when the application set them (Platform API).

use super::auth::PrismUser;
use super::error::{Envelope, PrismError};
use super::extract::PathParams;
use super::lives::channel_not_found;
use crate::AppState;
use axum::extract::State;
use hubbub_core::model::User;
use serde::Serialize;
use serde_json::Value;

#[derive(Serialize)]
pub(crate) struct UserData {
    user: PrismUserDto,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PrismUserDto {
    user_id: String,
    user_name: String,
    profile_thumbnail: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChannelListData {
    user_name: String,
    channels: Vec<ChannelDto>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChannelData {
    user_name: String,
    channel: ChannelDto,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChannelDto {
    channel_id: String,
    channel_name: String,
    /// A user who exists may broadcast.
    channel_enabled: bool,
    channel_link: Option<String>,
    channel_description: Option<String>,
    channel_tags: Option<String>,
    channel_thumbnail_url: Option<String>,
}

impl ChannelDto {
    fn new(user: &User) -> Self {
        let prism = user
            .properties
            .as_map()
            .get("prism")
            .and_then(Value::as_object);
        let text = |key: &str| {
            prism
                .and_then(|p| p.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Self {
            channel_id: user.id.to_string(),
            channel_name: user.display_name.as_str().to_owned(),
            channel_enabled: true,
            channel_link: text("channelLink"),
            channel_description: text("channelDescription"),
            channel_tags: text("channelTags"),
            channel_thumbnail_url: thumbnail(user),
        }
    }
}

fn thumbnail(user: &User) -> Option<String> {
    user.display_picture_url
        .as_ref()
        .map(|u| u.as_str().to_owned())
}

/// `GET /prism/v1/service/user` — who the token speaks for.
pub(crate) async fn me(user: PrismUser) -> Envelope<UserData> {
    let me = &user.identity.user;
    Envelope(UserData {
        user: PrismUserDto {
            user_id: me.id.to_string(),
            user_name: me.display_name.as_str().to_owned(),
            profile_thumbnail: thumbnail(me),
        },
    })
}

/// `GET /prism/v1/service/channel/list` — the caller's channel.
pub(crate) async fn list(user: PrismUser) -> Envelope<ChannelListData> {
    let me = &user.identity.user;
    Envelope(ChannelListData {
        user_name: me.display_name.as_str().to_owned(),
        channels: vec![ChannelDto::new(me)],
    })
}

/// `GET /prism/v1/service/channel/{channelId}` — the caller's channel by id.
pub(crate) async fn info(
    State(state): State<AppState>,
    user: PrismUser,
    path: PathParams,
) -> Result<Envelope<ChannelData>, PrismError> {
    let owner = path.channel()?;
    let streamer = state
        .engine
        .streamer(&user.actor(), owner)
        .await
        .map_err(channel_not_found)?;
    Ok(Envelope(ChannelData {
        user_name: streamer.display_name.as_str().to_owned(),
        channel: ChannelDto::new(&streamer),
    }))
}
