//! Reply threads: `/threads/{id}`, thread messages and replies, and the thread
//! `DELETE /messages/{id}` answers.

use crate::helpers::{api_error, id, ok, spawn_app};
use serde_json::json;

#[tokio::test]
async fn a_channel_has_a_main_thread_and_each_message_a_reply_thread() {
    let app = spawn_app().await;
    app.create_user("jane").await;
    app.create_user("bob").await;
    let channel = app.create_channel("general").await;
    let cid = id(&channel);
    let parent = app.send_text(cid, Some("jane"), "what do you think?").await;
    let pid = id(&parent);
    assert_eq!(parent["replies_count"], 0);
    assert!(
        parent["_links"]["replies"]["href"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/threads/{pid}"))
    );
    assert!(
        parent["_links"]["thread"]["href"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/threads/-{cid}"))
    );

    let main = ok(app.get(&format!("/v1/threads/-{cid}")).await).await;
    assert_eq!(main["type"], "MAIN");
    assert_eq!(main["id"], -cid);
    assert_eq!(main["created_time"], channel["created_time"]);
    assert_eq!(main["channel_id"], cid);
    assert_eq!(main["properties"], json!({}));
    let thread = ok(app.get(&format!("/v1/threads/{pid}")).await).await;
    assert_eq!(thread["type"], "MESSAGE");
    assert_eq!(thread["id"], pid);
    assert_eq!(thread["message_id"], pid);
    assert_eq!(thread["created_time"], parent["created_time"]);

    // Replies are messages of the channel, one level deeper.
    let reply = ok(app
        .post(
            &format!("/v1/threads/{pid}/messages"),
            json!({"type": "TEXT", "body": "I agree", "user": {"username": "bob"}}),
        )
        .await)
    .await;
    assert_eq!(reply["nested_level"], 1);
    assert_eq!(reply["parent_id"], pid);
    assert_eq!(reply["channel_id"], cid);
    assert_eq!(reply["seq"], parent["seq"].as_i64().unwrap() + 1);
    let deeper = ok(app
        .post(
            &format!("/threads/{}/messages", id(&reply)),
            json!({"type": "TEXT", "body": "me too"}),
        )
        .await)
    .await;
    assert_eq!(deeper["type"], "SYSTEM_TEXT");
    assert_eq!(deeper["nested_level"], 2);
    let stored = ok(app.get(&format!("/v1/messages/{pid}")).await).await;
    assert_eq!(stored["replies_count"], 1, "direct replies only");

    // The replies list; the main thread lists top-level messages only.
    let replies = ok(app.get(&format!("/v1/threads/{pid}/messages")).await).await;
    let items = replies["_embedded"]["messages"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], reply["id"]);
    assert_eq!(replies["page"]["total"], 1);
    let top = ok(app.get(&format!("/v1/threads/-{cid}/messages")).await).await;
    let items = top["_embedded"]["messages"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], pid);
    // The channel's history keeps every message.
    let all = ok(app.get(&format!("/v1/channels/{cid}/messages")).await).await;
    assert_eq!(all["page"]["total"], 3);

    // A top-level send through the main thread.
    let top_level = ok(app
        .post(
            &format!("/v1/threads/-{cid}/messages"),
            json!({"type": "TEXT", "body": "new topic", "user": {"username": "jane"}}),
        )
        .await)
    .await;
    assert_eq!(top_level["nested_level"], 0);
    assert!(top_level.get("parent_id").is_none());
}

