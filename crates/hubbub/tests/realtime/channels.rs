use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn a_subscriber_receives_a_message_posted_over_rest() {
    let app = spawn_app().await;
    app.user("jane").await;
    let channel = app.channel("PUBLIC", "lobby", &[]).await;
    let mut ws = app.client("jane").await;
    let sub = ws.subscribe("lobby").await;
    assert_eq!(sub["recoverable"], true);
    assert_eq!(sub["positioned"], true);
    assert_eq!(sub["epoch"], channel["epoch"]);
    assert_eq!(sub["offset"], 0);

    app.send(id(&channel), Some("jane"), "hello realtime").await;
    let publication = ws.publication("lobby").await;
    assert_eq!(publication["offset"], 1);
    assert_eq!(publication["data"]["type"], "message.created");
    assert_eq!(publication["data"]["message"]["body"], "hello realtime");
    assert_eq!(publication["data"]["message"]["user"]["name"], "jane");
}

#[tokio::test]
async fn publish_is_a_send_through_the_engine_and_idempotent() {
    let app = spawn_app().await;
    app.user("jane").await;
    let channel = app.channel("PUBLIC", "lobby", &[]).await;
    let mut ws = app.client("jane").await;
    ws.subscribe("lobby").await;
    let data = json!({"body": "from ws", "idempotency_key": "k1"});
    let reply = ws
        .call(json!({"publish": {"channel": "lobby", "data": data}}))
        .await;
    assert!(reply["publish"].is_object(), "{reply}");
    let reply = ws
        .call(json!({"publish": {"channel": "lobby", "data": data}}))
        .await;
    assert!(
        reply["publish"].is_object(),
        "a retry is acknowledged: {reply}"
    );
    let publication = ws.publication("lobby").await;
    assert_eq!(publication["data"]["message"]["body"], "from ws");
    let history = app
        .http
        .get(format!(
            "{}/v1/channels/{}/messages",
            app.base,
            id(&channel)
        ))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(history["page"]["total"], 1, "stored once: {history}");

    let reply = ws
        .call(json!({"publish": {"channel": "lobby", "data": {"body": ""}}}))
        .await;
    assert_eq!(reply["error"]["code"], 107, "empty body: {reply}");
    let reply = ws
        .call(json!({"publish": {"channel": "nope", "data": "x"}}))
        .await;
    assert_eq!(reply["error"]["code"], 102, "{reply}");
}

#[tokio::test]
async fn private_channels_admit_members_only() {
    let app = spawn_app().await;
    app.user("jane").await;
    app.user("eve").await;
    app.channel("PRIVATE", "secret", &["jane"]).await;
    let mut eve = app.client("eve").await;
    let reply = eve.call(json!({"subscribe": {"channel": "secret"}})).await;
    assert_eq!(reply["error"]["code"], 103, "{reply}");
    let reply = eve
        .call(json!({"history": {"channel": "secret", "limit": 10}}))
        .await;
    assert_eq!(reply["error"]["code"], 103, "{reply}");
    let reply = eve
        .call(json!({"publish": {"channel": "secret", "data": "hi"}}))
        .await;
    assert_eq!(reply["error"]["code"], 103, "{reply}");
    let mut jane = app.client("jane").await;
    jane.subscribe("secret").await;
    let reply = jane.call(json!({"subscribe": {"channel": "secret"}})).await;
    assert_eq!(reply["error"]["code"], 105, "already subscribed: {reply}");
}

#[tokio::test]
async fn direct_channels_are_named_by_id() {
    let app = spawn_app().await;
    app.user("jane").await;
    app.user("john").await;
    app.user("eve").await;
    let direct = app
        .post(
            "/v1/channels",
            json!({"type": "DIRECT", "members": [{"username": "jane"}, {"username": "john"}]}),
        )
        .await;
    let name = format!("$direct:{}", id(&direct));
    let mut jane = app.client("jane").await;
    jane.subscribe(&name).await;
    let mut eve = app.client("eve").await;
    let reply = eve.call(json!({"subscribe": {"channel": name}})).await;
    assert_eq!(reply["error"]["code"], 103, "{reply}");
}

