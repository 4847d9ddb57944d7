//! [`ClusterPresence`]: who is in each channel and who is online, across the nodes
//! of a cluster, on a NATS KV bucket.
//!
//! # Keys
//! Each node owns its keys and nobody else writes them:
//! * `<node>.<app>.<channel>` — the node's connections in the channel (a
//!   [`RoomValue`]: exact counts, and the entries themselves up to
//!   [`MAX_ENTRIES_PER_VALUE`]);
//! * `<node>.<app>.online` — the ids of the application's users connected to the node.
//!
//! # Freshness
//! A node rewrites all its keys every `ttl / 3` (the heartbeat), and a key it has no
//! more reason to hold (the channel emptied here) is deleted. The bucket keeps
//! values for `ttl` at most, and every node forgets another node's value `ttl` after
//! it was written, so a node that dies without a word disappears from the cluster's
//! presence after `ttl` (the KV of a NATS 2.9 server tells no watcher when a value
//! ages out, hence the local clock).
//!
//! # Cost
//! Joins and leaves change this node's view at once; they reach the bucket at most
//! once per `flush_interval` per key, however busy the room. Every node watches the
//! whole bucket and keeps it in memory, so [`Presence::list`] and
//! [`Presence::stats`] read memory only. The counts are exact; the distinct-user
//! count is exact unless one node holds more than [`MAX_ENTRIES_PER_VALUE`]
//! connections in one channel (then that node's users are added, not merged).

use async_nats::jetstream::{self, kv, stream};
use futures::StreamExt;
use hubbub_core::ids::{AppId, ChannelId, UserId};
use hubbub_core::presence::{
    LocalOnlineUsers, MemoryPresence, OnlineUsers, Presence, PresenceEntry, PresenceStats,
};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Most entries one node writes for one channel; the counts stay exact beyond it.
/// Keeps a value well under NATS's default 1 MiB payload limit.
pub const MAX_ENTRIES_PER_VALUE: usize = 5_000;

/// Most user ids one node writes for one application's online users.
pub const MAX_ONLINE_PER_VALUE: usize = 50_000;

/// Settings of the cluster presence.
#[derive(Debug, Clone)]
pub struct PresenceConfig {
    /// The KV bucket (created with history 1, memory storage and `max_age = ttl`
    /// when missing; all nodes must agree on the TTL).
    pub bucket: String,
    /// How long a node's presence outlives its last heartbeat.
    pub ttl: Duration,
    /// Shortest interval between two writes of one key.
    pub flush_interval: Duration,
}

impl Default for PresenceConfig {
    fn default() -> Self {
        Self {
            bucket: "hubbub_presence".into(),
            ttl: Duration::from_secs(15),
            flush_interval: Duration::from_millis(100),
        }
    }
}

/// What a node writes for one channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RoomValue {
    /// Connections (exact).
    #[serde(rename = "n")]
    clients: u32,
    /// Anonymous connections among them (exact).
    #[serde(rename = "a")]
    anonymous: u32,
    /// Distinct named users (exact).
    #[serde(rename = "u")]
    named_users: u32,
    /// `[client, user]` pairs, named users first, cut at [`MAX_ENTRIES_PER_VALUE`].
    #[serde(rename = "e")]
    entries: Vec<(String, String)>,
}

/// Another node's value of one channel, as cached here.
struct NodeRoom {
    clients: u32,
    anonymous: u32,
    named_users: u32,
    entries: Vec<PresenceEntry>,
    truncated: bool,
    written: Instant,
}

/// Another node's online users of one application.
struct NodeOnline {
    users: HashSet<i64>,
    written: Instant,
}

type RoomKey = (AppId, ChannelId);

/// A key this node owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Slot {
    Room(AppId, ChannelId),
    Online(AppId),
}

#[derive(Default)]
struct Remote {
    rooms: HashMap<RoomKey, HashMap<Arc<str>, NodeRoom>>,
    online: HashMap<AppId, HashMap<Arc<str>, NodeOnline>>,
}

