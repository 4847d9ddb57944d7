//! Channel invites.

use crate::helpers::{api_error, id, ok, spawn_app};
use serde_json::json;

#[tokio::test]
async fn invites_are_sent_listed_and_fulfilled_by_membership() {
    let app = spawn_app().await;
    let jane = app.create_user("jane").await;
    app.create_user("bob").await;
    let cid = id(&app.create_channel("room").await);
    let path = format!("/v1/channels/{cid}/invites");
    let invite = ok(app.post(&path, json!({"user": {"username": "jane"}})).await).await;
    assert!(invite["created_time"].is_string());
    assert_eq!(invite["user"]["name"], "jane");
    assert_eq!(invite["channel_id"], cid);
    let again = ok(app.post(&path, json!({"user": {"id": id(&jane)}})).await).await;
    assert_eq!(
        again["created_time"], invite["created_time"],
        "the same invite"
    );
    ok(app.post(&path, json!({"user": {"username": "bob"}})).await).await;
    let listed = ok(app.get(&path).await).await;
    assert_eq!(listed["page"]["total_elements"], 2);
    let names: Vec<_> = listed["_embedded"]["invites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["user"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, vec!["jane", "bob"]);
    let sorted = ok(app.get(&format!("{path}?sort=name,asc&size=1")).await).await;
    assert_eq!(sorted["_embedded"]["invites"][0]["user"]["name"], "bob");
    assert_eq!(sorted["page"]["total_pages"], 2);

    ok(app
        .post(
            &format!("/v1/channels/{cid}/members"),
            json!({"username": "jane"}),
        )
        .await)
    .await;
    let listed = ok(app.get(&path).await).await;
    assert_eq!(listed["page"]["total_elements"], 1, "jane joined");
    let member = api_error(
        app.post(&path, json!({"user": {"username": "jane"}})).await,
        409,
    )
    .await;
    assert!(
        member["message"]
            .as_str()
            .unwrap()
            .contains("already a member")
    );
}

#[tokio::test]
async fn bad_invites_are_clear_errors() {
    let app = spawn_app().await;
    app.create_user("jane").await;
    app.create_user("bob").await;
    let cid = id(&app.create_channel("room").await);
    let direct = id(&ok(app
        .post(
            "/v1/channels",
            json!({"type": "DIRECT", "members": [{"username": "jane"}, {"username": "bob"}]}),
        )
        .await)
    .await);
    let path = format!("/v1/channels/{cid}/invites");
    api_error(
        app.post(&path, json!({"user": {"username": "nobody"}}))
            .await,
        404,
    )
    .await;
    api_error(app.post(&path, json!({})).await, 400).await;
    api_error(app.post(&path, json!({"user": {}})).await, 400).await;
    api_error(
        app.post(&path, json!({"user": {"username": "jane"}, "extra": 1}))
            .await,
        400,
    )
    .await;
    api_error(
        app.post(
            &format!("/v1/channels/{direct}/invites"),
            json!({"user": {"username": "jane"}}),
        )
        .await,
        400,
    )
    .await;
    api_error(
        app.post(
            "/v1/channels/999999/invites",
            json!({"user": {"username": "jane"}}),
        )
        .await,
        404,
    )
    .await;
    api_error(app.get("/v1/channels/999999/invites").await, 404).await;
    api_error(app.get(&format!("{path}?sort=password")).await, 400).await;
    let other = app
        .other(reqwest::Method::POST, &path)
        .json(&json!({"user": {"username": "jane"}}))
        .send()
        .await
        .unwrap();
    api_error(other, 404).await;
    let other = app.other(reqwest::Method::GET, &path).send().await.unwrap();
    api_error(other, 404).await;
    let listed = ok(app.get(&path).await).await;
    assert_eq!(listed["page"]["total_elements"], 0, "nothing was invited");
}
