use crate::helpers::*;
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn concurrent_senders_reach_every_viewer_in_seq_order() {
    let app = Arc::new(spawn_app().await);
    app.user("jane").await;
    let channel = app.channel("PUBLIC", "lobby", &[]).await;
    let channel_id = id(&channel);
    let mut viewers = Vec::new();
    for _ in 0..5 {
        let mut v = app.client("").await;
        v.subscribe("lobby").await;
        viewers.push(v);
    }
    let mut senders = Vec::new();
    for s in 0..4 {
        let app = app.clone();
        senders.push(tokio::spawn(async move {
            for i in 0..25 {
                app.send(channel_id, Some("jane"), &format!("s{s} m{i}"))
                    .await;
            }
        }));
    }
    for s in senders {
        s.await.unwrap();
    }
    for v in &mut viewers {
        let mut offsets = Vec::new();
        while offsets.len() < 100 {
            offsets.push(v.publication("lobby").await["offset"].as_u64().unwrap());
        }
        assert_eq!(offsets, (1..=100).collect::<Vec<u64>>());
    }
}

#[tokio::test]
async fn a_burst_is_coalesced_into_fewer_websocket_frames() {
    let app = spawn_app_with(|c| c.realtime.write_coalesce_ms = 20).await;
    app.user("jane").await;
    app.channel("PUBLIC", "lobby", &[]).await;
    let mut viewer = app.client("").await;
    viewer.subscribe("lobby").await;
    let mut jane = app.client("jane").await;
    for i in 0..20 {
        jane.send(json!({"publish": {"channel": "lobby", "data": {"body": format!("m{i}")}}}))
            .await;
    }
    let before = viewer.messages;
    for _ in 0..20 {
        viewer.publication("lobby").await;
    }
    let frames = viewer.messages - before;
    assert!(frames < 20, "20 publications arrived in {frames} frames");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected_as_slow_and_others_carry_on() {
    let app = spawn_app_with(|c| {
        c.realtime.queue_max_bytes = 70_000;
        c.limits.max_message_bytes = 4000;
    })
    .await;
    app.user("jane").await;
    let channel = app.channel("PUBLIC", "lobby", &[]).await;
    let mut stalled = app.client("").await;
    stalled.subscribe("lobby").await;
    let mut healthy = app.client("").await;
    healthy.subscribe("lobby").await;
    let body = "x".repeat(3900);
    let mut received = 0;
    // Kernel socket buffers absorb a few MB before the outbox fills.
    for _ in 0..3000 {
        app.send(id(&channel), Some("jane"), &body).await;
        healthy.publication("lobby").await;
        received += 1;
        if app.engine.store().stats().messages_appended > 0 && received % 100 == 0 {
            // Nothing to do: the loop bound is the guard.
        }
    }
    assert_eq!(received, 3000, "the healthy viewer got everything");
    let frame = stalled.closed().await;
    assert_eq!(close_code(&frame), 3008, "{frame:?}");
    assert_eq!(frame.unwrap().reason.as_str(), "slow");
}
