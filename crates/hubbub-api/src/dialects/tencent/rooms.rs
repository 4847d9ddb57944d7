//! Live rooms: create, destroy, update, get one, list by popularity.
//!
//! A room is a public channel named by its `RoomId`, created live (status `Live`,
//! first broadcast open). `RoomName` is the channel's display name and the live
//! title; `IsMessageDisabled` is the room's chat switch; the Tencent-only attributes
//! (cover, category, notice, seats, …) live in the channel's properties under
//! `tencent`, written with the channel's merge-patch update.

use super::auth::Call;
use super::body::{Body, account_ref};
use super::error::{Reply, TencentError, TencentResult, code};
use crate::AppState;
use axum::extract::State;
use hubbub_core::engine::tencent_support::{RoomRank, UpsertUser};
use hubbub_core::engine::{ChannelPatch, ChannelView, CreateChannel, LivePatch};
use hubbub_core::ids::{ChannelId, LiveSessionId};
use hubbub_core::model::{Channel, ChannelKind, ChatSettings, LiveRoom, LiveStatus};
use hubbub_core::{Error, engine::Actor};
use serde_json::{Map, Value, json};

/// Longest `RoomName` [S].
const MAX_ROOM_NAME_BYTES: usize = 100;
/// Longest `CoverURL` [S].
const MAX_COVER_URL_BYTES: usize = 200;
/// Longest `Notice` [S].
const MAX_NOTICE_BYTES: usize = 100;
/// Most `Category` tags [S].
const MAX_CATEGORIES: usize = 3;
/// Longest `SeatTemplate` / `SeatLayoutTemplateId` kept [P].
const MAX_TEMPLATE_BYTES: usize = 64;
/// `get_room_list`'s largest and default `Count` [S].
const MAX_ROOM_LIST: u64 = 20;

/// The properties key holding the Tencent-only room attributes.
pub(super) const PROPERTIES_KEY: &str = "tencent";

/// The live room a `RoomId` names: 100004 when there is none, 100006 when the
/// channel is an ordinary chat channel, not a live room.
pub(super) async fn live_room(
    state: &AppState,
    actor: &Actor,
    room_id: &str,
) -> Result<Channel, TencentError> {
    let channel = state.engine.get_channel_by_name(actor, room_id).await?;
    if channel.live.status == LiveStatus::None {
        return Err(TencentError::new(
            code::NOT_LIVE_ROOM,
            format!("{room_id} is a chat channel, not a Live room"),
        ));
    }
    Ok(channel)
}

/// `POST /v4/live_engine_http_srv/create_room`
pub(super) async fn create_room(State(state): State<AppState>, call: Call) -> TencentResult {
    let info = call.body.object("RoomInfo")?;
    let room_id = info.room_id()?;
    match info.required_str("RoomType")? {
        "Live" => {}
        other => return Err(info.bad(format!("RoomType must be Live, not {other:?}"))),
    }
    let name = info
        .str_max("RoomName", MAX_ROOM_NAME_BYTES)?
        .filter(|n| !n.is_empty())
        .unwrap_or(room_id)
        .to_owned();
    let chat_disabled = info.bool("IsMessageDisabled")?.unwrap_or(false);
    let attributes = read_attributes(&info)?;
    let owner = match info.account("Owner_Account")?.filter(|o| !o.is_empty()) {
        Some(owner) => account_ref(&owner).map_err(|_| {
            TencentError::new(code::NOT_IMPORTED, format!("{owner:?} was never imported"))
        })?,
        // The caller owns the room [S]; an admin identifier becomes a user on first use.
        None => {
            let (admin, _) = state
                .engine
                .upsert_user(
                    &call.actor,
                    UpsertUser {
                        name: call.identifier.clone(),
                        display_name: None,
                        display_picture_url: None,
                    },
                )
                .await?;
            hubbub_core::engine::UserRef::Id(admin.id)
        }
    };
    let live = LiveRoom {
        title: Some(name.clone()),
        status: LiveStatus::Live,
        current_session: Some(LiveSessionId(1)),
        chat: ChatSettings {
            enabled: !chat_disabled,
            ..ChatSettings::default()
        },
        ..LiveRoom::default()
    };
    state
        .engine
        .create_channel(
            &call.actor,
            CreateChannel {
                kind: ChannelKind::Public,
                name: Some(room_id.to_owned()),
                display_name: Some(name),
                creator: Some(owner),
                members: Vec::new(),
                properties: json!({ PROPERTIES_KEY: attributes }),
                live: Some(live),
            },
        )
        .await
        .map_err(|e| match e {
            Error::Conflict(_) => {
                TencentError::new(code::ROOM_EXISTS, format!("room {room_id} already exists"))
            }
            other => other.into(),
        })?;
    Ok(Reply::Empty)
}

