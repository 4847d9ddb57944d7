//! The streamer, their channel and their lives (seed-surfaces 1.3 user info, 1.6;
//! the non-chat call shapes are hubbub's [P], see docs/dialects/prism.md).

use crate::helpers::{TestApp, fails, ok, spawn_app};
use hubbub_core::engine::Actor;
use hubbub_core::ids::ChannelId;
use hubbub_core::model::{AppSettings, LiveStatus};
use reqwest::{Method, Response};
use serde_json::{Value, json};
use std::time::Duration;

impl TestApp {
    async fn get(&self, token: &str, path: &str) -> Response {
        self.call(Method::GET, path, Some(token), None).await
    }

    async fn live_status(&self, token: &str, live: ChannelId) -> Value {
        ok(self
            .get(token, &format!("/prism/v1/service/live/{live}"))
            .await)
        .await
    }

    async fn allow_user_channels(&self) {
        self.engine
            .update_app_settings(
                &Actor::App(self.app),
                AppSettings {
                    user_created_channels: true,
                    ..AppSettings::default()
                },
            )
            .await
            .unwrap();
    }
}

fn iso(at: &hubbub_core::model::Timestamp) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// [S] user info, channel list and channel info: a streamer's channel is the
/// streamer; another streamer's channel is 403, an unknown one 404 [P].
#[tokio::test]
async fn the_streamer_and_their_one_channel() {
    let app = spawn_app().await;
    let owner = app.user("streamer").await;
    let rival = app.user("rival").await;
    let token = app.token_of(&owner).await;
    let id = owner.id.to_string();

    assert_eq!(
        ok(app.get(&token, "/prism/v1/service/user").await).await,
        json!({"user": {"userId": id, "userName": "STREAMER", "profileThumbnail": null}})
    );
    let channel = json!({
        "channelId": id,
        "channelName": "STREAMER",
        "channelEnabled": true,
        "channelLink": null,
        "channelDescription": null,
        "channelTags": null,
        "channelThumbnailUrl": null,
    });
    assert_eq!(
        ok(app.get(&token, "/prism/v1/service/channel/list").await).await,
        json!({"userName": "STREAMER", "channels": [channel]})
    );
    assert_eq!(
        ok(app
            .get(&token, &format!("/prism/v1/service/channel/{id}"))
            .await)
        .await,
        json!({"userName": "STREAMER", "channel": channel})
    );
    fails(
        app.get(&token, &format!("/prism/v1/service/channel/{}", rival.id))
            .await,
        403,
        "FORBIDDEN",
    )
    .await;
    for unknown in ["999999", "abc"] {
        let message = fails(
            app.get(&token, &format!("/prism/v1/service/channel/{unknown}"))
                .await,
            404,
            "NOT_FOUND",
        )
        .await;
        assert_eq!(message, "channel not found");
    }
}

