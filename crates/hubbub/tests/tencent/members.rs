//! Admins, bans and mutes.

use crate::helpers::*;
use serde_json::json;

const MODIFY_ADMIN: &str = "live_engine_http_srv/modify_admin";
const ADMINS: &str = "live_engine_http_srv/get_admin_list";
const BAN: &str = "live_engine_http_srv/ban_member";
const UNBAN: &str = "live_engine_http_srv/unban_member";
const BANNED: &str = "live_engine_http_srv/get_banned_member_list";
const MUTE: &str = "live_engine_http_srv/mute_member";
const MUTED: &str = "live_engine_http_srv/get_muted_member_list";
const SEND: &str = "live_engine_http_srv/send_text_msg";

async fn admins(app: &TestApp, room: &str) -> serde_json::Value {
    ok(&app.call(ADMINS, json!({"RoomId": room})).await)["Admin_Account"].clone()
}

/// Checklist 9: a sixth admin is 100020 (and none of the list is added);
/// `OpType: "remove"` is 100002. Admins are the channel's moderators.
#[tokio::test]
async fn a_room_has_at_most_five_admins() {
    let app = spawn_app().await;
    app.create_room("stage").await;
    for i in 1..=7 {
        app.import(&format!("a{i}")).await;
    }
    ok(&app
        .call(
            MODIFY_ADMIN,
            json!({"RoomId": "stage", "Admin_Account": ["a1", "a2", "a3", "a4"], "OpType": "add"}),
        )
        .await);
    // Adding an admin again is not a new one.
    ok(&app
        .call(
            MODIFY_ADMIN,
            json!({"RoomId": "stage", "Admin_Account": ["a1", "a5"], "OpType": "add"}),
        )
        .await);
    assert_eq!(
        admins(&app, "stage").await,
        json!(["a1", "a2", "a3", "a4", "a5"])
    );
    let info = fail(
        &app.call(
            MODIFY_ADMIN,
            json!({"RoomId": "stage", "Admin_Account": ["a6"], "OpType": "add"}),
        )
        .await,
        100020,
    );
    assert!(info.contains("at most 5"), "{info}");
    fail(
        &app.call(
            MODIFY_ADMIN,
            json!({"RoomId": "stage", "Admin_Account": ["a6", "a7"], "OpType": "add"}),
        )
        .await,
        100020,
    );
    fail(
        &app.call(
            MODIFY_ADMIN,
            json!({"RoomId": "stage", "Admin_Account": ["a1"], "OpType": "remove"}),
        )
        .await,
        100002,
    );
    fail(
        &app.call(
            MODIFY_ADMIN,
            json!({"RoomId": "stage", "Admin_Account": ["ghost"], "OpType": "delete"}),
        )
        .await,
        70107,
    );
    assert_eq!(
        admins(&app, "stage").await,
        json!(["a1", "a2", "a3", "a4", "a5"])
    );

    ok(&app
        .call(
            MODIFY_ADMIN,
            json!({"RoomId": "stage", "Admin_Account": ["a1", "a7"], "OpType": "delete"}),
        )
        .await);
    ok(&app
        .call(
            MODIFY_ADMIN,
            json!({"RoomId": "stage", "Admin_Account": ["a6"], "OpType": "add"}),
        )
        .await);
    assert_eq!(
        admins(&app, "stage").await,
        json!(["a2", "a3", "a4", "a5", "a6"])
    );
    // The ChatKitty API sees the same moderators.
    let id = app.channel_id("stage").await;
    let moderators = app
        .platform_get(&format!("/v1/channels/{id}/moderators"))
        .await;
    let names: Vec<&str> = moderators["_embedded"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 5, "{moderators}");
    assert!(names.contains(&"a6") && !names.contains(&"a1"));
}

