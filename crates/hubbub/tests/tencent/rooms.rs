//! Rooms: create, get, update, destroy, list.

use crate::helpers::*;
use hubbub_core::engine::{Actor, CounterDelta, CreateChannel};
use hubbub_core::model::{ChannelKind, LiveStatus};
use serde_json::{Value, json};

const CREATE: &str = "live_engine_http_srv/create_room";
const INFO: &str = "live_engine_http_srv/get_room_info";
const UPDATE: &str = "live_engine_http_srv/update_room_info";
const DESTROY: &str = "live_engine_http_srv/destroy_room";
const LIST: &str = "live_engine_http_srv/get_room_list";

/// Checklist 1: the minimal create_room is OK with the bare envelope. The room is a
/// live public channel named by the RoomId, owned by the calling admin (made a user
/// on first use), and get_room_info shows the defaults.
#[tokio::test]
async fn create_room_makes_a_live_channel_owned_by_the_caller() {
    let app = spawn_app().await;
    let before = unix_now();
    let answer = app
        .call(
            CREATE,
            json!({"RoomInfo": {"RoomId": "live-room", "RoomType": "Live"}}),
        )
        .await;
    assert_eq!(
        without_request_id(&answer),
        json!({"ActionStatus": "OK", "ErrorInfo": "", "ErrorCode": 0})
    );

    let channel = app
        .engine
        .get_channel_by_name(&Actor::App(app.app), "live-room")
        .await
        .unwrap();
    assert_eq!(channel.kind, ChannelKind::Public);
    assert_eq!(channel.live.status, LiveStatus::Live);
    assert_eq!(channel.live.title.as_deref(), Some("live-room"));
    assert!(channel.live.chat.enabled);

    let info = ok(&app.call(INFO, json!({"RoomId": "live-room"})).await);
    let create_time = info["RoomInfo"]["CreateTime"].as_i64().unwrap();
    assert!((before - 1..=unix_now() + 1).contains(&create_time));
    assert_eq!(
        info,
        json!({"RoomInfo": {
            "RoomId": "live-room",
            "RoomName": "live-room",
            "RoomType": "Live",
            "Owner_Account": ADMIN,
            "CreateTime": create_time,
            "IsSeatEnabled": false,
            "TakeSeatMode": "FreeToTake",
            "MaxSeatCount": 0,
            "MaxMemberCount": 0,
            "IsMessageDisabled": false,
            "CoverURL": "",
            "Category": [],
            "ActivityStatus": 0,
            "ViewCount": 0,
            "IsPublicVisible": true,
            "Notice": "",
        }})
    );
    // The admin is now an account like any other (ChatKitty sees the user).
    let users = app.platform_get(&format!("/v1/users?name={ADMIN}")).await;
    assert_eq!(users["_embedded"]["users"][0]["name"], ADMIN, "{users}");
}