#[tokio::test]
async fn anonymous_viewers_watch_public_channels_read_only() {
    let app = spawn_app().await;
    app.channel("PUBLIC", "stage", &[]).await;
    app.channel("PRIVATE", "backstage", &[]).await;
    let mut viewer = app.client("").await;
    viewer.subscribe("stage").await;
    let reply = viewer
        .call(json!({"publish": {"channel": "stage", "data": "hi"}}))
        .await;
    assert_eq!(reply["error"]["code"], 103, "{reply}");
    let reply = viewer
        .call(json!({"subscribe": {"channel": "backstage"}}))
        .await;
    assert_eq!(reply["error"]["code"], 103, "{reply}");
}

#[tokio::test]
async fn history_honours_limit_since_and_reverse() {
    let app = spawn_app().await;
    app.user("jane").await;
    let channel = app.channel("PUBLIC", "lobby", &[]).await;
    for i in 1..=5 {
        app.send(id(&channel), Some("jane"), &format!("m{i}")).await;
    }
    let mut ws = app.client("jane").await;
    let bodies = |reply: &serde_json::Value| -> Vec<String> {
        reply["history"]["publications"]
            .as_array()
            .unwrap_or(&vec![])
            .iter()
            .map(|p| p["data"]["message"]["body"].as_str().unwrap().to_owned())
            .collect()
    };
    let reply = ws
        .call(json!({"history": {"channel": "lobby", "limit": 3}}))
        .await;
    assert_eq!(bodies(&reply), ["m1", "m2", "m3"], "{reply}");
    assert_eq!(reply["history"]["offset"], 5);
    assert_eq!(reply["history"]["epoch"], channel["epoch"]);
    let reply = ws
        .call(json!({"history": {"channel": "lobby", "limit": 2, "reverse": true}}))
        .await;
    assert_eq!(bodies(&reply), ["m5", "m4"]);
    let since = json!({"offset": 2, "epoch": channel["epoch"]});
    let reply = ws
        .call(json!({"history": {"channel": "lobby", "limit": 10, "since": since}}))
        .await;
    assert_eq!(bodies(&reply), ["m3", "m4", "m5"]);
    let since = json!({"offset": 4, "epoch": channel["epoch"]});
    let reply = ws
        .call(json!({"history": {"channel": "lobby", "limit": 2, "since": since, "reverse": true}}))
        .await;
    assert_eq!(bodies(&reply), ["m3", "m2"]);
    let reply = ws
        .call(json!({"history": {"channel": "lobby", "limit": 0}}))
        .await;
    assert!(bodies(&reply).is_empty());
    assert_eq!(
        reply["history"]["offset"], 5,
        "limit 0 gives the position only"
    );
    let since = json!({"offset": 1, "epoch": "another-epoch"});
    let reply = ws
        .call(json!({"history": {"channel": "lobby", "limit": 2, "since": since}}))
        .await;
    assert_eq!(reply["error"]["code"], 112, "{reply}");
}

#[tokio::test]
async fn presence_stats_and_join_leave_pushes() {
    let app = spawn_app().await;
    app.user("jane").await;
    app.user("john").await;
    app.channel("PUBLIC", "lobby", &[]).await;
    let mut jane = app.client("jane").await;
    jane.subscribe("lobby").await;
    let mut john = app.client("john").await;
    john.subscribe("lobby").await;
    let join = jane.push().await;
    assert_eq!(join["channel"], "lobby");
    assert_eq!(join["join"]["info"]["user"], "john", "{join}");
    let reply = jane.call(json!({"presence": {"channel": "lobby"}})).await;
    let presence = reply["presence"]["presence"].as_object().unwrap();
    assert_eq!(presence.len(), 2, "{reply}");
    let users: Vec<_> = presence
        .values()
        .map(|i| i["user"].as_str().unwrap())
        .collect();
    assert!(users.contains(&"jane") && users.contains(&"john"));
    let reply = jane
        .call(json!({"presence_stats": {"channel": "lobby"}}))
        .await;
    assert_eq!(
        reply["presence_stats"],
        json!({"num_clients": 2, "num_users": 2})
    );
    john.call(json!({"unsubscribe": {"channel": "lobby"}}))
        .await;
    let leave = jane.push().await;
    assert_eq!(leave["leave"]["info"]["user"], "john", "{leave}");
    let reply = jane
        .call(json!({"presence_stats": {"channel": "lobby"}}))
        .await;
    assert_eq!(reply["presence_stats"]["num_clients"], 1);
}

