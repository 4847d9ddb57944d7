//! Who is in a channel right now.
//!
//! Presence is keyed by application and channel, and holds one entry per connection
//! (a user with two tabs open is two clients, one user). The realtime gateway joins
//! and leaves; the ChatKitty participants API and `presence`/`presence_stats` read.
//! [`MemoryPresence`] serves one node; a clustered implementation (the NATS KV one in
//! `hubbub-bus-nats`) implements the same trait with a local cache, so every call
//! stays cheap and synchronous.
//!
//! [`OnlineUsers`] answers "is this user connected anywhere": the engine's sessions
//! record into it, and user views read it (ChatKitty's `presence.online`).

use crate::ids::{AppId, ChannelId, UserId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One connection present in a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceEntry {
    /// The connection's client id (unique per connection).
    pub client: Arc<str>,
    /// The user name; empty for an anonymous viewer.
    pub user: Arc<str>,
}

/// Counts of a channel's presence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PresenceStats {
    /// Connections present.
    pub num_clients: u32,
    /// Distinct users among them (anonymous viewers count as one user each).
    pub num_users: u32,
}

/// Presence storage. Every method is cheap and never blocks on I/O for the in-memory
/// implementation; a clustered one may be eventually consistent.
pub trait Presence: Send + Sync + 'static {
    /// Records that `entry` is in the channel. Returns `true` when it was not before.
    fn join(&self, app: AppId, channel: ChannelId, entry: PresenceEntry) -> bool;

    /// Removes a client from the channel. Returns the entry if it was present.
    fn leave(&self, app: AppId, channel: ChannelId, client: &str) -> Option<PresenceEntry>;

    /// Everyone present, in no particular order.
    fn list(&self, app: AppId, channel: ChannelId) -> Vec<PresenceEntry>;

    /// Counts without listing.
    fn stats(&self, app: AppId, channel: ChannelId) -> PresenceStats;
}

/// Users with at least one live realtime connection (on this node, or in the
/// cluster). Every method is cheap and never blocks on I/O.
pub trait OnlineUsers: Send + Sync + 'static {
    /// A connection of the user opened.
    fn connected(&self, app: AppId, user: UserId);

    /// A connection of the user closed.
    fn disconnected(&self, app: AppId, user: UserId);

    /// Whether the user has a live connection.
    fn is_online(&self, app: AppId, user: UserId) -> bool;
}

/// The users connected to this node, counted per connection.
#[derive(Default)]
pub struct LocalOnlineUsers {
    sessions: Mutex<HashMap<(AppId, UserId), u32>>,
}

impl LocalOnlineUsers {
    /// The users of an application connected here.
    pub fn users_of(&self, app: AppId) -> Vec<UserId> {
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions
            .keys()
            .filter(|(a, _)| *a == app)
            .map(|(_, u)| *u)
            .collect()
    }
}

impl OnlineUsers for LocalOnlineUsers {
    fn connected(&self, app: AppId, user: UserId) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        *sessions.entry((app, user)).or_default() += 1;
    }

    fn disconnected(&self, app: AppId, user: UserId) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = sessions.get_mut(&(app, user)) {
            *n -= 1;
            if *n == 0 {
                sessions.remove(&(app, user));
            }
        }
    }

    fn is_online(&self, app: AppId, user: UserId) -> bool {
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.contains_key(&(app, user))
    }
}

#[derive(Default)]
struct ChannelPresence {
    /// client id → user name
    clients: HashMap<Arc<str>, Arc<str>>,
    /// user name → connections of that user here (anonymous viewers are not counted
    /// here; each is its own user in the stats)
    users: HashMap<Arc<str>, u32>,
    anonymous: u32,
}

/// Presence for a single node, in memory.
#[derive(Default)]
pub struct MemoryPresence {
    channels: Mutex<HashMap<(AppId, ChannelId), ChannelPresence>>,
}

impl MemoryPresence {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a named user has a connection in the channel.
    pub fn has_user(&self, app: AppId, channel: ChannelId, user: &str) -> bool {
        let channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels
            .get(&(app, channel))
            .is_some_and(|room| room.users.contains_key(user))
    }
}

