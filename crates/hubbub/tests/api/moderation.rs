//! Bans, mutes and passwords through the Platform API extensions; the engine
//! enforces them on every send, whoever sends.

use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_ban_blocks_every_send_of_the_user_until_lifted() {
    let app = spawn_app().await;
    let jane = app.create_user("jane").await;
    app.create_user("bob").await;
    let room = id(&app.create_channel("live").await);
    app.send_text(room, Some("jane"), "before").await;

    let ban = ok(app
        .post(
            &format!("/v1/channels/{room}/bans"),
            json!({"user": {"username": "jane"}, "reason": "spam"}),
        )
        .await)
    .await;
    assert_eq!(ban["type"], "BAN");
    assert_eq!(ban["channel_id"], room);
    assert_eq!(ban["user"]["name"], "jane");
    assert_eq!(ban["reason"], "spam");
    assert!(ban.get("expires_time").is_none(), "permanent: {ban}");

    let refused = api_error(
        app.post(
            &format!("/v1/channels/{room}/messages"),
            json!({"type": "TEXT", "body": "after", "user": {"username": "jane"}}),
        )
        .await,
        403,
    )
    .await;
    assert!(
        refused["message"].as_str().unwrap().contains("banned"),
        "{refused}"
    );
    // Others still post; the refused message was not stored.
    app.send_text(room, Some("bob"), "still here").await;
    let listed = ok(app.get(&format!("/v1/channels/{room}/messages")).await).await;
    let bodies: Vec<&str> = listed["_embedded"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["still here", "before"]);

    let bans = ok(app.get(&format!("/v1/channels/{room}/bans")).await).await;
    assert_eq!(bans["page"]["total_elements"], 1);
    assert_eq!(
        bans["_embedded"]["restrictions"][0]["user"]["id"],
        id(&jane)
    );

    let lifted = ok(app
        .delete(&format!("/v1/channels/{room}/bans/{}", id(&jane)))
        .await)
    .await;
    assert_eq!(lifted, json!({"lifted": true}));
    api_error(
        app.delete(&format!("/v1/channels/{room}/bans/{}", id(&jane)))
            .await,
        404,
    )
    .await;
    app.send_text(room, Some("jane"), "back").await;
}

#[tokio::test]
async fn a_timed_mute_lapses_and_bad_requests_change_nothing() {
    let app = spawn_app().await;
    app.create_user("jane").await;
    let owner = app.create_user("owner").await;
    let room = ok(app
        .post(
            "/v1/channels",
            json!({"type": "PUBLIC", "name": "room", "creator": {"username": "owner"}}),
        )
        .await)
    .await;
    let room = id(&room);

    for bad in [
        json!({"user": {"username": "jane"}, "duration_seconds": 0}),
        json!({"user": {"username": "jane"}, "duration_seconds": 400_000_000u64}),
        json!({"user": {}}),
        json!({"user": {"username": "jane"}, "until": 5}),
        json!({"user": {"username": "nobody"}}),
    ] {
        let status = app
            .post(&format!("/v1/channels/{room}/mutes"), bad.clone())
            .await
            .status()
            .as_u16();
        assert!(status == 400 || status == 404, "{bad} → {status}");
    }
    let owner_mute = app
        .post(
            &format!("/v1/channels/{room}/mutes"),
            json!({"user": {"id": id(&owner)}}),
        )
        .await;
    api_error(owner_mute, 403).await;
    let mutes = ok(app.get(&format!("/v1/channels/{room}/mutes")).await).await;
    assert_eq!(mutes["page"]["total_elements"], 0, "nothing was muted");

    let mute = ok(app
        .post(
            &format!("/v1/channels/{room}/mutes"),
            json!({"user": {"username": "jane"}, "duration_seconds": 1}),
        )
        .await)
    .await;
    assert_eq!(mute["type"], "MUTE");
    assert!(mute["expires_time"].is_string());
    api_error(
        app.post(
            &format!("/v1/channels/{room}/messages"),
            json!({"type": "TEXT", "body": "muted", "user": {"username": "jane"}}),
        )
        .await,
        403,
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app.send_text(room, Some("jane"), "the mute lapsed").await;
    // A mute is per channel.
    let other = id(&app.create_channel("other").await);
    app.send_text(other, Some("jane"), "elsewhere").await;
}

#[tokio::test]
async fn passwords_are_set_validated_and_never_shown() {
    let app = spawn_app().await;
    let jane = app.create_user("jane").await;
    let path = format!("/v1/users/{}/password", id(&jane));
    let short = app
        .request(Method::PUT, &path)
        .json(&json!({"password": "short"}))
        .send()
        .await
        .unwrap();
    api_error(short, 400).await;
    let set = ok(app
        .request(Method::PUT, &path)
        .json(&json!({"password": "correct horse battery"}))
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(set["name"], "jane");
    assert!(!set.to_string().contains("password"), "{set}");
    let user = app
        .engine
        .verify_user_password(
            app.engine.list_applications().await.unwrap()[0].id,
            "jane",
            "correct horse battery",
        )
        .await
        .unwrap();
    assert_eq!(user.map(|u| u.id.0), Some(id(&jane)));
    let cleared = app
        .request(Method::PUT, &path)
        .json(&json!({"password": null}))
        .send()
        .await
        .unwrap();
    ok(cleared).await;
    let app_id = app.engine.list_applications().await.unwrap()[0].id;
    assert!(
        app.engine
            .verify_user_password(app_id, "jane", "correct horse battery")
            .await
            .unwrap()
            .is_none()
    );
    let missing = app
        .request(Method::PUT, "/v1/users/999999/password")
        .json(&json!({"password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    api_error(missing, 404).await;
}
