use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn connect_with_a_token_gets_client_id_ping_and_expiry() {
    let app = spawn_app().await;
    app.user("jane").await;
    let mut ws = WsClient::open(&app.ws_url).await;
    let token = app.token_for("jane", 600).await;
    let reply = ws.call(json!({"connect": {"token": token}})).await;
    let connect = &reply["connect"];
    assert!(
        connect["client"].as_str().is_some_and(|c| !c.is_empty()),
        "{reply}"
    );
    assert!(connect["version"].is_string());
    assert_eq!(connect["expires"], true);
    assert!(
        (590..=600).contains(&connect["ttl"].as_i64().unwrap()),
        "{reply}"
    );
    assert_eq!(connect["ping"], 25);
    assert_eq!(connect["pong"], true);
}

#[tokio::test]
async fn a_bad_token_closes_with_3500_and_an_expired_one_answers_109() {
    let app = spawn_app().await;
    app.user("jane").await;
    let mut ws = WsClient::open(&app.ws_url).await;
    ws.send(json!({"connect": {"token": "not.a.jwt"}})).await;
    assert_eq!(close_code(&ws.closed().await), 3500);

    // Signed with another secret.
    let forged = hubbub_core::engine::sign_hs256(
        b"wrong",
        &json!({"sub": "jane", "iss": app.client_id, "exp": chrono::Utc::now().timestamp() + 60}),
    );
    let mut ws = WsClient::open(&app.ws_url).await;
    ws.send(json!({"connect": {"token": forged}})).await;
    assert_eq!(close_code(&ws.closed().await), 3500);

    let secret = app
        .engine
        .find_credentials(&app.client_id)
        .await
        .unwrap()
        .unwrap()
        .signing_secret;
    let expired = hubbub_core::engine::sign_hs256(
        secret.as_bytes(),
        &json!({"sub": "jane", "iss": app.client_id, "exp": chrono::Utc::now().timestamp() - 5}),
    );
    let mut ws = WsClient::open(&app.ws_url).await;
    let reply = ws.call(json!({"connect": {"token": expired}})).await;
    assert_eq!(reply["error"]["code"], 109, "{reply}");
}

#[tokio::test]
async fn commands_before_connect_close_the_connection() {
    let app = spawn_app().await;
    let mut ws = WsClient::open(&app.ws_url).await;
    ws.send(json!({"subscribe": {"channel": "x"}})).await;
    assert_eq!(close_code(&ws.closed().await), 3501);
    let mut ws = WsClient::open(&app.ws_url).await;
    ws.send_raw("this is not json".into()).await;
    assert_eq!(close_code(&ws.closed().await), 3501);
}

#[tokio::test]
async fn unknown_users_are_refused_unless_guests_are_allowed() {
    let app = spawn_app().await;
    let mut ws = WsClient::open(&app.ws_url).await;
    let token = app.token_for("newcomer", 600).await;
    let reply = ws.call(json!({"connect": {"token": token.clone()}})).await;
    assert_eq!(reply["error"]["code"], 101, "{reply}");

    let response = app
        .http
        .put(format!("{}/v1/application/settings", app.base))
        .bearer_auth(&app.token)
        .json(&json!({"guest_users": "ENABLED"}))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
    let mut ws = WsClient::open(&app.ws_url).await;
    let reply = ws.call(json!({"connect": {"token": token}})).await;
    assert!(reply["connect"].is_object(), "{reply}");
    let users = app
        .http
        .get(format!("{}/v1/users?name=newcomer", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(users.contains("newcomer"), "guest created: {users}");
}

#[tokio::test]
async fn refresh_extends_the_connection_with_a_new_token() {
    let app = spawn_app().await;
    app.user("jane").await;
    app.user("john").await;
    let mut ws = WsClient::open(&app.ws_url).await;
    let short = app.token_for("jane", 5).await;
    let reply = ws.call(json!({"connect": {"token": short}})).await;
    assert!(reply["connect"]["ttl"].as_i64().unwrap() <= 5);
    let longer = app.token_for("jane", 900).await;
    let reply = ws.call(json!({"refresh": {"token": longer}})).await;
    assert_eq!(reply["refresh"]["expires"], true, "{reply}");
    assert!(reply["refresh"]["ttl"].as_i64().unwrap() > 800, "{reply}");
    // Another user's token may not take over the connection.
    let johns = app.token_for("john", 900).await;
    ws.send(json!({"refresh": {"token": johns}})).await;
    assert_eq!(close_code(&ws.closed().await), 3500);
}

#[tokio::test]
async fn the_token_endpoint_and_cli_mint_working_tokens() {
    let app = spawn_app().await;
    app.user("jane").await;
    let minted = app
        .post(
            "/v1/realtime/tokens",
            json!({"user": {"username": "jane"}, "ttl": 120}),
        )
        .await;
    assert_eq!(minted["expires_in"], 120);
    let mut ws = WsClient::open(&app.ws_url).await;
    let reply = ws
        .call(json!({"connect": {"token": minted["token"]}}))
        .await;
    assert!(reply["connect"].is_object(), "{reply}");

    let refused = app
        .http
        .post(format!("{}/v1/realtime/tokens", app.base))
        .json(&json!({"user": "jane"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401, "no bearer token, no realtime token");
    let bad_ttl = app
        .http
        .post(format!("{}/v1/realtime/tokens", app.base))
        .bearer_auth(&app.token)
        .json(&json!({"user": "jane", "ttl": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_ttl.status(), 400);
}

#[tokio::test]
async fn graceful_shutdown_disconnects_with_3001_and_reconnect_advice() {
    let mut app = spawn_app().await;
    app.user("jane").await;
    let mut ws = app.client("jane").await;
    app.stop().await;
    let frame = ws.closed().await;
    assert_eq!(close_code(&frame), 3001);
    assert_eq!(frame.unwrap().reason.as_str(), "shutdown");
}
