//! View, send and delete chat (seed-surfaces 1.4; checklist rows 1-4, 7-9, 15).

use crate::helpers::{fails, ok, ok_empty, spawn_app};
use hubbub_core::engine::{Actor, SendContent, SendMessage};
use reqwest::Method;
use serde_json::{Value, json};

fn texts(data: &Value) -> Vec<String> {
    data["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("messages is not an array: {data}"))
        .iter()
        .map(|m| m["message"].as_str().unwrap().to_owned())
        .collect()
}

/// Checklist 1 [S]: `maxResults: 0` without a pageToken, 150 messages stored → the
/// 100 newest. Checklist 2 [S]: `maxResults: 150` → at most 100. Messages come
/// oldest first [P] with every field of PRISM's message dto.
#[tokio::test]
async fn without_a_page_token_the_newest_messages_come_at_most_a_hundred() {
    let app = spawn_app().await;
    let owner = app.user("streamer").await;
    let fan = app.user("fan").await;
    let live = app.live_of(&owner, "Show").await;
    let token = app.token_of(&owner).await;
    let mut last = None;
    for i in 1..=150 {
        last = Some(app.say(live, &fan, &format!("m{i}")).await);
    }
    let newest: Vec<String> = (51..=150).map(|i| format!("m{i}")).collect();

    for max in [json!(0), json!(150), json!("150"), json!(100), json!(1000)] {
        let data = app
            .view(&token, live, json!({"maxResults": max, "pageToken": null}))
            .await;
        assert_eq!(texts(&data), newest, "maxResults {max}");
        assert_eq!(data["liveId"], live.to_string());
        assert!(data["nextPageToken"].is_string(), "{data}");
    }
    // No body at all, as in PRISM's own request example: maxResults 0 [P].
    let data = ok(app
        .call(
            Method::POST,
            &format!("/prism/v1/service/live/{live}/chat"),
            Some(&token),
            None,
        )
        .await)
    .await;
    assert_eq!(texts(&data), newest);

    let data = app.view(&token, live, json!({"maxResults": 2})).await;
    assert_eq!(texts(&data), ["m149", "m150"]);
    let newest = &data["messages"][1];
    let at = newest["messageAt"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(at).is_ok() && at.ends_with("+00:00"),
        "messageAt {at}"
    );
    assert_eq!(
        newest,
        &json!({
            "messageId": last.unwrap().to_string(),
            "message": "m150",
            "messageAt": at,
            "authorId": fan.id.to_string(),
            "authorName": "FAN",
            "authorProfileThumbnail": null,
            "isLiveOwner": false,
            "isLiveManager": false,
        })
    );
}

/// Checklist 3 [S]: the nextPageToken continues after the page just returned; with
/// nothing new it is returned unchanged with `messages: []`.
#[tokio::test]
async fn next_page_tokens_continue_and_stay_put_when_nothing_is_new() {
    let app = spawn_app().await;
    let owner = app.user("streamer").await;
    let fan = app.user("fan").await;
    let live = app.live_of(&owner, "Show").await;
    let token = app.token_of(&owner).await;
    app.say(live, &fan, "before").await;

    let first = app.view(&token, live, json!({"maxResults": 0})).await;
    assert_eq!(texts(&first), ["before"]);
    let t1 = first["nextPageToken"].as_str().unwrap().to_owned();

    for text in ["a", "b", "c"] {
        app.say(live, &fan, text).await;
    }
    let second = app
        .view(&token, live, json!({"maxResults": "2", "pageToken": t1}))
        .await;
    assert_eq!(texts(&second), ["a", "b"]);
    let t2 = second["nextPageToken"].as_str().unwrap().to_owned();
    assert_ne!(t2, t1);
    let third = app
        .view(&token, live, json!({"maxResults": 2, "pageToken": t2}))
        .await;
    assert_eq!(texts(&third), ["c"]);
    let t3 = third["nextPageToken"].as_str().unwrap().to_owned();

    for _ in 0..2 {
        let idle = app
            .view(&token, live, json!({"maxResults": 2, "pageToken": t3}))
            .await;
        assert_eq!(
            idle,
            json!({"liveId": live.to_string(), "nextPageToken": t3, "messages": []})
        );
    }
    app.say(live, &fan, "d").await;
    let fourth = app
        .view(&token, live, json!({"maxResults": 2, "pageToken": t3}))
        .await;
    assert_eq!(texts(&fourth), ["d"]);
}

/// Checklist 4 [S]: a live without chat answers `messages: []`, never null, with a
/// token that picks up the first message.
#[tokio::test]
async fn a_live_without_chat_has_an_empty_list() {
    let app = spawn_app().await;
    let owner = app.user("streamer").await;
    let live = app.live_of(&owner, "Quiet").await;
    let token = app.token_of(&owner).await;
    let data = app.view(&token, live, json!({"maxResults": 10})).await;
    assert_eq!(data["messages"], json!([]));
    let next = data["nextPageToken"].as_str().unwrap().to_owned();
    let again = app
        .view(&token, live, json!({"maxResults": 10, "pageToken": next}))
        .await;
    assert_eq!(
        again,
        json!({"liveId": live.to_string(), "nextPageToken": next, "messages": []})
    );
    app.say(live, &owner, "first").await;
    let data = app
        .view(&token, live, json!({"maxResults": 10, "pageToken": next}))
        .await;
    assert_eq!(texts(&data), ["first"]);
}

/// [P] pageToken is an opaque cursor of one live: another live's token, a made-up
/// string or a number is 400 INVALID_PARAMETER, and so is a bad maxResults.
#[tokio::test]
async fn foreign_or_made_up_page_tokens_and_bad_max_results_are_refused() {
    let app = spawn_app().await;
    let owner = app.user("streamer").await;
    let live = app.live_of(&owner, "One").await;
    let other = app.live_of(&owner, "Two").await;
    let token = app.token_of(&owner).await;
    app.say(other, &owner, "elsewhere").await;
    let foreign = app.view(&token, other, json!({"maxResults": 1})).await["nextPageToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/prism/v1/service/live/{live}/chat");
    for body in [
        json!({"maxResults": 1, "pageToken": foreign}),
        json!({"maxResults": 1, "pageToken": "not-a-token"}),
        json!({"maxResults": 1, "pageToken": 8239}),
        json!({"maxResults": 1, "pageToken": {"seq": 1}}),
        json!({"maxResults": -1}),
        json!({"maxResults": "ten"}),
        json!({"maxResults": 1.5}),
        json!([1, 2]),
    ] {
        let message = fails(
            app.call(Method::POST, &path, Some(&token), Some(body.clone()))
                .await,
            400,
            "INVALID_PARAMETER",
        )
        .await;
        let field = if body.get("pageToken").is_some() {
            "pageToken"
        } else if body.is_object() {
            "maxResults"
        } else {
            "object"
        };
        assert!(message.contains(field), "{body}: {message}");
    }
    let not_json = app
        .client
        .post(app.url(&path))
        .header("x-prism-access-token", &token)
        .header("content-type", "application/json")
        .body("{maxResults:")
        .send()
        .await
        .unwrap();
    fails(not_json, 400, "INVALID_PARAMETER").await;
}

/// Checklist 7 [S~]: a send answers the bare envelope, and the next view shows the
/// message as the token owner's with `isLiveOwner: true`.
#[tokio::test]
async fn a_streamer_sends_as_the_live_owner() {
    let app = spawn_app().await;
    let owner = app.user("streamer").await;
    let live = app.live_of(&owner, "Show").await;
    let token = app.token_of(&owner).await;
    let path = format!("/prism/v1/service/live/{live}/chat");
    ok_empty(
        app.call(
            Method::PUT,
            &path,
            Some(&token),
            Some(json!({"message": "hi"})),
        )
        .await,
    )
    .await;
    let data = app.view(&token, live, json!({"maxResults": 0})).await;
    let sent = &data["messages"][0];
    assert_eq!(data["messages"].as_array().unwrap().len(), 1);
    assert_eq!(sent["message"], "hi");
    assert_eq!(sent["authorId"], owner.id.to_string());
    assert_eq!(sent["authorName"], "STREAMER");
    assert_eq!(sent["isLiveOwner"], true);
    assert_eq!(sent["isLiveManager"], false);

    // A system message (sent by the backend, no author) has no author [P].
    app.engine
        .send_message(
            &Actor::App(app.app),
            live,
            SendMessage {
                on_behalf_of: None,
                content: SendContent::Text("the stream starts soon".into()),
                group_tag: None,
                properties: Value::Null,
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    let data = app.view(&token, live, json!({"maxResults": 1})).await;
    let system = &data["messages"][0];
    assert_eq!(system["message"], "the stream starts soon");
    assert_eq!(system["authorId"], Value::Null);
    assert_eq!(system["authorName"], Value::Null);
    assert_eq!(system["isLiveOwner"], false);
}

/// Checklist 8 [P]: a send without a message, or with an empty, blank or non-string
/// one, is 400 INVALID_PARAMETER and stores nothing.
#[tokio::test]
async fn a_send_without_a_message_is_refused() {
    let app = spawn_app().await;
    let owner = app.user("streamer").await;
    let live = app.live_of(&owner, "Show").await;
    let token = app.token_of(&owner).await;
    let path = format!("/prism/v1/service/live/{live}/chat");
    for body in [
        json!({}),
        json!({"message": ""}),
        json!({"message": "   "}),
        json!({"message": null}),
        json!({"message": 5}),
        json!({"text": "hi"}),
    ] {
        let message = fails(
            app.call(Method::PUT, &path, Some(&token), Some(body.clone()))
                .await,
            400,
            "INVALID_PARAMETER",
        )
        .await;
        assert!(message.contains("message"), "{body}: {message}");
    }
    let data = app.view(&token, live, json!({"maxResults": 0})).await;
    assert_eq!(data["messages"], json!([]));
}

/// Checklist 9 [S path / P]: a deleted message is gone from the next view; an
/// unknown chatId, or one of another live, is 404 and deletes nothing. Checklist 15
/// [P]: `liveStat.chatCount` counts the visible messages.
#[tokio::test]
async fn deleted_messages_leave_the_view_and_the_chat_count() {
    let app = spawn_app().await;
    let owner = app.user("streamer").await;
    let fan = app.user("fan").await;
    let live = app.live_of(&owner, "Show").await;
    let other = app.live_of(&owner, "Other").await;
    let token = app.token_of(&owner).await;
    let keep = app.say(live, &fan, "keep").await;
    let spam = app.say(live, &fan, "spam").await;
    app.say(live, &fan, "more").await;
    let elsewhere = app.say(other, &fan, "elsewhere").await;
    let status = format!("/prism/v1/service/live/{live}");
    let chat_count = |data: Value| data["live"]["liveStat"]["chatCount"].clone();
    assert_eq!(
        chat_count(ok(app.call(Method::GET, &status, Some(&token), None).await).await),
        3
    );

    ok_empty(
        app.call(
            Method::DELETE,
            &format!("/prism/v1/service/live/{live}/chat/{spam}"),
            Some(&token),
            None,
        )
        .await,
    )
    .await;
    let data = app.view(&token, live, json!({"maxResults": 0})).await;
    assert_eq!(texts(&data), ["keep", "more"]);
    assert_eq!(
        chat_count(ok(app.call(Method::GET, &status, Some(&token), None).await).await),
        2
    );

    for chat in [
        spam.to_string(),
        "999999".into(),
        "abc".into(),
        elsewhere.to_string(),
    ] {
        let message = fails(
            app.call(
                Method::DELETE,
                &format!("/prism/v1/service/live/{live}/chat/{chat}"),
                Some(&token),
                None,
            )
            .await,
            404,
            "NOT_FOUND",
        )
        .await;
        assert!(message.contains("chat message"), "{message}");
    }
    let data = app.view(&token, other, json!({"maxResults": 0})).await;
    assert_eq!(texts(&data), ["elsewhere"]);

    // A viewer may not delete someone else's message (403), only their own.
    let viewer = app.user("viewer").await;
    let viewer_token = app.token_of(&viewer).await;
    fails(
        app.call(
            Method::DELETE,
            &format!("/prism/v1/service/live/{live}/chat/{keep}"),
            Some(&viewer_token),
            None,
        )
        .await,
        403,
        "FORBIDDEN",
    )
    .await;
    let own = app.say(live, &viewer, "oops").await;
    ok_empty(
        app.call(
            Method::DELETE,
            &format!("/prism/v1/service/live/{live}/chat/{own}"),
            Some(&viewer_token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        chat_count(ok(app.call(Method::GET, &status, Some(&token), None).await).await),
        2
    );
}