/// Every documented attribute is kept and shown; the alternative forms of the
/// documents are read (a numeric Owner_Account, TakeSeatMode 2, a string bool).
#[tokio::test]
async fn room_attributes_are_kept_updated_and_shown() {
    let app = spawn_app().await;
    app.import("10001").await;
    ok(&app
        .call(
            CREATE,
            json!({"RoomInfo": {
                "RoomId": "show", "RoomType": "Live", "RoomName": "The Show",
                "Owner_Account": 10001, "MaxMemberCount": 400, "CoverURL": "https://cdn.example/c.png",
                "IsMessageDisabled": "true", "Category": [1, 2, 3], "IsPublicVisible": false,
                "IsSeatEnabled": true, "TakeSeatMode": 2, "MaxSeatCount": 8, "ActivityStatus": 1,
                "Notice": "welcome", "SeatTemplate": "VideoDynamicGrid9Seats",
            }}),
        )
        .await);
    let info = ok(&app.call(INFO, json!({"RoomId": "show"})).await);
    let room = &info["RoomInfo"];
    let shown: Value = [
        "RoomName",
        "Owner_Account",
        "IsSeatEnabled",
        "TakeSeatMode",
        "MaxSeatCount",
        "MaxMemberCount",
        "IsMessageDisabled",
        "CoverURL",
        "Category",
        "ActivityStatus",
        "IsPublicVisible",
        "Notice",
    ]
    .iter()
    .map(|k| (k.to_string(), room[*k].clone()))
    .collect::<serde_json::Map<_, _>>()
    .into();
    assert_eq!(
        shown,
        json!({
            "RoomName": "The Show", "Owner_Account": "10001", "IsSeatEnabled": true,
            "TakeSeatMode": "ApplyToTake", "MaxSeatCount": 8, "MaxMemberCount": 400,
            "IsMessageDisabled": true, "CoverURL": "https://cdn.example/c.png",
            "Category": [1, 2, 3], "ActivityStatus": 1, "IsPublicVisible": false,
            "Notice": "welcome",
        })
    );
    let channel = app
        .engine
        .get_channel_by_name(&Actor::App(app.app), "show")
        .await
        .unwrap();
    assert!(
        !channel.live.chat.enabled,
        "IsMessageDisabled is the chat switch"
    );
    assert_eq!(
        channel.properties.as_map()["tencent"]["SeatTemplate"],
        "VideoDynamicGrid9Seats"
    );

    // update_room_info changes only what it names.
    ok(&app
        .call(
            UPDATE,
            json!({"RoomInfo": {"RoomId": "show", "RoomName": "Renamed", "IsMessageDisabled": false,
                "Category": [7], "Notice": "", "TakeSeatMode": "FreeToTake", "ActivityStatus": 2}}),
        )
        .await);
    let room = ok(&app.call(INFO, json!({"RoomId": "show"})).await)["RoomInfo"].clone();
    assert_eq!(room["RoomName"], "Renamed");
    assert_eq!(room["IsMessageDisabled"], false);
    assert_eq!(room["Category"], json!([7]));
    assert_eq!(room["Notice"], "");
    assert_eq!(room["TakeSeatMode"], "FreeToTake");
    assert_eq!(room["ActivityStatus"], 2);
    assert_eq!(room["CoverURL"], "https://cdn.example/c.png", "untouched");
    assert_eq!(room["MaxMemberCount"], 400, "untouched");
    let channel = app
        .engine
        .get_channel_by_name(&Actor::App(app.app), "show")
        .await
        .unwrap();
    assert!(channel.live.chat.enabled);
    assert_eq!(channel.live.title.as_deref(), Some("Renamed"));
    assert_eq!(channel.display_name.unwrap().as_str(), "Renamed");
}

/// Checklist 2 (create_room): a 49-byte RoomId is 100002 and creates nothing; 48
/// bytes is fine. Every other limit of create_room and update_room_info likewise.
#[tokio::test]
async fn room_fields_over_their_limits_are_refused() {
    let app = spawn_app().await;
    let long_id = "r".repeat(49);
    let info = fail(
        &app.call(
            CREATE,
            json!({"RoomInfo": {"RoomId": long_id, "RoomType": "Live"}}),
        )
        .await,
        100002,
    );
    assert!(info.contains("RoomId"), "{info}");
    ok(&app
        .call(
            CREATE,
            json!({"RoomInfo": {"RoomId": "r".repeat(48), "RoomType": "Live"}}),
        )
        .await);

    let base = |extra: Value| {
        let mut room = json!({"RoomId": "limits", "RoomType": "Live"});
        room.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({ "RoomInfo": room })
    };
    let bad = [
        json!({"RoomName": "n".repeat(101)}),
        json!({"CoverURL": "c".repeat(201)}),
        json!({"Notice": "n".repeat(101)}),
        json!({"Category": [1, 2, 3, 4]}),
        json!({"Category": ["music"]}),
        json!({"TakeSeatMode": "Anything"}),
        json!({"MaxMemberCount": -1}),
        json!({"IsPublicVisible": "maybe"}),
        json!({"RoomType": "Meeting"}),
        json!({"RoomType": null}),
    ];
    for extra in bad {
        fail(&app.call(CREATE, base(extra.clone())).await, 100002);
    }
    fail(&app.call(CREATE, json!({"RoomId": "limits"})).await, 100002);
    fail(&app.call(INFO, json!({"RoomId": "limits"})).await, 100004);

    // The same limits on update, which changes nothing when refused.
    app.create_room("limits").await;
    for extra in [
        json!({"RoomName": "n".repeat(101)}),
        json!({"RoomName": ""}),
        json!({"Notice": "n".repeat(101)}),
        json!({"Category": [1, 2, 3, 4]}),
    ] {
        let mut room = json!({"RoomId": "limits"});
        room.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        fail(&app.call(UPDATE, json!({ "RoomInfo": room })).await, 100002);
    }
    let room = ok(&app.call(INFO, json!({"RoomId": "limits"})).await)["RoomInfo"].clone();
    assert_eq!(
        (room["RoomName"].clone(), room["Notice"].clone()),
        (json!("limits"), json!(""))
    );
}

