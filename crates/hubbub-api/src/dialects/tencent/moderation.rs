//! Members and admins of a live room: mutes and bans (the engine's restrictions,
//! enforced on every send and entry whichever API made them) and the room's admins
//! (channel moderators).

use super::auth::Call;
use super::error::{Reply, TencentError, TencentResult, code};
use super::rooms::live_room;
use crate::AppState;
use axum::extract::State;
use hubbub_core::Error;
use hubbub_core::model::{Restriction, RestrictionKind};
use hubbub_core::paging::{MAX_PAGE_SIZE, PageRequest};
use serde_json::{Value, json};
use std::time::Duration;

/// Most accounts in one ban_member or unban_member [S].
const MAX_BAN_ACCOUNTS: usize = 20;
/// Most accounts in one mute_member [P] (Tencent states no limit).
const MAX_MUTE_ACCOUNTS: usize = 100;
/// Most accounts in one modify_admin [P].
const MAX_ADMIN_ACCOUNTS: usize = 100;
/// A room has at most five admins [S].
const MAX_ROOM_ADMINS: usize = 5;
/// get_banned_member_list's largest (and default) `Limit` [S].
const MAX_BANNED_PAGE: u64 = 100;

/// `POST /v4/live_engine_http_srv/mute_member` — `MuteTime` seconds; 0 unmutes.
pub(super) async fn mute_member(State(state): State<AppState>, call: Call) -> TencentResult {
    let room = live_room(&state, &call.actor, call.body.room_id()?).await?;
    let members = call
        .body
        .accounts("MemberList_Account", MAX_MUTE_ACCOUNTS)?;
    let seconds = call
        .body
        .uint("MuteTime")?
        .ok_or_else(|| call.body.bad("MuteTime is required (seconds; 0 unmutes)"))?;
    if seconds == 0 {
        state
            .engine
            .lift_restrictions(&call.actor, room.id, &members, RestrictionKind::Mute)
            .await?;
    } else {
        state
            .engine
            .restrict_users(
                &call.actor,
                room.id,
                &members,
                RestrictionKind::Mute,
                Some(Duration::from_secs(seconds)),
                "",
            )
            .await?;
    }
    Ok(Reply::Empty)
}

/// `POST /v4/live_engine_http_srv/ban_member` — `Duration` seconds; absent or 0 bans
/// until unban_member [P].
pub(super) async fn ban_member(State(state): State<AppState>, call: Call) -> TencentResult {
    let room = live_room(&state, &call.actor, call.body.room_id()?).await?;
    let members = call.body.accounts("MemberList_Account", MAX_BAN_ACCOUNTS)?;
    let duration = match call.body.uint("Duration")? {
        None | Some(0) => None,
        Some(s) => Some(Duration::from_secs(s)),
    };
    let reason = call.body.str("Reason")?.unwrap_or_default();
    state
        .engine
        .restrict_users(
            &call.actor,
            room.id,
            &members,
            RestrictionKind::Ban,
            duration,
            reason,
        )
        .await?;
    Ok(Reply::Empty)
}

/// `POST /v4/live_engine_http_srv/unban_member`
pub(super) async fn unban_member(State(state): State<AppState>, call: Call) -> TencentResult {
    let room = live_room(&state, &call.actor, call.body.room_id()?).await?;
    let members = call.body.accounts("MemberList_Account", MAX_BAN_ACCOUNTS)?;
    state
        .engine
        .lift_restrictions(&call.actor, room.id, &members, RestrictionKind::Ban)
        .await?;
    Ok(Reply::Empty)
}

/// `POST /v4/live_engine_http_srv/get_banned_member_list` — oldest ban first;
/// `BannedUntil` is unix seconds, 0 for a ban until unban_member [P]; `NextOffset`
/// 0 means the list is done [S]. `Limit` absent or 0 is 100; above 100 it is 100.
pub(super) async fn get_banned_member_list(
    State(state): State<AppState>,
    call: Call,
) -> TencentResult {
    let room = live_room(&state, &call.actor, call.body.room_id()?).await?;
    let offset = call.body.uint("Offset")?.unwrap_or(0);
    let limit = match call.body.uint("Limit")? {
        None | Some(0) => MAX_BANNED_PAGE,
        Some(n) => n.min(MAX_BANNED_PAGE),
    };
    let (bans, total) = state
        .engine
        .list_restrictions_from(
            &call.actor,
            room.id,
            RestrictionKind::Ban,
            offset,
            limit as u32,
        )
        .await?;
    let end = offset + bans.len() as u64;
    Ok(Reply::Response(json!({
        "BannedAccountList": bans.iter().map(|b| member_until(b, "BannedUntil")).collect::<Vec<_>>(),
        "NextOffset": if end < total { end } else { 0 },
    })))
}

/// `POST /v4/live_engine_http_srv/get_muted_member_list` — every mute in force
/// (up to 1000), oldest first; `MutedUntil` in unix seconds.
pub(super) async fn get_muted_member_list(
    State(state): State<AppState>,
    call: Call,
) -> TencentResult {
    let room = live_room(&state, &call.actor, call.body.room_id()?).await?;
    let (mutes, _) = state
        .engine
        .list_restrictions_from(
            &call.actor,
            room.id,
            RestrictionKind::Mute,
            0,
            MAX_PAGE_SIZE,
        )
        .await?;
    Ok(Reply::Response(json!({
        "MutedAccountList": mutes.iter().map(|m| member_until(m, "MutedUntil")).collect::<Vec<_>>(),
    })))
}

fn member_until(r: &Restriction, until_key: &str) -> Value {
    let mut entry = serde_json::Map::new();
    entry.insert("Member_Account".into(), r.user.name.as_str().into());
    entry.insert(
        until_key.into(),
        r.until.map_or(0, |t| t.timestamp()).into(),
    );
    Value::Object(entry)
}

/// `POST /v4/live_engine_http_srv/modify_admin` — `OpType` `add` or `delete`; a room
/// has at most five admins (100020).
pub(super) async fn modify_admin(State(state): State<AppState>, call: Call) -> TencentResult {
    let add = match call.body.required_str("OpType")? {
        "add" => true,
        "delete" => false,
        other => {
            return Err(call
                .body
                .bad(format!("OpType must be add or delete, not {other:?}")));
        }
    };
    let admins = call.body.accounts("Admin_Account", MAX_ADMIN_ACCOUNTS)?;
    let room = live_room(&state, &call.actor, call.body.room_id()?).await?;
    if add {
        state
            .engine
            .add_moderators_up_to(&call.actor, room.id, &admins, MAX_ROOM_ADMINS)
            .await
            .map_err(|e| match e {
                Error::Conflict(m) => TencentError::new(code::TOO_MANY_ADMINS, m),
                other => other.into(),
            })?;
    } else {
        state
            .engine
            .remove_moderators(&call.actor, room.id, &admins)
            .await?;
    }
    Ok(Reply::Empty)
}

/// `POST /v4/live_engine_http_srv/get_admin_list`
pub(super) async fn get_admin_list(State(state): State<AppState>, call: Call) -> TencentResult {
    let room = live_room(&state, &call.actor, call.body.room_id()?).await?;
    let admins = state
        .engine
        .list_moderators(
            &call.actor,
            room.id,
            &PageRequest {
                page: 0,
                size: MAX_PAGE_SIZE,
                sort: Vec::new(),
            },
        )
        .await?;
    let names: Vec<&str> = admins.items.iter().map(|u| u.name.as_str()).collect();
    Ok(Reply::Response(json!({ "Admin_Account": names })))
}
