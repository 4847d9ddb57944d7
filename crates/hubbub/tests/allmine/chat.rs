//! Live-stream chat: send, list, delete, superlike (reference 3.3, checklist 1-8, 11).

use crate::helpers::{assert_iso_millis, hex, spawn_app};
use hubbub_core::engine::{Actor, LivePatch, Restrict, UserPatch, UserRef};
use hubbub_core::model::{LiveStatus, RestrictionKind};
use reqwest::Method;
use serde_json::{Value, json};

const NOT_FOUND: &str = "Resource not found";
const VALIDATION: &str = "Validation failed";
const AUTH: &str = "Authentication required";
const FORBIDDEN: &str = "Insufficient permissions";
const CONFLICT: &str = "Resource already exists or cannot be changed in its current state";

/// Checklist 1 (and bad credentials of every kind).
#[tokio::test]
async fn send_without_a_valid_token_is_401() {
    let app = spawn_app().await;
    let (owner, _) = app.user("owner").await;
    let (_, stream) = app.stream("live", owner.id).await;
    let path = format!("/live-stream/{stream}/chat/messages");

    let answer = app
        .post(&path, None, json!({"content": "Herkese selam!"}))
        .await;
    answer.error(401, AUTH);
    assert_eq!(
        answer.headers["www-authenticate"],
        "Bearer realm=\"allmine\""
    );
    for token in ["", "garbage", "a.b.c", app.key.as_str()] {
        app.post(&path, Some(token), json!({"content": "x"}))
            .await
            .error(401, AUTH);
    }
    // A user of another application is authenticated in that application, where
    // this application's stream does not exist.
    let (other_app, _) = app.other.clone().unwrap();
    let stranger = app
        .engine
        .create_user(
            &Actor::App(other_app),
            hubbub_core::engine::CreateUser {
                name: "stranger".into(),
                display_name: None,
                is_guest: false,
                kind: hubbub_core::model::UserKind::Person,
                properties: Value::Null,
            },
        )
        .await
        .unwrap();
    let foreign = app
        .engine
        .issue_allmine_tokens(other_app, stranger.id)
        .await
        .unwrap()
        .access_token;
    app.post(&path, Some(&foreign), json!({"content": "x"}))
        .await
        .error(404, NOT_FOUND);
    // Nothing was stored.
    let (_, token) = app.user("reader").await;
    assert_eq!(app.list(&stream, &token, "").await.data(200)["total"], 0);
    // The list and the delete want a token too.
    app.get(&path, None).await.error(401, AUTH);
    app.delete(&format!("{path}/{}", hex(1)), None)
        .await
        .error(401, AUTH);
    app.post(
        &format!("/live-stream/{stream}/chat/superlike"),
        None,
        json!({}),
    )
    .await
    .error(401, AUTH);
}

