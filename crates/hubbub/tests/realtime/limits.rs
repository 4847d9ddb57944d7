use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn an_oversized_frame_closes_with_1009() {
    let app = spawn_app_with(|c| c.realtime.max_frame_bytes = 1024).await;
    app.user("jane").await;
    let mut ws = app.client("jane").await;
    let big = format!(
        "{{\"id\":9,\"publish\":{{\"channel\":\"x\",\"data\":\"{}\"}}}}",
        "y".repeat(5000)
    );
    ws.send_raw(big).await;
    assert_eq!(close_code(&ws.closed().await), 1009);
}

#[tokio::test]
async fn subscriptions_per_connection_are_capped() {
    let app = spawn_app_with(|c| c.realtime.max_subscriptions = 2).await;
    app.user("jane").await;
    for name in ["a", "b", "c"] {
        app.channel("PUBLIC", name, &[]).await;
    }
    let mut ws = app.client("jane").await;
    ws.subscribe("a").await;
    ws.subscribe("b").await;
    let reply = ws.call(json!({"subscribe": {"channel": "c"}})).await;
    assert_eq!(reply["error"]["code"], 106, "{reply}");
}

#[tokio::test]
async fn commands_over_the_rate_get_error_111() {
    let app = spawn_app_with(|c| {
        c.realtime.commands_per_second = 1;
        c.realtime.command_burst = 3;
    })
    .await;
    app.user("jane").await;
    app.channel("PUBLIC", "a", &[]).await;
    let mut ws = app.client("jane").await;
    let mut codes = Vec::new();
    for _ in 0..6 {
        let reply = ws.call(json!({"presence_stats": {"channel": "a"}})).await;
        codes.push(reply["error"]["code"].as_u64().unwrap_or(0));
    }
    assert_eq!(codes, [0, 0, 0, 111, 111, 111]);
}

#[tokio::test]
async fn connections_per_user_and_per_ip_are_capped() {
    let app = spawn_app_with(|c| {
        c.realtime.max_connections_per_user = 2;
        c.realtime.max_connections_per_ip = 4;
    })
    .await;
    app.user("jane").await;
    let _a = app.client("jane").await;
    let _b = app.client("jane").await;
    let mut third = WsClient::open(&app.ws_url).await;
    let token = app.token_for("jane", 60).await;
    third.send(json!({"connect": {"token": token}})).await;
    assert_eq!(close_code(&third.closed().await), 3504);
    let _c = app.client("").await;
    let _d = app.client("").await;
    let mut fifth = WsClient::open(&app.ws_url).await;
    assert_eq!(close_code(&fifth.closed().await), 3504, "fifth from one IP");
}

#[tokio::test]
async fn only_allowed_browser_origins_may_connect() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app =
        spawn_app_with(|c| c.realtime.allowed_origins = vec!["https://ok.example".into()]).await;
    let request = |origin: &str| {
        let mut r = app.ws_url.as_str().into_client_request().unwrap();
        r.headers_mut().insert("origin", origin.parse().unwrap());
        r
    };
    let refused = tokio_tungstenite::connect_async(request("https://evil.example")).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!("expected 403, got {other:?}"),
    }
    assert!(
        tokio_tungstenite::connect_async(request("https://ok.example"))
            .await
            .is_ok()
    );
    // Non-browser clients send no Origin.
    WsClient::open(&app.ws_url).await;
}