/// Checklist 3: get_room_info of an unknown room, and of a destroyed one, is 100004;
/// a destroyed RoomId can be created again.
#[tokio::test]
async fn unknown_and_destroyed_rooms_do_not_exist() {
    let app = spawn_app().await;
    let info = fail(&app.call(INFO, json!({"RoomId": "nowhere"})).await, 100004);
    assert!(info.contains("does not exist"), "{info}");
    app.create_room("short-lived").await;
    assert_eq!(
        without_request_id(&app.call(DESTROY, json!({"RoomId": "short-lived"})).await),
        json!({"ActionStatus": "OK", "ErrorInfo": "", "ErrorCode": 0})
    );
    fail(
        &app.call(INFO, json!({"RoomId": "short-lived"})).await,
        100004,
    );
    fail(
        &app.call(DESTROY, json!({"RoomId": "short-lived"})).await,
        100004,
    );
    fail(
        &app.call(
            UPDATE,
            json!({"RoomInfo": {"RoomId": "short-lived", "Notice": "x"}}),
        )
        .await,
        100004,
    );
    app.create_room("short-lived").await;
    ok(&app.call(INFO, json!({"RoomId": "short-lived"})).await);
}

/// Checklist 4: create_room with an existing RoomId is 100003 and changes nothing.
#[tokio::test]
async fn a_room_id_is_created_once() {
    let app = spawn_app().await;
    ok(&app
        .call(
            CREATE,
            json!({"RoomInfo": {"RoomId": "dup", "RoomType": "Live", "RoomName": "first"}}),
        )
        .await);
    let info = fail(
        &app.call(
            CREATE,
            json!({"RoomInfo": {"RoomId": "dup", "RoomType": "Live", "RoomName": "second"}}),
        )
        .await,
        100003,
    );
    assert!(info.contains("dup"), "{info}");
    let room = ok(&app.call(INFO, json!({"RoomId": "dup"})).await);
    assert_eq!(room["RoomInfo"]["RoomName"], "first");
}

/// An Owner_Account that was never imported is 70107.
#[tokio::test]
async fn the_owner_must_be_an_imported_account() {
    let app = spawn_app().await;
    fail(
        &app.call(
            CREATE,
            json!({"RoomInfo": {"RoomId": "r", "RoomType": "Live", "Owner_Account": "ghost"}}),
        )
        .await,
        70107,
    );
    fail(&app.call(INFO, json!({"RoomId": "r"})).await, 100004);
    app.import("anchor").await;
    ok(&app
        .call(
            CREATE,
            json!({"RoomInfo": {"RoomId": "r", "RoomType": "Live", "Owner_Account": "anchor"}}),
        )
        .await);
    let room = ok(&app.call(INFO, json!({"RoomId": "r"})).await);
    assert_eq!(room["RoomInfo"]["Owner_Account"], "anchor");
}

