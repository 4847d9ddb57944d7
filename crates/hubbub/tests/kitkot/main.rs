//! The kitkot TikTok-LIVE dialect against a real server: every row of the
//! conformance checklist (seed-surfaces 2.4) with full bodies, and the [P] choices
//! around them (login, leave, delete, cursors, bans). Items marked [P] in the spec
//! are hubbub's choices; tests that check one say so.

mod helpers;
mod seed;

use helpers::{Answer, PASSWORD, assert_body, contents, pair, spawn_app};
use hubbub_core::engine::{
    Actor, CreateChannel, LivePatch, Restrict, SendContent, SendMessage, UserRef,
};
use hubbub_core::ids::{ChannelId, MessageId};
use hubbub_core::model::{ChannelKind, DialectTokenKind, RestrictionKind};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// Every GET endpoint of the dialect.
const ENDPOINTS: [&str; 8] = [
    "/login",
    "/session",
    "/live/join",
    "/live/leave",
    "/live/room_exists",
    "/live/chat",
    "/live/chat/send_message",
    "/live/chat/delete_message",
];

fn object_keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

// ----- checklist 1: send without content ----------------------------------------------

#[tokio::test]
async fn send_message_without_content_is_invalid_parameters_and_writes_nothing() {
    let t = spawn_app().await;
    t.user("anchor").await;
    t.user("viewer").await;
    let room = t.room("anchor", "Launch day", true).await;
    let session = t.login("viewer").await;

    let a = t
        .room_call("/live/chat/send_message", &session, room, &[])
        .await;
    assert_body(&a, 400, "Invalid parameters");
    let a = t.send(&session, room, "").await;
    assert_body(&a, 400, "Invalid parameters");
    // Without room_id.
    let a = t
        .get(
            "/live/chat/send_message",
            &[
                ("api_key", &t.api_key),
                ("session_key", &session),
                ("content", "hi"),
            ],
        )
        .await;
    assert_body(&a, 400, "Invalid parameters");
    // A parameter given twice is refused, not guessed at.
    let a = t
        .get_raw(&format!(
            "/live/chat/send_message?api_key={}&session_key={session}&room_id={}&content=a&content=b",
            t.api_key, room.0
        ))
        .await;
    assert_body(&a, 400, "Invalid parameters");
    // Bytes that are not UTF-8.
    let a = t
        .get_raw(&format!(
            "/live/chat/send_message?api_key={}&session_key={session}&room_id={}&content=%FF%FE",
            t.api_key, room.0
        ))
        .await;
    assert_body(&a, 400, "Invalid parameters");
    // Content the engine refuses ([P]: the reason follows "Invalid parameters").
    let a = t.send(&session, room, "   ").await;
    assert_body(
        &a,
        400,
        "Invalid parameters: content must not be empty or blank",
    );
    let a = t.send(&session, room, &"x".repeat(5000)).await;
    assert_body(
        &a,
        400,
        "Invalid parameters: content must be at most 4096 bytes of UTF-8 (got 5000)",
    );

    let chat = t.chat(&session, room, None).await;
    assert_eq!(chat.body["messages"], json!([]));
}

// ----- checklist 2: unknown room ------------------------------------------------------

#[tokio::test]
async fn an_unknown_room_is_404_on_every_room_endpoint() {
    let t = spawn_app().await;
    t.user("anchor").await;
    t.user("viewer").await;
    t.user_in(t.other_app, "stranger").await;
    let session = t.login("viewer").await;
    // Another application's room, and a direct channel, are no rooms either.
    let foreign = t.room_in(t.other_app, "stranger", "Elsewhere", true).await;
    let (direct, _) = t
        .engine
        .create_channel(
            &Actor::App(t.app),
            CreateChannel {
                kind: ChannelKind::Direct,
                name: None,
                display_name: None,
                creator: None,
                members: vec![
                    UserRef::Name(hubbub_core::names::UserName::parse("anchor").unwrap()),
                    UserRef::Name(hubbub_core::names::UserName::parse("viewer").unwrap()),
                ],
                properties: Value::Null,
                live: None,
            },
        )
        .await
        .unwrap();
    for room in [
        "999999",
        "someroomID",
        "-3",
        &foreign.0.to_string(),
        &direct.channel.id.0.to_string(),
    ] {
        for (path, more) in [
            ("/live/chat/send_message", vec![("content", "hello")]),
            ("/live/join", vec![]),
            ("/live/leave", vec![]),
            ("/live/chat", vec![]),
            ("/live/chat/delete_message", vec![("msg_id", "1")]),
        ] {
            let mut params = vec![
                ("api_key", t.api_key.as_str()),
                ("session_key", session.as_str()),
                ("room_id", room),
            ];
            params.extend(more);
            let a = t.get(path, &params).await;
            assert_body(&a, 404, "That room does not exist");
        }
    }
    // Nothing was sent to the other application's room.
    let page = t
        .engine
        .live_chat_window(&Actor::App(t.other_app), foreign, None, 50)
        .await
        .unwrap();
    assert!(page.messages.is_empty());
}

// ----- checklist 3: a valid send answers the room object -------------------------------