impl Presence for MemoryPresence {
    fn join(&self, app: AppId, channel: ChannelId, entry: PresenceEntry) -> bool {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        let room = channels.entry((app, channel)).or_default();
        if room.clients.contains_key(&entry.client) {
            return false;
        }
        if entry.user.is_empty() {
            room.anonymous += 1;
        } else {
            *room.users.entry(entry.user.clone()).or_default() += 1;
        }
        room.clients.insert(entry.client, entry.user);
        true
    }

    fn leave(&self, app: AppId, channel: ChannelId, client: &str) -> Option<PresenceEntry> {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        let room = channels.get_mut(&(app, channel))?;
        let (client, user) = room.clients.remove_entry(client)?;
        if user.is_empty() {
            room.anonymous = room.anonymous.saturating_sub(1);
        } else if let Some(n) = room.users.get_mut(&user) {
            *n -= 1;
            if *n == 0 {
                room.users.remove(&user);
            }
        }
        if room.clients.is_empty() {
            channels.remove(&(app, channel));
        }
        Some(PresenceEntry { client, user })
    }

    fn list(&self, app: AppId, channel: ChannelId) -> Vec<PresenceEntry> {
        let channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels
            .get(&(app, channel))
            .map(|room| {
                room.clients
                    .iter()
                    .map(|(client, user)| PresenceEntry {
                        client: client.clone(),
                        user: user.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn stats(&self, app: AppId, channel: ChannelId) -> PresenceStats {
        let channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels
            .get(&(app, channel))
            .map(|room| PresenceStats {
                num_clients: room.clients.len() as u32,
                num_users: room.users.len() as u32 + room.anonymous,
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(client: &str, user: &str) -> PresenceEntry {
        PresenceEntry {
            client: client.into(),
            user: user.into(),
        }
    }

    #[test]
    fn counts_clients_and_distinct_users() {
        let p = MemoryPresence::new();
        let (app, ch) = (AppId(1), ChannelId(7));
        assert!(p.join(app, ch, entry("c1", "jane")));
        assert!(p.join(app, ch, entry("c2", "jane")));
        assert!(!p.join(app, ch, entry("c2", "jane")), "a client joins once");
        assert!(p.join(app, ch, entry("c3", "")));
        assert!(p.join(app, ch, entry("c4", "")));
        assert_eq!(
            p.stats(app, ch),
            PresenceStats {
                num_clients: 4,
                num_users: 3
            }
        );
        assert_eq!(p.list(app, ch).len(), 4);
        assert!(p.has_user(app, ch, "jane"));
        assert!(!p.has_user(app, ch, ""), "anonymous viewers are nobody");
        assert_eq!(p.leave(app, ch, "c1"), Some(entry("c1", "jane")));
        assert_eq!(p.stats(app, ch).num_users, 3, "jane still has c2");
        p.leave(app, ch, "c2");
        p.leave(app, ch, "c3");
        assert_eq!(p.stats(app, ch).num_users, 1);
        assert_eq!(p.leave(app, ch, "nope"), None);
    }

    #[test]
    fn a_user_is_online_while_any_connection_lives() {
        let online = LocalOnlineUsers::default();
        let (app, user) = (AppId(1), UserId(7));
        online.connected(app, user);
        online.connected(app, user);
        online.disconnected(app, user);
        assert!(online.is_online(app, user));
        assert_eq!(online.users_of(app), vec![user]);
        online.disconnected(app, user);
        assert!(!online.is_online(app, user));
        online.disconnected(app, user);
        assert!(!online.is_online(AppId(2), user));
        assert!(online.users_of(app).is_empty());
    }

    #[test]
    fn applications_do_not_see_each_other() {
        let p = MemoryPresence::new();
        p.join(AppId(1), ChannelId(1), entry("c1", "jane"));
        assert!(p.list(AppId(2), ChannelId(1)).is_empty());
        assert_eq!(p.stats(AppId(2), ChannelId(1)).num_clients, 0);
        p.leave(AppId(1), ChannelId(1), "c1");
        assert!(p.list(AppId(1), ChannelId(1)).is_empty());
    }
}
