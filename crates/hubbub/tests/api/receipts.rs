//! Read state: the hubbub `POST /v1/channels/{id}/read` extension, per-message read
//! receipts, read-receipt summaries, and the users API's unread filter and count.

use crate::helpers::{api_error, id, ok, spawn_app};
use serde_json::json;

#[tokio::test]
async fn reading_moves_marks_receipts_summaries_and_unread_counts() {
    let app = spawn_app().await;
    let jane = app.create_user("jane").await;
    let bob = app.create_user("bob").await;
    let channel = ok(app
        .post(
            "/v1/channels",
            json!({"type": "PUBLIC", "name": "room", "members": [{"username": "jane"}, {"username": "bob"}]}),
        )
        .await)
    .await;
    let cid = id(&channel);
    let m1 = app.send_text(cid, Some("bob"), "one").await;
    let m2 = app.send_text(cid, Some("bob"), "two").await;
    let (jid, bid) = (id(&jane), id(&bob));
    let count = ok(app
        .get(&format!("/v1/users/{jid}/messages/unread/count"))
        .await)
    .await;
    assert_eq!(count["count"], 2);
    let with_unread = ok(app.get("/v1/users?unread=true").await).await;
    assert_eq!(with_unread["_embedded"]["users"][0]["name"], "jane");
    assert_eq!(with_unread["page"]["total_elements"], 1);

    let summaries = ok(app
        .get("/v1/application/message-read-receipt-summaries")
        .await)
    .await;
    let items = summaries["_embedded"]["summaries"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["count"], 2);
    assert_eq!(items[0]["user"]["name"], "jane");
    assert_eq!(items[0]["channel"]["id"], cid);

    let mark = ok(app
        .post(
            &format!("/v1/channels/{cid}/read"),
            json!({"user": {"username": "jane"}, "message_id": id(&m1)}),
        )
        .await)
    .await;
    assert_eq!(mark["last_read_seq"], m1["seq"]);
    assert_eq!(mark["user_id"], jid);
    let count = ok(app
        .get(&format!("/v1/users/{jid}/messages/unread/count"))
        .await)
    .await;
    assert_eq!(count["count"], 1);
    let receipts = ok(app
        .get(&format!("/v1/messages/{}/read-receipts", id(&m1)))
        .await)
    .await;
    let items = receipts["_embedded"]["receipts"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["user"]["name"], "jane");
    assert_eq!(items[0]["created_time"], mark["created_time"]);
    let none = ok(app
        .get(&format!("/v1/messages/{}/read-receipts", id(&m2)))
        .await)
    .await;
    assert_eq!(none["page"]["total_elements"], 0);

    // Without message_id: up to the newest message. Never backwards.
    let mark = ok(app
        .post(
            &format!("/channels/{cid}/read"),
            json!({"user": {"id": jid}}),
        )
        .await)
    .await;
    assert_eq!(mark["last_read_seq"], m2["seq"]);
    let back = ok(app
        .post(
            &format!("/v1/channels/{cid}/read"),
            json!({"user": {"id": jid}, "message_id": id(&m1)}),
        )
        .await)
    .await;
    assert_eq!(back["last_read_seq"], m2["seq"]);
    let count = ok(app
        .get(&format!("/v1/users/{jid}/messages/unread/count"))
        .await)
    .await;
    assert_eq!(count["count"], 0);
    let unread = ok(app
        .get(&format!("/v1/users/{jid}/messages?unread=true"))
        .await)
    .await;
    assert_eq!(unread["page"]["total"], 0);
    let summaries = ok(app
        .get("/v1/application/message-read-receipt-summaries")
        .await)
    .await;
    assert_eq!(summaries["page"]["total_elements"], 0);
    assert!(summaries.get("_embedded").is_none());
    let with_unread = ok(app.get("/v1/users?unread=true").await).await;
    assert_eq!(with_unread["page"]["total_elements"], 0);

    // Bob's own messages are not unread for him; jane's reply is.
    app.send_text(cid, Some("jane"), "three").await;
    let count = ok(app
        .get(&format!("/v1/users/{bid}/messages/unread/count"))
        .await)
    .await;
    assert_eq!(count["count"], 1);
    let receipts = ok(app
        .get(&format!("/v1/messages/{}/read-receipts", id(&m2)))
        .await)
    .await;
    assert_eq!(receipts["page"]["total_elements"], 1);
}

#[tokio::test]
async fn bad_read_requests_are_clear_errors() {
    let app = spawn_app().await;
    app.create_user("jane").await;
    app.create_user("owner").await;
    let cid = id(&app.create_channel("room").await);
    let other_channel = id(&app.create_channel("other").await);
    let elsewhere = app.send_text(other_channel, None, "elsewhere").await;
    let private = id(&ok(app
        .post(
            "/v1/channels",
            json!({"type": "PRIVATE", "name": "secret", "creator": {"username": "owner"}}),
        )
        .await)
    .await);
    let path = format!("/v1/channels/{cid}/read");
    api_error(app.post(&path, json!({})).await, 400).await;
    api_error(
        app.post(&path, json!({"user": {"username": "nobody"}}))
            .await,
        400,
    )
    .await;
    api_error(
        app.post(
            &path,
            json!({"user": {"username": "jane"}, "message_id": "x"}),
        )
        .await,
        400,
    )
    .await;
    api_error(
        app.post(
            &path,
            json!({"user": {"username": "jane"}, "message_id": id(&elsewhere)}),
        )
        .await,
        400,
    )
    .await;
    api_error(
        app.post(
            &format!("/v1/channels/{private}/read"),
            json!({"user": {"username": "jane"}}),
        )
        .await,
        403,
    )
    .await;
    api_error(
        app.post(
            "/v1/channels/999999/read",
            json!({"user": {"username": "jane"}}),
        )
        .await,
        404,
    )
    .await;
    api_error(app.get("/v1/messages/999999/read-receipts").await, 404).await;
    api_error(
        app.get("/v1/application/message-read-receipt-summaries?size=0")
            .await,
        400,
    )
    .await;
    let other = app
        .other(
            reqwest::Method::GET,
            &format!("/v1/messages/{}/read-receipts", id(&elsewhere)),
        )
        .send()
        .await
        .unwrap();
    api_error(other, 404).await;
    let other = app
        .other(reqwest::Method::POST, &path)
        .json(&json!({"user": {"username": "jane"}}))
        .send()
        .await
        .unwrap();
    api_error(other, 404).await;
}