#[tokio::test]
async fn thread_replies_are_idempotent_and_paged() {
    let app = spawn_app().await;
    app.create_user("jane").await;
    let cid = id(&app.create_channel("room").await);
    let pid = id(&app.send_text(cid, Some("jane"), "parent").await);
    let path = format!("/v1/threads/{pid}/messages");
    let send = |body: &'static str| {
        app.request(reqwest::Method::POST, &path)
            .header("Idempotency-Key", "reply-1")
            .json(&json!({"type": "TEXT", "body": body, "user": {"username": "jane"}}))
            .send()
    };
    let first = ok(send("once").await.unwrap()).await;
    let retry = ok(send("once").await.unwrap()).await;
    assert_eq!(first["id"], retry["id"]);
    let parent = ok(app.get(&format!("/v1/messages/{pid}")).await).await;
    assert_eq!(parent["replies_count"], 1, "a retried reply counts once");
    for i in 0..4 {
        ok(app
            .post(&path, json!({"type": "TEXT", "body": format!("r{i}")}))
            .await)
        .await;
    }
    let page = ok(app.get(&format!("{path}?size=2")).await).await;
    assert_eq!(page["page"]["total"], 5);
    let next = page["_links"]["next"]["href"].as_str().unwrap().to_owned();
    assert!(
        next.contains(&format!("/v1/threads/{pid}/messages?")),
        "{next}"
    );
    let rest = ok(app
        .client
        .get(&next)
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(rest["_embedded"]["messages"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn delete_message_answers_the_thread_it_was_in() {
    let app = spawn_app().await;
    let channel = app.create_channel("room").await;
    let cid = id(&channel);
    let parent = app.send_text(cid, None, "parent").await;
    let pid = id(&parent);
    let reply = ok(app
        .post(
            &format!("/v1/threads/{pid}/messages"),
            json!({"type": "TEXT", "body": "reply"}),
        )
        .await)
    .await;
    let thread = ok(app.delete(&format!("/v1/messages/{}", id(&reply))).await).await;
    assert_eq!(thread["type"], "MESSAGE");
    assert_eq!(thread["id"], pid);
    assert_eq!(thread["created_time"], parent["created_time"]);
    let parent_now = ok(app.get(&format!("/v1/messages/{pid}")).await).await;
    assert_eq!(
        parent_now["replies_count"], 0,
        "the deleted reply no longer counts"
    );
    let thread = ok(app.delete(&format!("/v1/messages/{pid}")).await).await;
    assert_eq!(thread["type"], "MAIN");
    assert_eq!(thread["id"], -cid);
    assert_eq!(thread["created_time"], channel["created_time"]);
}

#[tokio::test]
async fn bad_thread_requests_are_clear_errors() {
    let app = spawn_app().await;
    let cid = id(&app.create_channel("room").await);
    let pid = id(&app.send_text(cid, None, "parent").await);
    for path in ["/v1/threads/0", "/v1/threads/999999", "/v1/threads/-999999"] {
        api_error(app.get(path).await, 404).await;
    }
    api_error(app.get("/v1/threads/abc").await, 400).await;
    api_error(app.get("/v1/threads/999999/messages").await, 404).await;
    let path = format!("/v1/threads/{pid}/messages");
    api_error(app.post(&path, json!({"type": "TEXT"})).await, 400).await;
    api_error(
        app.post(
            &path,
            json!({"type": "TEXT", "body": "x", "user": {"username": "nobody"}}),
        )
        .await,
        400,
    )
    .await;
    api_error(
        app.post(
            "/v1/threads/999999/messages",
            json!({"type": "TEXT", "body": "x"}),
        )
        .await,
        404,
    )
    .await;
    // Replies nest at most 8 levels deep.
    let mut at = pid;
    for _ in 0..8 {
        at = id(&ok(app
            .post(
                &format!("/v1/threads/{at}/messages"),
                json!({"type": "TEXT", "body": "deeper"}),
            )
            .await)
        .await);
    }
    let too_deep = api_error(
        app.post(
            &format!("/v1/threads/{at}/messages"),
            json!({"type": "TEXT", "body": "too deep"}),
        )
        .await,
        400,
    )
    .await;
    assert!(too_deep["message"].as_str().unwrap().contains("8 levels"));
    // Another application's threads do not exist for this one.
    let other = app
        .other(reqwest::Method::GET, &format!("/v1/threads/{pid}"))
        .send()
        .await
        .unwrap();
    api_error(other, 404).await;
    let other = app
        .other(
            reqwest::Method::GET,
            &format!("/v1/threads/-{cid}/messages"),
        )
        .send()
        .await
        .unwrap();
    api_error(other, 404).await;
    let other = app
        .other(reqwest::Method::POST, &path)
        .json(&json!({"type": "TEXT", "body": "intruder"}))
        .send()
        .await
        .unwrap();
    api_error(other, 404).await;
    let parent = ok(app.get(&format!("/v1/messages/{pid}")).await).await;
    assert_eq!(parent["replies_count"], 1, "nothing changed");
}
