//! Reported messages: the hubbub `POST /v1/messages/{id}/reports` extension and the
//! channel's reported messages list.

use crate::helpers::{api_error, id, ok, spawn_app};
use serde_json::json;

#[tokio::test]
async fn reports_count_and_list_the_reported_messages() {
    let app = spawn_app().await;
    app.create_user("jane").await;
    app.create_user("bob").await;
    let cid = id(&app.create_channel("room").await);
    let bad = app.send_text(cid, Some("bob"), "bad").await;
    let worse = app.send_text(cid, Some("bob"), "worse").await;
    app.send_text(cid, Some("bob"), "fine").await;
    assert_eq!(bad["report_count"], 0);

    let report = ok(app
        .post(
            &format!("/v1/messages/{}/reports", id(&bad)),
            json!({"reason": "spam", "user": {"username": "jane"}}),
        )
        .await)
    .await;
    assert_eq!(report["reason"], "spam");
    assert_eq!(report["message"]["id"], bad["id"]);
    assert_eq!(report["message"]["report_count"], 1);
    assert!(report["user_id"].is_i64());
    let again = ok(app
        .post(
            &format!("/v1/messages/{}/reports", id(&bad)),
            json!({"reason": "still spam", "user": {"username": "jane"}}),
        )
        .await)
    .await;
    assert_eq!(again["id"], report["id"], "a user reports a message once");
    assert_eq!(again["message"]["report_count"], 1);
    let by_app = ok(app
        .post(
            &format!("/messages/{}/reports", id(&bad)),
            json!({"reason": "flagged by a filter"}),
        )
        .await)
    .await;
    assert!(by_app.get("user_id").is_none());
    assert_eq!(by_app["message"]["report_count"], 2);
    ok(app
        .post(
            &format!("/v1/messages/{}/reports", id(&worse)),
            json!({"reason": "rude"}),
        )
        .await)
    .await;

    let listed = ok(app
        .get(&format!("/v1/channels/{cid}/reported-messages"))
        .await)
    .await;
    assert_eq!(listed["page"]["total_elements"], 2);
    let items = listed["_embedded"]["messages"].as_array().unwrap();
    assert_eq!(items[0]["id"], worse["id"], "most recently reported first");
    assert_eq!(items[1]["id"], bad["id"]);
    assert_eq!(items[1]["report_count"], 2);
    let by_id = ok(app
        .get(&format!(
            "/v1/channels/{cid}/reported-messages?sort=id,asc&size=1"
        ))
        .await)
    .await;
    assert_eq!(by_id["_embedded"]["messages"][0]["id"], bad["id"]);
    assert_eq!(by_id["page"]["total_pages"], 2);
    let fetched = ok(app.get(&format!("/v1/messages/{}", id(&bad))).await).await;
    assert_eq!(fetched["report_count"], 2);
}

#[tokio::test]
async fn bad_reports_are_clear_errors() {
    let app = spawn_app().await;
    app.create_user("jane").await;
    let cid = id(&app.create_channel("room").await);
    let m = app.send_text(cid, Some("jane"), "mine").await;
    let path = format!("/v1/messages/{}/reports", id(&m));
    api_error(app.post(&path, json!({})).await, 400).await;
    api_error(app.post(&path, json!({"reason": "   "})).await, 400).await;
    api_error(
        app.post(&path, json!({"reason": "x".repeat(1001)})).await,
        400,
    )
    .await;
    api_error(
        app.post(
            &path,
            json!({"reason": "spam", "user": {"username": "nobody"}}),
        )
        .await,
        400,
    )
    .await;
    api_error(
        app.post(
            &path,
            json!({"reason": "spam", "user": {"username": "jane"}}),
        )
        .await,
        403,
    )
    .await;
    api_error(
        app.post("/v1/messages/999999/reports", json!({"reason": "spam"}))
            .await,
        404,
    )
    .await;
    api_error(app.get("/v1/channels/999999/reported-messages").await, 404).await;
    api_error(
        app.get(&format!("/v1/channels/{cid}/reported-messages?sort=name"))
            .await,
        400,
    )
    .await;
    let other = app
        .other(reqwest::Method::POST, &path)
        .json(&json!({"reason": "spam"}))
        .send()
        .await
        .unwrap();
    api_error(other, 404).await;
    let fetched = ok(app.get(&format!("/v1/messages/{}", id(&m))).await).await;
    assert_eq!(fetched["report_count"], 0, "nothing was reported");
}