#[tokio::test]
async fn join_leave_pushes_follow_the_channel_setting() {
    let app = spawn_app().await;
    app.user("jane").await;
    app.user("john").await;
    // A big live room: join/leave pushes off (the REST dialect has no field for it).
    let app_id = app
        .engine
        .find_credentials(&app.client_id)
        .await
        .unwrap()
        .unwrap()
        .app
        .id;
    app.engine
        .create_channel(
            &hubbub_core::engine::Actor::App(app_id),
            hubbub_core::engine::CreateChannel {
                kind: hubbub_core::model::ChannelKind::Public,
                name: Some("stage".into()),
                display_name: None,
                creator: None,
                members: vec![],
                properties: json!({}),
                live: Some(hubbub_core::model::LiveRoom {
                    join_leave_events: false,
                    ..Default::default()
                }),
            },
        )
        .await
        .unwrap();
    let mut jane = app.client("jane").await;
    jane.subscribe("stage").await;
    let mut john = app.client("john").await;
    john.subscribe("stage").await;
    // No join push: the next thing jane sees is the reply to her own command.
    let id = jane
        .send(json!({"presence_stats": {"channel": "stage"}}))
        .await;
    let next = jane.next_json().await;
    assert_eq!(next["id"], id, "no join push expected, got {next}");
    assert_eq!(next["presence_stats"]["num_clients"], 2);
}

#[tokio::test]
async fn rpc_typing_delete_report_and_custom_events() {
    let app = spawn_app().await;
    app.user("jane").await;
    app.user("john").await;
    let channel = app.channel("PUBLIC", "lobby", &[]).await;
    let mut jane = app.client("jane").await;
    jane.subscribe("lobby").await;
    let mut john = app.client("john").await;
    john.subscribe("lobby").await;
    let _join = jane.push().await;

    let reply = john
        .call(json!({"rpc": {"method": "typing", "data": {"channel": "lobby"}}}))
        .await;
    assert!(reply["rpc"].is_object(), "{reply}");
    let typing = jane.publication("lobby").await;
    assert_eq!(typing["data"]["type"], "keystrokes");
    assert_eq!(typing["data"]["user"]["name"], "john");
    assert!(
        typing.get("offset").is_none(),
        "typing has no position: {typing}"
    );

    let message = app.send(id(&channel), Some("john"), "oops").await;
    let _ = jane.publication("lobby").await;
    let reply = jane
        .call(json!({"rpc": {"method": "delete_message", "data": {"message_id": id(&message)}}}))
        .await;
    assert_eq!(reply["error"]["code"], 103, "not jane's message: {reply}");
    let reply = jane.call(json!({"rpc": {"method": "report", "data": {"message_id": id(&message), "reason": "spam"}}})).await;
    assert_eq!(reply["rpc"]["data"]["reported"], true, "{reply}");
    assert!(reply["rpc"]["data"]["report_id"].is_i64(), "{reply}");
    let reply = john
        .call(json!({"rpc": {"method": "report", "data": {"message_id": id(&message), "reason": "mine"}}}))
        .await;
    assert_eq!(
        reply["error"]["code"], 103,
        "nobody reports their own message: {reply}"
    );
    let reply = john
        .call(json!({"rpc": {"method": "delete_message", "data": {"message_id": id(&message)}}}))
        .await;
    assert_eq!(reply["rpc"]["data"]["deleted"], id(&message), "{reply}");
    let deleted = jane.publication("lobby").await;
    assert_eq!(deleted["data"]["type"], "message.deleted");

    let reply = john
        .call(json!({"rpc": {"method": "send_event", "data": {"channel": "lobby", "type": "cheer", "properties": {"n": 3}}}}))
        .await;
    assert!(reply["rpc"].is_object(), "{reply}");
    let custom = jane.publication("lobby").await;
    assert_eq!(custom["data"]["event"]["type"], "cheer");

    let reply = john
        .call(json!({"rpc": {"method": "nope", "data": {}}}))
        .await;
    assert_eq!(reply["error"]["code"], 104);
}

