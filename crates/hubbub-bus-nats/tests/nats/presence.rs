//! Presence and online users are the union of the nodes' own.

use crate::support::*;
use hubbub_bus_nats::{ClusterPresence, PresenceConfig};
use hubbub_core::ids::{AppId, ChannelId, UserId};
use hubbub_core::presence::{OnlineUsers, Presence, PresenceEntry, PresenceStats};
use std::time::Duration;

fn entry(client: &str, user: &str) -> PresenceEntry {
    PresenceEntry {
        client: client.into(),
        user: user.into(),
    }
}

async fn presence_node(url: &str, config: &PresenceConfig) -> ClusterPresence {
    let client = async_nats::connect(url).await.expect("NATS connects");
    ClusterPresence::start(client, config.clone())
}

#[tokio::test]
async fn presence_and_online_users_are_the_union_of_the_nodes() {
    let Some(url) = shared_nats() else { return };
    let config = PresenceConfig {
        bucket: unique("presence"),
        ..PresenceConfig::default()
    };
    let (a, b) = (
        presence_node(&url, &config).await,
        presence_node(&url, &config).await,
    );
    let (app, ch) = (AppId(1), ChannelId(5));
    a.join(app, ch, entry("a1", "jane"));
    a.join(app, ch, entry("a2", ""));
    b.join(app, ch, entry("b1", "jane"));
    b.join(app, ch, entry("b2", "joe"));
    b.join(AppId(2), ch, entry("b3", "other-app"));
    a.connected(app, UserId(7));

    let union = PresenceStats {
        num_clients: 4,
        num_users: 3, // jane (on both nodes), joe, one anonymous viewer
    };
    eventually("a sees b", || a.stats(app, ch) == union).await;
    eventually("b sees a", || b.stats(app, ch) == union).await;
    let mut clients: Vec<_> = a.list(app, ch).into_iter().map(|e| e.client).collect();
    clients.sort();
    assert_eq!(clients, ["a1", "a2", "b1", "b2"].map(std::sync::Arc::from));
    assert_eq!(
        a.stats(AppId(2), ch).num_clients,
        1,
        "applications stay apart"
    );
    eventually("b sees user 7 online", || b.is_online(app, UserId(7))).await;
    assert!(!b.is_online(AppId(2), UserId(7)));

    b.leave(app, ch, "b2");
    a.disconnected(app, UserId(7));
    eventually("a sees joe leave", || {
        a.stats(app, ch)
            == PresenceStats {
                num_clients: 3,
                num_users: 2,
            }
    })
    .await;
    eventually("b sees user 7 go", || !b.is_online(app, UserId(7))).await;

    b.shutdown(async_nats::connect(url.as_str()).await.unwrap())
        .await;
    eventually("a forgets b at once after its shutdown", || {
        a.stats(app, ch).num_clients == 2
    })
    .await;
}

#[tokio::test]
async fn a_node_that_stops_heartbeating_disappears_after_the_ttl() {
    let Some(url) = shared_nats() else { return };
    let ttl = Duration::from_secs(2);
    let config = PresenceConfig {
        bucket: unique("ttl"),
        ttl,
        ..PresenceConfig::default()
    };
    let a = presence_node(&url, &config).await;
    let b = presence_node(&url, &config).await;
    let (app, ch) = (AppId(1), ChannelId(6));
    b.join(app, ch, entry("b1", "jane"));
    b.connected(app, UserId(9));
    eventually("a sees b", || {
        a.stats(app, ch).num_clients == 1 && a.is_online(app, UserId(9))
    })
    .await;

    // b dies without a word: its tasks stop, its keys stay in the bucket.
    drop(b);
    let died = tokio::time::Instant::now();
    tokio::time::sleep(ttl / 4).await;
    assert_eq!(
        a.stats(app, ch).num_clients,
        1,
        "still there within the TTL"
    );
    // Each key ages out a TTL after its own last write.
    eventually("a forgets b", || {
        a.stats(app, ch).num_clients == 0 && !a.is_online(app, UserId(9))
    })
    .await;
    assert!(a.list(app, ch).is_empty());
    let gone_after = died.elapsed();
    assert!(
        gone_after <= ttl + Duration::from_secs(1),
        "gone {gone_after:?} after the last heartbeat could have been sent"
    );

    // A node that heartbeats stays, well past the TTL.
    let c = presence_node(&url, &config).await;
    c.join(app, ch, entry("c1", "joe"));
    eventually("a sees c", || a.stats(app, ch).num_clients == 1).await;
    tokio::time::sleep(ttl * 2).await;
    assert_eq!(a.stats(app, ch).num_clients, 1, "heartbeats keep c present");
}