/// `POST /v4/live_engine_http_srv/destroy_room` — dissolves the room: the channel and
/// its history are deleted [P], so the `RoomId` is free again.
pub(super) async fn destroy_room(State(state): State<AppState>, call: Call) -> TencentResult {
    let room = live_room(&state, &call.actor, call.body.room_id()?).await?;
    state.engine.delete_channel(&call.actor, room.id).await?;
    Ok(Reply::Empty)
}

/// `POST /v4/live_engine_http_srv/update_room_info`
pub(super) async fn update_room_info(State(state): State<AppState>, call: Call) -> TencentResult {
    let info = call.body.object("RoomInfo")?;
    let room = live_room(&state, &call.actor, info.room_id()?).await?;
    let name = match info.str_max("RoomName", MAX_ROOM_NAME_BYTES)? {
        Some("") => return Err(info.bad("RoomName must not be empty")),
        other => other.map(str::to_owned),
    };
    let chat_disabled = info.bool("IsMessageDisabled")?;
    let attributes = read_attributes(&info)?;
    if name.is_some() || !attributes.is_empty() {
        state
            .engine
            .update_channel(
                &call.actor,
                room.id,
                ChannelPatch {
                    display_name: name.clone(),
                    properties: (!attributes.is_empty())
                        .then(|| json!({ PROPERTIES_KEY: attributes })),
                },
            )
            .await?;
    }
    if name.is_some() || chat_disabled.is_some() {
        state
            .engine
            .update_live(
                &call.actor,
                room.id,
                LivePatch {
                    title: name.map(Some),
                    chat_enabled: chat_disabled.map(|d| !d),
                    ..LivePatch::default()
                },
            )
            .await?;
    }
    Ok(Reply::Empty)
}

/// `POST /v4/live_engine_http_srv/get_room_info`
pub(super) async fn get_room_info(State(state): State<AppState>, call: Call) -> TencentResult {
    let room = live_room(&state, &call.actor, call.body.room_id()?).await?;
    let view = state.engine.channel_view(room).await?;
    Ok(Reply::Response(json!({ "RoomInfo": room_info(&view) })))
}

/// `POST /v4/live_engine_http_srv/get_room_list` — live rooms by `ViewCount` (total
/// entries), most first. `Next` is `"<ViewCount>-<channel id>"` of the last room
/// returned, `""` once the list is done.
pub(super) async fn get_room_list(State(state): State<AppState>, call: Call) -> TencentResult {
    let after = match call.body.str("Next")? {
        None | Some("") => None,
        Some(next) => Some(parse_next(next).ok_or_else(|| {
            call.body
                .bad(format!("Next {next:?} is not a value this API returned"))
        })?),
    };
    let count = match call.body.uint("Count")? {
        None | Some(0) => MAX_ROOM_LIST,
        Some(n) => n.min(MAX_ROOM_LIST),
    };
    let (rooms, next) = state
        .engine
        .rank_live_rooms(&call.actor, after, count as usize)
        .await?;
    let list: Vec<Value> = rooms.iter().map(room_list_entry).collect();
    Ok(Reply::Response(json!({
        "Next": next.map(|r| format!("{}-{}", r.entries(), r.channel())).unwrap_or_default(),
        "RoomList": list,
    })))
}

fn parse_next(next: &str) -> Option<RoomRank> {
    let (entries, channel) = next.split_once('-')?;
    Some(RoomRank::new(
        entries.parse().ok()?,
        ChannelId(channel.parse().ok()?),
    ))
}