/// Checklist 8: get_room_list gives at most 20 rooms (Count 50 → 20, Count 0 → 20),
/// ViewCount (entries) descending; following Next ends with "".
#[tokio::test]
async fn room_lists_page_by_view_count() {
    let app = spawn_app().await;
    let actor = Actor::App(app.app);
    for i in 0..25u64 {
        let room = format!("room-{i:02}");
        app.create_room(&room).await;
        let id = app.channel_id(&room).await;
        // Views 0, 7, 14, …, with ties broken by the older room.
        app.engine
            .add_live_counters(
                &actor,
                id,
                CounterDelta {
                    entries: (i * 7) % 50,
                    ..CounterDelta::default()
                },
            )
            .await
            .unwrap();
    }
    // A plain chat channel is no room.
    app.engine
        .create_channel(
            &actor,
            CreateChannel {
                kind: ChannelKind::Public,
                name: Some("just-chat".into()),
                display_name: None,
                creator: None,
                members: vec![],
                properties: json!({}),
                live: None,
            },
        )
        .await
        .unwrap();

    let first = ok(&app.call(LIST, json!({"Next": "", "Count": 50})).await);
    let page = first["RoomList"].as_array().unwrap();
    assert_eq!(page.len(), 20);
    let views: Vec<u64> = page
        .iter()
        .map(|r| r["ViewCount"].as_u64().unwrap())
        .collect();
    assert!(views.windows(2).all(|w| w[0] >= w[1]), "{views:?}");
    assert_eq!(views[0], 49);
    let next = first["Next"].as_str().unwrap();
    assert!(!next.is_empty());
    assert_eq!(
        page[0],
        json!({
            "RoomName": "room-07", "RoomId": "room-07", "Owner_Account": ADMIN, "CoverURL": "",
            "Category": [], "CreateTime": page[0]["CreateTime"], "ActivityStatus": 0, "ViewCount": 49,
        })
    );

    let second = ok(&app.call(LIST, json!({"Next": next, "Count": 20})).await);
    let rest = second["RoomList"].as_array().unwrap();
    assert_eq!(rest.len(), 5);
    assert_eq!(second["Next"], "");
    let mut all: Vec<&str> = page
        .iter()
        .chain(rest)
        .map(|r| r["RoomId"].as_str().unwrap())
        .collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 25, "every room once, and no chat channel");
    assert!(rest[0]["ViewCount"].as_u64() <= page[19]["ViewCount"].as_u64());

    let zero = ok(&app.call(LIST, json!({"Next": "", "Count": 0})).await);
    assert_eq!(zero["RoomList"].as_array().unwrap().len(), 20);
    let small = ok(&app.call(LIST, json!({"Next": "", "Count": 3})).await);
    assert_eq!(small["RoomList"].as_array().unwrap().len(), 3);
    assert_eq!(small["RoomList"], json!(page[..3]));

    fail(
        &app.call(LIST, json!({"Next": "garbage", "Count": 5})).await,
        100002,
    );
    fail(
        &app.call(LIST, json!({"Next": "", "Count": -1})).await,
        100002,
    );
}

/// A chat channel that is not a live room is 100006 for room commands.
#[tokio::test]
async fn chat_channels_are_not_live_rooms() {
    let app = spawn_app().await;
    app.engine
        .create_channel(
            &Actor::App(app.app),
            CreateChannel {
                kind: ChannelKind::Public,
                name: Some("lobby".into()),
                display_name: None,
                creator: None,
                members: vec![],
                properties: json!({}),
                live: None,
            },
        )
        .await
        .unwrap();
    fail(&app.call(INFO, json!({"RoomId": "lobby"})).await, 100006);
    app.import("bot").await;
    fail(
        &app.call(
            "live_engine_http_srv/add_robot",
            json!({"RoomId": "lobby", "RobotList_Account": ["bot"]}),
        )
        .await,
        100006,
    );
}

/// One application's rooms are invisible to another's admins.
#[tokio::test]
async fn rooms_belong_to_their_application() {
    let app = spawn_app().await;
    app.create_room("mine").await;
    let other = query_for(OTHER_SDKAPPID, OTHER_KEY, ADMIN);
    let body = json!({"RoomId": "mine"}).to_string();
    fail(&app.call_raw(INFO, &other, &body).await, 100004);
    fail(&app.call_raw(DESTROY, &other, &body).await, 100004);
    let list = ok(&app.call_raw(LIST, &other, "{}").await);
    assert_eq!(list["RoomList"], json!([]));
    // The same RoomId is free in the other application.
    let create = json!({"RoomInfo": {"RoomId": "mine", "RoomType": "Live"}}).to_string();
    ok(&app.call_raw(CREATE, &other, &create).await);
    ok(&app.call(INFO, json!({"RoomId": "mine"})).await);
}