/// [S] live status and metrics: every field of the live dto, the application's RTMP
/// path and link from `properties.prism`, the room's counters, and `viewerCount`
/// from the realtime gateway's presence.
#[tokio::test]
async fn live_status_reports_the_room_and_its_metrics() {
    let app = spawn_app().await;
    let owner = app.user("streamer").await;
    let fan = app.user("fan").await;
    let live = app.live_of(&owner, "Evening show").await;
    let token = app.token_of(&owner).await;
    let patched = app
        .client
        .patch(app.url(&format!("/v1/channels/{live}")))
        .bearer_auth(&app.platform_token)
        .header("content-type", "application/json+merge-patch")
        .body(
            json!({"properties": {"prism": {
                "rtmpPath": "rtmp://ingest.example/live/abc",
                "liveLink": "https://watch.example/1",
            }}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    app.engine
        .enter_live(&Actor::App(app.app), live, fan.id)
        .await
        .unwrap();
    app.say(live, &fan, "hello").await;
    let channel = app.engine.get_channel(&app.backend(), live).await.unwrap();

    let expected = |viewers: u64| {
        json!({
            "channelId": owner.id.to_string(),
            "live": {
                "liveId": live.to_string(),
                "title": "Evening show",
                "description": null,
                "reservedAt": iso(&channel.created_at),
                "startAt": null,
                "rtmpPath": "rtmp://ingest.example/live/abc",
                "status": "ON_AIR",
                "liveLink": "https://watch.example/1",
                "scope": "PUBLIC",
                "liveStat": {"viewCount": 1, "viewerCount": viewers, "likeCount": 0, "chatCount": 1},
            }
        })
    };
    assert_eq!(app.live_status(&token, live).await, expected(0));

    // A viewer subscribed over the realtime gateway (Centrifugo unidirectional SSE)
    // counts as watching now.
    let (rt_token, _) = app
        .engine
        .mint_realtime_token_for(&Actor::App(app.app), "fan", Duration::from_secs(60))
        .await
        .unwrap();
    let name = channel.name.as_ref().unwrap().as_str().to_owned();
    let stream = app
        .client
        .get(app.url("/connection/uni_sse"))
        .query(&[(
            "cf_connect",
            json!({"token": rt_token, "subs": {name: {}}}).to_string(),
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let status = app.live_status(&token, live).await;
        if status == expected(1) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "viewerCount never reached 1: {status}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    drop(stream);
}

/// [P] create → RESERVED, start → ON_AIR (ending the streamer's other live on air),
/// stop → END; lists by status, newest first. Creating needs the application to let
/// users create channels.
#[tokio::test]
async fn a_live_is_created_started_listed_and_stopped() {
    let app = spawn_app().await;
    let owner = app.user("streamer").await;
    let viewer = app.user("viewer").await;
    let token = app.token_of(&owner).await;
    let viewer_token = app.token_of(&viewer).await;
    let channel = owner.id.to_string();
    let create = |body: Value| {
        let app = &app;
        let token = token.clone();
        let path = format!("/prism/v1/service/channel/{channel}/live");
        async move {
            app.call(Method::POST, &path, Some(&token), Some(body))
                .await
        }
    };
    let body = json!({
        "title": "Morning show",
        "reservedAt": "2026-12-01T20:00:00+09:00",
        "description": "Coffee & <chat>",
        "scope": "PUBLIC",
    });
    let message = fails(create(body.clone()).await, 403, "FORBIDDEN").await;
    assert!(message.contains("create channels"), "{message}");
    app.allow_user_channels().await;

    let created = ok(create(body).await).await;
    let first = created["live"]["liveId"].as_str().unwrap().to_owned();
    assert_eq!(
        created,
        json!({
            "channelId": channel,
            "live": {
                "liveId": first,
                "title": "Morning show",
                "description": "Coffee & <chat>",
                "reservedAt": "2026-12-01T20:00:00+09:00",
                "startAt": null,
                "rtmpPath": null,
                "status": "RESERVED",
                "liveLink": null,
                "scope": "PUBLIC",
            }
        })
    );
    let second = ok(create(json!({"title": "Night show", "scope": "LIMITED"})).await).await["live"]
        ["liveId"]
        .as_str()
        .unwrap()
        .to_owned();

    let path = |id: &str, action: &str| format!("/prism/v1/service/live/{id}/{action}");
    fails(
        app.call(
            Method::PUT,
            &path(&first, "start"),
            Some(&viewer_token),
            None,
        )
        .await,
        403,
        "FORBIDDEN",
    )
    .await;
    let started = ok(app
        .call(Method::PUT, &path(&first, "start"), Some(&token), None)
        .await)
    .await;
    assert_eq!(started["live"]["status"], "ON_AIR");
    let start_at = started["live"]["startAt"].as_str().unwrap().to_owned();
    assert!(chrono::DateTime::parse_from_rfc3339(&start_at).is_ok());
    // Starting again changes nothing, not even the start time.
    let again = ok(app
        .call(Method::PUT, &path(&first, "start"), Some(&token), None)
        .await)
    .await;
    assert_eq!(again, started);

    let lives = |status: &'static str| {
        let app = &app;
        let token = token.clone();
        let path = format!("/prism/v1/service/channel/{channel}/lives?status={status}");
        async move { ok(app.get(&token, &path).await).await }
    };
    let ids = |data: Value| -> Vec<String> {
        data["lives"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["liveId"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(lives("ALL").await), [second.clone(), first.clone()]);
    assert_eq!(ids(lives("").await), [second.clone(), first.clone()]);
    assert_eq!(ids(lives("ON_AIR").await), [first.as_str()]);
    assert_eq!(ids(lives("RESERVED").await), [second.as_str()]);
    assert_eq!(ids(lives("END").await), Vec::<String>::new());
    let listed = lives("RESERVED").await;
    assert_eq!(listed["channelId"], channel);
    assert_eq!(listed["lives"][0]["scope"], "LIMITED");

    // The streamer broadcasts once at a time: starting the second ends the first.
    ok(app
        .call(Method::PUT, &path(&second, "start"), Some(&token), None)
        .await)
    .await;
    assert_eq!(ids(lives("ON_AIR").await), [second.as_str()]);
    assert_eq!(ids(lives("END").await), [first.as_str()]);

    let stopped = ok(app
        .call(Method::PUT, &path(&second, "stop"), Some(&token), None)
        .await)
    .await;
    assert_eq!(stopped["live"]["status"], "END");
    assert_eq!(ids(lives("END").await), [second.clone(), first.clone()]);
    // `/end` is the same call; a reused live starts again.
    ok(app
        .call(Method::PUT, &path(&first, "start"), Some(&token), None)
        .await)
    .await;
    let ended = ok(app
        .call(Method::PUT, &path(&first, "end"), Some(&token), None)
        .await)
    .await;
    assert_eq!(ended["live"]["status"], "END");

    // Ordinary channels are not lives, and another streamer's lives are not listed.
    assert_eq!(
        app.engine
            .owned_live_rooms(&app.backend(), owner.id, None)
            .await
            .unwrap()
            .len(),
        2
    );
    fails(
        app.get(
            &viewer_token,
            &format!("/prism/v1/service/channel/{channel}/lives"),
        )
        .await,
        403,
        "FORBIDDEN",
    )
    .await;
    fails(
        app.get(&token, "/prism/v1/service/channel/999999/lives")
            .await,
        404,
        "NOT_FOUND",
    )
    .await;
    let message = fails(
        app.get(
            &token,
            &format!("/prism/v1/service/channel/{channel}/lives?status=LIVE"),
        )
        .await,
        400,
        "INVALID_PARAMETER",
    )
    .await;
    assert!(message.contains("status"), "{message}");
}

/// [P] a create with a bad field is 400 and creates nothing; a create in another
/// streamer's channel is 403, in an unknown one 404.
#[tokio::test]
async fn bad_creates_are_refused() {
    let app = spawn_app().await;
    app.allow_user_channels().await;
    let owner = app.user("streamer").await;
    let rival = app.user("rival").await;
    let token = app.token_of(&owner).await;
    let path = format!("/prism/v1/service/channel/{}/live", owner.id);
    for (body, field) in [
        (json!({"title": "x", "scope": "SECRET"}), "scope"),
        (
            json!({"title": "x", "reservedAt": "tomorrow"}),
            "reservedAt",
        ),
        (json!({"title": "x".repeat(201)}), "title"),
        (json!({"title": 5}), "title"),
        (json!({"title": "x", "description": ["d"]}), "description"),
        (
            json!({"title": "x", "description": "d".repeat(2001)}),
            "description",
        ),
    ] {
        let message = fails(
            app.call(Method::POST, &path, Some(&token), Some(body.clone()))
                .await,
            400,
            "INVALID_PARAMETER",
        )
        .await;
        assert!(message.contains(field), "{body}: {message}");
    }
    fails(
        app.call(
            Method::POST,
            &format!("/prism/v1/service/channel/{}/live", rival.id),
            Some(&token),
            Some(json!({"title": "x"})),
        )
        .await,
        403,
        "FORBIDDEN",
    )
    .await;
    fails(
        app.call(
            Method::POST,
            "/prism/v1/service/channel/999999/live",
            Some(&token),
            Some(json!({"title": "x"})),
        )
        .await,
        404,
        "NOT_FOUND",
    )
    .await;
    assert!(
        app.engine
            .owned_live_rooms(&app.backend(), owner.id, None)
            .await
            .unwrap()
            .is_empty()
    );
}

/// [P] a private live is read by its members only, as over the realtime gateway; a
/// live of another application does not exist.
#[tokio::test]
async fn private_and_foreign_lives_are_closed() {
    let app = spawn_app().await;
    app.allow_user_channels().await;
    let owner = app.user("streamer").await;
    let viewer = app.user("viewer").await;
    let token = app.token_of(&owner).await;
    let viewer_token = app.token_of(&viewer).await;
    let created = ok(app
        .call(
            Method::POST,
            &format!("/prism/v1/service/channel/{}/live", owner.id),
            Some(&token),
            Some(json!({"title": "Members only", "scope": "PRIVATE"})),
        )
        .await)
    .await;
    assert_eq!(created["live"]["scope"], "PRIVATE");
    let live = created["live"]["liveId"].as_str().unwrap();
    assert_eq!(
        app.live_status(&token, ChannelId(live.parse().unwrap()))
            .await["live"]["status"],
        "RESERVED"
    );
    for (method, action, body) in [
        (Method::GET, "", None),
        (Method::POST, "/chat", Some(json!({"maxResults": 0}))),
        (Method::PUT, "/chat", Some(json!({"message": "let me in"}))),
    ] {
        fails(
            app.call(
                method,
                &format!("/prism/v1/service/live/{live}{action}"),
                Some(&viewer_token),
                body,
            )
            .await,
            403,
            "FORBIDDEN",
        )
        .await;
    }

    let stranger = app.user_in(app.other_app, "stranger").await;
    let foreign = app
        .live_with(&stranger, "Elsewhere", LiveStatus::Live)
        .await;
    let message = fails(
        app.get(&token, &format!("/prism/v1/service/live/{foreign}"))
            .await,
        404,
        "NOT_FOUND",
    )
    .await;
    assert_eq!(message, "live not found");
}