/// Checklist 10: 21 accounts are 100002; a ban shows in get_banned_member_list with
/// BannedUntil ≈ now + Duration (0 for a ban without one); pages by Offset/Limit;
/// unban lifts it; a banned account cannot send.
#[tokio::test]
async fn bans_are_listed_with_their_end_and_lifted() {
    let app = spawn_app().await;
    app.create_room("arena").await;
    for name in ["u1", "u2", "u3", "u4"] {
        app.import(name).await;
    }
    let many: Vec<String> = (0..21).map(|i| format!("u{i}")).collect();
    let info = fail(
        &app.call(
            BAN,
            json!({"RoomId": "arena", "MemberList_Account": many, "Duration": 60}),
        )
        .await,
        100002,
    );
    assert!(info.contains("20"), "{info}");

    let before = unix_now();
    ok(&app
        .call(
            BAN,
            json!({"RoomId": "arena", "MemberList_Account": ["u1"], "Duration": 3600, "Reason": "spam"}),
        )
        .await);
    ok(&app
        .call(
            BAN,
            json!({"RoomId": "arena", "MemberList_Account": ["u2", "u3"]}),
        )
        .await);
    let list = ok(&app.call(BANNED, json!({"RoomId": "arena"})).await);
    let until = list["BannedAccountList"][0]["BannedUntil"]
        .as_i64()
        .unwrap();
    assert!(
        (before + 3600 - 2..=unix_now() + 3600 + 2).contains(&until),
        "{until} vs {before}"
    );
    assert_eq!(
        list,
        json!({
            "BannedAccountList": [
                {"Member_Account": "u1", "BannedUntil": until},
                {"Member_Account": "u2", "BannedUntil": 0},
                {"Member_Account": "u3", "BannedUntil": 0},
            ],
            "NextOffset": 0,
        })
    );

    // Pages: Limit 2, then from NextOffset; an offset between pages.
    let page = ok(&app
        .call(BANNED, json!({"RoomId": "arena", "Offset": 0, "Limit": 2}))
        .await);
    assert_eq!(page["BannedAccountList"].as_array().unwrap().len(), 2);
    assert_eq!(page["NextOffset"], 2);
    let page = ok(&app
        .call(BANNED, json!({"RoomId": "arena", "Offset": 2, "Limit": 2}))
        .await);
    assert_eq!(page["BannedAccountList"][0]["Member_Account"], "u3");
    assert_eq!(page["NextOffset"], 0);
    let page = ok(&app
        .call(BANNED, json!({"RoomId": "arena", "Offset": 1, "Limit": 2}))
        .await);
    let names: Vec<&str> = page["BannedAccountList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["Member_Account"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["u2", "u3"]);
    assert_eq!(page["NextOffset"], 0);

    // A banned account's messages are refused.
    let send = app
        .call(
            SEND,
            json!({"RoomId": "arena", "Sender_Account": "u2", "TextContent": "hi"}),
        )
        .await;
    let info = fail(&send, 10017);
    assert!(info.contains("banned"), "{info}");

    ok(&app
        .call(
            UNBAN,
            json!({"RoomId": "arena", "MemberList_Account": ["u1", "u2"]}),
        )
        .await);
    let list = ok(&app.call(BANNED, json!({"RoomId": "arena"})).await);
    assert_eq!(
        list["BannedAccountList"],
        json!([{"Member_Account": "u3", "BannedUntil": 0}])
    );
    ok(&app
        .call(
            SEND,
            json!({"RoomId": "arena", "Sender_Account": "u2", "TextContent": "back"}),
        )
        .await);
    fail(
        &app.call(
            UNBAN,
            json!({"RoomId": "arena", "MemberList_Account": many}),
        )
        .await,
        100002,
    );
}

/// A batch with an unknown account (70107) or the owner (100002) bans nobody.
#[tokio::test]
async fn a_bad_entry_bans_nobody() {
    let app = spawn_app().await;
    app.create_room("court").await;
    app.import("u4").await;
    fail(
        &app.call(
            BAN,
            json!({"RoomId": "court", "MemberList_Account": ["u4", "ghost"]}),
        )
        .await,
        70107,
    );
    let info = fail(
        &app.call(
            BAN,
            json!({"RoomId": "court", "MemberList_Account": ["u4", ADMIN]}),
        )
        .await,
        100002,
    );
    assert!(info.contains("owns the room"), "{info}");
    let list = ok(&app.call(BANNED, json!({"RoomId": "court"})).await);
    assert_eq!(list, json!({"BannedAccountList": [], "NextOffset": 0}));
    fail(
        &app.call(
            BAN,
            json!({"RoomId": "nowhere", "MemberList_Account": ["u4"]}),
        )
        .await,
        100004,
    );
    fail(
        &app.call(BAN, json!({"RoomId": "court", "MemberList_Account": []}))
            .await,
        100002,
    );
}

/// Checklist 11: MuteTime 60 stops send_text_msg from that account (FAIL 10017)
/// and lists it with MutedUntil ≈ now + 60; MuteTime 0 lifts the mute.
#[tokio::test]
async fn a_mute_stops_sends_until_lifted() {
    let app = spawn_app().await;
    app.create_room("quiet").await;
    app.import("chatty").await;
    app.import("calm").await;
    let before = unix_now();
    ok(&app
        .call(
            MUTE,
            json!({"RoomId": "quiet", "MemberList_Account": ["chatty"], "MuteTime": 60}),
        )
        .await);
    let send = |who: &'static str| {
        app.call(
            SEND,
            json!({"RoomId": "quiet", "Sender_Account": who, "TextContent": "hello"}),
        )
    };
    let info = fail(&send("chatty").await, 10017);
    assert!(info.contains("muted"), "{info}");
    ok(&send("calm").await);

    let muted = ok(&app.call(MUTED, json!({"RoomId": "quiet"})).await);
    let until = muted["MutedAccountList"][0]["MutedUntil"].as_i64().unwrap();
    assert!((before + 58..=unix_now() + 62).contains(&until), "{until}");
    assert_eq!(
        muted,
        json!({"MutedAccountList": [{"Member_Account": "chatty", "MutedUntil": until}]})
    );

    ok(&app
        .call(
            MUTE,
            json!({"RoomId": "quiet", "MemberList_Account": ["chatty"], "MuteTime": 0}),
        )
        .await);
    ok(&send("chatty").await);
    let muted = ok(&app.call(MUTED, json!({"RoomId": "quiet"})).await);
    assert_eq!(muted, json!({"MutedAccountList": []}));

    for bad in [
        json!({"RoomId": "quiet", "MemberList_Account": ["chatty"]}),
        json!({"RoomId": "quiet", "MemberList_Account": ["chatty"], "MuteTime": -5}),
        json!({"RoomId": "quiet", "MemberList_Account": "chatty", "MuteTime": 5}),
        // Longer than the engine's longest restriction (ten years).
        json!({"RoomId": "quiet", "MemberList_Account": ["chatty"], "MuteTime": 400_000_000u64}),
    ] {
        fail(&app.call(MUTE, bad).await, 100002);
    }
    fail(
        &app.call(
            MUTE,
            json!({"RoomId": "quiet", "MemberList_Account": ["ghost"], "MuteTime": 5}),
        )
        .await,
        70107,
    );
}
