//! A node that loses NATS says so and comes back by itself.

use crate::support::*;
use hubbub_core::bus::Bus;
use hubbub_core::events::EventType;
use hubbub_core::ids::ChannelId;

#[tokio::test]
async fn readiness_follows_the_connection_and_rooms_resync_after_a_reconnect() {
    let Some(mut server) = PrivateNats::start() else {
        return;
    };
    let url = server.url();
    let (a, b) = (node(&url, "hubbub").await, node(&url, "hubbub").await);
    let mut on_b = watch(&b, 1, 40).await;
    a.publish(message(1, 40, 1, "before"));
    assert_eq!(next_event(&mut on_b).await.seq, Some(1));

    server.kill();
    eventually("a is not ready", || !a.is_ready()).await;
    eventually("b is not ready", || !b.is_ready()).await;

    server.resume();
    eventually("a is ready again", || a.is_ready()).await;
    eventually("b is ready again", || b.is_ready()).await;
    // b's room is told to re-read the store for what it may have missed.
    let resync = tokio::time::timeout(WAIT, async {
        loop {
            let event = on_b.recv().await.unwrap();
            if event.event_type == EventType::Resync {
                return event;
            }
        }
    })
    .await
    .expect("a resync after the reconnect");
    assert_eq!(resync.channel_id, ChannelId(40));
    // And the subscription is back: new events flow again.
    a.publish(message(1, 40, 2, "after"));
    assert_eq!(next_event(&mut on_b).await.seq, Some(2));
}

#[tokio::test]
async fn a_bus_started_before_nats_becomes_ready_when_nats_comes() {
    let Some(mut server) = PrivateNats::start() else {
        return;
    };
    server.kill();
    let config = hubbub_bus_nats::NatsConfig {
        url: server.url(),
        connect_wait: std::time::Duration::from_millis(200),
        max_reconnect_delay: std::time::Duration::from_millis(200),
        ..Default::default()
    };
    let bus = hubbub_bus_nats::NatsBus::connect(&config)
        .await
        .expect("an unreachable server is not an error");
    assert!(!bus.is_ready());
    server.resume();
    eventually("ready once NATS is up", || bus.is_ready()).await;
}
