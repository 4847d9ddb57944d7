//! Chat-user management (seed-surfaces 1.5; checklist row 14): bans hold in every
//! API, managers are the room's moderators.

use crate::helpers::{TestApp, fails, ok_empty, spawn_app};
use hubbub_core::ids::ChannelId;
use reqwest::{Method, Response};
use serde_json::{Value, json};

impl TestApp {
    async fn manage(
        &self,
        token: &str,
        live: ChannelId,
        action: &str,
        user: &str,
        body: Option<Value>,
    ) -> Response {
        self.call(
            Method::PUT,
            &format!("/prism/v1/service/live/{live}/{action}/{user}"),
            Some(token),
            body,
        )
        .await
    }

    /// A send through the ChatKitty Platform API on behalf of `username`.
    async fn platform_send(&self, live: ChannelId, username: &str) -> Response {
        self.client
            .post(self.url(&format!("/v1/channels/{live}/messages")))
            .bearer_auth(&self.platform_token)
            .json(&json!({"type": "TEXT", "body": "hello", "user": {"username": username}}))
            .send()
            .await
            .unwrap()
    }

    async fn prism_send(&self, token: &str, live: ChannelId) -> Response {
        self.call(
            Method::PUT,
            &format!("/prism/v1/service/live/{live}/chat"),
            Some(token),
            Some(json!({"message": "hello"})),
        )
        .await
    }
}

/// Checklist 14 [S >0 / P]: `timedBan` needs a `banTime` above 0 (400 otherwise), and
/// after `ban/{u}` u's messages are refused in every API — the Platform API sending
/// on u's behalf and PRISM with u's own token — until `unban`.
#[tokio::test]
async fn bans_hold_in_every_api_until_lifted() {
    let app = spawn_app().await;
    let owner = app.user("streamer").await;
    let troll = app.user("troll").await;
    let live = app.live_of(&owner, "Show").await;
    let token = app.token_of(&owner).await;
    let troll_token = app.token_of(&troll).await;
    let troll_id = troll.id.to_string();

    for body in [
        Some(json!({"banTime": 0})),
        Some(json!({"banTime": -5})),
        Some(json!({"banTime": "abc"})),
        Some(json!({})),
        None,
    ] {
        let message = fails(
            app.manage(&token, live, "timedBan", &troll_id, body.clone())
                .await,
            400,
            "INVALID_PARAMETER",
        )
        .await;
        assert!(message.contains("banTime"), "{body:?}: {message}");
    }
    assert_eq!(app.platform_send(live, "troll").await.status(), 200);

    ok_empty(app.manage(&token, live, "ban", &troll_id, None).await).await;
    // Banning again is idempotent [P].
    ok_empty(app.manage(&token, live, "ban", &troll_id, None).await).await;
    let refused = app.platform_send(live, "troll").await;
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("banned"),
        "{body}"
    );
    let message = fails(app.prism_send(&troll_token, live).await, 403, "FORBIDDEN").await;
    assert!(message.contains("banned"), "{message}");
    // A banned user may not watch the room either.
    fails(
        app.call(
            Method::POST,
            &format!("/prism/v1/service/live/{live}/chat"),
            Some(&troll_token),
            Some(json!({"maxResults": 0})),
        )
        .await,
        403,
        "FORBIDDEN",
    )
    .await;
    // The ban holds in this live only.
    let elsewhere = app.live_of(&owner, "Elsewhere").await;
    assert_eq!(app.platform_send(elsewhere, "troll").await.status(), 200);

    ok_empty(app.manage(&token, live, "unban", &troll_id, None).await).await;
    ok_empty(app.manage(&token, live, "unban", &troll_id, None).await).await;
    assert_eq!(app.platform_send(live, "troll").await.status(), 200);
    ok_empty(app.prism_send(&troll_token, live).await).await;

    // A timed ban refuses sends too, and unban lifts it.
    ok_empty(
        app.manage(
            &token,
            live,
            "timedBan",
            &troll_id,
            Some(json!({"banTime": 600})),
        )
        .await,
    )
    .await;
    assert_eq!(app.platform_send(live, "troll").await.status(), 403);
    fails(app.prism_send(&troll_token, live).await, 403, "FORBIDDEN").await;
    let bans = app
        .engine
        .restrictions_of(
            &app.engine.get_channel(&app.backend(), live).await.unwrap(),
            troll.id,
        )
        .await
        .unwrap();
    let until = bans[0].until.expect("a timed ban ends");
    let left = (until - hubbub_core::model::now()).num_seconds();
    assert!((590..=600).contains(&left), "{left} s left");
    ok_empty(app.manage(&token, live, "unban", &troll_id, None).await).await;
    assert_eq!(app.platform_send(live, "troll").await.status(), 200);

    // banTime as a numeric string is accepted [P]; over ten years is refused.
    ok_empty(
        app.manage(
            &token,
            live,
            "timedBan",
            &troll_id,
            Some(json!({"banTime": "30"})),
        )
        .await,
    )
    .await;
    let message = fails(
        app.manage(
            &token,
            live,
            "timedBan",
            &troll_id,
            Some(json!({"banTime": 400_000_000})),
        )
        .await,
        400,
        "INVALID_PARAMETER",
    )
    .await;
    assert!(message.contains("banTime"), "{message}");
}

