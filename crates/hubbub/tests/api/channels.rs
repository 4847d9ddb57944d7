use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn channels_of_every_type_are_created_and_listed() {
    let app = spawn_app().await;
    let alice = app.create_user("alice").await;
    app.create_user("bob").await;
    let public = ok(app
        .post("/v1/channels", json!({"type": "PUBLIC", "name": "general", "display_name": "General", "creator": {"username": "alice"}, "properties": {"topic": "x"}}))
        .await)
    .await;
    assert_eq!(public["type"], "PUBLIC");
    assert_eq!(public["name"], "general");
    assert_eq!(public["display_name"], "General");
    assert_eq!(public["creator"]["name"], "alice");
    assert_eq!(public["live"]["status"], "NONE");
    assert_eq!(public["last_seq"], 0);
    assert!(public["epoch"].as_str().unwrap().len() >= 8);

    let private = ok(app
        .post(
            "/v1/channels",
            json!({"type": "PRIVATE", "members": [{"username": "bob"}]}),
        )
        .await)
    .await;
    assert_eq!(private["type"], "PRIVATE");
    assert_eq!(
        private["name"], private["display_name"],
        "a nameless channel gets a random name shown as its display name"
    );

    let direct = ok(app
        .post(
            "/v1/channels",
            json!({"type": "DIRECT", "members": [{"username": "alice"}, {"username": "bob"}]}),
        )
        .await)
    .await;
    assert_eq!(direct["type"], "DIRECT");
    assert!(direct.get("name").is_none());
    assert_eq!(direct["members"].as_array().unwrap().len(), 2);
    let again = ok(app
        .post(
            "/v1/channels",
            json!({"type": "DIRECT", "members": [{"username": "bob"}, {"id": id(&alice)}]}),
        )
        .await)
    .await;
    assert_eq!(
        again["id"], direct["id"],
        "the same members find the same direct channel"
    );

    api_error(
        app.post("/v1/channels", json!({"type": "PUBLIC", "name": "general"}))
            .await,
        409,
    )
    .await;
    api_error(
        app.post("/v1/channels", json!({"type": "GROUP"})).await,
        400,
    )
    .await;
    api_error(
        app.post(
            "/v1/channels",
            json!({"type": "DIRECT", "members": [{"username": "alice"}]}),
        )
        .await,
        400,
    )
    .await;
    api_error(
        app.post(
            "/v1/channels",
            json!({"type": "PUBLIC", "members": [{"username": "ghost"}]}),
        )
        .await,
        400,
    )
    .await;

    let all = ok(app.get("/v1/channels").await).await;
    assert_eq!(all["page"]["total_elements"], 3);
    let directs = ok(app.get("/v1/channels?type=DIRECT").await).await;
    assert_eq!(directs["page"]["total_elements"], 1);
    let with_bob = ok(app.get("/v1/channels?members=bob").await).await;
    assert_eq!(with_bob["page"]["total_elements"], 2);
    let by_props = ok(app
        .get("/v1/channels?properties=%7B%22topic%22%3A%22x%22%7D")
        .await)
    .await;
    assert_eq!(by_props["page"]["total_elements"], 1);
    let future = ok(app.get("/v1/channels?startTime=2999-01-01T00:00:00Z").await).await;
    assert_eq!(future["page"]["total_elements"], 0);
    api_error(app.get("/v1/channels?startTime=yesterday").await, 400).await;
    api_error(app.get("/v1/channels?type=weird").await, 400).await;
}

#[tokio::test]
async fn members_and_moderators_are_managed() {
    let app = spawn_app().await;
    let bob = app.create_user("bob").await;
    let channel = app.create_channel("room").await;
    let c = id(&channel);
    let added = ok(app
        .post(
            &format!("/v1/channels/{c}/members"),
            json!({"username": "bob"}),
        )
        .await)
    .await;
    assert_eq!(added["id"], c);
    let members = ok(app.get(&format!("/v1/channels/{c}/members")).await).await;
    assert_eq!(members["_embedded"]["users"][0]["name"], "bob");
    let memberships = ok(app.get(&format!("/v1/channels/{c}/memberships")).await).await;
    assert!(memberships["_embedded"]["memberships"][0]["created_time"].is_string());
    let user_channels = ok(app.get(&format!("/v1/users/{}/channels", id(&bob))).await).await;
    assert_eq!(user_channels["_embedded"]["channels"][0]["id"], c);

    let moderator = ok(app
        .post(
            &format!("/v1/channels/{c}/moderators"),
            json!({"id": id(&bob)}),
        )
        .await)
    .await;
    assert_eq!(moderator["name"], "bob");
    let mods = ok(app.get(&format!("/v1/channels/{c}/moderators")).await).await;
    assert_eq!(mods["page"]["total_elements"], 1);
    let removed = ok(app
        .delete(&format!("/v1/channels/{c}/moderators/{}", id(&bob)))
        .await)
    .await;
    assert_eq!(removed["id"], c);
    api_error(
        app.delete(&format!("/v1/channels/{c}/moderators/{}", id(&bob)))
            .await,
        404,
    )
    .await;

    ok(app
        .delete(&format!("/v1/channels/{c}/members/{}", id(&bob)))
        .await)
    .await;
    let members = ok(app.get(&format!("/v1/channels/{c}/members")).await).await;
    assert_eq!(members["page"]["total_elements"], 0);
    api_error(
        app.post(
            &format!("/v1/channels/{c}/members"),
            json!({"username": "ghost"}),
        )
        .await,
        404,
    )
    .await;
    api_error(
        app.post(&format!("/v1/channels/{c}/members"), json!({}))
            .await,
        400,
    )
    .await;
}

#[tokio::test]
async fn channels_are_patched_and_deleted() {
    let app = spawn_app().await;
    let channel = ok(app
        .post(
            "/v1/channels",
            json!({"type": "PUBLIC", "name": "room", "properties": {"a": 1, "b": 2}}),
        )
        .await)
    .await;
    let c = id(&channel);
    let patched = ok(app
        .patch(
            &format!("/v1/channels/{c}"),
            json!({"display_name": "Room!", "properties": {"a": null, "c": 3}}),
        )
        .await)
    .await;
    assert_eq!(patched["display_name"], "Room!");
    assert_eq!(patched["properties"], json!({"b": 2, "c": 3}));
    api_error(
        app.patch(&format!("/v1/channels/{c}"), json!({"name": "renamed"}))
            .await,
        400,
    )
    .await;
    api_error(
        app.patch(&format!("/v1/channels/{c}"), json!({"type": "PRIVATE"}))
            .await,
        400,
    )
    .await;
    assert_eq!(
        ok(app.get(&format!("/v1/channels/{c}")).await).await["name"],
        "room"
    );

    let event = ok(app
        .post(
            &format!("/v1/channels/{c}/events"),
            json!({"type": "poll.opened", "properties": {"q": "?"}}),
        )
        .await)
    .await;
    assert_eq!(event["type"], "poll.opened");
    assert_eq!(event["properties"], json!({"q": "?"}));

    let deleted = ok(app.delete(&format!("/v1/channels/{c}")).await).await;
    assert_eq!(deleted["key"], app.client_id.as_str());
    api_error(app.get(&format!("/v1/channels/{c}")).await, 404).await;
    api_error(
        app.request(Method::GET, "/v1/channels/abc")
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
}
