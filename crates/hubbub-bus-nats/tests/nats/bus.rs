//! Events cross from node to node once, only to nodes that watch the channel.

use crate::support::*;
use futures::StreamExt;
use hubbub_core::bus::Bus;
use hubbub_core::events::EventType;
use hubbub_core::ids::{AppId, ChannelId};
use std::time::Duration;

#[tokio::test]
async fn an_event_published_on_one_node_arrives_once_on_the_other() {
    let Some(url) = shared_nats() else { return };
    let prefix = unique("bus");
    let (a, b) = (node(&url, &prefix).await, node(&url, &prefix).await);
    let mut on_a = a.subscribe();
    let mut on_b = watch(&b, 1, 10).await;

    a.publish(message(1, 10, 1, "hello"));

    let got = next_event(&mut on_b).await;
    assert_eq!((got.app_id, got.channel_id), (AppId(1), ChannelId(10)));
    assert_eq!(
        (got.event_type, got.seq),
        (EventType::MessageCreated, Some(1))
    );
    assert_eq!(&*got.epoch, "epoch1");
    assert_eq!(
        &*got.data,
        &*message(1, 10, 1, "hello").data,
        "data untouched"
    );
    let mine = next_event(&mut on_a).await;
    assert_eq!(
        mine.seq,
        Some(1),
        "the publisher's own consumers get it directly"
    );
    assert_quiet(&mut on_b, Duration::from_millis(300)).await;
    assert_quiet(&mut on_a, Duration::from_millis(100)).await;
    assert_eq!(
        b.counters()
            .received
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[tokio::test]
async fn a_node_hears_only_the_channels_it_watches_and_stops_when_it_leaves() {
    let Some(url) = shared_nats() else { return };
    let prefix = unique("interest");
    let (a, b) = (node(&url, &prefix).await, node(&url, &prefix).await);
    let mut on_b = watch(&b, 1, 20).await;

    a.publish(message(1, 21, 1, "elsewhere"));
    a.publish(message(2, 20, 1, "another application"));
    a.publish(message(1, 20, 1, "here"));
    let got = next_event(&mut on_b).await;
    assert_eq!((got.app_id, got.channel_id), (AppId(1), ChannelId(20)));
    assert_quiet(&mut on_b, Duration::from_millis(300)).await;

    b.interest(AppId(1), ChannelId(20), false);
    // The unsubscribe is asynchronous (and harmless if late: the hub drops events of
    // rooms it no longer has); give it a moment to reach the server.
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.publish(message(1, 20, 2, "after leaving"));
    assert_quiet(&mut on_b, Duration::from_millis(300)).await;
}

#[tokio::test]
async fn each_event_is_one_broker_message_however_many_nodes_and_subscribers() {
    let Some(url) = shared_nats() else { return };
    let prefix = unique("count");
    let publisher = node(&url, &prefix).await;
    let (b, c) = (node(&url, &prefix).await, node(&url, &prefix).await);
    let idle = node(&url, &prefix).await;
    // A raw observer counts what is published on the cluster's subjects.
    let observer = async_nats::connect(url.as_str()).await.unwrap();
    let mut raw = observer.subscribe(format!("{prefix}.>")).await.unwrap();
    observer.flush().await.unwrap();
    // Several local consumers on each watching node: still one message per node.
    let mut on_b = [watch(&b, 1, 30).await, b.subscribe(), b.subscribe()];
    let mut on_c = [watch(&c, 1, 30).await, c.subscribe()];
    let mut on_idle = idle.subscribe();

    const EVENTS: i64 = 50;
    for seq in 1..=EVENTS {
        publisher.publish(message(1, 30, seq, "x"));
    }
    for (node, consumers) in [("b", &mut on_b[..]), ("c", &mut on_c[..])] {
        for (i, events) in consumers.iter_mut().enumerate() {
            for seq in 1..=EVENTS {
                let got = next_event(events).await.seq;
                assert_eq!(got, Some(seq), "in order, node {node} consumer {i}");
            }
        }
    }
    let mut published = 0;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(300), raw.next()).await {
        published += 1;
    }
    assert_eq!(published, EVENTS, "one broker message per event");
    let received = |n: &hubbub_bus_nats::NatsBus| {
        n.counters()
            .received
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    assert_eq!(
        received(&b),
        EVENTS as u64,
        "one delivery per event to node b"
    );
    assert_eq!(
        received(&c),
        EVENTS as u64,
        "one delivery per event to node c"
    );
    assert_eq!(received(&idle), 0, "nothing to a node without subscribers");
    assert_quiet(&mut on_idle, Duration::from_millis(100)).await;
}

#[tokio::test]
async fn once_live_a_node_misses_nothing_and_announcements_skip_their_sender() {
    let Some(url) = shared_nats() else { return };
    let prefix = unique("live");
    let (a, b) = (node(&url, &prefix).await, node(&url, &prefix).await);
    let mut on_a = a.subscribe();
    let mut on_b = b.subscribe();
    let (app, channel) = (AppId(1), ChannelId(60));
    b.interest(app, channel, true);
    tokio::time::timeout(WAIT, b.until_live(app, channel))
        .await
        .expect("live in time");

    // Typing is never stored: only a live subscription can carry it.
    let typing = hubbub_core::events::ChannelEvent::new(
        app,
        channel,
        EventType::Keystrokes,
        None,
        "epoch1",
        &serde_json::json!({"type": "keystrokes", "keys": "h"}),
    );
    a.publish(std::sync::Arc::new(typing));
    assert_eq!(
        next_event(&mut on_b).await.event_type,
        EventType::Keystrokes
    );
    assert_eq!(
        next_event(&mut on_a).await.event_type,
        EventType::Keystrokes
    );

    // A join push goes to the other nodes only: the sender delivered it itself.
    let join = hubbub_core::events::ChannelEvent::new(
        app,
        channel,
        EventType::Join,
        None,
        "",
        &serde_json::json!({"info": {"user": "jane", "client": "c1"}}),
    );
    a.announce(std::sync::Arc::new(join));
    let got = next_event(&mut on_b).await;
    assert_eq!(got.event_type, EventType::Join);
    assert_quiet(&mut on_a, Duration::from_millis(300)).await;
    // A channel nobody declared is "live" at once: there is nothing to wait for.
    tokio::time::timeout(Duration::from_millis(100), b.until_live(app, ChannelId(61)))
        .await
        .expect("no wait without interest");
}
