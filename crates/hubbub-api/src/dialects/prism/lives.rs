//! Lives (seed-surfaces 1.6): a PRISM live is a hubbub live room (a channel, `liveId`
//! = its id), owned by its creator (the streamer; PRISM's `channelId` is the
//! creator's user id).
//!
//! * `GET  /prism/v1/service/live/{liveId}` — status and metrics (`liveStat`).
//! * `GET  /prism/v1/service/channel/{channelId}/lives?status=ALL|RESERVED|ON_AIR|END`
//! * `POST /prism/v1/service/channel/{channelId}/live` — create (`RESERVED`).
//! * `PUT  /prism/v1/service/live/{liveId}/start` — go `ON_AIR` (ends the streamer's
//!   other lives that are on air).
//! * `PUT  /prism/v1/service/live/{liveId}/stop` (alias `/end`) — `END`.
//!
//! What hubbub does not own is read from the room's `properties.prism` object, which
//! the application sets through the Platform API: `rtmpPath` and `liveLink` (hubbub
//! carries chat, not video). `description`, `scope` and `reservedAt` are written there
//! by create, `startAt` by start.

use super::auth::PrismUser;
use super::chat::iso;
use super::error::{Envelope, PrismError};
use super::extract::{JsonObject, PathParams};
use crate::AppState;
use axum::extract::{RawQuery, State};
use hubbub_core::engine::{CreateChannel, MAX_LIVE_TITLE_CHARS};
use hubbub_core::model::{Channel, ChannelKind, LiveRoom, LiveStatus};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// Longest accepted live description, in characters.
const MAX_DESCRIPTION_CHARS: usize = 2000;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LiveData {
    /// The streamer's user id; `null` for a room nobody owns.
    channel_id: Option<String>,
    live: LiveDto,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LivesData {
    channel_id: String,
    lives: Vec<LiveDto>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LiveDto {
    live_id: String,
    title: String,
    description: Option<String>,
    reserved_at: String,
    start_at: Option<String>,
    rtmp_path: Option<String>,
    status: &'static str,
    live_link: Option<String>,
    scope: &'static str,
    /// Only from the status endpoint, the one PRISM polls for metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    live_stat: Option<LiveStat>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LiveStat {
    /// Entries since the room opened.
    view_count: u64,
    /// Distinct users watching now (realtime presence).
    viewer_count: u64,
    like_count: u64,
    /// Visible (not deleted) messages.
    chat_count: u64,
}

impl LiveDto {
    fn new(channel: &Channel, live_stat: Option<LiveStat>) -> Self {
        let prism = channel
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
        let title = channel
            .live
            .title
            .clone()
            .or_else(|| channel.display_name.as_ref().map(|d| d.as_str().to_owned()))
            .or_else(|| channel.name.as_ref().map(|n| n.as_str().to_owned()))
            .unwrap_or_default();
        Self {
            live_id: channel.id.to_string(),
            title,
            description: text("description"),
            reserved_at: text("reservedAt").unwrap_or_else(|| iso(&channel.created_at)),
            start_at: text("startAt"),
            rtmp_path: text("rtmpPath"),
            status: status_name(channel.live.status),
            live_link: text("liveLink"),
            scope: match text("scope").as_deref().and_then(parse_scope) {
                Some(scope) => scope,
                None if channel.kind == ChannelKind::Public => "PUBLIC",
                None => "PRIVATE",
            },
            live_stat,
        }
    }
}

/// An ordinary channel has no broadcast life and is always open, which PRISM spells
/// `ON_AIR` ("services that do not manage status provide ON_AIR").
fn status_name(status: LiveStatus) -> &'static str {
    match status {
        LiveStatus::Scheduled => "RESERVED",
        LiveStatus::Live | LiveStatus::None => "ON_AIR",
        LiveStatus::Ended => "END",
    }
}

fn parse_scope(raw: &str) -> Option<&'static str> {
    ["PUBLIC", "LIMITED", "PRIVATE"]
        .into_iter()
        .find(|s| *s == raw)
}

fn owner_id(channel: &Channel) -> Option<String> {
    channel.creator.map(|c| c.to_string())
}

/// `GET /prism/v1/service/live/{liveId}` — status and metrics.
pub(crate) async fn status(
    State(state): State<AppState>,
    user: PrismUser,
    path: PathParams,
) -> Result<Envelope<LiveData>, PrismError> {
    let live = path.live()?;
    let overview = state.engine.room_overview(&user.actor(), live).await?;
    let channel = &overview.channel;
    let presence = state.gateway.presence.stats(channel.app_id, channel.id);
    let stat = LiveStat {
        view_count: channel.live.counters.entries,
        viewer_count: u64::from(presence.num_users),
        like_count: channel.live.counters.likes,
        chat_count: overview.visible_messages,
    };
    Ok(Envelope(LiveData {
        channel_id: owner_id(channel),
        live: LiveDto::new(channel, Some(stat)),
    }))
}

