//! Room robots: bot accounts (imported users) attached to a live room, at most three
//! per room (the engine's `MAX_ROBOTS_PER_ROOM`). A robot becomes a BOT user in every
//! API.

use super::auth::Call;
use super::error::{Reply, TencentResult};
use super::rooms::live_room;
use crate::AppState;
use axum::extract::State;
use serde_json::json;

/// Most accounts in one add_robot or del_robot [P]; a room holds three anyway.
const MAX_ROBOT_ACCOUNTS: usize = 20;

/// `POST /v4/live_engine_http_srv/add_robot` — every robot must be an imported account
/// (70107); a fourth robot adds none of the list (100002).
pub(super) async fn add_robot(State(state): State<AppState>, call: Call) -> TencentResult {
    let room_id = call.body.room_id()?;
    let robots = call
        .body
        .accounts("RobotList_Account", MAX_ROBOT_ACCOUNTS)?;
    let room = live_room(&state, &call.actor, room_id).await?;
    state
        .engine
        .add_robots(&call.actor, room.id, &robots)
        .await?;
    Ok(Reply::Empty)
}

/// `POST /v4/live_engine_http_srv/del_robot`
pub(super) async fn del_robot(State(state): State<AppState>, call: Call) -> TencentResult {
    let room_id = call.body.room_id()?;
    let robots = call
        .body
        .accounts("RobotList_Account", MAX_ROBOT_ACCOUNTS)?;
    let room = live_room(&state, &call.actor, room_id).await?;
    state
        .engine
        .remove_robots(&call.actor, room.id, &robots)
        .await?;
    Ok(Reply::Empty)
}

/// `POST /v4/live_engine_http_srv/get_robot` — in the order they were added.
pub(super) async fn get_robot(State(state): State<AppState>, call: Call) -> TencentResult {
    let room = live_room(&state, &call.actor, call.body.room_id()?).await?;
    let robots = state.engine.list_robots(&call.actor, room.id).await?;
    let names: Vec<&str> = robots.iter().map(|u| u.name.as_str()).collect();
    Ok(Reply::Response(json!({ "RobotList_Account": names })))
}
