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
async fn the_node_write_budget_paces_writes_and_each_carries_what_queued_meanwhile() {
    // 20 writes a second for the whole node: after the 0.1 s burst, one every 50 ms.
    let app = spawn_app_with(|c| c.realtime.max_writes_per_second = 20).await;
    app.user("jane").await;
    let channel = app.channel("PUBLIC", "lobby", &[]).await;
    let mut viewer = app.client("").await;
    viewer.subscribe("lobby").await;
    for i in 0..20 {
        app.send(id(&channel), Some("jane"), &format!("m{i}")).await;
    }
    let before = viewer.messages;
    let mut offsets = Vec::new();
    for _ in 0..20 {
        offsets.push(
            viewer.publication("lobby").await["offset"]
                .as_u64()
                .unwrap(),
        );
    }
    assert_eq!(
        offsets,
        (1..=20).collect::<Vec<u64>>(),
        "all, in order, once"
    );
    let frames = viewer.messages - before;
    assert!(frames <= 10, "20 publications arrived in {frames} frames");
    let paced = app
        .metrics()
        .await
        .value("hubbub_realtime_paced_writes_total");
    assert!(paced >= 1, "some writes waited for their slot");
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

/// Frames that are just the event's seq, to read the delivery order.
struct SeqEncoder;

impl hubbub_core::fanout::FrameEncoder for SeqEncoder {
    fn encode(
        &self,
        _: hubbub_core::fanout::FrameFormat,
        _: &str,
        event: &hubbub_core::events::ChannelEvent,
    ) -> hubbub_core::fanout::Frame {
        Arc::from(event.seq.unwrap_or(-1).to_string().into_bytes())
    }
}

#[tokio::test]
async fn the_hub_reorders_early_events_and_fills_gaps_from_the_store() {
    use hubbub_core::bus::{Bus, InProcessBus};
    use hubbub_core::events::{ChannelEvent, EventType};
    use hubbub_core::fanout::{Closing, FrameFormat, Hub, Outbox};
    use hubbub_core::ids::{AppId, ChannelId};

    let app = spawn_app().await;
    app.user("jane").await;
    let channel = app.channel("PUBLIC", "lobby", &[]).await;
    for i in 1..=4 {
        app.send(id(&channel), Some("jane"), &format!("m{i}")).await;
    }
    let app_id: AppId = app
        .engine
        .find_credentials(&app.client_id)
        .await
        .unwrap()
        .unwrap()
        .app
        .id;
    let key = (app_id, ChannelId(id(&channel)));
    let epoch = channel["epoch"].as_str().unwrap();
    let event = |seq: i64| {
        Arc::new(ChannelEvent::new(
            key.0,
            key.1,
            EventType::MessageCreated,
            Some(seq),
            epoch,
            &json!({"type": "message.created", "seq": seq}),
        ))
    };
    // A hub of its own, on a bus of its own, over the app's store.
    let bus = InProcessBus::new(64);
    let hub = Arc::new(Hub::new(Arc::new(SeqEncoder), app.engine.store().clone()));
    tokio::spawn(hub.clone().run(bus.subscribe(), std::future::pending()));
    let slow = Closing {
        code: 3008,
        reason: "slow",
    };
    let outbox = Arc::new(Outbox::new(100, 1 << 20, slow));
    let sub = hub.subscribe(key, "lobby", 0, outbox.clone(), FrameFormat(0));
    assert!(hub.activate(key, sub, None, 0));

    // 2 arrives before 1: it waits for 1. 3 never arrives on the bus: read from the store.
    bus.publish(event(2));
    bus.publish(event(1));
    bus.publish(event(4));
    let mut order = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while order.len() < 4 && tokio::time::Instant::now() < deadline {
        let mut batch = Vec::new();
        let _ = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            outbox.next_batch(&mut batch),
        )
        .await;
        order.extend(batch.iter().map(|f| String::from_utf8(f.to_vec()).unwrap()));
    }
    assert_eq!(order, ["1", "2", "3", "4"]);
    assert!(hub.stats().gap_fills >= 1, "3 came from the store");
    // Old and repeated seqs are dropped.
    bus.publish(event(2));
    bus.publish(event(5));
    let mut batch = Vec::new();
    tokio::time::timeout(WAIT, outbox.next_batch(&mut batch))
        .await
        .unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(&*batch[0], b"5");
}

