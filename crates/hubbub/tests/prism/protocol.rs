//! The rules every PRISM call follows (seed-surfaces 1.1-1.2; checklist rows 5, 6,
//! 10): the envelope, 404 for unknown lives, 401 for bad tokens, and never OPTIONS or
//! HEAD.

use crate::helpers::{fails, spawn_app};
use hubbub_core::model::DialectTokenKind;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// Every call that names a live, with a body it accepts.
fn live_calls(live: &str, user: &str) -> Vec<(Method, String, Option<Value>)> {
    let base = format!("/prism/v1/service/live/{live}");
    vec![
        (Method::GET, base.clone(), None),
        (Method::PUT, format!("{base}/start"), None),
        (Method::PUT, format!("{base}/stop"), None),
        (Method::PUT, format!("{base}/end"), None),
        (
            Method::POST,
            format!("{base}/chat"),
            Some(json!({"maxResults": 0})),
        ),
        (
            Method::PUT,
            format!("{base}/chat"),
            Some(json!({"message": "hi"})),
        ),
        (Method::DELETE, format!("{base}/chat/1"), None),
        (Method::PUT, format!("{base}/ban/{user}"), None),
        (
            Method::PUT,
            format!("{base}/timedBan/{user}"),
            Some(json!({"banTime": 60})),
        ),
        (Method::PUT, format!("{base}/unban/{user}"), None),
        (Method::PUT, format!("{base}/mod/{user}"), None),
        (Method::PUT, format!("{base}/unmod/{user}"), None),
    ]
}

/// Checklist 5 [S status / P body]: an unknown liveId on any endpoint is HTTP 404
/// with `success: false, errorName: "NOT_FOUND"`.
#[tokio::test]
async fn unknown_lives_are_not_found_everywhere() {
    let app = spawn_app().await;
    let owner = app.user("streamer").await;
    let fan = app.user("fan").await;
    let token = app.token_of(&owner).await;
    app.live_of(&owner, "Show").await;
    for live in ["999999", "abc", "0", "-1"] {
        for (method, path, body) in live_calls(live, &fan.id.to_string()) {
            let message = fails(
                app.call(method.clone(), &path, Some(&token), body).await,
                404,
                "NOT_FOUND",
            )
            .await;
            assert_eq!(message, "live not found", "{method} {path}");
        }
    }
}

/// Checklist 6 [P]: a missing, unknown, expired or other-kind token is 401
/// INVALID_TOKEN on every call but the token endpoint.
#[tokio::test]
async fn calls_without_a_valid_access_token_are_refused() {
    let app = spawn_app().await;
    let owner = app.user("streamer").await;
    let live = app.live_of(&owner, "Show").await.to_string();
    let expired = app
        .engine
        .issue_dialect_token(
            app.app,
            DialectTokenKind::PrismAccess,
            Some(owner.id),
            Duration::ZERO,
            Value::Null,
        )
        .await
        .unwrap();
    let refresh = app
        .engine
        .issue_prism_tokens(app.app, owner.id)
        .await
        .unwrap()
        .refresh_token;
    let kitkot = app
        .engine
        .issue_kitkot_session(app.app, owner.id)
        .await
        .unwrap();
    let mut calls = live_calls(&live, &owner.id.to_string());
    let channel = owner.id.to_string();
    calls.extend([
        (Method::GET, "/prism/v1/service/user".to_owned(), None),
        (
            Method::GET,
            "/prism/v1/service/channel/list".to_owned(),
            None,
        ),
        (
            Method::GET,
            format!("/prism/v1/service/channel/{channel}"),
            None,
        ),
        (
            Method::GET,
            format!("/prism/v1/service/channel/{channel}/lives"),
            None,
        ),
        (
            Method::POST,
            format!("/prism/v1/service/channel/{channel}/live"),
            Some(json!({"title": "x"})),
        ),
    ]);
    for token in [
        None,
        Some(""),
        Some("nope"),
        Some(&*expired),
        Some(&*refresh),
        Some(&*kitkot),
    ] {
        for (method, path, body) in &calls {
            fails(
                app.call(method.clone(), path, token, body.clone()).await,
                401,
                "INVALID_TOKEN",
            )
            .await;
        }
    }
    // Nothing was changed by the refused calls.
    let channel = app
        .engine
        .get_channel(
            &app.backend(),
            hubbub_core::ids::ChannelId(live.parse().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(channel.last_seq, 0);
    assert_eq!(channel.live.status, hubbub_core::model::LiveStatus::Live);
}

/// Checklist 10 [S rule / P code]: OPTIONS and HEAD anywhere under /prism and on the
/// login page are 405 in the envelope, never 200; other verbs and unknown paths
/// answer in the envelope too.
#[tokio::test]
async fn options_and_head_are_never_served() {
    let app = spawn_app().await;
    let owner = app.user("streamer").await;
    let token = app.token_of(&owner).await;
    let live = app.live_of(&owner, "Show").await;
    let paths = [
        format!("/prism/v1/service/live/{live}"),
        format!("/prism/v1/service/live/{live}/chat"),
        "/prism/v1/service/user".to_owned(),
        "/prism/v1/service/channel/list".to_owned(),
        "/prism/v1/service/oauth2/token".to_owned(),
        "/prism/v1/service/unknown".to_owned(),
        "/prism".to_owned(),
        "/oauth/authorize".to_owned(),
    ];
    for path in &paths {
        for authenticated in [false, true] {
            let token = authenticated.then_some(token.as_str());
            let message = fails(
                app.call(Method::OPTIONS, path, token, None).await,
                405,
                "METHOD_NOT_ALLOWED",
            )
            .await;
            assert!(message.contains("OPTIONS"), "{message}");
            let head = app.call(Method::HEAD, path, token, None).await;
            assert_eq!(head.status(), 405, "HEAD {path}");
            assert_eq!(head.headers()["content-type"], "application/json");
        }
    }
    // A CORS preflight is refused like any OPTIONS.
    let preflight = app
        .client
        .request(
            Method::OPTIONS,
            app.url(&format!("/prism/v1/service/live/{live}/chat")),
        )
        .header("origin", "https://prism.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 405);
    assert!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    for (method, path) in [
        (Method::PATCH, format!("/prism/v1/service/live/{live}/chat")),
        (Method::GET, format!("/prism/v1/service/live/{live}/ban/1")),
        (Method::POST, "/prism/v1/service/oauth2/token".to_owned()),
        (Method::DELETE, "/oauth/authorize".to_owned()),
    ] {
        fails(
            app.call(method, &path, Some(&token), None).await,
            405,
            "METHOD_NOT_ALLOWED",
        )
        .await;
    }
    for path in [
        "/prism/v1/service/nothing",
        "/prism/v2/service/user",
        "/prism/",
        "/prism",
        "/prism/v1/service/live/1/chat/1/extra",
    ] {
        fails(
            app.call(Method::GET, path, Some(&token), None).await,
            404,
            "NOT_FOUND",
        )
        .await;
    }
}