/// `GET /prism/v1/service/channel/{channelId}/lives?status=` — the streamer's lives,
/// newest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    user: PrismUser,
    path: PathParams,
    RawQuery(query): RawQuery,
) -> Result<Envelope<LivesData>, PrismError> {
    let owner = path.channel()?;
    let wanted = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "status")
        .last()
        .map(|(_, v)| v.into_owned());
    let status = match wanted.as_deref().map(str::trim) {
        None | Some("") | Some("ALL") => None,
        Some("RESERVED") => Some(LiveStatus::Scheduled),
        Some("ON_AIR") | Some("ONAIR") => Some(LiveStatus::Live),
        Some("END") => Some(LiveStatus::Ended),
        Some(other) => {
            return Err(PrismError::invalid(format!(
                "status must be ALL, RESERVED, ON_AIR or END, not '{other}'"
            )));
        }
    };
    let rooms = state
        .engine
        .owned_live_rooms(&user.actor(), owner, status)
        .await
        .map_err(channel_not_found)?;
    Ok(Envelope(LivesData {
        channel_id: owner.to_string(),
        lives: rooms.iter().map(|c| LiveDto::new(c, None)).collect(),
    }))
}

/// `POST /prism/v1/service/channel/{channelId}/live` — create a reserved live in
/// the caller's own channel: `{title, reservedAt, description, scope}`.
pub(crate) async fn create(
    State(state): State<AppState>,
    user: PrismUser,
    path: PathParams,
    body: JsonObject,
) -> Result<Envelope<LiveData>, PrismError> {
    let owner = path.channel()?;
    let actor = user.actor();
    if owner != user.identity.user.id {
        // Another streamer's channel: unknown (404) or not the caller's (403).
        state
            .engine
            .streamer(&actor, owner)
            .await
            .map_err(channel_not_found)?;
    }
    let title = body
        .string("title")?
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    if title
        .as_ref()
        .is_some_and(|t| t.chars().count() > MAX_LIVE_TITLE_CHARS)
    {
        return Err(PrismError::invalid(format!(
            "title must be at most {MAX_LIVE_TITLE_CHARS} characters"
        )));
    }
    let mut prism = Map::new();
    if let Some(raw) = body.string("reservedAt")? {
        let at = chrono::DateTime::parse_from_rfc3339(raw.trim()).map_err(|_| {
            PrismError::invalid("reservedAt must be an ISO 8601 date-time with an offset")
        })?;
        prism.insert(
            "reservedAt".into(),
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
                .into(),
        );
    }
    if let Some(description) = body.string("description")? {
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(PrismError::invalid(format!(
                "description must be at most {MAX_DESCRIPTION_CHARS} characters"
            )));
        }
        prism.insert("description".into(), description.into());
    }
    let scope = match body.string("scope")? {
        None => "PUBLIC",
        Some(raw) => parse_scope(raw)
            .ok_or_else(|| PrismError::invalid("scope must be PUBLIC, LIMITED or PRIVATE"))?,
    };
    prism.insert("scope".into(), scope.into());
    let (view, _) = state
        .engine
        .create_channel(
            &actor,
            CreateChannel {
                kind: if scope == "PRIVATE" {
                    ChannelKind::Private
                } else {
                    ChannelKind::Public
                },
                name: None,
                display_name: title.clone(),
                creator: None,
                members: Vec::new(),
                properties: json!({ "prism": prism }),
                live: Some(LiveRoom {
                    title,
                    status: LiveStatus::Scheduled,
                    ..LiveRoom::default()
                }),
            },
        )
        .await
        .map_err(|e| PrismError::from_core(e, &[("display_name", "title")]))?;
    Ok(Envelope(LiveData {
        channel_id: owner_id(&view.channel),
        live: LiveDto::new(&view.channel, None),
    }))
}

/// `PUT /prism/v1/service/live/{liveId}/start` — go on air (the owner or a manager).
pub(crate) async fn start(
    State(state): State<AppState>,
    user: PrismUser,
    path: PathParams,
) -> Result<Envelope<LiveData>, PrismError> {
    let live = path.live()?;
    let started_at = iso(&hubbub_core::model::now());
    let channel = state
        .engine
        .start_broadcast(
            &user.actor(),
            live,
            Some(json!({ "prism": { "startAt": started_at } })),
        )
        .await?;
    Ok(Envelope(LiveData {
        channel_id: owner_id(&channel),
        live: LiveDto::new(&channel, None),
    }))
}

/// `PUT /prism/v1/service/live/{liveId}/stop` (and `/end`) — end the broadcast.
pub(crate) async fn stop(
    State(state): State<AppState>,
    user: PrismUser,
    path: PathParams,
) -> Result<Envelope<LiveData>, PrismError> {
    let live = path.live()?;
    let channel = state
        .engine
        .update_live(
            &user.actor(),
            live,
            hubbub_core::engine::LivePatch {
                status: Some(LiveStatus::Ended),
                ..Default::default()
            },
        )
        .await?;
    Ok(Envelope(LiveData {
        channel_id: owner_id(&channel),
        live: LiveDto::new(&channel, None),
    }))
}

/// A PRISM channel is a user: an unknown one is an unknown channel.
pub(crate) fn channel_not_found(e: hubbub_core::Error) -> PrismError {
    match e {
        hubbub_core::Error::NotFound { resource: "user" } => {
            PrismError::not_found("channel not found")
        }
        other => other.into(),
    }
}