struct Inner {
    node: Arc<str>,
    config: PresenceConfig,
    local: MemoryPresence,
    local_online: LocalOnlineUsers,
    /// Keys this node holds now (rewritten at each heartbeat).
    held: Mutex<HashSet<Slot>>,
    /// Keys to write at the next flush.
    dirty: Mutex<HashSet<Slot>>,
    wake: Notify,
    remote: RwLock<Remote>,
}

/// Presence and online users of the whole cluster. Cheap to share
/// (`Arc<ClusterPresence>`); dropping it stops its tasks without deleting its keys
/// (they age out), [`ClusterPresence::shutdown`] deletes them.
pub struct ClusterPresence {
    inner: Arc<Inner>,
    tasks: Vec<JoinHandle<()>>,
}

impl ClusterPresence {
    /// Starts this node's presence on `client`'s connection (the bus's). Returns at
    /// once; the bucket is opened (or created) in the background, and until then
    /// presence is this node's only. Needs a Tokio runtime.
    pub fn start(client: async_nats::Client, config: PresenceConfig) -> Self {
        let inner = Arc::new(Inner {
            node: Arc::from(uuid::Uuid::new_v4().simple().to_string()),
            config,
            local: MemoryPresence::new(),
            local_online: LocalOnlineUsers::default(),
            held: Mutex::new(HashSet::new()),
            dirty: Mutex::new(HashSet::new()),
            wake: Notify::new(),
            remote: RwLock::new(Remote::default()),
        });
        let js = jetstream::new(client);
        let tasks = vec![
            tokio::spawn(flush_loop(inner.clone(), js.clone())),
            tokio::spawn(watch_loop(inner.clone(), js)),
        ];
        Self { inner, tasks }
    }

    /// This node's id in the bucket's keys.
    pub fn node_id(&self) -> &str {
        &self.inner.node
    }

    /// Other nodes with a fresh value in the cache now (for tests and metrics).
    pub fn remote_nodes(&self) -> usize {
        let remote = self.inner.remote.read().unwrap_or_else(|e| e.into_inner());
        let ttl = self.inner.config.ttl;
        let mut nodes = HashSet::new();
        for room in remote.rooms.values() {
            nodes.extend(
                room.iter()
                    .filter(|(_, v)| v.written.elapsed() < ttl)
                    .map(|(n, _)| n.clone()),
            );
        }
        for app in remote.online.values() {
            nodes.extend(
                app.iter()
                    .filter(|(_, v)| v.written.elapsed() < ttl)
                    .map(|(n, _)| n.clone()),
            );
        }
        nodes.len()
    }

    /// Stops the tasks and deletes this node's keys, so the other nodes forget it at
    /// once rather than after the TTL.
    pub async fn shutdown(&self, client: async_nats::Client) {
        for task in &self.tasks {
            task.abort();
        }
        let Ok(kv) = open_bucket(&jetstream::new(client), &self.inner.config).await else {
            return;
        };
        let held: Vec<Slot> = self.inner.lock_held().drain().collect();
        for slot in held {
            let _ = kv.delete(self.inner.key(slot)).await;
        }
    }
}

impl Drop for ClusterPresence {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Inner {
    fn lock_held(&self) -> std::sync::MutexGuard<'_, HashSet<Slot>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn mark(&self, slot: Slot) {
        self.dirty
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(slot);
        self.wake.notify_one();
    }

    fn key(&self, slot: Slot) -> String {
        match slot {
            Slot::Room(app, channel) => format!("{}.{}.{}", self.node, app.0, channel.0),
            Slot::Online(app) => format!("{}.{}.online", self.node, app.0),
        }
    }

    fn fresh(&self, written: Instant) -> bool {
        written.elapsed() < self.config.ttl
    }

