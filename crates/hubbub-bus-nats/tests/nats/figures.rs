//! Broker messages per event and cross-node latency, measured on a private server
//! (whose counters no other test disturbs). Prints its figures; run with
//! `cargo test -p hubbub-bus-nats --test nats figures -- --nocapture`.

use crate::support::*;
use hubbub_core::bus::Bus;
use hubbub_core::events::{ChannelEvent, EventType};
use hubbub_core::ids::{AppId, ChannelId};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test]
async fn broker_messages_per_event_and_cross_node_latency() {
    let Some(server) = PrivateNats::start() else {
        return;
    };
    let url = server.url();
    // Node 0 publishes; nodes 1 and 2 watch the channel; node 3 watches nothing.
    let mut nodes = Vec::new();
    for _ in 0..4 {
        nodes.push(node(&url, "hubbub").await);
    }
    let mut watchers = [watch(&nodes[1], 1, 50).await, watch(&nodes[2], 1, 50).await];
    let started = Instant::now();
    const EVENTS: usize = 2000;
    let (in_before, out_before) = server.message_counts();
    let mut latencies = Vec::with_capacity(EVENTS);
    for seq in 1..=EVENTS {
        // One at a time, so each latency is of an idle path, not of a queue.
        let sent = Instant::now();
        let nanos = sent.duration_since(started).as_nanos() as u64;
        nodes[0].publish(Arc::new(ChannelEvent::new(
            AppId(1),
            ChannelId(50),
            EventType::MessageCreated,
            Some(seq as i64),
            "e",
            &serde_json::json!({"type": "message.created", "t": nanos}),
        )));
        for events in watchers.iter_mut() {
            let event = next_event(events).await;
            assert_eq!(event.seq, Some(seq as i64));
            let data: serde_json::Value = serde_json::from_slice(&event.data).unwrap();
            let sent = started + Duration::from_nanos(data["t"].as_u64().unwrap());
            latencies.push(sent.elapsed());
        }
    }
    // Let the server's counters settle (they are sampled, not transactional).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (in_after, out_after) = server.message_counts();
    let published = in_after - in_before;
    let delivered = out_after - out_before;
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let watching = 2;
    println!(
        "NATS bus, {EVENTS} events, 4 nodes ({watching} watching the channel):\n  \
         broker messages in per event:  {:.3}\n  \
         broker messages out per event: {:.3} (nodes watching: {watching})\n  \
         cross-node publish→receive latency: p50 {:?}  p99 {:?}  max {:?}",
        published as f64 / EVENTS as f64,
        delivered as f64 / EVENTS as f64,
        pct(0.50),
        pct(0.99),
        latencies[latencies.len() - 1],
    );
    // The monitor's own traffic and the clients' PINGs are not messages; a little
    // slack covers the JetStream-free server's internal system messages, if any.
    assert!(
        published <= EVENTS as u64 + 5,
        "one message in per event: {published}"
    );
    assert!(
        delivered <= (EVENTS * watching) as u64 + 5,
        "at most one message out per watching node per event: {delivered}"
    );
    assert!(
        delivered >= (EVENTS * watching) as u64,
        "every watcher got every event"
    );
}
