use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn text_file_and_system_messages_are_sent_with_seqs() {
    let app = spawn_app().await;
    app.create_user("alice").await;
    let c = id(&app.create_channel("room").await);
    let system = ok(app
        .post(
            &format!("/v1/channels/{c}/messages"),
            json!({"type": "TEXT", "body": "welcome"}),
        )
        .await)
    .await;
    assert_eq!(system["type"], "SYSTEM_TEXT");
    assert!(system.get("user").is_none());
    assert_eq!(system["seq"], 1);
    assert_eq!(system["nested_level"], 0);
    let text = ok(app
        .post(&format!("/v1/channels/{c}/messages"), json!({"type": "TEXT", "body": "hi", "user": {"username": "alice"}, "group_tag": "g1", "properties": {"k": "v"}}))
        .await)
    .await;
    assert_eq!(text["type"], "TEXT");
    assert_eq!(text["user"]["name"], "alice");
    assert_eq!(text["channel_id"], c);
    assert_eq!(text["group_tag"], "g1");
    assert_eq!(text["properties"], json!({"k": "v"}));
    assert_eq!(text["seq"], 2);
    let file = ok(app
        .post(&format!("/v1/channels/{c}/messages"), json!({"type": "FILE", "file": {"url": "https://cdn.example/a.pdf", "name": "a.pdf", "contentType": "application/pdf", "size": 1234}, "user": {"username": "alice"}}))
        .await)
    .await;
    assert_eq!(file["type"], "FILE");
    assert_eq!(
        file["file"],
        json!({"type": "EXTERNAL", "url": "https://cdn.example/a.pdf", "name": "a.pdf", "content_type": "application/pdf", "size": 1234})
    );
    assert!(file.get("body").is_none());

    let channel = ok(app.get(&format!("/v1/channels/{c}")).await).await;
    assert_eq!(channel["last_seq"], 3);
    assert_eq!(channel["last_received_message"]["id"], file["id"]);

    api_error(
        app.post(
            &format!("/v1/channels/{c}/messages"),
            json!({"type": "TEXT"}),
        )
        .await,
        400,
    )
    .await;
    api_error(
        app.post(
            &format!("/v1/channels/{c}/messages"),
            json!({"type": "TEXT", "body": "   "}),
        )
        .await,
        400,
    )
    .await;
    api_error(
        app.post(
            &format!("/v1/channels/{c}/messages"),
            json!({"type": "VIDEO", "body": "x"}),
        )
        .await,
        400,
    )
    .await;
    api_error(
        app.post(
            &format!("/v1/channels/{c}/messages"),
            json!({"type": "TEXT", "body": "x", "user": {"username": "ghost"}}),
        )
        .await,
        400,
    )
    .await;
    api_error(
        app.post(
            "/v1/channels/999999/messages",
            json!({"type": "TEXT", "body": "x"}),
        )
        .await,
        404,
    )
    .await;
    assert_eq!(
        ok(app.get(&format!("/v1/channels/{c}")).await).await["last_seq"],
        3,
        "refused sends store nothing"
    );
}