    /// The value of a key this node holds, or `None` when it should be deleted.
    fn value(&self, slot: Slot) -> Option<Vec<u8>> {
        match slot {
            Slot::Room(app, channel) => {
                let mut entries = self.local.list(app, channel);
                if entries.is_empty() {
                    return None;
                }
                let clients = entries.len() as u32;
                let anonymous = entries.iter().filter(|e| e.user.is_empty()).count() as u32;
                let named_users = entries
                    .iter()
                    .filter(|e| !e.user.is_empty())
                    .map(|e| &e.user)
                    .collect::<HashSet<_>>()
                    .len() as u32;
                // Named users first: they are the ones lists and user counts need.
                entries.sort_by_key(|e| e.user.is_empty());
                entries.truncate(MAX_ENTRIES_PER_VALUE);
                let value = RoomValue {
                    clients,
                    anonymous,
                    named_users,
                    entries: entries
                        .into_iter()
                        .map(|e| (e.client.to_string(), e.user.to_string()))
                        .collect(),
                };
                serde_json::to_vec(&value).ok()
            }
            Slot::Online(app) => {
                let mut users: Vec<i64> = self
                    .local_online
                    .users_of(app)
                    .into_iter()
                    .map(|u| u.0)
                    .collect();
                if users.is_empty() {
                    return None;
                }
                users.truncate(MAX_ONLINE_PER_VALUE);
                serde_json::to_vec(&users).ok()
            }
        }
    }

    /// Applies a watched entry of the bucket to the cache.
    fn apply(&self, entry: kv::Entry) {
        let mut parts = entry.key.splitn(3, '.');
        let (Some(node), Some(app), Some(what)) = (parts.next(), parts.next(), parts.next()) else {
            return;
        };
        if node == &*self.node {
            return;
        }
        let Ok(app) = app.parse::<i64>().map(AppId) else {
            return;
        };
        let node: Arc<str> = Arc::from(node);
        let put = entry.operation == kv::Operation::Put;
        let written = written_at(entry.created.unix_timestamp_nanos(), self.config.ttl);
        let mut remote = self.remote.write().unwrap_or_else(|e| e.into_inner());
        if what == "online" {
            let users = put
                .then(|| serde_json::from_slice::<Vec<i64>>(&entry.value).ok())
                .flatten();
            let nodes = remote.online.entry(app).or_default();
            match users {
                Some(users) => {
                    nodes.insert(
                        node,
                        NodeOnline {
                            users: users.into_iter().collect(),
                            written,
                        },
                    );
                }
                None => {
                    nodes.remove(&node);
                }
            }
            if nodes.is_empty() {
                remote.online.remove(&app);
            }
            return;
        }
        let Ok(channel) = what.parse::<i64>().map(ChannelId) else {
            return;
        };
        let value = put
            .then(|| serde_json::from_slice::<RoomValue>(&entry.value).ok())
            .flatten();
        let nodes = remote.rooms.entry((app, channel)).or_default();
        match value {
            Some(v) => {
                let truncated = v.entries.len() < v.clients as usize;
                nodes.insert(
                    node,
                    NodeRoom {
                        clients: v.clients,
                        anonymous: v.anonymous,
                        named_users: v.named_users,
                        entries: v
                            .entries
                            .into_iter()
                            .map(|(client, user)| PresenceEntry {
                                client: Arc::from(client),
                                user: Arc::from(user),
                            })
                            .collect(),
                        truncated,
                        written,
                    },
                );
            }
            None => {
                nodes.remove(&node);
            }
        }
        if nodes.is_empty() {
            remote.rooms.remove(&(app, channel));
        }
    }

    /// Forgets the values of nodes that stopped writing them.
    fn forget_stale(&self) {
        let ttl = self.config.ttl;
        let mut remote = self.remote.write().unwrap_or_else(|e| e.into_inner());
        remote.rooms.retain(|_, nodes| {
            nodes.retain(|_, v| v.written.elapsed() < ttl);
            !nodes.is_empty()
        });
        remote.online.retain(|_, nodes| {
            nodes.retain(|_, v| v.written.elapsed() < ttl);
            !nodes.is_empty()
        });
    }
}

/// When a value was written, on this node's clock: its age (by the server's
/// timestamp; nodes' clocks are assumed roughly in sync) taken from now, at most the
/// TTL. A value read long after it was written (a watcher catching up) thus expires
/// on time rather than a TTL after it was read.
fn written_at(created_unix_nanos: i128, ttl: Duration) -> Instant {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(created_unix_nanos);
    let age = (now - created_unix_nanos).clamp(0, ttl.as_nanos() as i128);
    let age = Duration::from_nanos(age as u64);
    Instant::now().checked_sub(age).unwrap_or_else(Instant::now)
}