#[tokio::test]
async fn removal_from_a_private_channel_or_its_deletion_unsubscribes_from_the_server() {
    let app = spawn_app().await;
    let jane = app.user("jane").await;
    app.user("john").await;
    let private = app.channel("PRIVATE", "club", &["jane", "john"]).await;
    let public = app.channel("PUBLIC", "lobby", &[]).await;
    let mut ws = app.client("jane").await;
    ws.subscribe("club").await;
    ws.subscribe("lobby").await;
    let mut john = app.client("john").await;
    john.subscribe("club").await;

    let response = app
        .http
        .delete(format!(
            "{}/v1/channels/{}/members/{}",
            app.base,
            id(&private),
            id(&jane)
        ))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
    let push = loop {
        let push = ws.push().await;
        if push["unsubscribe"].is_object() {
            break push;
        }
    };
    assert_eq!(push["channel"], "club");
    assert_eq!(push["unsubscribe"]["code"], 2000, "{push}");
    // She may not come back, and nothing of the club reaches her any more.
    let reply = ws.call(json!({"subscribe": {"channel": "club"}})).await;
    assert_eq!(reply["error"]["code"], 103, "{reply}");
    app.send(id(&private), Some("john"), "members only").await;
    john.publication("club").await;

    let response = app
        .http
        .delete(format!("{}/v1/channels/{}", app.base, id(&public)))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let push = loop {
        let push = ws.push().await;
        if push["unsubscribe"].is_object() {
            break push;
        }
        assert_ne!(
            push["channel"], "club",
            "no club traffic after removal: {push}"
        );
    };
    assert_eq!(push["channel"], "lobby");
    let reply = ws
        .call(json!({"presence_stats": {"channel": "lobby"}}))
        .await;
    assert_eq!(reply["error"]["code"], 102, "the channel is gone: {reply}");
}

#[tokio::test]
async fn unsubscribing_twice_is_harmless() {
    let app = spawn_app().await;
    app.user("jane").await;
    app.channel("PUBLIC", "lobby", &[]).await;
    let mut jane = app.client("jane").await;
    jane.subscribe("lobby").await;
    for _ in 0..2 {
        let reply = jane
            .call(json!({"unsubscribe": {"channel": "lobby"}}))
            .await;
        assert!(reply["unsubscribe"].is_object(), "{reply}");
    }
}

#[tokio::test]
async fn a_ban_unsubscribes_the_user_refuses_them_and_their_publishes() {
    let app = spawn_app().await;
    app.user("jane").await;
    app.user("john").await;
    let lobby = app.channel("PUBLIC", "lobby", &[]).await;
    let mut jane = app.client("jane").await;
    jane.subscribe("lobby").await;
    let mut john = app.client("john").await;
    john.subscribe("lobby").await;

    app.post(
        &format!("/v1/channels/{}/bans", id(&lobby)),
        json!({"user": {"username": "jane"}, "duration_seconds": 600, "reason": "spam"}),
    )
    .await;
    let push = loop {
        let push = jane.push().await;
        if push["unsubscribe"].is_object() {
            break push;
        }
    };
    assert_eq!(push["channel"], "lobby");
    assert_eq!(push["unsubscribe"]["code"], 2000, "{push}");
    // Banned: no way back in, and no publishing either.
    let reply = jane.call(json!({"subscribe": {"channel": "lobby"}})).await;
    assert_eq!(reply["error"]["code"], 103, "{reply}");
    let reply = jane
        .call(json!({"publish": {"channel": "lobby", "data": {"body": "let me in"}}}))
        .await;
    assert!(reply["error"].is_object(), "{reply}");
    // Everyone else carries on, and sees the ban as an event.
    let event = john.publication("lobby").await;
    assert_eq!(event["data"]["type"], "user.restricted", "{event}");
    assert_eq!(event["data"]["kind"], "BAN");
    assert_eq!(event["data"]["user"]["name"], "jane");
    app.send(id(&lobby), Some("john"), "still here").await;
    let message = john.publication("lobby").await;
    assert_eq!(message["data"]["type"], "message.created", "{message}");
}