#[tokio::test]
async fn a_valid_send_answers_the_seeds_room_object_in_strict_json() {
    let t = spawn_app().await;
    let owner = t.user("anchor").await;
    t.user("viewer").await;
    let room = t.room("anchor", "Launch day", true).await;
    let session = t.login("viewer").await;

    let a = t.send(&session, room, "Hello from a program!").await;
    assert_eq!(a.status, 200, "{}", a.body);
    let body = &a.body;
    assert_eq!(body["code"], 200);
    assert_eq!(body["msg"], "success");
    // [S] key set: exactly the seed example's keys (every level), in the seed's
    // order, plus the [P] request_id.
    let mut expected = seed::room_key_paths();
    expected.push("request_id".into());
    assert_eq!(seed::key_paths(body), expected);
    assert_eq!(
        expected.len(),
        297,
        "294 room keys + code, msg; + request_id"
    );

    assert_eq!(body["room_id"], room.0.to_string());
    assert_eq!(body["anchor_id"], owner.0.to_string());
    assert_eq!(body["title"], "Launch day");
    assert_eq!(body["short_title"], "Launch day");
    assert_eq!(body["share_url"], "");
    assert_eq!(body["with_linkmic"], false);
    assert_eq!(body["viewers"], 0, "nobody joined");
    assert_eq!(body["top_fans"], json!([]));
    assert_eq!(body["request_id"].as_str().unwrap().len(), 32);

    let o = &body["owner"];
    assert_eq!(o["id"], owner.0);
    assert_eq!(o["id_str"], owner.0.to_string());
    assert_eq!(o["nickname"], "anchor (display)");
    assert_eq!(o["display_id"], "anchor");
    assert_eq!(
        o["own_room"],
        json!({"room_ids": [room.0], "room_ids_str": [room.0.to_string()]})
    );
    assert_eq!(o["avatar_thumb"]["url_list"], json!([]));
    // The caller is a plain viewer.
    assert_eq!(
        o["user_attr"],
        json!({"admin_permissions": {}, "is_admin": false, "is_muted": false, "is_super_admin": false, "mute_duration": 0})
    );
    // Seed defaults stay.
    assert_eq!(o["status"], 1);
    assert_eq!(o["link_mic_stats"], 2);
    assert_eq!(o["subscribe_info"]["qualification"], true);
    assert_eq!(
        o["follow_info"],
        json!({"follow_status": 0, "follower_count": 0, "following_count": 0, "push_status": 0})
    );

    assert_eq!(body["room_auth"]["Chat"], true);
    assert_eq!(body["room_auth"]["ChatSubOnly"], false);
    assert_eq!(body["room_auth"]["Banner"], 1);
    assert_eq!(
        body["room_auth"]["anchor_level_permission"]["viewer_rank_list"],
        1
    );
    let stats = &body["stats"];
    assert_eq!(stats["id"], room.0);
    assert_eq!(stats["id_str"], room.0.to_string());
    assert_eq!(stats["total_user"], 0);
    assert_eq!(stats["enter_count"], 0);
    assert_eq!(stats["like_count"], 0);
    assert_eq!(
        stats["user_count_composition"],
        json!({"my_follow": 0, "other": 0, "video_detail": 0})
    );
    assert_eq!(body["stream_url"]["default_resolution"], "FULL_HD1");
    assert_eq!(
        body["stream_url"]["flv_pull_url"],
        json!({"FULL_HD1": "", "HD1": "", "SD1": "", "SD2": ""})
    );
    assert_eq!(
        body["stream_url"]["live_core_sdk_data"],
        json!({"pull_data": {}})
    );
    assert_eq!(body["linked_mic"]["audience_id_list"], json!([0, 0]));
    assert_eq!(
        body["extra"],
        json!({"digg_color": 15754271, "finished_perception_msg": "", "is_official_channel": false, "pay_scores": 0})
    );
}

#[tokio::test]
async fn the_room_object_shows_the_callers_standing_and_the_rooms_switches() {
    let t = spawn_app().await;
    t.user("anchor").await;
    t.user("helper").await;
    t.user("viewer").await;
    let room = t.room("anchor", "Show", true).await;
    let app = Actor::App(t.app);
    t.engine
        .add_moderator(
            &app,
            room,
            &UserRef::Name(hubbub_core::names::UserName::parse("helper").unwrap()),
        )
        .await
        .unwrap();
    let anchor = t.login("anchor").await;
    let helper = t.login("helper").await;
    let viewer = t.login("viewer").await;

    let a = t.send(&anchor, room, "welcome").await;
    assert_eq!(a.body["owner"]["user_attr"]["is_admin"], true);
    assert_eq!(a.body["owner"]["user_attr"]["is_super_admin"], true);
    let a = t.send(&helper, room, "hi all").await;
    assert_eq!(a.body["owner"]["user_attr"]["is_admin"], true);
    assert_eq!(a.body["owner"]["user_attr"]["is_super_admin"], false);

    // A timed mute: the viewer may still join and sees it in user_attr.
    t.engine
        .restrict_user(
            &app,
            room,
            Restrict {
                user: UserRef::Name(hubbub_core::names::UserName::parse("viewer").unwrap()),
                kind: RestrictionKind::Mute,
                duration: Some(Duration::from_secs(600)),
                reason: String::new(),
            },
        )
        .await
        .unwrap();
    let a = t.join(&viewer, room).await;
    assert_eq!(a.status, 200);
    let attr = &a.body["owner"]["user_attr"];
    assert_eq!(attr["is_muted"], true);
    let left = attr["mute_duration"].as_i64().unwrap();
    assert!((595..=600).contains(&left), "{left}");

    // Chat switched off: Chat false, and a viewer's send is refused.
    t.engine
        .update_live(
            &app,
            room,
            LivePatch {
                chat_enabled: Some(false),
                subscriber_only: Some(true),
                ..LivePatch::default()
            },
        )
        .await
        .unwrap();
    let a = t.send(&anchor, room, "owner may still talk").await;
    assert_eq!(a.body["room_auth"]["Chat"], false);
    assert_eq!(a.body["room_auth"]["ChatSubOnly"], true);
}

