//! Mentions parsed from message text, and the notifications messages cause.

use crate::helpers::{api_error, id, ok, spawn_app};
use serde_json::{Value, json};

fn notifications(page: &Value) -> Vec<Value> {
    page["_embedded"]["notifications"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn mentions_are_parsed_stored_and_returned() {
    let app = spawn_app().await;
    let jane = app.create_user("jane").await;
    app.create_user("bob@example.com").await;
    let cid = id(&app.create_channel("general").await);
    let sent = app
        .send_text(
            cid,
            Some("bob@example.com"),
            "héllo @jane, see #general and @nobody; mail me at x@jane (@bob@example.com)",
        )
        .await;
    let mentions = sent["mentions"].as_array().unwrap();
    assert_eq!(mentions.len(), 3, "{mentions:?}");
    assert_eq!(mentions[0]["type"], "USER");
    assert_eq!(mentions[0]["tag"], "@jane");
    assert_eq!(mentions[0]["start_position"], 6);
    assert_eq!(mentions[0]["end_position"], 11);
    assert_eq!(mentions[0]["user"]["id"], jane["id"]);
    assert_eq!(mentions[0]["user"]["name"], "jane");
    assert_eq!(mentions[1]["type"], "CHANNEL");
    assert_eq!(mentions[1]["tag"], "#general");
    assert_eq!(mentions[1]["channel"]["id"], cid);
    assert_eq!(mentions[1]["channel"]["type"], "PUBLIC");
    assert_eq!(mentions[2]["tag"], "@bob@example.com");
    let stored = ok(app.get(&format!("/v1/messages/{}", id(&sent))).await).await;
    assert_eq!(stored["mentions"], sent["mentions"]);
    let listed = ok(app.get(&format!("/v1/channels/{cid}/messages")).await).await;
    assert_eq!(
        listed["_embedded"]["messages"][0]["mentions"],
        sent["mentions"]
    );
}

#[tokio::test]
async fn messages_notify_mentioned_replied_to_and_member_users() {
    let app = spawn_app().await;
    let jane = app.create_user("jane").await;
    let bob = app.create_user("bob").await;
    app.create_user("carol").await;
    let (jid, bid) = (id(&jane), id(&bob));
    let channel = ok(app
        .post(
            "/v1/channels",
            json!({"type": "PRIVATE", "name": "team", "members": [{"username": "jane"}, {"username": "bob"}]}),
        )
        .await)
    .await;
    let cid = id(&channel);

    // A mention (carol is not a member of this private channel: not notified).
    let mention = app
        .send_text(cid, Some("bob"), "@jane and @carol, look")
        .await;
    let page = ok(app.get(&format!("/v1/users/{jid}/notifications")).await).await;
    let items = notifications(&page);
    assert_eq!(items.len(), 1);
    let n = &items[0];
    assert_eq!(n["title"], "bob mentioned you");
    assert_eq!(n["body"], "@jane and @carol, look");
    assert_eq!(n["muted"], false);
    assert!(n["created_time"].is_string());
    assert!(n.get("read_time").is_none());
    assert_eq!(n["channel"]["id"], cid);
    assert_eq!(n["data"]["type"], "chat_user:mentioned:chat_user");
    assert_eq!(n["data"]["channel_id"], cid);
    assert_eq!(n["data"]["mentioned_user"]["id"], jid);
    assert_eq!(n["data"]["message"]["id"], mention["id"]);
    let carol = ok(app.get("/v1/users?name=carol").await).await;
    let carol_id = id(&carol["_embedded"]["users"][0]);
    let none = ok(app
        .get(&format!("/v1/users/{carol_id}/notifications"))
        .await)
    .await;
    assert_eq!(none["page"]["total"], 0);

    // A reply to jane's message notifies jane (once, even when it mentions her too).
    let hers = app.send_text(cid, Some("jane"), "question").await;
    let reply = ok(app
        .post(
            &format!("/v1/threads/{}/messages", id(&hers)),
            json!({"type": "TEXT", "body": "answer @jane", "user": {"username": "bob"}}),
        )
        .await)
    .await;
    let page = ok(app.get(&format!("/v1/users/{jid}/notifications")).await).await;
    assert_eq!(page["page"]["total"], 2);
    let newest = &notifications(&page)[0];
    assert_eq!(newest["data"]["type"], "chat_user:mentioned:chat_user");
    assert_eq!(newest["data"]["message"]["id"], reply["id"]);

    let plain_reply = ok(app
        .post(
            &format!("/v1/threads/{}/messages", id(&hers)),
            json!({"type": "TEXT", "body": "another answer", "user": {"username": "bob"}}),
        )
        .await)
    .await;
    let page = ok(app
        .get(&format!("/v1/users/{jid}/notifications?size=1"))
        .await)
    .await;
    let newest = &notifications(&page)[0];
    assert_eq!(newest["title"], "bob replied to your message");
    assert_eq!(
        newest["data"]["type"],
        "chat_user:replied_to:chat_user_message"
    );
    assert_eq!(newest["data"]["message"]["id"], plain_reply["id"]);
    assert_eq!(newest["data"]["parent"]["id"], hers["id"]);
    assert!(page["_links"]["next"]["href"].is_string(), "{page}");

    // A system message notifies every member; the author of a message never.
    let system = app.send_text(cid, None, "maintenance tonight").await;
    for user in [jid, bid] {
        let page = ok(app
            .get(&format!("/v1/users/{user}/notifications?size=1"))
            .await)
        .await;
        let newest = &notifications(&page)[0];
        assert_eq!(newest["data"]["type"], "application:sent:system_message");
        assert_eq!(newest["data"]["message"]["id"], system["id"]);
        assert_eq!(newest["data"]["message"]["type"], "SYSTEM_TEXT");
        assert_eq!(newest["title"], "team");
    }
    let bobs = ok(app.get(&format!("/v1/users/{bid}/notifications")).await).await;
    assert_eq!(bobs["page"]["total"], 1, "only the system message");

    // Direct messages notify the other member.
    let direct = ok(app
        .post(
            "/v1/channels",
            json!({"type": "DIRECT", "members": [{"username": "jane"}, {"username": "bob"}]}),
        )
        .await)
    .await;
    let dm = app.send_text(id(&direct), Some("jane"), "psst").await;
    let page = ok(app
        .get(&format!("/v1/users/{bid}/notifications?size=1"))
        .await)
    .await;
    let newest = &notifications(&page)[0];
    assert_eq!(newest["data"]["type"], "chat_user:sent:chat_user_message");
    assert_eq!(newest["data"]["message"]["id"], dm["id"]);
    assert_eq!(newest["title"], "jane sent you a message");

    // Cursor paging: all of jane's notifications, newest first, without overlap.
    let mut seen = Vec::new();
    let mut url = format!("{}/v1/users/{jid}/notifications?size=2", app.base);
    loop {
        let page = ok(app
            .client
            .get(&url)
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap())
        .await;
        seen.extend(
            notifications(&page)
                .iter()
                .map(|n| n["id"].as_i64().unwrap()),
        );
        match page["_links"]["next"]["href"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 4);
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "{seen:?}");

    // Deleting a message deletes the notifications it caused.
    app.delete(&format!("/v1/messages/{}", id(&system))).await;
    let bobs = ok(app.get(&format!("/v1/users/{bid}/notifications")).await).await;
    assert_eq!(bobs["page"]["total"], 1, "the direct message's only");
}

#[tokio::test]
async fn a_retried_send_notifies_once() {
    let app = spawn_app().await;
    let jane = app.create_user("jane").await;
    app.create_user("bob").await;
    let cid = id(&app.create_channel("room").await);
    for _ in 0..3 {
        let sent = app
            .request(
                reqwest::Method::POST,
                &format!("/v1/channels/{cid}/messages"),
            )
            .header("Idempotency-Key", "mention-once")
            .json(&json!({"type": "TEXT", "body": "hi @jane", "user": {"username": "bob"}}))
            .send()
            .await
            .unwrap();
        ok(sent).await;
    }
    let page = ok(app
        .get(&format!("/v1/users/{}/notifications", id(&jane)))
        .await)
    .await;
    assert_eq!(page["page"]["total"], 1);
}

#[tokio::test]
async fn bad_notification_requests_are_clear_errors() {
    let app = spawn_app().await;
    let jane = app.create_user("jane").await;
    let path = format!("/v1/users/{}/notifications", id(&jane));
    api_error(app.get("/v1/users/999999/notifications").await, 404).await;
    api_error(app.get(&format!("{path}?size=0")).await, 400).await;
    api_error(app.get(&format!("{path}?relation=SIDEWAYS")).await, 400).await;
    api_error(app.get(&format!("{path}?next=abc")).await, 400).await;
    let other = app.other(reqwest::Method::GET, &path).send().await.unwrap();
    api_error(other, 404).await;
}
