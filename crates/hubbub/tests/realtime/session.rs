//! The session brain driven directly, without a socket.

use crate::helpers::*;
use hubbub_api::gateway::session::{Flow, Session};
use hubbub_api::gateway::{Gateway, RealtimeConfig};
use hubbub_core::fanout::Frame;
use serde_json::{Value, json};
use std::sync::Arc;

struct Harness {
    session: Session,
    outbox: Arc<hubbub_core::fanout::Outbox>,
}

impl Harness {
    async fn new(app: &RtApp, config: RealtimeConfig) -> Self {
        let gw = Gateway::new(app.engine.clone(), config);
        let outbox = gw.new_outbox();
        let guard = gw
            .connections
            .open("127.0.0.1".parse().unwrap(), outbox.clone(), 0)
            .unwrap();
        Self {
            session: Session::new(gw, outbox.clone(), guard),
            outbox,
        }
    }

    fn sent(&self) -> Vec<Value> {
        let mut frames: Vec<Frame> = Vec::new();
        self.outbox.take_into(&mut frames);
        frames
            .iter()
            .map(|f| serde_json::from_slice(f).unwrap())
            .collect()
    }
}

#[tokio::test]
async fn several_commands_in_one_frame_are_answered_in_order() {
    let app = spawn_app().await;
    app.user("jane").await;
    app.channel("PUBLIC", "lobby", &[]).await;
    let mut h = Harness::new(&app, RealtimeConfig::default()).await;
    let token = app.token_for("jane", 60).await;
    let frame = format!(
        "{}\n{}\n{}",
        json!({"id": 1, "connect": {"token": token}}),
        json!({"id": 2, "subscribe": {"channel": "lobby"}}),
        json!({"id": 3, "presence_stats": {"channel": "lobby"}}),
    );
    assert_eq!(h.session.handle_frame(&frame).await, Flow::Continue);
    let sent = h.sent();
    let ids: Vec<u64> = sent.iter().map(|v| v["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3], "{sent:?}");
    assert!(sent[1]["subscribe"]["epoch"].is_string());
    assert_eq!(sent[2]["presence_stats"]["num_clients"], 1);
    assert_eq!(h.session.subscriptions().collect::<Vec<_>>(), ["lobby"]);
}

#[tokio::test]
async fn pings_need_pongs() {
    let app = spawn_app().await;
    app.user("jane").await;
    let mut h = Harness::new(&app, RealtimeConfig::default()).await;
    let token = app.token_for("jane", 60).await;
    h.session
        .handle_frame(&json!({"id": 1, "connect": {"token": token}}).to_string())
        .await;
    h.sent();
    assert_eq!(h.session.tick(), Flow::Continue);
    assert_eq!(h.sent(), [json!({})], "the ping is an empty object");
    assert_eq!(h.session.handle_frame("{}").await, Flow::Continue, "pong");
    assert_eq!(h.session.tick(), Flow::Continue);
    match h.session.tick() {
        Flow::Close(d) => assert_eq!((d.code, d.reconnect()), (3012, true)),
        other => panic!("no pong must disconnect, got {other:?}"),
    }
}

#[tokio::test]
async fn an_expired_connection_is_closed_with_reconnect_advice() {
    let app = spawn_app().await;
    app.user("jane").await;
    let mut h = Harness::new(&app, RealtimeConfig::default()).await;
    let token = app.token_for("jane", 1).await;
    h.session
        .handle_frame(&json!({"id": 1, "connect": {"token": token}}).to_string())
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    match h.session.tick() {
        Flow::Close(d) => assert_eq!((d.code, d.reconnect()), (3005, true)),
        other => panic!("expired token must disconnect, got {other:?}"),
    }
}

#[tokio::test]
async fn server_side_unsubscribe_tells_the_client() {
    let app = spawn_app().await;
    app.user("jane").await;
    app.channel("PUBLIC", "lobby", &[]).await;
    let mut h = Harness::new(&app, RealtimeConfig::default()).await;
    let token = app.token_for("jane", 60).await;
    let frame = format!(
        "{}\n{}",
        json!({"id": 1, "connect": {"token": token}}),
        json!({"id": 2, "subscribe": {"channel": "lobby"}}),
    );
    h.session.handle_frame(&frame).await;
    h.sent();
    h.session.server_unsubscribe("lobby", false);
    let sent = h.sent();
    assert_eq!(sent[0]["push"]["channel"], "lobby");
    assert_eq!(sent[0]["push"]["unsubscribe"]["code"], 2000);
    assert_eq!(h.session.subscriptions().count(), 0);
}

#[tokio::test]
async fn a_full_outbox_closes_as_slow() {
    let app = spawn_app().await;
    app.user("jane").await;
    let channel = app.channel("PUBLIC", "lobby", &[]).await;
    let config = RealtimeConfig {
        queue_max_frames: 3,
        ..Default::default()
    };
    let mut h = Harness::new(&app, config).await;
    let token = app.token_for("jane", 60).await;
    let frame = format!(
        "{}\n{}",
        json!({"id": 1, "connect": {"token": token}}),
        json!({"id": 2, "subscribe": {"channel": "lobby"}}),
    );
    h.session.handle_frame(&frame).await;
    for i in 0..3 {
        app.send(id(&channel), Some("jane"), &format!("m{i}")).await;
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while h.outbox.closing().is_none() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let closing = h.outbox.closing().expect("the outbox closed");
    assert_eq!((closing.code, closing.reason), (3008, "slow"));
}
