//! User sessions, chat sessions, participants and `presence.online`, as connected
//! realtime clients make them.

use crate::helpers::{RtApp, WAIT, id, spawn_app};
use serde_json::Value;
use std::time::Duration;

async fn get(app: &RtApp, path: &str) -> Value {
    let response = app
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "GET {path}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

/// Polls `path` until `check` holds (sessions are written in the background).
async fn until(app: &RtApp, path: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let body = get(app, path).await;
        if check(&body) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn items<'a>(page: &'a Value, rel: &str) -> Vec<&'a Value> {
    page["_embedded"][rel]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn connections_make_sessions_participants_and_online_users() {
    let mut app = spawn_app().await;
    let jane = app.user("jane").await;
    app.user("bob").await;
    let channel = app.channel("PUBLIC", "lobby", &[]).await;
    let cid = id(&channel);
    let user_path = format!("/v1/users/{}", id(&jane));
    assert_eq!(get(&app, &user_path).await["presence"]["online"], false);

    let mut client = app.client("jane").await;
    let online = get(&app, &user_path).await;
    assert_eq!(online["presence"]["online"], true, "online once connected");
    let active = until(
        &app,
        "/v1/user-sessions?state=ACTIVE",
        "a user session",
        |p| p["page"]["total_elements"] == 1,
    )
    .await;
    let session = items(&active, "sessions")[0].clone();
    assert_eq!(session["state"], "ACTIVE");
    assert_eq!(session["user"]["name"], "jane");
    assert_eq!(session["user"]["presence"]["online"], true);
    assert_eq!(session["user_agent"], "test");
    assert!(session.get("end_time").is_none());

    client.subscribe("lobby").await;
    let participants = get(&app, &format!("/v1/channels/{cid}/participants")).await;
    let people = items(&participants, "users");
    assert_eq!(people.len(), 1);
    assert_eq!(people[0]["name"], "jane");
    assert_eq!(people[0]["presence"]["online"], true);
    let chats = until(
        &app,
        "/v1/chat-sessions?state=ACTIVE",
        "a chat session",
        |p| p["page"]["total_elements"] == 1,
    )
    .await;
    let chat = items(&chats, "sessions")[0].clone();
    assert_eq!(chat["state"], "ACTIVE");
    assert_eq!(chat["channel_id"], cid);
    assert_eq!(chat["session"]["id"], session["id"]);
    assert_eq!(chat["session"]["user"]["name"], "jane");

    // Leaving the channel ends its chat session; the user session goes on.
    client
        .call(serde_json::json!({"unsubscribe": {"channel": "lobby"}}))
        .await;
    until(
        &app,
        "/v1/chat-sessions?state=ENDED",
        "the chat session to end",
        |p| p["page"]["total_elements"] == 1,
    )
    .await;
    let participants = get(&app, &format!("/v1/channels/{cid}/participants")).await;
    assert_eq!(participants["page"]["total_elements"], 0);

    // Disconnecting ends the user session and the user is offline.
    client.subscribe("lobby").await;
    drop(client);
    let ended = until(
        &app,
        "/v1/user-sessions?state=ENDED",
        "the user session to end",
        |p| p["page"]["total_elements"] == 1,
    )
    .await;
    let ended = items(&ended, "sessions")[0].clone();
    assert_eq!(ended["id"], session["id"]);
    assert_eq!(ended["state"], "ENDED");
    assert!(ended["end_time"].is_string());
    let chats = until(
        &app,
        "/v1/chat-sessions?state=ENDED",
        "every chat session to end",
        |p| p["page"]["total_elements"] == 2,
    )
    .await;
    assert_eq!(chats["page"]["total_elements"], 2);
    assert_eq!(get(&app, &user_path).await["presence"]["online"], false);
    let all = get(&app, "/v1/user-sessions").await;
    assert_eq!(all["page"]["total_elements"], 1);
    app.stop().await;
}

#[tokio::test]
async fn anonymous_viewers_are_neither_sessions_nor_participants() {
    let mut app = spawn_app().await;
    app.user("jane").await;
    app.user("zed").await;
    let cid = id(&app.channel("PUBLIC", "stage", &[]).await);
    let mut viewer = app.client("").await;
    viewer.subscribe("stage").await;
    let mut jane = app.client("jane").await;
    jane.subscribe("stage").await;
    let mut zed = app.client("zed").await;
    zed.subscribe("stage").await;
    let participants = get(
        &app,
        &format!("/v1/channels/{cid}/participants?sort=name,desc"),
    )
    .await;
    assert_eq!(participants["page"]["total_elements"], 2);
    let names: Vec<_> = items(&participants, "users")
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, vec!["zed", "jane"]);
    let paged = get(
        &app,
        &format!("/v1/channels/{cid}/participants?size=1&page=1"),
    )
    .await;
    assert_eq!(items(&paged, "users")[0]["name"], "zed");
    assert_eq!(paged["page"]["total_pages"], 2);
    until(
        &app,
        "/v1/chat-sessions?state=ACTIVE",
        "two chat sessions",
        |p| p["page"]["total_elements"] == 2,
    )
    .await;
    let sessions = get(&app, "/v1/user-sessions").await;
    assert_eq!(
        sessions["page"]["total_elements"], 2,
        "no session for the viewer"
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_session_and_participant_requests_are_clear_errors() {
    let app = spawn_app().await;
    for path in [
        "/v1/user-sessions?state=SLEEPING",
        "/v1/chat-sessions?state=",
        "/v1/user-sessions?sort=name",
        "/v1/channels/1/participants?sort=id",
    ] {
        let response = app
            .http
            .get(format!("{}{path}", app.base))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{path}");
    }
    let response = app
        .http
        .get(format!("{}/v1/channels/999999/participants", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}