// ----- checklist 4: content round trip --------------------------------------------------

#[tokio::test]
async fn sent_content_comes_back_unchanged_in_the_chat() {
    let t = spawn_app().await;
    t.user("anchor").await;
    let viewer = t.user("viewer").await;
    let room = t.room("anchor", "Launch day", true).await;
    let session = t.login("viewer").await;

    let texts = [
        "Hello from a program!",
        "héllo 你好 🎉",
        "a+b=c & d%20e?f#g",
        "line one\nline two",
    ];
    for text in texts {
        assert_eq!(t.send(&session, room, text).await.status, 200);
    }
    // The seed's sample puts spaces straight into the URL; clients encode them as
    // %20, and a form-style + is a space too.
    let raw = |content: &str| {
        format!(
            "/live/chat/send_message?api_key={}&session_key={session}&room_id={}&content={content}",
            t.api_key, room.0
        )
    };
    assert_eq!(
        t.get_raw(&raw("Hello%20from%20a%20program!")).await.status,
        200
    );
    assert_eq!(t.get_raw(&raw("plus+means+space")).await.status, 200);
    assert_eq!(t.get_raw(&raw("100%")).await.status, 200);

    let chat = t.chat(&session, room, None).await;
    let mut expected: Vec<String> = texts.iter().map(|s| s.to_string()).collect();
    expected.extend(["Hello from a program!", "plus means space", "100%"].map(String::from));
    assert_eq!(contents(&chat), expected);

    // [P] The message object, modelled on WebcastChatMessage.
    let m = &chat.body["messages"][0];
    assert_eq!(
        object_keys(m),
        ["type", "msg_id", "create_time", "content", "user"]
    );
    assert_eq!(m["type"], "chat");
    assert!(m["msg_id"].as_i64().unwrap() > 0);
    let created = m["create_time"].as_i64().unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    assert!(
        (now - 60_000..=now + 1000).contains(&created),
        "ms, not s: {created}"
    );
    assert_eq!(
        m["user"],
        json!({
            "id": viewer.0,
            "id_str": viewer.0.to_string(),
            "nickname": "viewer (display)",
            "display_id": "viewer",
            "sec_uid": "",
            "avatar_thumb": {"url_list": []},
            "user_attr": {"is_admin": false, "is_muted": false},
        })
    );
}

// ----- checklist 5, 6, 7: chat batches and their bound pairs -----------------------------

#[tokio::test]
async fn the_first_chat_has_the_seeds_keys() {
    let t = spawn_app().await;
    t.user("anchor").await;
    t.user("viewer").await;
    let room = t.room("anchor", "Launch day", true).await;
    let session = t.login("viewer").await;
    t.send(&session, room, "one").await;

    let a = t.chat(&session, room, None).await;
    assert_eq!(a.status, 200);
    assert_eq!(
        object_keys(&a.body),
        [
            "code",
            "msg",
            "messages",
            "cursor",
            "fetchInterval",
            "now",
            "internalExt",
            "hasMore"
        ]
    );
    assert_eq!(a.body["msg"], "success");
    assert_eq!(a.body["fetchInterval"], 1000);
    assert_eq!(a.body["hasMore"], false);
    assert_eq!(contents(&a), ["one"]);
    let now: i64 = a.body["now"].as_str().unwrap().parse().unwrap();
    assert!((chrono::Utc::now().timestamp_millis() - now).abs() < 60_000);
    let (cursor, ext) = pair(&a);
    assert!(!cursor.is_empty() && !ext.is_empty());
}