/// A bus that remembers what the hub told it about interest.
#[derive(Default)]
struct RecordingBus {
    inner: hubbub_core::bus::InProcessBus,
    interest: std::sync::Mutex<Vec<(i64, bool)>>,
}

impl hubbub_core::bus::Bus for RecordingBus {
    fn publish(&self, event: Arc<hubbub_core::events::ChannelEvent>) {
        self.inner.publish(event)
    }
    fn subscribe(
        &self,
    ) -> tokio::sync::broadcast::Receiver<Arc<hubbub_core::events::ChannelEvent>> {
        self.inner.subscribe()
    }
    fn interest(
        &self,
        _: hubbub_core::ids::AppId,
        channel: hubbub_core::ids::ChannelId,
        interested: bool,
    ) {
        self.interest.lock().unwrap().push((channel.0, interested));
    }
}

#[tokio::test]
async fn rooms_declare_interest_and_a_resync_reads_what_the_bus_never_carried() {
    use hubbub_core::bus::Bus;
    use hubbub_core::events::ChannelEvent;
    use hubbub_core::fanout::{Closing, FrameFormat, Hub, Outbox};
    use hubbub_core::ids::{AppId, ChannelId};

    let app = spawn_app().await;
    app.user("jane").await;
    let channel = app.channel("PUBLIC", "lobby", &[]).await;
    let app_id: AppId = app
        .engine
        .find_credentials(&app.client_id)
        .await
        .unwrap()
        .unwrap()
        .app
        .id;
    let key = (app_id, ChannelId(id(&channel)));
    // A hub of its own over the app's store, on a bus that never carries the app's
    // events (as a cross-node subscription that was not live yet).
    let bus = Arc::new(RecordingBus::default());
    let hub = Arc::new(
        Hub::new(Arc::new(SeqEncoder), app.engine.store().clone()).with_interest(bus.clone()),
    );
    tokio::spawn(hub.clone().run(bus.subscribe(), std::future::pending()));
    let slow = Closing {
        code: 3008,
        reason: "slow",
    };
    let outbox = Arc::new(Outbox::new(100, 1 << 20, slow));
    let first = hub.subscribe(key, "lobby", 0, outbox.clone(), FrameFormat(0));
    assert!(hub.activate(key, first, None, 0));
    let second = hub.subscribe(
        key,
        "lobby",
        0,
        Arc::new(Outbox::new(100, 1 << 20, slow)),
        FrameFormat(0),
    );
    assert_eq!(
        *bus.interest.lock().unwrap(),
        [(key.1.0, true)],
        "once per room"
    );

    for i in 1..=3 {
        app.send(id(&channel), Some("jane"), &format!("m{i}")).await;
    }
    bus.publish(Arc::new(ChannelEvent::resync(key.0, key.1)));
    let mut order = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while order.len() < 3 && tokio::time::Instant::now() < deadline {
        let mut batch = Vec::new();
        let _ = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            outbox.next_batch(&mut batch),
        )
        .await;
        order.extend(batch.iter().map(|f| String::from_utf8(f.to_vec()).unwrap()));
    }
    assert_eq!(order, ["1", "2", "3"], "read from the store, in order");
    assert_eq!(hub.stats().events, 0, "a resync is not an event");

    hub.unsubscribe(key, first);
    assert_eq!(
        bus.interest.lock().unwrap().len(),
        1,
        "the room still has a subscriber"
    );
    hub.unsubscribe(key, second);
    assert_eq!(
        *bus.interest.lock().unwrap(),
        [(key.1.0, true), (key.1.0, false)]
    );
}

#[tokio::test]
async fn metrics_count_connections_deliveries_and_writes() {
    let app = spawn_app().await;
    app.user("jane").await;
    let channel = app.channel("PUBLIC", "lobby", &[]).await;
    let mut viewer = app.client("").await;
    viewer.subscribe("lobby").await;
    app.send(id(&channel), Some("jane"), "counted").await;
    viewer.publication("lobby").await;
    let metrics = app.metrics().await;
    let value = |name: &str| metrics.value(name);
    assert_eq!(value("hubbub_realtime_connections"), 1);
    assert_eq!(value("hubbub_realtime_rooms"), 1);
    assert_eq!(value("hubbub_realtime_deliveries_total"), 1);
    assert!(
        value("hubbub_realtime_ws_writes_total") >= 3,
        "connect, subscribe, publication"
    );
    assert!(value("hubbub_realtime_ws_frames_total") >= value("hubbub_realtime_ws_writes_total"));
}