/// [S] managers: `mod` makes a user one (shown as `isLiveManager` in view chat, able
/// to ban), `unmod` takes it back; both are the owner's alone and idempotent [P].
#[tokio::test]
async fn the_owner_appoints_managers_who_moderate() {
    let app = spawn_app().await;
    let owner = app.user("streamer").await;
    let helper = app.user("helper").await;
    let viewer = app.user("viewer").await;
    let live = app.live_of(&owner, "Show").await;
    let token = app.token_of(&owner).await;
    let helper_token = app.token_of(&helper).await;
    let viewer_token = app.token_of(&viewer).await;
    let (helper_id, viewer_id) = (helper.id.to_string(), viewer.id.to_string());

    // Before: the viewer may not ban and the helper is no manager.
    fails(
        app.manage(&viewer_token, live, "ban", &helper_id, None)
            .await,
        403,
        "FORBIDDEN",
    )
    .await;
    ok_empty(app.manage(&token, live, "mod", &helper_id, None).await).await;
    ok_empty(app.manage(&token, live, "mod", &helper_id, None).await).await;
    app.say(live, &helper, "I keep order").await;
    let data = app.view(&token, live, json!({"maxResults": 1})).await;
    assert_eq!(data["messages"][0]["authorId"], helper_id);
    assert_eq!(data["messages"][0]["isLiveManager"], true);
    assert_eq!(data["messages"][0]["isLiveOwner"], false);

    // A manager bans; a manager cannot appoint managers, nor be banned.
    ok_empty(
        app.manage(&helper_token, live, "ban", &viewer_id, None)
            .await,
    )
    .await;
    assert_eq!(app.platform_send(live, "viewer").await.status(), 403);
    ok_empty(
        app.manage(&helper_token, live, "unban", &viewer_id, None)
            .await,
    )
    .await;
    fails(
        app.manage(&helper_token, live, "mod", &viewer_id, None)
            .await,
        403,
        "FORBIDDEN",
    )
    .await;
    fails(
        app.manage(&token, live, "ban", &helper_id, None).await,
        403,
        "FORBIDDEN",
    )
    .await;
    // Nor may anyone ban the owner.
    fails(
        app.manage(&helper_token, live, "ban", &owner.id.to_string(), None)
            .await,
        403,
        "FORBIDDEN",
    )
    .await;

    ok_empty(app.manage(&token, live, "unmod", &helper_id, None).await).await;
    ok_empty(app.manage(&token, live, "unmod", &helper_id, None).await).await;
    let data = app.view(&token, live, json!({"maxResults": 1})).await;
    assert_eq!(data["messages"][0]["isLiveManager"], false);
    fails(
        app.manage(&helper_token, live, "ban", &viewer_id, None)
            .await,
        403,
        "FORBIDDEN",
    )
    .await;
}

/// [P] an unknown userId (or one of another application) is 404 NOT_FOUND on every
/// management call.
#[tokio::test]
async fn unknown_users_are_not_found() {
    let app = spawn_app().await;
    let owner = app.user("streamer").await;
    let stranger = app.user_in(app.other_app, "stranger").await;
    let live = app.live_of(&owner, "Show").await;
    let token = app.token_of(&owner).await;
    for user in ["999999", "abc", "0", &stranger.id.to_string()] {
        for action in ["ban", "timedBan", "unban", "mod", "unmod"] {
            let message = fails(
                app.manage(&token, live, action, user, Some(json!({"banTime": 60})))
                    .await,
                404,
                "NOT_FOUND",
            )
            .await;
            assert!(message.contains("user"), "{action}/{user}: {message}");
        }
    }
}
