use crate::helpers::*;
use serde_json::Value;

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = spawn_app().await;
    assert_eq!(
        app.client
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let ready: Value = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    app.create_user("bob").await;
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("hubbub_http_responses_total{class=\"2xx\"}"));
    assert!(metrics.contains("hubbub_store_commits_total"));
    let commits: u64 = metrics
        .lines()
        .find(|l| l.starts_with("hubbub_store_commits_total "))
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(commits > 0);
}

#[tokio::test]
async fn openapi_describes_every_platform_route() {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("/oauth/token", "post"),
        ("/application", "get"),
        ("/application/settings", "get"),
        ("/application/settings", "put"),
        ("/users", "get"),
        ("/users", "post"),
        ("/users", "head"),
        ("/users/{id}", "get"),
        ("/users/{id}", "patch"),
        ("/users/{id}", "delete"),
        ("/users/{id}/channels", "get"),
        ("/users/{id}/messages", "get"),
        ("/users/{id}/messages/unread/count", "get"),
        ("/users/{id}/display-picture", "post"),
        ("/users/{id}/secrets/{name}", "get"),
        ("/users/{id}/secrets/{name}", "put"),
        ("/users/{id}/secrets/{name}", "delete"),
        ("/channels", "get"),
        ("/channels", "post"),
        ("/channels/{id}", "get"),
        ("/channels/{id}", "patch"),
        ("/channels/{id}", "delete"),
        ("/channels/{id}/members", "get"),
        ("/channels/{id}/members", "post"),
        ("/channels/{id}/members/{user_id}", "delete"),
        ("/channels/{id}/memberships", "get"),
        ("/channels/{id}/moderators", "get"),
        ("/channels/{id}/moderators", "post"),
        ("/channels/{id}/moderators/{user_id}", "delete"),
        ("/channels/{id}/messages", "get"),
        ("/channels/{id}/messages", "post"),
        ("/channels/{id}/events", "post"),
        ("/messages", "get"),
        ("/messages", "delete"),
        ("/messages/{id}", "get"),
        ("/messages/{id}", "patch"),
        ("/messages/{id}", "delete"),
        ("/threads/{id}", "get"),
        ("/threads/{id}/messages", "get"),
        ("/threads/{id}/messages", "post"),
        ("/threads/{id}/keystrokes", "post"),
        ("/channels/{id}/keystrokes", "post"),
        ("/channels/{id}/invites", "get"),
        ("/channels/{id}/invites", "post"),
        ("/channels/{id}/participants", "get"),
        ("/channels/{id}/reported-messages", "get"),
        ("/channels/{id}/read", "post"),
        ("/messages/{id}/read-receipts", "get"),
        ("/messages/{id}/reports", "post"),
        ("/application/message-read-receipt-summaries", "get"),
        ("/users/{id}/notifications", "get"),
        ("/user-sessions", "get"),
        ("/chat-sessions", "get"),
    ];
    for (path, method) in expected {
        let op = &paths.get(path).unwrap_or_else(|| panic!("{path} missing"))[method];
        assert!(op.is_object(), "{method} {path} missing");
        assert!(
            op["responses"]["200"].is_object(),
            "{method} {path} has no 200 response"
        );
    }
    // The realtime endpoints are described too (the WebSocket answers 101, not 200).
    for (path, method, status) in [
        ("/realtime/tokens", "post", "200"),
        ("/connection/sse", "get", "200"),
        ("/connection/uni_sse", "get", "200"),
        ("/connection/uni_sse", "post", "200"),
        ("/connection/websocket", "get", "101"),
    ] {
        let op = &paths.get(path).unwrap_or_else(|| panic!("{path} missing"))[method];
        assert!(
            op["responses"][status].is_object(),
            "{method} {path} has no {status} response"
        );
    }
    let docs = app
        .client
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(html.contains("swagger"), "docs page is Swagger UI");
    assert!(
        !html.contains("https://"),
        "docs page loads nothing from the internet"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_get_api_errors() {
    let app = spawn_app().await;
    api_error(app.get("/v1/nothing-here").await, 404).await;
    api_error(
        app.request(reqwest::Method::PUT, "/v1/messages")
            .send()
            .await
            .unwrap(),
        405,
    )
    .await;
    // Both path forms serve the API.
    let v1 = ok(app.get("/v1/application").await).await;
    let bare = ok(app.get("/application").await).await;
    assert_eq!(v1["id"], bare["id"]);
    assert!(
        v1["_links"]["self"]["href"]
            .as_str()
            .unwrap()
            .ends_with("/v1/application")
    );
    assert!(
        bare["_links"]["self"]["href"]
            .as_str()
            .unwrap()
            .ends_with(":".to_owned().as_str())
            || bare["_links"]["self"]["href"]
                .as_str()
                .unwrap()
                .ends_with("/application")
    );
}
