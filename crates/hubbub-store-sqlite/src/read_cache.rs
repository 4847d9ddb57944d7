//! A cache of channels and users for the send path, kept exact by the writer.
//!
//! Every message send reads its channel and its author before appending. Through the
//! reader pool each read costs two thread hops in sqlx's SQLite driver — more CPU than
//! the append itself. Since the writer is the only writer, it can keep cached rows
//! exact: after each COMMIT (and before answering the callers) it updates the channels
//! it appended to in place and drops every other row its batch changed.
//!
//! The one race is a reader that fills the cache with a row it read before a commit,
//! after the writer already applied that commit's effects. A fill therefore only
//! lands if the cache's generation — bumped by the writer whenever it drops a row or
//! touches a row the cache does not hold — did not move since the reader looked.
//! Updates of rows the cache holds need no bump: a fill never replaces an entry.
//!
//! It also knows which channels have ever had a ban or mute row, so that the send
//! path's restriction check costs no read in the (usual) channel without any. The set
//! only grows while the writer runs (a lifted restriction leaves its channel in it,
//! which merely costs that channel a read); it is loaded whole on first use.

use hubbub_core::ids::{AppId, ChannelId, MessageId, UserId};
use hubbub_core::model::{Channel, User};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

/// Rows per map beyond which the cache starts over rather than growing.
const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
struct Inner {
    generation: u64,
    channels: HashMap<ChannelId, Arc<Channel>>,
    users: HashMap<UserId, Arc<User>>,
    user_names: HashMap<(AppId, String), UserId>,
    /// Channels with restriction rows; `None` until loaded.
    restricted: Option<HashSet<ChannelId>>,
}

/// A snapshot of the generation taken before a database read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket(u64);

/// Changes a committed batch makes to cached rows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Effect {
    /// Messages were appended: the channel's new `last_seq` and `last_message_id`.
    Appended {
        channel: ChannelId,
        last_seq: i64,
        last_message_id: MessageId,
    },
    ChannelChanged(ChannelId),
    /// A ban or mute was set in the channel.
    Restricted(ChannelId),
    /// Every channel of the application changed (all its messages were deleted).
    AppChannelsChanged(AppId),
    UserChanged(UserId),
}

#[derive(Default)]
pub(crate) struct ReadCache {
    inner: Mutex<Inner>,
}

impl ReadCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave a map half-updated in a way
        // that matters (every operation is a single insert/remove), so poisoning is
        // ignored.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached channel if it belongs to `app`; else a ticket for a later fill.
    pub(crate) fn channel(&self, app: AppId, id: ChannelId) -> Result<Option<Channel>, Ticket> {
        let inner = self.lock();
        match inner.channels.get(&id) {
            Some(c) if c.app_id == app => Ok(Some(Channel::clone(c))),
            Some(_) => Ok(None),
            None => Err(Ticket(inner.generation)),
        }
    }

    pub(crate) fn fill_channel(&self, ticket: Ticket, channel: &Channel) {
        let mut inner = self.lock();
        if inner.generation != ticket.0 {
            return;
        }
        if inner.channels.len() >= MAX_ENTRIES {
            inner.channels.clear();
        }
        inner
            .channels
            .entry(channel.id)
            .or_insert_with(|| Arc::new(channel.clone()));
    }

    pub(crate) fn user(&self, app: AppId, id: UserId) -> Result<Option<User>, Ticket> {
        let inner = self.lock();
        match inner.users.get(&id) {
            Some(u) if u.app_id == app => Ok(Some(User::clone(u))),
            Some(_) => Ok(None),
            None => Err(Ticket(inner.generation)),
        }
    }

    pub(crate) fn user_by_name(&self, app: AppId, name: &str) -> Result<User, Ticket> {
        let inner = self.lock();
        let found = inner
            .user_names
            .get(&(app, name.to_owned()))
            .and_then(|id| inner.users.get(id));
        match found {
            Some(u) => Ok(User::clone(u)),
            None => Err(Ticket(inner.generation)),
        }
    }

    pub(crate) fn fill_user(&self, ticket: Ticket, user: &User) {
        let mut inner = self.lock();
        if inner.generation != ticket.0 {
            return;
        }
        if inner.users.len() >= MAX_ENTRIES {
            inner.users.clear();
            inner.user_names.clear();
        }
        inner
            .user_names
            .insert((user.app_id, user.name.as_str().to_owned()), user.id);
        inner
            .users
            .entry(user.id)
            .or_insert_with(|| Arc::new(user.clone()));
    }

    /// Applies a committed batch's effects. Called by the writer only, after COMMIT
    /// and before it answers the batch's callers.
    pub(crate) fn apply(&self, effects: &[Effect]) {
        if effects.is_empty() {
            return;
        }
        let mut inner = self.lock();
        let mut bump = false;
        for effect in effects {
            match *effect {
                Effect::Appended {
                    channel,
                    last_seq,
                    last_message_id,
                } => match inner.channels.get_mut(&channel) {
                    Some(cached) => {
                        let c = Arc::make_mut(cached);
                        c.last_seq = last_seq;
                        c.last_message_id = Some(last_message_id);
                    }
                    None => bump = true,
                },
                Effect::ChannelChanged(channel) => {
                    inner.channels.remove(&channel);
                    bump = true;
                }
                Effect::Restricted(channel) => {
                    if let Some(set) = inner.restricted.as_mut() {
                        set.insert(channel);
                    }
                    // A load read before this commit must not land.
                    bump = true;
                }
                Effect::AppChannelsChanged(app) => {
                    inner.channels.retain(|_, c| c.app_id != app);
                    bump = true;
                }
                Effect::UserChanged(user) => {
                    if let Some(old) = inner.users.remove(&user) {
                        inner
                            .user_names
                            .remove(&(old.app_id, old.name.as_str().to_owned()));
                    }
                    bump = true;
                }
            }
        }
        if bump {
            inner.generation += 1;
        }
    }

    /// Drops everything (the writer lost track, e.g. after reconnecting).
    pub(crate) fn clear(&self) {
        let mut inner = self.lock();
        inner.channels.clear();
        inner.users.clear();
        inner.user_names.clear();
        inner.restricted = None;
        inner.generation += 1;
    }

    /// Whether the channel may have restrictions (`false` is certain); a ticket for a
    /// later load when the set is not loaded.
    pub(crate) fn may_be_restricted(&self, channel: ChannelId) -> Result<bool, Ticket> {
        let inner = self.lock();
        match &inner.restricted {
            Some(set) => Ok(set.contains(&channel)),
            None => Err(Ticket(inner.generation)),
        }
    }

    /// Installs the set of restricted channels read from the database, unless the
    /// writer changed anything since the read began.
    pub(crate) fn fill_restricted(&self, ticket: Ticket, channels: HashSet<ChannelId>) {
        let mut inner = self.lock();
        if inner.generation == ticket.0 && inner.restricted.is_none() {
            inner.restricted = Some(channels);
        }
    }
}
