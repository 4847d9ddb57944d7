use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn users_are_created_listed_filtered_patched_and_deleted() {
    let app = spawn_app().await;
    let jane = ok(app
        .post("/v1/users", json!({"name": "jane@example.com", "displayName": "Jane", "isGuest": true, "properties": {"team": "red", "camelKey": 1}}))
        .await)
    .await;
    assert_eq!(jane["type"], "PERSON");
    assert_eq!(jane["name"], "jane@example.com");
    assert_eq!(jane["display_name"], "Jane");
    assert_eq!(jane["isGuest"], true);
    assert_eq!(jane["presence"]["online"], false);
    assert_eq!(
        jane["properties"],
        json!({"team": "red", "camelKey": 1}),
        "property keys are the client's own"
    );
    assert!(
        jane["display_picture_url"]
            .as_str()
            .unwrap()
            .starts_with("data:image/svg+xml")
    );
    for name in ["bob", "carol", "dave"] {
        app.create_user(name).await;
    }

    // Filters and paging.
    let by_name = ok(app.get("/v1/users?name=bob").await).await;
    assert_eq!(by_name["page"]["total_elements"], 1);
    assert_eq!(by_name["_embedded"]["users"][0]["name"], "bob");
    let by_props = ok(app
        .get("/v1/users?properties=%7B%22team%22%3A%22red%22%7D")
        .await)
    .await;
    assert_eq!(by_props["_embedded"]["users"].as_array().unwrap().len(), 1);
    let sorted = ok(app.get("/v1/users?sort=name,desc&size=2&page=1").await).await;
    let names: Vec<_> = sorted["_embedded"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["carol", "bob"]);
    assert_eq!(
        sorted["page"],
        json!({"size": 2, "total_elements": 4, "total_pages": 2, "number": 1})
    );
    assert!(
        sorted["_links"]["prev"]["href"]
            .as_str()
            .unwrap()
            .contains("page=0")
    );
    let none = ok(app.get("/v1/users?name=nobody").await).await;
    assert!(none.get("_embedded").is_none());
    api_error(app.get("/v1/users?sort=password").await, 400).await;
    api_error(app.get("/v1/users?properties=notjson").await, 400).await;

    // Exists.
    let head = |name: &str| {
        app.request(Method::HEAD, &format!("/v1/users?name={name}"))
            .send()
    };
    assert_eq!(head("bob").await.unwrap().status(), 200);
    assert_eq!(head("nobody").await.unwrap().status(), 404);

    // Merge patch: properties merge, null removes.
    let id = id(&jane);
    let patched = ok(app.patch(&format!("/v1/users/{id}"), json!({"display_name": "Jane D", "properties": {"team": null, "level": 3}, "presence": {"status": "away"}})).await).await;
    assert_eq!(patched["display_name"], "Jane D");
    assert_eq!(patched["properties"], json!({"camelKey": 1, "level": 3}));
    assert_eq!(patched["presence"]["status"], "AWAY");

    // Display picture.
    let pic = ok(app
        .post(&format!("/v1/users/{id}/display-picture"), json!({"url": "https://cdn.example/j.png", "name": "j.png", "content_type": "image/png", "size": 10}))
        .await)
    .await;
    assert_eq!(pic["display_picture_url"], "https://cdn.example/j.png");
    api_error(app.post(&format!("/v1/users/{id}/display-picture"), json!({"url": "javascript:alert(1)", "name": "x", "content_type": "image/png", "size": 1})).await, 400).await;

    // Delete answers with the application.
    let deleted = ok(app.delete(&format!("/v1/users/{id}")).await).await;
    assert_eq!(deleted["key"], app.client_id.as_str());
    api_error(app.get(&format!("/v1/users/{id}")).await, 404).await;
}

#[tokio::test]
async fn duplicate_and_invalid_users_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    app.create_user("bob").await;
    let dup = api_error(
        app.post("/v1/users", json!({"name": "bob", "display_name": "B"}))
            .await,
        409,
    )
    .await;
    assert!(dup["message"].as_str().unwrap().contains("bob"), "{dup}");
    for bad in [
        json!({"name": "", "display_name": "x"}),
        json!({"name": " padded", "display_name": "x"}),
        json!({"name": "x".repeat(129), "display_name": "x"}),
        json!({"name": "ok", "display_name": "x", "properties": [1, 2]}),
        json!({"name": "ok", "display_name": "x", "favourite_colour": "blue"}),
        json!({"display_name": "no name"}),
    ] {
        api_error(app.post("/v1/users", bad.clone()).await, 400).await;
    }
    let all = ok(app.get("/v1/users").await).await;
    assert_eq!(all["page"]["total_elements"], 1);
}

#[tokio::test]
async fn merge_patches_never_apply_read_only_or_unknown_fields() {
    let app = spawn_app().await;
    let user = app.create_user("bob").await;
    let path = format!("/v1/users/{}", id(&user));
    for bad in [
        json!({"name": "mallory"}),
        json!({"id": 99}),
        json!({"display_name": "x", "is_admin": true}),
        json!({"presence": {"online": true}}),
    ] {
        let body = api_error(app.patch(&path, bad).await, 400).await;
        assert!(body["message"].as_str().unwrap().contains('\''), "{body}");
    }
    let after = ok(app.get(&path).await).await;
    assert_eq!(after["name"], "bob");
    assert_eq!(after["display_name"], "bob");
    assert_eq!(after["id"], user["id"]);
}

#[tokio::test]
async fn secrets_are_stored_and_never_leak_into_user_bodies() {
    let app = spawn_app().await;
    let user = app.create_user("bob").await;
    let base = format!("/v1/users/{}/secrets/api-key", id(&user));
    let canary = "canary-4f1d2c";
    let set = ok(app
        .request(Method::PUT, &base)
        .json(&json!({"secret": canary}))
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(set["name"], "bob");
    assert!(!set.to_string().contains(canary));
    let got = ok(app.get(&base).await).await;
    assert_eq!(got, json!({"secret": canary}));
    for path in [format!("/v1/users/{}", id(&user)), "/v1/users".into()] {
        let text = app.get(&path).await.text().await.unwrap();
        assert!(!text.contains(canary));
    }
    ok(app.delete(&base).await).await;
    api_error(app.get(&base).await, 404).await;
    api_error(app.delete(&base).await, 404).await;
    api_error(
        app.get(&format!("/v1/users/{}/secrets/bad%2Fname", id(&user)))
            .await,
        400,
    )
    .await;
}
