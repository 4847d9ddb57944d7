//! Entering and leaving rooms, and which rooms are live.

use super::auth::{AppCaller, Caller, session_user};
use super::error::{KitkotError, KitkotResult, success};
use super::room::room_object;
use super::{KitkotState, parse_id, request_id};
use crate::AppState;
use axum::Extension;
use axum::extract::State;
use hubbub_core::engine::Actor;
use hubbub_core::ids::ChannelId;
use hubbub_core::model::LiveStatus;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Most rooms one `room_exists` call may ask about.
pub(crate) const MAX_ROOM_IDS: usize = 100;

/// `GET /kitkot/api/live/join?api_key&session_key&room_id[&anchor_id&request_id]` —
/// the caller enters the room as a viewer; answers the room object.
pub(crate) async fn join(
    State(state): State<AppState>,
    Extension(kitkot): Extension<Arc<KitkotState>>,
    caller: Caller,
) -> KitkotResult {
    let room = room_id(caller.params.required("room_id")?)?;
    let view = state.engine.join_live_room(&caller.actor(), room).await?;
    let presence = &*state.gateway.presence;
    kitkot.viewers.join(
        presence,
        caller.app.id,
        room,
        caller.user.id,
        caller.user.name.as_str(),
    );
    let viewers = kitkot
        .viewers
        .count(presence, caller.app.id, room, &view.channel.live.counters);
    let mut payload = room_object(&view, viewers);
    payload.insert("request_id".into(), Value::from(request_id()));
    Ok(success(payload))
}

/// `GET /kitkot/api/live/leave?api_key&session_key&room_id` [P] — the caller is no
/// longer a viewer of the room (leaving a room one is not in is not an error).
pub(crate) async fn leave(
    State(state): State<AppState>,
    Extension(kitkot): Extension<Arc<KitkotState>>,
    caller: Caller,
) -> KitkotResult {
    let room = room_id(caller.params.required("room_id")?)?;
    state.engine.live_room(&caller.actor(), room).await?;
    kitkot.viewers.leave(
        &*state.gateway.presence,
        caller.app.id,
        room,
        caller.user.id,
    );
    Ok(success(Map::new()))
}

/// `GET /kitkot/api/live/room_exists?api_key[&session_key]&room_ids=a,b,…` — for
/// each id, in order, whether it is a room broadcasting now (`alive`: live status
/// `Live`). Unknown ids, and rooms that are scheduled, ended or never broadcast,
/// are `alive:false`.
pub(crate) async fn room_exists(
    State(state): State<AppState>,
    AppCaller { app, params }: AppCaller,
) -> KitkotResult {
    let actor = match params.get("session_key") {
        Some(key) => {
            let user = session_user(&state, &app, key).await?;
            Actor::User {
                app: app.id,
                user: user.id,
            }
        }
        None => Actor::App(app.id),
    };
    let ids = params
        .required("room_ids")?
        .split(',')
        .map(|raw| {
            parse_id(raw)
                .map(ChannelId)
                .ok_or_else(KitkotError::unparsable_rooms)
        })
        .collect::<Result<Vec<_>, _>>()?;
    if ids.len() > MAX_ROOM_IDS {
        return Err(KitkotError::invalid_parameters());
    }
    let statuses = state.engine.live_room_statuses(&actor, &ids).await?;
    let rooms: Vec<Value> = ids
        .iter()
        .zip(statuses)
        .map(|(id, status)| {
            json!({
                "alive": status == Some(LiveStatus::Live),
                "room_id": id.0,
                "room_id_str": id.0.to_string(),
            })
        })
        .collect();
    let mut payload = Map::new();
    payload.insert("rooms".into(), Value::from(rooms));
    Ok(success(payload))
}

/// A `room_id`: the channel id in decimal. Anything else is no room.
pub(crate) fn room_id(raw: &str) -> Result<ChannelId, KitkotError> {
    parse_id(raw)
        .map(ChannelId)
        .ok_or_else(KitkotError::room_not_found)
}