#[tokio::test]
async fn cursor_pages_walk_every_message_once_newest_first() {
    let app = spawn_app().await;
    let c = id(&app.create_channel("room").await);
    let mut sent = Vec::new();
    for i in 0..7 {
        sent.push(id(&app.send_text(c, None, &format!("m{i}")).await));
    }
    let mut seen = Vec::new();
    let mut url = format!("{}/v1/channels/{c}/messages?size=3", app.base);
    loop {
        let page: Value = ok(app
            .client
            .get(&url)
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap())
        .await;
        assert_eq!(page["page"]["total"], 7);
        for m in page["_embedded"]["messages"].as_array().unwrap() {
            seen.push(m["id"].as_i64().unwrap());
        }
        match page["_links"]["next"]["href"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    let mut expected = sent.clone();
    expected.reverse();
    assert_eq!(seen, expected);

    // PREVIOUS goes back towards newer messages.
    let older = ok(app
        .get(&format!(
            "/v1/channels/{c}/messages?size=2&next={}&relation=NEXT",
            sent[4]
        ))
        .await)
    .await;
    let ids: Vec<i64> = older["_embedded"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [sent[3], sent[2]]);
    let newer = ok(app
        .get(&format!(
            "/v1/channels/{c}/messages?size=2&next={}&relation=PREVIOUS",
            sent[2]
        ))
        .await)
    .await;
    let ids: Vec<i64> = newer["_embedded"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [sent[4], sent[3]]);
    api_error(
        app.get(&format!("/v1/channels/{c}/messages?relation=SIDEWAYS"))
            .await,
        400,
    )
    .await;
}

#[tokio::test]
async fn messages_are_filtered_edited_and_deleted() {
    let app = spawn_app().await;
    app.create_user("alice").await;
    app.create_user("bob").await;
    let c = id(&app.create_channel("room").await);
    let a = app.send_text(c, Some("alice"), "Hello World").await;
    app.send_text(c, Some("bob"), "100% sure").await;
    app.send_text(c, Some("bob"), "hello again").await;

    let by_alice = ok(app
        .get(&format!("/v1/channels/{c}/messages?username=alice"))
        .await)
    .await;
    assert_eq!(by_alice["page"]["total"], 1);
    let hello = ok(app.get("/v1/messages?query=HELLO").await).await;
    assert_eq!(hello["page"]["total"], 2);
    let percent = ok(app.get("/v1/messages?query=%25").await).await;
    assert_eq!(percent["page"]["total"], 1, "% is matched literally");
    let nobody = ok(app.get("/v1/messages?username=ghost").await).await;
    assert_eq!(nobody["page"]["total"], 0);

    let m = id(&a);
    assert!(a["last_edited_time"].is_null());
    let edited = ok(app
        .patch(
            &format!("/v1/messages/{m}"),
            json!({"body": "Hello, World!", "properties": {"edited": true}}),
        )
        .await)
    .await;
    assert_eq!(edited["body"], "Hello, World!");
    assert!(edited["last_edited_time"].is_string());
    api_error(
        app.patch(&format!("/v1/messages/{m}"), json!({"channel_id": 1}))
            .await,
        400,
    )
    .await;
    api_error(
        app.patch(&format!("/v1/messages/{m}"), json!({"body": ""}))
            .await,
        400,
    )
    .await;

    let thread = ok(app.delete(&format!("/v1/messages/{m}")).await).await;
    assert_eq!(thread["type"], "MAIN");
    api_error(app.get(&format!("/v1/messages/{m}")).await, 404).await;
    let all = ok(app.delete("/v1/messages").await).await;
    assert_eq!(all["key"], app.client_id.as_str());
    let empty = ok(app.get("/v1/messages").await).await;
    assert_eq!(empty["page"]["total"], 0);
    // Seqs are never reused after deletes.
    assert_eq!(app.send_text(c, None, "after").await["seq"], 4);
}

#[tokio::test]
async fn retried_sends_return_the_original_message_once() {
    let app = spawn_app().await;
    app.create_user("alice").await;
    let c = id(&app.create_channel("room").await);
    let path = format!("/v1/channels/{c}/messages");
    let send = |key: &'static str| {
        app.request(Method::POST, &path)
            .header("Idempotency-Key", key)
            .json(&json!({"type": "TEXT", "body": "once", "user": {"username": "alice"}}))
            .send()
    };
    // Concurrent retries of the same key.
    let responses = futures::future::join_all((0..8).map(|_| send("key-1"))).await;
    let mut ids = Vec::new();
    for r in responses {
        ids.push(id(&ok(r.unwrap()).await));
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    // A later retry, and the body form of the key.
    assert_eq!(id(&ok(send("key-1").await.unwrap()).await), ids[0]);
    let body_key = ok(app.post(&path, json!({"type": "TEXT", "body": "once", "user": {"username": "alice"}, "idempotency_key": "key-1"})).await).await;
    assert_eq!(id(&body_key), ids[0]);
    // Another key is another message.
    assert_ne!(id(&ok(send("key-2").await.unwrap()).await), ids[0]);
    let page = ok(app.get(&path).await).await;
    assert_eq!(page["page"]["total"], 2);
    let mismatch = app
        .request(Method::POST, &path)
        .header("Idempotency-Key", "a")
        .json(&json!({"type": "TEXT", "body": "x", "idempotency_key": "b"}))
        .send()
        .await
        .unwrap();
    api_error(mismatch, 400).await;
}

#[tokio::test]
async fn unread_counts_follow_membership() {
    let app = spawn_app().await;
    let bob = app.create_user("bob").await;
    app.create_user("alice").await;
    let c = id(&ok(app.post("/v1/channels", json!({"type": "PRIVATE", "name": "p", "members": [{"username": "bob"}, {"username": "alice"}]})).await).await);
    app.send_text(c, Some("alice"), "one").await;
    app.send_text(c, Some("alice"), "two").await;
    app.send_text(c, Some("bob"), "mine").await;
    let count = ok(app
        .get(&format!("/v1/users/{}/messages/unread/count", id(&bob)))
        .await)
    .await;
    assert_eq!(count, json!({"count": 2}));
    let unread = ok(app
        .get(&format!("/v1/users/{}/messages?unread=true", id(&bob)))
        .await)
    .await;
    assert_eq!(unread["page"]["total"], 2);
    let all = ok(app.get(&format!("/v1/users/{}/messages", id(&bob))).await).await;
    assert_eq!(all["page"]["total"], 3);
}