/// The Tencent-only attributes present in a `RoomInfo`, validated, as stored.
fn read_attributes(info: &Body) -> Result<Map<String, Value>, TencentError> {
    let mut out = Map::new();
    if let Some(url) = info.str_max("CoverURL", MAX_COVER_URL_BYTES)? {
        out.insert("CoverURL".into(), url.into());
    }
    if let Some(notice) = info.str_max("Notice", MAX_NOTICE_BYTES)? {
        out.insert("Notice".into(), notice.into());
    }
    if let Some(category) = info.value("Category") {
        let tags = category
            .as_array()
            .filter(|tags| tags.iter().all(|t| t.is_i64() || t.is_u64()))
            .ok_or_else(|| info.bad("Category must be an array of integers"))?;
        if tags.len() > MAX_CATEGORIES {
            return Err(info.bad(format!(
                "Category has {} tags; at most {MAX_CATEGORIES} are allowed",
                tags.len()
            )));
        }
        out.insert("Category".into(), category.clone());
    }
    for key in ["MaxMemberCount", "MaxSeatCount"] {
        if let Some(n) = info.uint(key)? {
            if n > u64::from(u32::MAX) {
                return Err(info.bad(format!("{key} is too large")));
            }
            out.insert(key.into(), n.into());
        }
    }
    if let Some(status) = info.int("ActivityStatus")? {
        out.insert("ActivityStatus".into(), status.into());
    }
    for key in ["IsPublicVisible", "IsSeatEnabled", "IsUnlimitedRoomEnabled"] {
        if let Some(b) = info.bool(key)? {
            out.insert(key.into(), b.into());
        }
    }
    if let Some(mode) = info.value("TakeSeatMode") {
        let mode = match mode {
            Value::String(s) if s == "FreeToTake" => "FreeToTake",
            Value::String(s) if s == "ApplyToTake" => "ApplyToTake",
            Value::Number(n) if n.as_u64() == Some(1) => "FreeToTake",
            Value::Number(n) if n.as_u64() == Some(2) => "ApplyToTake",
            _ => return Err(info.bad("TakeSeatMode must be FreeToTake or ApplyToTake")),
        };
        out.insert("TakeSeatMode".into(), mode.into());
    }
    for key in ["SeatTemplate", "SeatLayoutTemplateId"] {
        let value = match info.value(key) {
            None => continue,
            Some(Value::String(s)) if s.len() <= MAX_TEMPLATE_BYTES => Value::from(s.as_str()),
            Some(Value::Number(n)) => Value::Number(n.clone()),
            Some(_) => {
                return Err(info.bad(format!(
                    "{key} must be a string of at most {MAX_TEMPLATE_BYTES} bytes"
                )));
            }
        };
        out.insert(key.into(), value);
    }
    Ok(out)
}

/// A stored attribute, or its default.
fn attribute(channel: &Channel, key: &str, default: Value) -> Value {
    channel
        .properties
        .as_map()
        .get(PROPERTIES_KEY)
        .and_then(|t| t.get(key))
        .cloned()
        .unwrap_or(default)
}

fn owner_account(view: &ChannelView) -> String {
    view.creator
        .as_ref()
        .map(|u| u.name.as_str().to_owned())
        .unwrap_or_default()
}

fn room_name(channel: &Channel) -> String {
    channel
        .display_name
        .as_ref()
        .map(|d| d.as_str())
        .or(channel.name.as_ref().map(|n| n.as_str()))
        .unwrap_or_default()
        .to_owned()
}

/// `RoomInfo` of get_room_info. Unset attributes show their defaults [P]: seats off,
/// `FreeToTake`, 0 seats, `MaxMemberCount` 0 (hubbub does not cap a room), no cover,
/// no category, activity 0, publicly visible, no notice.
fn room_info(view: &ChannelView) -> Value {
    let c = &view.channel;
    json!({
        "RoomId": c.name.as_ref().map(|n| n.as_str()).unwrap_or_default(),
        "RoomName": room_name(c),
        "RoomType": "Live",
        "Owner_Account": owner_account(view),
        "CreateTime": c.created_at.timestamp(),
        "IsSeatEnabled": attribute(c, "IsSeatEnabled", false.into()),
        "TakeSeatMode": attribute(c, "TakeSeatMode", "FreeToTake".into()),
        "MaxSeatCount": attribute(c, "MaxSeatCount", 0.into()),
        "MaxMemberCount": attribute(c, "MaxMemberCount", 0.into()),
        "IsMessageDisabled": !c.live.chat.enabled,
        "CoverURL": attribute(c, "CoverURL", "".into()),
        "Category": attribute(c, "Category", json!([])),
        "ActivityStatus": attribute(c, "ActivityStatus", 0.into()),
        "ViewCount": c.live.counters.entries,
        "IsPublicVisible": attribute(c, "IsPublicVisible", true.into()),
        "Notice": attribute(c, "Notice", "".into()),
    })
}

fn room_list_entry(view: &ChannelView) -> Value {
    let c = &view.channel;
    json!({
        "RoomName": room_name(c),
        "RoomId": c.name.as_ref().map(|n| n.as_str()).unwrap_or_default(),
        "Owner_Account": owner_account(view),
        "CoverURL": attribute(c, "CoverURL", "".into()),
        "Category": attribute(c, "Category", json!([])),
        "CreateTime": c.created_at.timestamp(),
        "ActivityStatus": attribute(c, "ActivityStatus", 0.into()),
        "ViewCount": c.live.counters.entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_tokens_round_trip() {
        let rank = parse_next("1000-42").unwrap();
        assert_eq!((rank.entries(), rank.channel()), (1000, ChannelId(42)));
        for bad in ["", "12", "a-1", "1-b", "-1-2"] {
            assert!(parse_next(bad).is_none(), "{bad}");
        }
    }
}