#[tokio::test]
async fn resending_a_pair_returns_the_same_batch_and_the_newest_pair_advances() {
    let t = spawn_app().await;
    t.user("anchor").await;
    t.user("viewer").await;
    let room = t.room("anchor", "Launch day", true).await;
    let session = t.login("viewer").await;
    for text in ["one", "two", "three"] {
        t.send(&session, room, text).await;
    }
    let first = t.chat(&session, room, None).await;
    assert_eq!(contents(&first), ["one", "two", "three"]);
    let p1 = pair(&first);

    // checklist 7 [P]: the newest pair with nothing new → [] and hasMore false.
    let quiet = t.chat(&session, room, Some(&p1)).await;
    assert_eq!(quiet.body["messages"], json!([]));
    assert_eq!(quiet.body["hasMore"], false);
    assert_eq!(pair(&quiet), p1, "nothing new: the same pair again");

    t.send(&session, room, "four").await;
    t.send(&session, room, "five").await;
    // p1 is bound to its (empty) batch; the answer's pair holds the new messages
    // and hasMore says so.
    let bound = t.chat(&session, room, Some(&p1)).await;
    assert_eq!(bound.body["messages"], json!([]));
    assert_eq!(bound.body["hasMore"], true);
    let p2 = pair(&bound);
    assert_ne!(p2, p1);

    let batch = t.chat(&session, room, Some(&p2)).await;
    assert_eq!(contents(&batch), ["four", "five"]);
    assert_eq!(batch.body["hasMore"], false);

    // checklist 6 [S]: the same pair again → the same messages, even after more
    // were sent.
    t.send(&session, room, "six").await;
    let again = t.chat(&session, room, Some(&p2)).await;
    assert_eq!(again.body["messages"], batch.body["messages"]);
    assert_eq!(again.body["hasMore"], true);
    let p3 = pair(&again);
    assert_eq!(contents(&t.chat(&session, room, Some(&p3)).await), ["six"]);

    // Deleted messages never appear, in a batch read before or after.
    let five = batch.body["messages"][1]["msg_id"].as_i64().unwrap();
    t.engine
        .delete_message(&Actor::App(t.app), MessageId(five))
        .await
        .unwrap();
    assert_eq!(contents(&t.chat(&session, room, Some(&p2)).await), ["four"]);
    assert_eq!(
        contents(&t.chat(&session, room, None).await),
        ["one", "two", "three", "four", "six"]
    );
}