async fn open_bucket(
    js: &jetstream::Context,
    config: &PresenceConfig,
) -> Result<kv::Store, String> {
    if let Ok(kv) = js.get_key_value(config.bucket.as_str()).await {
        return Ok(kv);
    }
    // The KV bucket's stream, made as `create_key_value` would make it: that call
    // first asks for the account's info, whose reply from a NATS 2.9 server this
    // client cannot read, while creating the stream itself works on every server.
    js.create_stream(stream::Config {
        name: format!("KV_{}", config.bucket),
        description: Some("hubbub presence: per-node entries with heartbeats".into()),
        subjects: vec![format!("$KV.{}.>", config.bucket)],
        max_messages_per_subject: 1,
        max_age: config.ttl,
        // Presence is rebuilt by the heartbeats within a TTL; no disk needed.
        storage: stream::StorageType::Memory,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: stream::DiscardPolicy::New,
        ..Default::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    js.get_key_value(config.bucket.as_str())
        .await
        .map_err(|e| e.to_string())
}

/// Writes this node's keys: changed ones within `flush_interval`, all of them at
/// every heartbeat. Re-opens the bucket after a failure (a restarted NATS has lost
/// a memory bucket).
async fn flush_loop(inner: Arc<Inner>, js: jetstream::Context) {
    let heartbeat_every = (inner.config.ttl / 3).max(Duration::from_millis(100));
    let mut heartbeat = tokio::time::interval(heartbeat_every);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut bucket: Option<kv::Store> = None;
    // The first failure to open the bucket is worth an operator's attention (NATS
    // without JetStream keeps presence local to each node); the retries are not.
    let mut warned = false;
    loop {
        let all = tokio::select! {
            _ = inner.wake.notified() => false,
            _ = heartbeat.tick() => true,
        };
        if bucket.is_none() {
            match open_bucket(&js, &inner.config).await {
                Ok(kv) => {
                    bucket = Some(kv);
                    warned = false;
                }
                Err(e) => {
                    if warned {
                        tracing::debug!(error = %e, "presence bucket not open yet");
                    } else {
                        warned = true;
                        tracing::warn!(error = %e, bucket = %inner.config.bucket, "cannot open the presence bucket (is JetStream on?); presence stays this node's until it opens");
                    }
                    continue;
                }
            }
        }
        let Some(kv) = bucket.clone() else { continue };
        let mut slots: HashSet<Slot> =
            std::mem::take(&mut *inner.dirty.lock().unwrap_or_else(|e| e.into_inner()));
        if all {
            slots.extend(inner.lock_held().iter().copied());
        }
        let mut failed = Vec::new();
        for slot in slots {
            let key = inner.key(slot);
            let result = match inner.value(slot) {
                Some(value) => kv
                    .put(&key, value.into())
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                None => {
                    inner.lock_held().remove(&slot);
                    kv.delete(&key).await.map_err(|e| e.to_string())
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, key, "presence write failed; will retry");
                failed.push(slot);
            }
        }
        if !failed.is_empty() {
            inner
                .dirty
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(failed);
            bucket = None;
            // Retry after the interval, not in a tight loop while NATS is away.
            tokio::time::sleep(inner.config.flush_interval.max(Duration::from_millis(250))).await;
            inner.wake.notify_one();
        } else {
            // Joins and leaves meanwhile wait for the next round: at most one write
            // of a key per interval.
            tokio::time::sleep(inner.config.flush_interval).await;
        }
    }
}

/// Keeps the cache of other nodes' values: the bucket's current values, then every
/// change. Starts over (from the current values) when the watch fails.
async fn watch_loop(inner: Arc<Inner>, js: jetstream::Context) {
    let sweep_every = (inner.config.ttl / 4).max(Duration::from_millis(50));
    let mut sweep = tokio::time::interval(sweep_every);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let watch = match open_bucket(&js, &inner.config).await {
            Ok(kv) => kv.watch_with_history(">").await.map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        let mut watch = match watch {
            Ok(w) => w,
            Err(e) => {
                tracing::debug!(error = %e, "cannot watch the presence bucket yet");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = sweep.tick() => inner.forget_stale(),
                }
                continue;
            }
        };
        loop {
            tokio::select! {
                next = watch.next() => match next {
                    Some(Ok(entry)) => inner.apply(entry),
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "presence watch failed; starting over");
                        break;
                    }
                    None => break,
                },
                _ = sweep.tick() => inner.forget_stale(),
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

impl Presence for ClusterPresence {
    fn join(&self, app: AppId, channel: ChannelId, entry: PresenceEntry) -> bool {
        let joined = self.inner.local.join(app, channel, entry);
        if joined {
            self.inner.lock_held().insert(Slot::Room(app, channel));
            self.inner.mark(Slot::Room(app, channel));
        }
        joined
    }

    fn leave(&self, app: AppId, channel: ChannelId, client: &str) -> Option<PresenceEntry> {
        let left = self.inner.local.leave(app, channel, client);
        if left.is_some() {
            self.inner.mark(Slot::Room(app, channel));
        }
        left
    }

    fn list(&self, app: AppId, channel: ChannelId) -> Vec<PresenceEntry> {
        let mut entries = self.inner.local.list(app, channel);
        let remote = self.inner.remote.read().unwrap_or_else(|e| e.into_inner());
        if let Some(nodes) = remote.rooms.get(&(app, channel)) {
            for node in nodes.values().filter(|v| self.inner.fresh(v.written)) {
                entries.extend(node.entries.iter().cloned());
            }
        }
        entries
    }

    fn stats(&self, app: AppId, channel: ChannelId) -> PresenceStats {
        let mut stats = self.inner.local.stats(app, channel);
        let remote = self.inner.remote.read().unwrap_or_else(|e| e.into_inner());
        let Some(nodes) = remote.rooms.get(&(app, channel)) else {
            return stats;
        };
        let mut counted: HashSet<&str> = HashSet::new();
        for node in nodes.values().filter(|v| self.inner.fresh(v.written)) {
            stats.num_clients += node.clients;
            stats.num_users += node.anonymous;
            if node.truncated {
                stats.num_users += node.named_users;
                continue;
            }
            for entry in &node.entries {
                let user = &*entry.user;
                if !user.is_empty()
                    && !counted.contains(user)
                    && !self.inner.local.has_user(app, channel, user)
                {
                    counted.insert(user);
                    stats.num_users += 1;
                }
            }
        }
        stats
    }
}

impl OnlineUsers for ClusterPresence {
    fn connected(&self, app: AppId, user: UserId) {
        let was = self.inner.local_online.is_online(app, user);
        self.inner.local_online.connected(app, user);
        if !was {
            self.inner.lock_held().insert(Slot::Online(app));
            self.inner.mark(Slot::Online(app));
        }
    }

    fn disconnected(&self, app: AppId, user: UserId) {
        self.inner.local_online.disconnected(app, user);
        if !self.inner.local_online.is_online(app, user) {
            self.inner.mark(Slot::Online(app));
        }
    }

    fn is_online(&self, app: AppId, user: UserId) -> bool {
        if self.inner.local_online.is_online(app, user) {
            return true;
        }
        let remote = self.inner.remote.read().unwrap_or_else(|e| e.into_inner());
        remote.online.get(&app).is_some_and(|nodes| {
            nodes
                .values()
                .any(|v| self.inner.fresh(v.written) && v.users.contains(&user.0))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_value_expires_a_ttl_after_it_was_written_not_read() {
        let ttl = Duration::from_secs(10);
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as i128;
        let fresh = written_at(now, ttl);
        assert!(fresh.elapsed() < Duration::from_secs(1));
        let old = written_at(now - 8_000_000_000, ttl);
        assert!(old.elapsed() >= Duration::from_secs(8));
        let ancient = written_at(now - 3_600_000_000_000, ttl);
        assert!(
            ancient.elapsed() >= ttl,
            "clamped to the TTL: already expired"
        );
        let future = written_at(now + 5_000_000_000, ttl);
        assert!(
            future.elapsed() < Duration::from_secs(1),
            "a fast clock elsewhere"
        );
    }
}
