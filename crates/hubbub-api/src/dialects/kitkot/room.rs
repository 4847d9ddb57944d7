//! The room object (seed-surfaces 2.3) and the chat message object (2.2).
//!
//! The room object keeps every key of the seed's example, in the seed's order, with
//! the seed's values (`room_template.json`: the seed's Node `util.inspect` dump made
//! strict JSON — `[Array]` → `[]`, `[Object]` → `{}`, the empty `stats.id` → `0`,
//! invented counts → `0`, `top_fans` → `[]`). What hubbub knows is filled in over it:
//! the room's identity, title, counters and chat switches, its owner, and the
//! caller's standing in `owner.user_attr`.

use chrono::{DateTime, Utc};
use hubbub_core::engine::{LiveRoomView, RoomRole};
use hubbub_core::model::{MessageContent, MessageView, User};
use serde_json::{Map, Value, json};
use std::sync::LazyLock;

static ROOM_TEMPLATE: LazyLock<Map<String, Value>> = LazyLock::new(|| {
    match serde_json::from_str(include_str!("room_template.json")) {
        Ok(Value::Object(map)) => map,
        // The template is part of the source and checked by a unit test.
        _ => Map::new(),
    }
});

/// The room object of a room, as `viewer` sees it, with `viewers` present now.
pub(crate) fn room_object(view: &LiveRoomView, viewers: u64) -> Map<String, Value> {
    let channel = &view.channel;
    let live = &channel.live;
    let mut room = ROOM_TEMPLATE.clone();
    let id = channel.id.0;
    let title = live
        .title
        .clone()
        .or_else(|| channel.display_name.as_ref().map(|d| d.as_str().to_owned()))
        .unwrap_or_default();

    set(&mut room, &["room_id"], id.to_string());
    set(
        &mut room,
        &["anchor_id"],
        channel.creator.map(|c| c.0.to_string()).unwrap_or_default(),
    );
    set(&mut room, &["title"], title.clone());
    set(&mut room, &["short_title"], title);
    set(&mut room, &["viewers"], viewers);

    let c = &live.counters;
    set(&mut room, &["stats", "id"], id);
    set(&mut room, &["stats", "id_str"], id.to_string());
    set(&mut room, &["stats", "total_user"], c.distinct_viewers);
    set(&mut room, &["stats", "enter_count"], c.entries);
    set(&mut room, &["stats", "like_count"], c.likes);
    // TikTok calls a like a "digg".
    set(&mut room, &["stats", "digg_count"], c.likes);
    set(&mut room, &["stats", "share_count"], c.shares);

    set(&mut room, &["room_auth", "Chat"], live.chat.enabled);
    set(
        &mut room,
        &["room_auth", "ChatSubOnly"],
        live.chat.subscriber_only,
    );
    set(
        &mut room,
        &["stream_url", "stream_delay_ms"],
        u64::from(live.stream_delay_secs) * 1000,
    );

    if let Some(owner) = &view.owner {
        fill_user(&mut room, "owner", owner);
        let created = owner.created_at.timestamp();
        set(&mut room, &["owner", "create_time"], created);
        set(&mut room, &["owner", "modify_time"], created);
        set(&mut room, &["owner", "own_room", "room_ids"], json!([id]));
        set(
            &mut room,
            &["owner", "own_room", "room_ids_str"],
            json!([id.to_string()]),
        );
    }
    if let Some(role) = &view.viewer {
        let attr = ["owner", "user_attr"];
        set(
            &mut room,
            &[attr[0], attr[1], "is_admin"],
            role.can_moderate(),
        );
        set(
            &mut room,
            &[attr[0], attr[1], "is_super_admin"],
            role.is_owner,
        );
        set(&mut room, &[attr[0], attr[1], "is_muted"], role.is_muted);
        set(
            &mut room,
            &[attr[0], attr[1], "mute_duration"],
            mute_secs_left(role, Utc::now()),
        );
    }
    room
}

/// A chat message (modelled on TikTok's WebcastChatMessage): `type` is `"chat"` for
/// a user's text, `"file"` for a user's file (content = its URL) and `"system"`
/// for the application's own messages (a user of id 0).
pub(crate) fn message_object(view: &MessageView, author: Option<&RoomRole>) -> Value {
    let m = &view.message;
    let (kind, content) = match (&m.content, m.user_id.is_some()) {
        (MessageContent::Text { body }, true) => ("chat", body.as_str().to_owned()),
        (MessageContent::File { file }, true) => ("file", file.url.as_str().to_owned()),
        (MessageContent::Text { body }, false) => ("system", body.as_str().to_owned()),
        (MessageContent::File { file }, false) => ("system", file.url.as_str().to_owned()),
    };
    let role = author.copied().unwrap_or_default();
    let user = match &view.user {
        Some(u) => json!({
            "id": u.id.0,
            "id_str": u.id.0.to_string(),
            "nickname": u.display_name.as_str(),
            "display_id": u.name.as_str(),
            "sec_uid": "",
            "avatar_thumb": {"url_list": avatar_urls(u)},
            "user_attr": {"is_admin": role.can_moderate(), "is_muted": role.is_muted},
        }),
        None => json!({
            "id": 0,
            "id_str": "0",
            "nickname": "",
            "display_id": "",
            "sec_uid": "",
            "avatar_thumb": {"url_list": []},
            "user_attr": {"is_admin": false, "is_muted": false},
        }),
    };
    json!({
        "type": kind,
        "msg_id": m.id.0,
        "create_time": m.created_at.timestamp_millis(),
        "content": content,
        "user": user,
    })
}