#[tokio::test]
async fn a_backlog_comes_in_batches_of_fifty_in_order() {
    let t = spawn_app().await;
    t.user("anchor").await;
    t.user("viewer").await;
    let room = t.room("anchor", "Busy", true).await;
    let session = t.login("viewer").await;
    let start = t.chat(&session, room, None).await;
    let mut p = pair(&start);
    let app = Actor::App(t.app);
    for i in 0..120 {
        t.engine
            .send_message(
                &app,
                room,
                SendMessage {
                    on_behalf_of: Some(UserRef::Name(
                        hubbub_core::names::UserName::parse("anchor").unwrap(),
                    )),
                    content: SendContent::Text(format!("m{i}")),
                    group_tag: None,
                    properties: Value::Null,
                    idempotency_key: None,
                },
            )
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut polls = 0;
    loop {
        let a = t.chat(&session, room, Some(&p)).await;
        seen.extend(contents(&a));
        p = pair(&a);
        polls += 1;
        if a.body["hasMore"] == false {
            break;
        }
        assert!(polls < 10, "never settles");
    }
    let expected: Vec<String> = (0..120).map(|i| format!("m{i}")).collect();
    assert_eq!(seen, expected);
    assert_eq!(polls, 4, "one empty batch, then 50 + 50 + 20");
    // The newest messages on a first call are the last fifty.
    let first = t.chat(&session, room, None).await;
    assert_eq!(contents(&first), expected[70..].to_vec());
    // The author is the room's owner.
    assert_eq!(
        first.body["messages"][0]["user"]["user_attr"]["is_admin"],
        true
    );
}

#[tokio::test]
async fn unknown_or_forged_pairs_are_400() {
    let t = spawn_app().await;
    t.user("anchor").await;
    t.user("viewer").await;
    let room = t.room("anchor", "Launch day", true).await;
    let other_room = t.room("anchor", "Other", true).await;
    let session = t.login("viewer").await;
    t.send(&session, room, "one").await;
    let (cursor, ext) = pair(&t.chat(&session, room, None).await);
    let (other_cursor, other_ext) = pair(&t.chat(&session, other_room, None).await);
    let epoch = ext.split('|').nth(1).unwrap().to_owned();

    for (c, e) in [
        ("abc".to_owned(), "def".to_owned()),
        (other_cursor, other_ext),       // another room's pair
        ("0_1".to_owned(), ext.clone()), // disagreeing halves
        (
            "1_9".to_owned(),
            format!("room_id:{}|{epoch}|seq:1-9", room.0),
        ), // beyond the sequence
        (
            "0_1".to_owned(),
            format!("room_id:{}|epoch:feedfeedfeedfeed|seq:0-1", room.0),
        ), // old epoch
        (
            "5_1".to_owned(),
            format!("room_id:{}|{epoch}|seq:5-1", room.0),
        ),
    ] {
        let a = t.chat(&session, room, Some(&(c.clone(), e.clone()))).await;
        assert_body(&a, 400, "Invalid cursor");
    }
    // Half a pair is a missing parameter.
    let a = t
        .room_call("/live/chat", &session, room, &[("cursor", &cursor)])
        .await;
    assert_body(&a, 400, "Invalid parameters");
    let a = t
        .room_call("/live/chat", &session, room, &[("internalExt", &ext)])
        .await;
    assert_body(&a, 400, "Invalid parameters");
}

// ----- checklist 8: room_exists -----------------------------------------------------------

#[tokio::test]
async fn room_exists_tells_live_rooms_from_the_rest() {
    let t = spawn_app().await;
    t.user("anchor").await;
    t.user("viewer").await;
    let live = t.room("anchor", "On air", true).await;
    let offline = t.room("anchor", "Not yet", false).await;
    let session = t.login("viewer").await;
    let ids = format!("{},{},999999,{}", live.0, offline.0, live.0);

    let expected = json!({
        "code": 200,
        "msg": "success",
        "rooms": [
            {"alive": true, "room_id": live.0, "room_id_str": live.0.to_string()},
            {"alive": false, "room_id": offline.0, "room_id_str": offline.0.to_string()},
            {"alive": false, "room_id": 999999, "room_id_str": "999999"},
            {"alive": true, "room_id": live.0, "room_id_str": live.0.to_string()},
        ],
    });
    // session_key is optional here.
    let a = t
        .get(
            "/live/room_exists",
            &[("api_key", &t.api_key), ("room_ids", &ids)],
        )
        .await;
    assert_eq!((a.status, &a.body), (200, &expected));
    let a = t
        .get(
            "/live/room_exists",
            &[
                ("api_key", &t.api_key),
                ("session_key", &session),
                ("room_ids", &ids),
            ],
        )
        .await;
    assert_eq!((a.status, &a.body), (200, &expected));

    // An ended broadcast is not alive.
    t.engine
        .update_live(
            &Actor::App(t.app),
            live,
            LivePatch {
                status: Some(hubbub_core::model::LiveStatus::Ended),
                ..LivePatch::default()
            },
        )
        .await
        .unwrap();
    let a = t
        .get(
            "/live/room_exists",
            &[("api_key", &t.api_key), ("room_ids", &live.0.to_string())],
        )
        .await;
    assert_eq!(a.body["rooms"][0]["alive"], false);

    // Another application's live room does not exist for this one.
    t.user_in(t.other_app, "stranger").await;
    let foreign = t.room_in(t.other_app, "stranger", "Elsewhere", true).await;
    let a = t
        .get(
            "/live/room_exists",
            &[
                ("api_key", &t.api_key),
                ("room_ids", &foreign.0.to_string()),
            ],
        )
        .await;
    assert_eq!(a.body["rooms"][0]["alive"], false);

    for bad in ["a,b", "1,,2", "12x", ""] {
        let a = t
            .get(
                "/live/room_exists",
                &[("api_key", &t.api_key), ("room_ids", bad)],
            )
            .await;
        if bad.is_empty() {
            assert_body(&a, 400, "Invalid parameters");
        } else {
            assert_body(&a, 400, "Failed to parse livestream(s)");
        }
    }
    let many = (1..=101)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let a = t
        .get(
            "/live/room_exists",
            &[("api_key", &t.api_key), ("room_ids", &many)],
        )
        .await;
    assert_body(&a, 400, "Invalid parameters");
    let a = t
        .get(
            "/live/room_exists",
            &[
                ("api_key", &t.api_key),
                ("session_key", "dead"),
                ("room_ids", "1"),
            ],
        )
        .await;
    assert_body(&a, 401, "Invalid session_key");
}

// ----- checklist 9: api_key ---------------------------------------------------------------

#[tokio::test]
async fn a_missing_or_unknown_api_key_is_401_everywhere() {
    let t = spawn_app().await;
    t.user("anchor").await;
    t.user("viewer").await;
    let room = t.room("anchor", "Launch day", true).await;
    let session = t.login("viewer").await;
    let prism_key = t
        .engine
        .dialect_credentials(t.app)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.dialect == hubbub_core::model::Dialect::Prism)
        .unwrap()
        .key;
    let room_id = room.0.to_string();
    for path in ENDPOINTS {
        for api_key in [
            None,
            Some(""),
            Some("kk_not_a_key"),
            Some(prism_key.as_str()),
        ] {
            let mut params = vec![
                ("session_key", session.as_str()),
                ("room_id", room_id.as_str()),
                ("room_ids", room_id.as_str()),
                ("content", "hi"),
                ("msg_id", "1"),
                ("username", "viewer"),
                ("password", PASSWORD),
            ];
            if let Some(key) = api_key {
                params.push(("api_key", key));
            }
            let a = t.get(path, &params).await;
            assert_body(&a, 401, "Invalid api_key");
        }
        // Before any other check.
        let a = t.get(path, &[]).await;
        assert_body(&a, 401, "Invalid api_key");
    }
    let chat = t.chat(&session, room, None).await;
    assert_eq!(chat.body["messages"], json!([]), "nothing was sent");
}

// ----- checklist 10: session_key -----------------------------------------------------------

