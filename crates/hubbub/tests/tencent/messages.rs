//! send_text_msg.

use crate::helpers::*;
use hubbub_core::engine::UserRef;
use hubbub_core::names::UserName;
use serde_json::json;

const SEND: &str = "live_engine_http_srv/send_text_msg";
const UPDATE: &str = "live_engine_http_srv/update_room_info";

/// Checklist 12: MsgTime (unix s) and a rising MsgSeq; the text is the account's
/// message in the other APIs (ChatKitty's history, PRISM's chat view), in seq order.
#[tokio::test]
async fn sent_texts_get_seqs_and_show_everywhere() {
    let app = spawn_app().await;
    app.create_room("talk").await;
    ok(&app
        .call(
            "im_open_login_svc/account_import",
            json!({"UserID": "viewer", "Nick": "The Viewer"}),
        )
        .await);
    let before = unix_now();
    let first = ok(&app
        .call(
            SEND,
            json!({"RoomId": "talk", "Sender_Account": "viewer", "TextContent": "first!",
                   "ExtensionInfo": "{\"color\":\"red\"}"}),
        )
        .await);
    let second = ok(&app
        .call(
            SEND,
            json!({"RoomId": "talk", "Sender_Account": "viewer", "TextContent": "second"}),
        )
        .await);
    let time = first["MsgTime"].as_i64().unwrap();
    assert!((before - 1..=unix_now() + 1).contains(&time));
    assert_eq!(first, json!({"MsgTime": time, "MsgSeq": 1}));
    assert_eq!(second["MsgSeq"], 2);

    let id = app.channel_id("talk").await;
    let messages = app
        .platform_get(&format!("/v1/channels/{id}/messages"))
        .await;
    let items = messages["_embedded"]["messages"].as_array().unwrap();
    // Newest first in ChatKitty's list.
    assert_eq!(items.len(), 2, "{messages}");
    assert_eq!(items[0]["body"], "second");
    assert_eq!(items[1]["body"], "first!");
    assert_eq!(items[1]["type"], "TEXT");
    assert_eq!(items[1]["user"]["name"], "viewer");
    assert_eq!(items[1]["user"]["display_name"], "The Viewer");
    assert_eq!(
        items[1]["properties"]["tencent"]["ExtensionInfo"],
        "{\"color\":\"red\"}"
    );

    // PRISM's chat view (liveId = the channel id) lists them oldest first, by seq.
    let viewer = app
        .engine
        .resolve_user(app.app, &UserRef::Name(UserName::parse("viewer").unwrap()))
        .await
        .unwrap();
    let tokens = app
        .engine
        .issue_prism_tokens(app.app, viewer.id)
        .await
        .unwrap();
    let view: serde_json::Value = app
        .client
        .post(format!("{}/prism/v1/service/live/{id}/chat", app.base))
        .header("x-prism-access-token", &tokens.access_token)
        .json(&json!({"maxResults": 10}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let chat = view["data"]["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("{view}"));
    let texts: Vec<&str> = chat
        .iter()
        .map(|m| m["message"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["first!", "second"]);
    assert_eq!(chat[0]["authorId"], viewer.id.to_string());
    assert_eq!(chat[0]["authorName"], "The Viewer");
}

/// Bad sends: an account never imported 70107, missing or empty text 100002, an
/// unknown room 100004; none stores anything.
#[tokio::test]
async fn bad_sends_store_nothing() {
    let app = spawn_app().await;
    app.create_room("talk").await;
    app.import("viewer").await;
    fail(
        &app.call(
            SEND,
            json!({"RoomId": "talk", "Sender_Account": "ghost", "TextContent": "boo"}),
        )
        .await,
        70107,
    );
    for bad in [
        json!({"RoomId": "talk", "Sender_Account": "viewer"}),
        json!({"RoomId": "talk", "Sender_Account": "viewer", "TextContent": ""}),
        json!({"RoomId": "talk", "Sender_Account": "viewer", "TextContent": 42}),
        json!({"RoomId": "talk", "TextContent": "who?"}),
        json!({"Sender_Account": "viewer", "TextContent": "where?"}),
    ] {
        fail(&app.call(SEND, bad).await, 100002);
    }
    fail(
        &app.call(
            SEND,
            json!({"RoomId": "void", "Sender_Account": "viewer", "TextContent": "x"}),
        )
        .await,
        100004,
    );
    let id = app.channel_id("talk").await;
    let messages = app
        .platform_get(&format!("/v1/channels/{id}/messages"))
        .await;
    assert!(
        messages["_embedded"]["messages"]
            .as_array()
            .is_none_or(|m| m.is_empty()),
        "{messages}"
    );
    // The next good send is seq 1.
    let sent = ok(&app
        .call(
            SEND,
            json!({"RoomId": "talk", "Sender_Account": "viewer", "TextContent": "ok"}),
        )
        .await);
    assert_eq!(sent["MsgSeq"], 1);
}

/// Mute-all (IsMessageDisabled) silences viewers in the room, not the App admin's
/// REST sends on their behalf (owner and admins are exempt from it [S]).
#[tokio::test]
async fn mute_all_does_not_hold_back_admin_sends() {
    let app = spawn_app().await;
    app.create_room("hushed").await;
    app.import("viewer").await;
    ok(&app
        .call(
            UPDATE,
            json!({"RoomInfo": {"RoomId": "hushed", "IsMessageDisabled": true}}),
        )
        .await);
    let channel = app
        .engine
        .get_channel_by_name(&hubbub_core::engine::Actor::App(app.app), "hushed")
        .await
        .unwrap();
    assert!(!channel.live.chat.enabled);
    ok(&app
        .call(
            SEND,
            json!({"RoomId": "hushed", "Sender_Account": "viewer", "TextContent": "admin says"}),
        )
        .await);
}
