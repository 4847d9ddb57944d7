use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn message_bodies_over_the_limit_are_refused_and_not_stored() {
    let app = spawn_app_with(|c| c.limits.max_message_bytes = 100).await;
    let c = id(&app.create_channel("room").await);
    let body = api_error(
        app.post(
            &format!("/v1/channels/{c}/messages"),
            json!({"type": "TEXT", "body": "x".repeat(101)}),
        )
        .await,
        400,
    )
    .await;
    assert!(body["message"].as_str().unwrap().contains("100"), "{body}");
    ok(app
        .post(
            &format!("/v1/channels/{c}/messages"),
            json!({"type": "TEXT", "body": "x".repeat(100)}),
        )
        .await)
    .await;
    assert_eq!(ok(app.get("/v1/messages").await).await["page"]["total"], 1);
}

#[tokio::test]
async fn the_default_message_limit_is_4_kib() {
    let app = spawn_app().await;
    let c = id(&app.create_channel("room").await);
    ok(app
        .post(
            &format!("/v1/channels/{c}/messages"),
            json!({"type": "TEXT", "body": "é".repeat(2048)}),
        )
        .await)
    .await;
    api_error(
        app.post(
            &format!("/v1/channels/{c}/messages"),
            json!({"type": "TEXT", "body": "x".repeat(4097)}),
        )
        .await,
        400,
    )
    .await;
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let app = spawn_app_with(|c| c.limits.max_body_bytes = 8 * 1024).await;
    let big = json!({"name": "x", "properties": {"blob": "y".repeat(9 * 1024)}});
    let body = api_error(app.post("/v1/users", big).await, 413).await;
    assert_eq!(body["error"], "PayloadTooLargeError");
    assert_eq!(
        ok(app.get("/v1/users").await).await["page"]["total_elements"],
        0
    );
}

#[tokio::test]
async fn deep_or_malformed_json_gets_400() {
    let app = spawn_app().await;
    let mut deep = String::new();
    for _ in 0..40 {
        deep.push_str("{\"a\":");
    }
    deep.push('1');
    for _ in 0..40 {
        deep.push('}');
    }
    let request = |body: String| {
        app.request(Method::POST, "/v1/users")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let body = api_error(
        request(format!("{{\"name\":\"x\",\"properties\":{deep}}}"))
            .await
            .unwrap(),
        400,
    )
    .await;
    assert!(body["message"].as_str().unwrap().contains("nested"));
    api_error(request("{\"name\": ".into()).await.unwrap(), 400).await;
    api_error(request("[1,2]".into()).await.unwrap(), 400).await;
    api_error(request(String::new()).await.unwrap(), 400).await;
    let text = app
        .request(Method::POST, "/v1/users")
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    api_error(text, 415).await;
    assert_eq!(
        ok(app.get("/v1/users").await).await["page"]["total_elements"],
        0
    );
}

#[tokio::test]
async fn names_and_page_sizes_are_bounded() {
    let app = spawn_app().await;
    api_error(
        app.post(
            "/v1/users",
            json!({"name": "n".repeat(129), "display_name": "x"}),
        )
        .await,
        400,
    )
    .await;
    api_error(
        app.post(
            "/v1/users",
            json!({"name": "ok", "display_name": "d".repeat(257)}),
        )
        .await,
        400,
    )
    .await;
    api_error(
        app.post(
            "/v1/channels",
            json!({"type": "PUBLIC", "name": "c".repeat(129)}),
        )
        .await,
        400,
    )
    .await;
    let clamped = ok(app.get("/v1/users?size=100000").await).await;
    assert_eq!(clamped["page"]["size"], 1000);
    api_error(app.get("/v1/users?size=0").await, 400).await;
    api_error(app.get("/v1/users?page=-1").await, 400).await;
    let messages = ok(app.get("/v1/messages?size=100000").await).await;
    assert_eq!(messages["page"]["size"], 1000);
}