#[tokio::test]
async fn a_dead_session_key_is_401_and_a_live_one_shows_its_user() {
    let t = spawn_app().await;
    t.user("anchor").await;
    let viewer = t.user("viewer").await;
    let room = t.room("anchor", "Launch day", true).await;
    let session = t.login("viewer").await;

    // [S] shape of /session, [P] values.
    let a = t
        .get(
            "/session",
            &[("api_key", &t.api_key), ("session_key", &session)],
        )
        .await;
    assert_eq!(
        (a.status, &a.body),
        (
            200,
            &json!({
                "code": 200,
                "msg": "success",
                "region": "",
                "email": "",
                "screen_name": "viewer (display)",
                "phone": "",
                "is_verified": false,
                "user_id": viewer.0.to_string(),
                "sec_user_id": "",
                "profile_picture": "",
                "session_key": session,
                "need_device_create": {"code": 0, "msg": ""},
                "is_new_user": 0,
                "cloud_token": "",
                "connects": [],
            })
        )
    );

    // Dead keys: never issued, expired, revoked, and another application's.
    let expired = t
        .engine
        .issue_dialect_token(
            t.app,
            DialectTokenKind::KitkotSession,
            Some(viewer),
            Duration::from_millis(1),
            Value::Null,
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let revoked = t.engine.issue_kitkot_session(t.app, viewer).await.unwrap();
    t.engine
        .revoke_dialect_tokens(t.app, viewer, &[DialectTokenKind::KitkotSession])
        .await
        .unwrap();
    let stranger = t.user_in(t.other_app, "stranger").await;
    let foreign = t
        .engine
        .issue_kitkot_session(t.other_app, stranger)
        .await
        .unwrap();
    let room_id = room.0.to_string();
    for path in ENDPOINTS
        .iter()
        .filter(|p| !["/login", "/live/room_exists"].contains(p))
    {
        for key in [
            None,
            Some("nope"),
            Some(expired.as_str()),
            Some(revoked.as_str()),
            Some(foreign.as_str()),
            Some(session.as_str()),
        ] {
            let mut params = vec![
                ("api_key", t.api_key.as_str()),
                ("room_id", room_id.as_str()),
                ("content", "hi"),
                ("msg_id", "1"),
            ];
            if let Some(key) = key {
                params.push(("session_key", key));
            }
            let a = t.get(path, &params).await;
            assert_body(&a, 401, "Invalid session_key");
        }
    }
    // The login's own key was revoked with the rest; the foreign one works with
    // its own application's api_key.
    let a = t
        .get(
            "/session",
            &[("api_key", &t.other_api_key), ("session_key", &foreign)],
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["screen_name"], "stranger (display)");
}

#[tokio::test]
async fn login_by_username_or_email_with_wrong_passwords_and_a_limit() {
    let t = spawn_app().await;
    let ann = t.user("ann@example.com").await;
    t.user("bob").await;

    let a = t
        .get(
            "/login",
            &[
                ("api_key", &t.api_key),
                ("email", "ann@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["email"], "ann@example.com");
    assert_eq!(a.body["user_id"], ann.0.to_string());
    let key = a.body["session_key"].as_str().unwrap().to_owned();
    let s = t
        .get(
            "/session",
            &[("api_key", &t.api_key), ("session_key", &key)],
        )
        .await;
    assert_eq!(s.body["session_key"], key.as_str());

    // [S] messages; unknown users and wrong passwords look the same.
    for params in [
        vec![("username", "bob"), ("password", "wrong password")],
        vec![("username", "nobody"), ("password", PASSWORD)],
        vec![("email", "nobody@example.com"), ("password", PASSWORD)],
    ] {
        let mut all = vec![("api_key", t.api_key.as_str())];
        all.extend(params);
        assert_body(
            &t.get("/login", &all).await,
            404,
            "Incorrect username/password",
        );
    }
    let a = t
        .get(
            "/login",
            &[
                ("api_key", &t.api_key),
                ("email", "not-an-email"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_body(&a, 404, "Incorrect email");
    for params in [
        vec![("username", "bob")],
        vec![("password", PASSWORD)],
        vec![
            ("username", "bob"),
            ("email", "ann@example.com"),
            ("password", PASSWORD),
        ],
    ] {
        let mut all = vec![("api_key", t.api_key.as_str())];
        all.extend(params);
        assert_body(&t.get("/login", &all).await, 400, "Invalid parameters");
    }

    // [P] bob has had one failure; four more lock the name, even for the right
    // password, while other names still log in.
    for _ in 0..4 {
        let a = t
            .get(
                "/login",
                &[
                    ("api_key", &t.api_key),
                    ("username", "bob"),
                    ("password", "guess again"),
                ],
            )
            .await;
        assert_body(&a, 404, "Incorrect username/password");
    }
    let a = t
        .get(
            "/login",
            &[
                ("api_key", &t.api_key),
                ("username", "bob"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_body(&a, 400, "Too many attempts, try again later");
    let retry = t
        .client
        .get(format!(
            "{}/login?api_key={}&username=bob&password=x",
            t.base, t.api_key
        ))
        .send()
        .await
        .unwrap();
    let secs: u64 = retry.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&secs), "{secs}");
    assert_eq!(t.login("ann@example.com").await.len(), 64);
}

// ----- checklist 11: methods and paths ------------------------------------------------------

#[tokio::test]
async fn any_method_but_get_is_405_and_unknown_paths_are_404_in_kitkot_format() {
    let t = spawn_app().await;
    for path in ENDPOINTS
        .iter()
        .copied()
        .chain(["/nowhere", "/live/chat/nope", ""])
    {
        for method in [
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::OPTIONS,
        ] {
            let a = t
                .call(method.clone(), &format!("{path}?api_key={}", t.api_key))
                .await;
            assert_body(&a, 405, "Method not allowed");
        }
    }
    for path in ["/nowhere", "/live/chat/nope", "/live"] {
        let a = t.get(path, &[("api_key", &t.api_key)]).await;
        assert_body(&a, 404, "Not found");
    }
}

// ----- checklist 12: join -------------------------------------------------------------------

#[tokio::test]
async fn join_answers_the_room_object_and_counts_first_joins_once() {
    let t = spawn_app().await;
    t.user("anchor").await;
    t.user("viewer").await;
    t.user("second").await;
    let room = t.room("anchor", "Launch day", true).await;
    let viewer = t.login("viewer").await;
    let second = t.login("second").await;

    let joined = t.join(&viewer, room).await;
    assert_eq!(joined.status, 200, "{}", joined.body);
    let mut expected = seed::room_key_paths();
    expected.push("request_id".into());
    assert_eq!(seed::key_paths(&joined.body), expected);
    assert_eq!(joined.body["stats"]["total_user"], 1);
    assert_eq!(joined.body["stats"]["enter_count"], 1);
    assert_eq!(joined.body["viewers"], 1);

    // The same room object as a send (request ids differ).
    let sent = t.send(&viewer, room, "hello").await;
    let strip = |a: &Answer| {
        let mut body = a.body.clone();
        body.as_object_mut().unwrap().remove("request_id");
        body
    };
    assert_eq!(strip(&sent), strip(&joined));
    assert_ne!(sent.body["request_id"], joined.body["request_id"]);

    // A second join of the same user: another entry, not another distinct viewer.
    let again = t.join(&viewer, room).await;
    assert_eq!(again.body["stats"]["total_user"], 1);
    assert_eq!(again.body["stats"]["enter_count"], 2);
    let other = t.join(&second, room).await;
    assert_eq!(other.body["stats"]["total_user"], 2);
    assert_eq!(other.body["stats"]["enter_count"], 3);
    assert_eq!(other.body["viewers"], 2);

    // [P] leave: no longer a viewer; leaving twice is fine.
    let a = t.room_call("/live/leave", &second, room, &[]).await;
    assert_eq!(
        (a.status, &a.body),
        (200, &json!({"code": 200, "msg": "success"}))
    );
    let a = t.room_call("/live/leave", &second, room, &[]).await;
    assert_eq!(a.status, 200);
    let sent = t.send(&viewer, room, "still here").await;
    assert_eq!(sent.body["viewers"], 1);
    assert_eq!(sent.body["stats"]["total_user"], 2);
}

#[tokio::test]
async fn banned_users_cannot_join_send_or_read_and_get_403() {
    let t = spawn_app().await;
    t.user("anchor").await;
    t.user("troll").await;
    let room = t.room("anchor", "Launch day", true).await;
    let troll = t.login("troll").await;
    t.engine
        .restrict_user(
            &Actor::App(t.app),
            room,
            Restrict {
                user: UserRef::Name(hubbub_core::names::UserName::parse("troll").unwrap()),
                kind: RestrictionKind::Ban,
                duration: None,
                reason: "spam".into(),
            },
        )
        .await
        .unwrap();
    assert_body(
        &t.join(&troll, room).await,
        403,
        "You are banned in this room",
    );
    assert_body(
        &t.send(&troll, room, "hi").await,
        403,
        "You are banned in this room",
    );
    assert_body(
        &t.chat(&troll, room, None).await,
        403,
        "You are banned in this room",
    );
    let counters = t
        .engine
        .live_room(&Actor::App(t.app), room)
        .await
        .unwrap()
        .live
        .counters;
    assert_eq!(
        (counters.entries, counters.distinct_viewers),
        (0, 0),
        "a refused join counts nothing"
    );
}

#[tokio::test]
async fn muted_users_and_switched_off_chat_are_refused_with_403() {
    let t = spawn_app().await;
    t.user("anchor").await;
    t.user("quiet").await;
    t.user("viewer").await;
    let room = t.room("anchor", "Launch day", true).await;
    let quiet = t.login("quiet").await;
    let viewer = t.login("viewer").await;
    let app = Actor::App(t.app);
    t.engine
        .restrict_user(
            &app,
            room,
            Restrict {
                user: UserRef::Name(hubbub_core::names::UserName::parse("quiet").unwrap()),
                kind: RestrictionKind::Mute,
                duration: None,
                reason: String::new(),
            },
        )
        .await
        .unwrap();
    assert_body(
        &t.send(&quiet, room, "hi").await,
        403,
        "You are muted in this room",
    );
    // A muted user may still read.
    assert_eq!(t.chat(&quiet, room, None).await.status, 200);
    t.engine
        .update_live(
            &app,
            room,
            LivePatch {
                chat_enabled: Some(false),
                ..LivePatch::default()
            },
        )
        .await
        .unwrap();
    assert_body(
        &t.send(&viewer, room, "hi").await,
        403,
        "Chat is switched off in this room",
    );
    assert_eq!(
        t.chat(&viewer, room, None).await.body["messages"],
        json!([])
    );
}

// ----- [P] delete_message ---------------------------------------------------------------------

#[tokio::test]
async fn only_the_owner_and_admins_delete_messages() {
    let t = spawn_app().await;
    t.user("anchor").await;
    t.user("helper").await;
    t.user("viewer").await;
    let room = t.room("anchor", "Launch day", true).await;
    let other_room = t.room("anchor", "Other", true).await;
    t.engine
        .add_moderator(
            &Actor::App(t.app),
            room,
            &UserRef::Name(hubbub_core::names::UserName::parse("helper").unwrap()),
        )
        .await
        .unwrap();
    let anchor = t.login("anchor").await;
    let helper = t.login("helper").await;
    let viewer = t.login("viewer").await;
    for text in ["one", "two", "three"] {
        t.send(&viewer, room, text).await;
    }
    t.send(&viewer, other_room, "elsewhere").await;
    let chat = t.chat(&viewer, room, None).await;
    let id = |i: usize| {
        chat.body["messages"][i]["msg_id"]
            .as_i64()
            .unwrap()
            .to_string()
    };
    let elsewhere = t.chat(&viewer, other_room, None).await.body["messages"][0]["msg_id"]
        .as_i64()
        .unwrap()
        .to_string();

    let delete = |session: &str, msg: &str| {
        let session = session.to_owned();
        let msg = msg.to_owned();
        let t = &t;
        async move {
            t.room_call(
                "/live/chat/delete_message",
                &session,
                room,
                &[("msg_id", &msg)],
            )
            .await
        }
    };
    // Not the author either: the room's moderators only.
    assert_body(
        &delete(&viewer, &id(0)).await,
        403,
        "Only the room's owner or its admins may delete messages",
    );
    let ok = json!({"code": 200, "msg": "success"});
    let a = delete(&anchor, &id(0)).await;
    assert_eq!((a.status, &a.body), (200, &ok));
    let a = delete(&helper, &id(1)).await;
    assert_eq!((a.status, &a.body), (200, &ok));
    assert_body(
        &delete(&anchor, &id(1)).await,
        404,
        "That message does not exist",
    );
    assert_body(
        &delete(&anchor, &elsewhere).await,
        404,
        "That message does not exist",
    );
    assert_body(
        &delete(&anchor, "99999999").await,
        404,
        "That message does not exist",
    );
    assert_body(
        &delete(&anchor, "abc").await,
        404,
        "That message does not exist",
    );
    let a = t
        .room_call("/live/chat/delete_message", &anchor, room, &[])
        .await;
    assert_body(&a, 400, "Invalid parameters");

    assert_eq!(contents(&t.chat(&viewer, room, None).await), ["three"]);
    assert_eq!(
        contents(&t.chat(&viewer, other_room, None).await),
        ["elsewhere"]
    );
}

// ----- the core's support for polling dialects --------------------------------------------------

#[tokio::test]
async fn engine_chat_windows_are_sealed_and_checked() {
    let t = spawn_app().await;
    t.user("anchor").await;
    let room = t.room("anchor", "Launch day", true).await;
    let app = Actor::App(t.app);
    let send = |text: &'static str| {
        let engine = t.engine.clone();
        async move {
            engine
                .send_message(
                    &app,
                    room,
                    SendMessage {
                        on_behalf_of: None,
                        content: SendContent::Text(text.into()),
                        group_tag: None,
                        properties: Value::Null,
                        idempotency_key: None,
                    },
                )
                .await
                .unwrap()
        }
    };
    let empty = t
        .engine
        .live_chat_window(&app, room, None, 2)
        .await
        .unwrap();
    assert!(empty.messages.is_empty());
    assert_eq!(
        (empty.next.after, empty.next.upto, empty.more),
        (0, 0, false)
    );
    for text in ["a", "b", "c"] {
        send(text).await;
    }
    // Without a window: the last two seqs.
    let first = t
        .engine
        .live_chat_window(&app, room, None, 2)
        .await
        .unwrap();
    let bodies = |w: &hubbub_core::engine::ChatWindow| {
        w.messages
            .iter()
            .map(|m| m.message.content.body().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(bodies(&first), ["b", "c"]);
    assert_eq!((first.next.after, first.next.upto), (3, 3));
    // The empty window's successor holds at most two seqs.
    let w = t
        .engine
        .live_chat_window(&app, room, Some(empty.next.clone()), 2)
        .await
        .unwrap();
    assert!(w.messages.is_empty());
    assert_eq!((w.next.after, w.next.upto, w.more), (0, 2, true));
    let w2 = t
        .engine
        .live_chat_window(&app, room, Some(w.next.clone()), 2)
        .await
        .unwrap();
    assert_eq!(bodies(&w2), ["a", "b"]);
    assert_eq!((w2.next.after, w2.next.upto), (2, 3));
    // A system message has no author role.
    assert!(w2.authors.is_empty());
    // Too wide, beyond, or of another room's epoch.
    for bad in [
        hubbub_core::engine::SeqWindow {
            epoch: w.next.epoch.clone(),
            after: 0,
            upto: 3,
        },
        hubbub_core::engine::SeqWindow {
            epoch: w.next.epoch.clone(),
            after: 3,
            upto: 4,
        },
        hubbub_core::engine::SeqWindow {
            epoch: "other".into(),
            after: 0,
            upto: 1,
        },
    ] {
        match t.engine.live_chat_window(&app, room, Some(bad), 2).await {
            Err(hubbub_core::Error::Invalid { field, .. }) => assert_eq!(field, "cursor"),
            other => panic!("{other:?}"),
        }
    }
    // Rooms' statuses, in order.
    let offline = t.room("anchor", "Later", false).await;
    let statuses = t
        .engine
        .live_room_statuses(&app, &[room, ChannelId(424242), offline])
        .await
        .unwrap();
    assert_eq!(
        statuses,
        [
            Some(hubbub_core::model::LiveStatus::Live),
            None,
            Some(hubbub_core::model::LiveStatus::None)
        ]
    );
}
