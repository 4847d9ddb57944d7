//! Keystrokes: published on the Bus as `keystrokes` events, never stored, and
//! rate-limited per user and channel.

use crate::helpers::{api_error, id, ok, spawn_app};
use hubbub_core::events::EventType;
use serde_json::{Value, json};
use std::time::Duration;

/// The next `keystrokes` event on the bus (other events are skipped).
async fn next_keystrokes(
    events: &mut tokio::sync::broadcast::Receiver<
        std::sync::Arc<hubbub_core::events::ChannelEvent>,
    >,
) -> (i64, Value) {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .expect("an event in time")
            .expect("the bus is open");
        if event.event_type == EventType::Keystrokes {
            assert_eq!(event.seq, None, "keystrokes take no place in history");
            return (
                event.channel_id.0,
                serde_json::from_slice(&event.data).unwrap(),
            );
        }
    }
}

#[tokio::test]
async fn keystrokes_are_published_on_the_bus_and_never_stored() {
    let app = spawn_app().await;
    app.create_user("jane").await;
    let channel = app.create_channel("room").await;
    let cid = id(&channel);
    let parent = app.send_text(cid, Some("jane"), "parent").await;
    let mut events = app.engine.bus().subscribe();

    let typed = ok(app
        .post(
            &format!("/v1/channels/{cid}/keystrokes"),
            json!({"keys": "hel", "user": {"username": "jane"}}),
        )
        .await)
    .await;
    assert_eq!(typed["keys"], "hel");
    assert_eq!(typed["username"], "jane");
    let (channel_id, data) = next_keystrokes(&mut events).await;
    assert_eq!(channel_id, cid);
    assert_eq!(data["type"], "keystrokes");
    assert_eq!(data["keys"], "hel");
    assert_eq!(data["user"]["name"], "jane");
    assert_eq!(data["thread_id"], -cid);

    // In a reply thread (a different thread of the same channel, same user: allowed
    // only after the interval).
    tokio::time::sleep(hubbub_core::engine::KEYSTROKES_INTERVAL).await;
    let pid = id(&parent);
    let typed = ok(app
        .post(
            &format!("/v1/threads/{pid}/keystrokes"),
            json!({"keys": "ok", "user": {"id": typed_user_id(&app).await}}),
        )
        .await)
    .await;
    assert_eq!(typed["username"], "jane");
    let (channel_id, data) = next_keystrokes(&mut events).await;
    assert_eq!(channel_id, cid);
    assert_eq!(data["thread_id"], pid);

    // Nothing was stored: the channel's history did not move.
    let after = ok(app.get(&format!("/v1/channels/{cid}")).await).await;
    assert_eq!(after["last_seq"], parent["seq"]);
    let history = ok(app.get(&format!("/v1/channels/{cid}/messages")).await).await;
    assert_eq!(history["page"]["total"], 1);
}

async fn typed_user_id(app: &crate::helpers::TestApp) -> i64 {
    let users = ok(app.get("/v1/users?name=jane").await).await;
    id(&users["_embedded"]["users"][0])
}

#[tokio::test]
async fn keystrokes_are_rate_limited_per_user_and_channel() {
    let app = spawn_app().await;
    app.create_user("jane").await;
    app.create_user("bob").await;
    let cid = id(&app.create_channel("room").await);
    let other = id(&app.create_channel("other").await);
    let path = format!("/v1/channels/{cid}/keystrokes");
    let body = |user: &str| json!({"keys": "x", "user": {"username": user}});
    ok(app.post(&path, body("jane")).await).await;
    let limited = app.post(&path, body("jane")).await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().get("retry-after").is_some());
    api_error(limited, 429).await;
    // Another user, or another channel, has its own budget.
    ok(app.post(&path, body("bob")).await).await;
    ok(app
        .post(&format!("/v1/channels/{other}/keystrokes"), body("jane"))
        .await)
    .await;
    tokio::time::sleep(hubbub_core::engine::KEYSTROKES_INTERVAL).await;
    ok(app.post(&path, body("jane")).await).await;
}

#[tokio::test]
async fn bad_keystrokes_are_clear_errors() {
    let app = spawn_app().await;
    app.create_user("jane").await;
    app.create_user("owner").await;
    let cid = id(&app.create_channel("room").await);
    let private = id(&ok(app
        .post(
            "/v1/channels",
            json!({"type": "PRIVATE", "name": "secret", "creator": {"username": "owner"}}),
        )
        .await)
    .await);
    let path = format!("/v1/channels/{cid}/keystrokes");
    api_error(app.post(&path, json!({"keys": "x"})).await, 400).await;
    api_error(
        app.post(&path, json!({"user": {"username": "jane"}})).await,
        400,
    )
    .await;
    api_error(
        app.post(&path, json!({"keys": "x", "user": {"username": "nobody"}}))
            .await,
        400,
    )
    .await;
    api_error(
        app.post(&path, json!({"keys": 5, "user": {"username": "jane"}}))
            .await,
        400,
    )
    .await;
    api_error(
        app.post(
            &path,
            json!({"keys": "x".repeat(5000), "user": {"username": "jane"}}),
        )
        .await,
        400,
    )
    .await;
    api_error(
        app.post(
            "/v1/channels/999999/keystrokes",
            json!({"keys": "x", "user": {"username": "jane"}}),
        )
        .await,
        404,
    )
    .await;
    api_error(
        app.post(
            "/v1/threads/999999/keystrokes",
            json!({"keys": "x", "user": {"username": "jane"}}),
        )
        .await,
        404,
    )
    .await;
    api_error(
        app.post(
            &format!("/v1/channels/{private}/keystrokes"),
            json!({"keys": "x", "user": {"username": "jane"}}),
        )
        .await,
        403,
    )
    .await;
    let other = app
        .other(reqwest::Method::POST, &path)
        .json(&json!({"keys": "x", "user": {"username": "jane"}}))
        .send()
        .await
        .unwrap();
    api_error(other, 404).await;
}