/// Seconds left of a timed mute (0 for none, and for a permanent one, which TikTok
/// shows the same way).
fn mute_secs_left(role: &RoomRole, now: DateTime<Utc>) -> i64 {
    role.muted_until
        .map(|until| (until - now).num_seconds().max(0))
        .unwrap_or(0)
}

fn avatar_urls(user: &User) -> Value {
    match &user.display_picture_url {
        Some(url) => json!([url.as_str()]),
        None => json!([]),
    }
}

fn fill_user(room: &mut Map<String, Value>, key: &str, user: &User) {
    let id = user.id.0;
    set(room, &[key, "id"], id);
    set(room, &[key, "id_str"], id.to_string());
    set(room, &[key, "nickname"], user.display_name.as_str());
    set(room, &[key, "display_id"], user.name.as_str());
    for size in ["avatar_thumb", "avatar_medium", "avatar_large"] {
        set(room, &[key, size, "url_list"], avatar_urls(user));
    }
}

/// Sets a value at a path of the template. Only keys the template has are set, so
/// the object's key set is the seed's whatever happens.
fn set(map: &mut Map<String, Value>, path: &[&str], value: impl Into<Value>) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut here = map;
    for key in parents {
        match here.get_mut(*key) {
            Some(Value::Object(inner)) => here = inner,
            _ => {
                debug_assert!(false, "room template has no object at {key}");
                return;
            }
        }
    }
    match here.get_mut(*last) {
        Some(slot) => *slot = value.into(),
        None => debug_assert!(false, "room template has no key {last}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key path of a JSON value, objects only (`a.b.c`).
    fn key_paths(value: &Value, prefix: &str, out: &mut Vec<String>) {
        if let Value::Object(map) = value {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                key_paths(v, &path, out);
                out.push(path);
            }
        }
    }

    #[test]
    fn the_template_is_the_seeds_room_with_every_key() {
        let template: Value = serde_json::from_str(include_str!("room_template.json")).unwrap();
        assert_eq!(Value::Object(ROOM_TEMPLATE.clone()), template);
        let top: Vec<&str> = ROOM_TEMPLATE.keys().map(String::as_str).collect();
        assert_eq!(
            top,
            [
                "linked_mic",
                "owner",
                "room_auth",
                "stream_url",
                "stats",
                "top_fans",
                "title",
                "viewers",
                "with_linkmic",
                "share_url",
                "short_title",
                "room_id",
                "anchor_id",
                "extra"
            ]
        );
        let mut paths = Vec::new();
        key_paths(&template, "", &mut paths);
        // The seed's example: 294 keys in all; 74 owner keys, 44 room_auth keys (and
        // 24 in its anchor_level_permission), 15 stats keys.
        assert_eq!(paths.len(), 294);
        assert_eq!(template["owner"].as_object().unwrap().len(), 74);
        assert_eq!(template["room_auth"].as_object().unwrap().len(), 44);
        assert_eq!(template["stats"].as_object().unwrap().len(), 15);
        for path in [
            "owner.user_attr.is_admin",
            "owner.user_attr.mute_duration",
            "owner.follow_info.follower_count",
            "owner.pay_grade.screen_chat_type",
            "owner.subscribe_info.qualification",
            "room_auth.anchor_level_permission.viewer_rank_list",
            "stream_url.live_core_sdk_data.pull_data",
            "stream_url.resolution_name.pm_mt_video_720p60",
            "stats.user_count_composition.video_detail",
            "linked_mic.audience_id_list",
            "extra.digg_color",
        ] {
            assert!(paths.iter().any(|p| p == path), "{path}");
        }
        assert_eq!(template["extra"]["digg_color"], 15754271);
        assert_eq!(template["linked_mic"]["audience_id_list"], json!([0, 0]));
        assert_eq!(
            template["stream_url"]["candidate_resolution"],
            json!(["SD1", "SD2", "HD1", "FULL_HD1"])
        );
    }
}