/// Checklist 2: the seed's message shape, the sender is the caller.
#[tokio::test]
async fn send_returns_the_message_with_its_sender() {
    let app = spawn_app().await;
    let (owner, _) = app.user("owner").await;
    let (channel, stream) = app.stream("live", owner.id).await;
    let (john, token) = app.user("johndoe").await;

    let answer = app
        .post(
            &format!("/live-stream/{stream}/chat/messages"),
            Some(&token),
            json!({"content": "  Herkese selam!  "}),
        )
        .await;
    let data = answer.data(201).clone();
    let id = data["_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 24);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_iso_millis(&data["createdAt"]);
    assert_eq!(
        data,
        json!({
            "_id": id,
            "streamId": hex(channel.0),
            "content": "Herkese selam!",
            "sender": {
                "_id": hex(john.id.0),
                "username": "johndoe",
                "name": "johndoe display",
                "surname": null,
                "profilePhoto": null,
                "availabilityStatus": "available",
            },
            "createdAt": data["createdAt"],
            "updatedAt": data["createdAt"],
        })
    );
    // Stored in the room, under the id given.
    let stored = app
        .engine
        .get_message(
            &Actor::App(app.app),
            hubbub_core::ids::MessageId(i64::from_str_radix(&id, 16).unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(stored.message.channel_id, channel);
    assert_eq!(stored.message.content.body(), Some("Herkese selam!"));
    assert_eq!(stored.message.user_id, Some(john.id));

    // A picture, a surname property and a presence status show in the sender.
    let actor = Actor::App(app.app);
    app.engine
        .set_display_picture(&actor, john.id, Some("https://cdn.example.com/john.jpg"))
        .await
        .unwrap();
    app.engine
        .update_user(
            &actor,
            john.id,
            UserPatch {
                presence_status: Some("BUSY".into()),
                properties: Some(json!({"surname": "Doe"})),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    let data = app.say(&stream, &token, "again").await;
    let sender = &data["sender"];
    assert_eq!(sender["surname"], "Doe");
    assert_eq!(sender["availabilityStatus"], "busy");
    let photo = &sender["profilePhoto"];
    let photo_id = photo["_id"].as_str().unwrap();
    assert_eq!(photo_id.len(), 24);
    assert_iso_millis(&photo["createdAt"]);
    assert_eq!(
        photo,
        &json!({
            "_id": photo_id,
            "url": "https://cdn.example.com/john.jpg",
            "type": "image",
            "variants": {
                "40": "https://cdn.example.com/john.jpg",
                "76": "https://cdn.example.com/john.jpg",
            },
            "createdAt": photo["createdAt"],
            "updatedAt": photo["createdAt"],
        })
    );
}

/// Checklist 3: missing, empty, blank, too long or ill-typed content.
#[tokio::test]
async fn bad_content_is_400_and_stores_nothing() {
    let app = spawn_app().await;
    let (owner, _) = app.user("owner").await;
    let (_, stream) = app.stream("live", owner.id).await;
    let (_, token) = app.user("viewer").await;
    let path = format!("/live-stream/{stream}/chat/messages");

    for body in [
        json!({}),
        json!({"content": ""}),
        json!({"content": "   \n\t "}),
        json!({"content": "x".repeat(501)}),
        json!({"content": 42}),
        json!({"content": ["hi"]}),
        json!({"text": "hi"}),
        json!(["hi"]),
        json!("hi"),
    ] {
        app.post(&path, Some(&token), body.clone())
            .await
            .error(400, VALIDATION);
    }
    // Not JSON at all, or not declared as JSON.
    let raw = app
        .request(Method::POST, &path, Some(&token))
        .header("content-type", "application/json")
        .body("{\"content\": ");
    app.send(raw).await.error(400, VALIDATION);
    let form = app
        .request(Method::POST, &path, Some(&token))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("content=hi");
    app.send(form).await.error(400, VALIDATION);
    // No body.
    app.send(app.request(Method::POST, &path, Some(&token)))
        .await
        .error(400, VALIDATION);
    assert_eq!(app.list(&stream, &token, "").await.data(200)["total"], 0);

    // 500 characters (not bytes) are fine, after trimming.
    let long = "ğ".repeat(500);
    let data = app.say(&stream, &token, &format!(" {long} ")).await;
    assert_eq!(data["content"], long);
    // A body over the configured limit is 413 in the envelope.
    let huge = json!({"content": "x".repeat(300 * 1024)});
    app.post(&path, Some(&token), huge)
        .await
        .error(413, "Payload too large");
}

/// Checklist 4: unknown streams are 404, an ended stream is 409.
#[tokio::test]
async fn unknown_streams_are_404_and_ended_streams_409() {
    let app = spawn_app().await;
    let (owner, owner_token) = app.user("owner").await;
    let (channel, stream) = app.stream("live", owner.id).await;
    let (_, token) = app.user("viewer").await;

    for unknown in [
        hex(channel.0 + 1000),
        "64d15f9e2e6c8f4d5a123000".to_owned(),
        "string".to_owned(),
        "00000000000000000000000g".to_owned(),
    ] {
        let path = format!("/live-stream/{unknown}/chat/messages");
        app.post(&path, Some(&token), json!({"content": "hi"}))
            .await
            .error(404, NOT_FOUND);
        app.get(&path, Some(&token)).await.error(404, NOT_FOUND);
        app.post(
            &format!("/live-stream/{unknown}/chat/superlike"),
            Some(&token),
            json!({}),
        )
        .await
        .error(404, NOT_FOUND);
    }

    // Another application's stream is not found either.
    let (other_app, _) = app.other.clone().unwrap();
    let (theirs, _) = app
        .engine
        .create_channel(
            &Actor::App(other_app),
            hubbub_core::engine::CreateChannel {
                kind: hubbub_core::model::ChannelKind::Public,
                name: Some("theirs".into()),
                display_name: None,
                creator: None,
                members: vec![],
                properties: Value::Null,
                live: None,
            },
        )
        .await
        .unwrap();
    let path = format!("/live-stream/{}/chat/messages", hex(theirs.channel.id.0));
    app.post(&path, Some(&token), json!({"content": "hi"}))
        .await
        .error(404, NOT_FOUND);
    app.get(&path, Some(&token)).await.error(404, NOT_FOUND);

    // Once the broadcast has ended, its chat is closed, for the owner too; the
    // history stays readable.
    app.say(&stream, &token, "before the end").await;
    app.set_status(channel, LiveStatus::Ended).await;
    let path = format!("/live-stream/{stream}/chat/messages");
    for t in [&token, &owner_token] {
        app.post(&path, Some(t), json!({"content": "too late"}))
            .await
            .error(409, CONFLICT);
    }
    // Validation comes first: a bad body is still a 400.
    app.post(&path, Some(&token), json!({}))
        .await
        .error(400, VALIDATION);
    app.post(
        &format!("/live-stream/{stream}/chat/superlike"),
        Some(&token),
        json!({}),
    )
    .await
    .error(409, CONFLICT);
    assert_eq!(app.list(&stream, &token, "").await.data(200)["total"], 1);
    // A new broadcast opens the chat again.
    app.set_status(channel, LiveStatus::Live).await;
    app.say(&stream, &token, "back").await;
}

/// Banned and muted users are refused with 403, whichever API restricted them.
#[tokio::test]
async fn banned_and_muted_users_get_403() {
    let app = spawn_app().await;
    let (owner, _) = app.user("owner").await;
    let (channel, stream) = app.stream("live", owner.id).await;
    let (troll, troll_token) = app.user("troll").await;
    let (loud, loud_token) = app.user("loud").await;
    let actor = Actor::App(app.app);
    for (user, kind) in [
        (&troll, RestrictionKind::Ban),
        (&loud, RestrictionKind::Mute),
    ] {
        app.engine
            .restrict_user(
                &actor,
                channel,
                Restrict {
                    user: UserRef::Id(user.id),
                    kind,
                    duration: None,
                    reason: String::new(),
                },
            )
            .await
            .unwrap();
    }
    let path = format!("/live-stream/{stream}/chat/messages");
    for token in [&troll_token, &loud_token] {
        app.post(&path, Some(token), json!({"content": "hi"}))
            .await
            .error(403, FORBIDDEN);
    }
    // A ban also refuses superlikes; a mute only silences.
    let superlike = format!("/live-stream/{stream}/chat/superlike");
    app.post(&superlike, Some(&troll_token), json!({}))
        .await
        .error(403, FORBIDDEN);
    app.post(&superlike, Some(&loud_token), json!({}))
        .await
        .data(201);
    let (_, token) = app.user("viewer").await;
    assert_eq!(app.list(&stream, &token, "").await.data(200)["total"], 0);

    // Chat switched off: only the owner (and moderators) may still post.
    app.engine
        .update_live(
            &actor,
            channel,
            LivePatch {
                chat_enabled: Some(false),
                ..LivePatch::default()
            },
        )
        .await
        .unwrap();
    app.post(&path, Some(&token), json!({"content": "hi"}))
        .await
        .error(403, FORBIDDEN);
    let owner_token = app.token_for(owner.id).await;
    app.say(&stream, &owner_token, "still here").await;
}

/// Checklist 5: defaults, and the full list body.
#[tokio::test]
async fn list_defaults_to_page_1_of_30_newest_first() {
    let app = spawn_app().await;
    let (owner, _) = app.user("owner").await;
    let (_, stream) = app.stream("live", owner.id).await;
    let (_, token) = app.user("viewer").await;

    let empty = app.list(&stream, &token, "").await;
    assert_eq!(
        empty.data(200),
        &json!({
            "messages": [],
            "page": 1,
            "limit": 30,
            "total": 0,
            "totalPages": 0,
            "hasNextPage": false,
            "hasPreviousPage": false,
        })
    );

    let first = app.say(&stream, &token, "first").await;
    let second = app.say(&stream, &token, "second").await;
    let answer = app.list(&stream, &token, "").await;
    assert_eq!(
        answer.data(200),
        &json!({
            "messages": [second, first],
            "page": 1,
            "limit": 30,
            "total": 2,
            "totalPages": 1,
            "hasNextPage": false,
            "hasPreviousPage": false,
        })
    );
    // Unknown query parameters are ignored; a repeated one keeps its last value.
    let answer = app.list(&stream, &token, "?sort=asc&limit=5&limit=1").await;
    let data = answer.data(200);
    assert_eq!(data["limit"], 1);
    assert_eq!(data["messages"], json!([second]));
    assert_eq!(data["totalPages"], 2);
    assert_eq!(data["hasNextPage"], true);
}

/// Checklist 6: `limit` and `page` out of range (chat does not clamp).
#[tokio::test]
async fn out_of_range_paging_is_400() {
    let app = spawn_app().await;
    let (owner, _) = app.user("owner").await;
    let (_, stream) = app.stream("live", owner.id).await;
    let (_, token) = app.user("viewer").await;
    for query in [
        "?limit=0",
        "?limit=101",
        "?limit=-1",
        "?limit=abc",
        "?limit=",
        "?limit=1.5",
        "?page=0",
        "?page=-1",
        "?page=x",
        "?page=99999999999",
    ] {
        app.list(&stream, &token, query)
            .await
            .error(400, VALIDATION);
    }
    for query in ["?limit=1", "?limit=100", "?page=1&limit=100", "?page=7"] {
        app.list(&stream, &token, query).await.data(200);
    }
}

/// Checklist 7: 35 messages in pages of 30.
#[tokio::test]
async fn pages_of_thirty_over_thirty_five_messages() {
    let app = spawn_app().await;
    let (owner, _) = app.user("owner").await;
    let (_, stream) = app.stream("live", owner.id).await;
    let (_, token) = app.user("viewer").await;
    let mut sent = Vec::new();
    for i in 1..=35 {
        sent.push(app.say(&stream, &token, &format!("message {i}")).await);
    }
    let newest_first: Vec<Value> = sent.iter().rev().cloned().collect();

    let page1 = app.list(&stream, &token, "?limit=30").await;
    assert_eq!(
        page1.data(200),
        &json!({
            "messages": newest_first[..30],
            "page": 1,
            "limit": 30,
            "total": 35,
            "totalPages": 2,
            "hasNextPage": true,
            "hasPreviousPage": false,
        })
    );
    let page2 = app.list(&stream, &token, "?page=2&limit=30").await;
    assert_eq!(
        page2.data(200),
        &json!({
            "messages": newest_first[30..],
            "page": 2,
            "limit": 30,
            "total": 35,
            "totalPages": 2,
            "hasNextPage": false,
            "hasPreviousPage": true,
        })
    );
    assert_eq!(page2.data(200)["messages"][4]["content"], "message 1");
    // Past the end: no messages, the totals kept.
    let page3 = app.list(&stream, &token, "?page=3&limit=30").await;
    assert_eq!(
        page3.data(200),
        &json!({
            "messages": [],
            "page": 3,
            "limit": 30,
            "total": 35,
            "totalPages": 2,
            "hasNextPage": false,
            "hasPreviousPage": true,
        })
    );
    // Small pages walk the same order without gaps or repeats.
    let mut walked = Vec::new();
    for page in 1..=9 {
        let answer = app
            .list(&stream, &token, &format!("?page={page}&limit=4"))
            .await;
        let data = answer.data(200);
        walked.extend(data["messages"].as_array().unwrap().iter().cloned());
        assert_eq!(data["hasNextPage"], page < 9);
    }
    assert_eq!(walked, newest_first);
}

/// Checklist 8: every envelope's timestamp, success or failure.
#[tokio::test]
async fn every_timestamp_has_milliseconds_and_z() {
    let app = spawn_app().await;
    let (owner, _) = app.user("owner").await;
    let (_, stream) = app.stream("live", owner.id).await;
    let (_, token) = app.user("viewer").await;
    let message = app.say(&stream, &token, "hi").await;
    assert_iso_millis(&message["createdAt"]);
    assert_iso_millis(&message["updatedAt"]);
    let answers = [
        app.list(&stream, &token, "").await,
        app.post(
            &format!("/live-stream/{stream}/chat/messages"),
            None,
            json!({}),
        )
        .await,
        app.get("/nothing-here", None).await,
    ];
    for answer in &answers {
        assert_iso_millis(&answer.body["timestamp"]);
    }
}

/// Checklist 11 and who else may delete.
#[tokio::test]
async fn delete_by_sender_owner_or_moderator_only() {
    let app = spawn_app().await;
    let (owner, owner_token) = app.user("owner").await;
    let (channel, stream) = app.stream("live", owner.id).await;
    let (_, alice_token) = app.user("alice").await;
    let (_, bob_token) = app.user("bob").await;
    let (moderator, moderator_token) = app.user("mod").await;
    app.engine
        .add_moderator(&Actor::App(app.app), channel, &UserRef::Id(moderator.id))
        .await
        .unwrap();
    let m1 = app.say(&stream, &alice_token, "one").await;
    let m2 = app.say(&stream, &alice_token, "two").await;
    let m3 = app.say(&stream, &alice_token, "three").await;
    let path = |m: &Value| {
        format!(
            "/live-stream/{stream}/chat/messages/{}",
            m["_id"].as_str().unwrap()
        )
    };

    // Neither sender nor host.
    app.delete(&path(&m1), Some(&bob_token))
        .await
        .error(403, FORBIDDEN);
    assert_eq!(
        app.list(&stream, &bob_token, "").await.data(200)["total"],
        3
    );

    // The sender.
    let answer = app.delete(&path(&m1), Some(&alice_token)).await;
    assert_eq!(
        answer.data(200),
        &json!({"_id": m1["_id"], "deleted": true})
    );
    let list = app.list(&stream, &bob_token, "").await;
    assert_eq!(list.data(200)["messages"], json!([m3, m2]));
    assert_eq!(list.data(200)["total"], 2);
    // Gone is gone.
    app.delete(&path(&m1), Some(&alice_token))
        .await
        .error(404, NOT_FOUND);

    // The stream's owner and a moderator.
    app.delete(&path(&m2), Some(&owner_token)).await.data(200);
    app.delete(&path(&m3), Some(&moderator_token))
        .await
        .data(200);
    assert_eq!(
        app.list(&stream, &bob_token, "").await.data(200)["messages"],
        json!([])
    );

    // Unknown ids, and a message addressed through another stream.
    let (_, other_stream) = app.stream("other", owner.id).await;
    let m4 = app.say(&other_stream, &alice_token, "elsewhere").await;
    for bad in [
        format!("/live-stream/{stream}/chat/messages/{}", hex(999_999)),
        format!("/live-stream/{stream}/chat/messages/nope"),
        format!(
            "/live-stream/{stream}/chat/messages/{}",
            m4["_id"].as_str().unwrap()
        ),
        format!(
            "/live-stream/{}/chat/messages/{}",
            hex(999_999),
            m4["_id"].as_str().unwrap()
        ),
    ] {
        app.delete(&bad, Some(&alice_token))
            .await
            .error(404, NOT_FOUND);
    }
    assert_eq!(
        app.list(&other_stream, &bob_token, "").await.data(200)["total"],
        1
    );
}

/// A superlike adds a like to the stream and is no chat message.
#[tokio::test]
async fn superlike_counts_a_like() {
    let app = spawn_app().await;
    let (owner, _) = app.user("owner").await;
    let (channel, stream) = app.stream("live", owner.id).await;
    let (fan, token) = app.user("fan").await;
    let path = format!("/live-stream/{stream}/chat/superlike");

    let answer = app.post(&path, Some(&token), json!({})).await;
    let data = answer.data(201).clone();
    assert_iso_millis(&data["timestamp"]);
    assert_eq!(
        data,
        json!({
            "streamId": stream,
            "senderId": hex(fan.id.0),
            "senderSnapshot": {
                "_id": hex(fan.id.0),
                "username": "fan",
                "name": "fan display",
                "surname": null,
                "profilePhoto": null,
            },
            "price": 0,
            "timestamp": data["timestamp"],
        })
    );
    // No body at all is fine too.
    app.send(app.request(Method::POST, &path, Some(&token)))
        .await
        .data(201);
    let room = app
        .engine
        .get_channel(&Actor::App(app.app), channel)
        .await
        .unwrap();
    assert_eq!(room.live.counters.likes, 2);
    assert_eq!(app.list(&stream, &token, "").await.data(200)["total"], 0);
}

/// Unknown paths and methods under /api/v1 answer in the envelope.
#[tokio::test]
async fn unknown_paths_and_methods_answer_in_the_envelope() {
    let app = spawn_app().await;
    let (owner, token) = app.user("owner").await;
    let (_, stream) = app.stream("live", owner.id).await;
    app.get("/nothing-here", None).await.error(404, NOT_FOUND);
    app.get("/live-stream/x/chat", Some(&token))
        .await
        .error(404, NOT_FOUND);
    app.send(app.request(
        Method::PUT,
        &format!("/live-stream/{stream}/chat/messages"),
        Some(&token),
    ))
    .await
    .error(405, "Method not allowed");
    app.get("/auth/send-otp-email", None)
        .await
        .error(405, "Method not allowed");
    app.get(
        &format!("/live-stream/{stream}/chat/superlike"),
        Some(&token),
    )
    .await
    .error(405, "Method not allowed");
}
