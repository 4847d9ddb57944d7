//! Live rooms as a logged-in viewer sees them, for polling APIs (the kitkot
//! TikTok-LIVE dialect first, but nothing here is kitkot's): one call that enters a
//! room, sends into it or reads its chat and hands back the room together with its
//! owner and the viewer's standing in it; chat read in *sealed windows* of the
//! channel sequence, so a poller's cursor always names the same batch; deletion by
//! the room's moderators only; and the live status of many rooms at once.
//!
//! A "room" here is any channel but a direct one: a live room whose broadcast is off
//! is still a room one can chat in; direct channels are conversations, not rooms,
//! and are reported as missing.

use super::{Actor, Engine, SendMessage};
use crate::error::{Error, Result};
use crate::ids::{ChannelId, MessageId, UserId};
use crate::model::{
    Channel, ChannelKind, LiveStatus, MessageView, RestrictionKind, Timestamp, User,
};
use std::collections::HashMap;

/// A room with what a viewer's screen shows of it.
#[derive(Debug, Clone)]
pub struct LiveRoomView {
    pub channel: Channel,
    /// The owner (anchor); `None` for a room created without one.
    pub owner: Option<User>,
    /// The standing of the user the call was made for; `None` for the backend.
    pub viewer: Option<RoomRole>,
}

/// A user's standing in one room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoomRole {
    /// The room's owner (anchor).
    pub is_owner: bool,
    /// One of the room's moderators (managers, admins).
    pub is_moderator: bool,
    /// Muted now.
    pub is_muted: bool,
    /// When the mute lapses; `None` for a permanent mute or no mute.
    pub muted_until: Option<Timestamp>,
}

impl RoomRole {
    /// May moderate the room: its owner or a moderator.
    pub fn can_moderate(&self) -> bool {
        self.is_owner || self.is_moderator
    }
}

/// A closed range of a channel's sequence: the messages with `after < seq <= upto`
/// of the channel's sequence `epoch`. Once `upto` is at most the channel's last seq
/// the range can only lose messages (deletions), never gain any, so a window names
/// one batch for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeqWindow {
    pub epoch: String,
    pub after: i64,
    pub upto: i64,
}

/// One poll of a room's chat.
#[derive(Debug, Clone)]
pub struct ChatWindow {
    pub room: Channel,
    /// The batch, oldest first (channel `seq` order).
    pub messages: Vec<MessageView>,
    /// The window to ask for next: everything committed after this batch when it was
    /// read, at most `max` seqs.
    pub next: SeqWindow,
    /// Whether `next` already holds messages (poll again at once).
    pub more: bool,
    /// The standing in the room of every author in `messages`.
    pub authors: HashMap<UserId, RoomRole>,
}

impl Engine {
    /// The room (any non-direct channel) with this id, or `NotFound("channel")`.
    pub async fn live_room(&self, actor: &Actor, room: ChannelId) -> Result<Channel> {
        let channel = self.get_channel(actor, room).await?;
        if channel.kind == ChannelKind::Direct {
            return Err(Error::not_found("channel"));
        }
        Ok(channel)
    }

    /// The user's standing in the room (owner, moderator, muted).
    pub async fn room_role(&self, channel: &Channel, user: UserId) -> Result<RoomRole> {
        let is_moderator = self
            .store
            .is_moderator(channel.app_id, channel.id, user)
            .await?;
        let mute = self
            .restrictions_of(channel, user)
            .await?
            .into_iter()
            .find(|r| r.kind == RestrictionKind::Mute);
        Ok(RoomRole {
            is_owner: channel.creator == Some(user),
            is_moderator,
            is_muted: mute.is_some(),
            muted_until: mute.and_then(|m| m.until),
        })
    }

    /// The room with its owner and the actor's standing in it.
    pub async fn live_room_view(&self, actor: &Actor, channel: Channel) -> Result<LiveRoomView> {
        let owner = match channel.creator {
            Some(owner) => self.store.get_user(channel.app_id, owner).await?,
            None => None,
        };
        let viewer = match actor.user() {
            Some(user) => Some(self.room_role(&channel, user).await?),
            None => None,
        };
        Ok(LiveRoomView {
            channel,
            owner,
            viewer,
        })
    }

    /// A user enters a room as a viewer ([`Engine::enter_live`]: entries, and distinct
    /// viewers on a first entry). Banned users are refused, and a private room admits
    /// its members only (entering must not be a way to become a member).
    pub async fn join_live_room(&self, actor: &Actor, room: ChannelId) -> Result<LiveRoomView> {
        let user = require_user(actor)?;
        let channel = self.live_room(actor, room).await?;
        self.require_room_reader(&channel, user).await?;
        let entered = self.enter_live(actor, channel.id, user).await?;
        self.live_room_view(actor, entered).await
    }

    /// Sends a message into a room ([`Engine::send_message`]: every send rule holds —
    /// bans, mutes, chat switched off, limits) and returns the room as it is after.
    pub async fn send_live_chat(
        &self,
        actor: &Actor,
        room: ChannelId,
        input: SendMessage,
    ) -> Result<(MessageView, LiveRoomView)> {
        let channel = self.live_room(actor, room).await?;
        let (_, view) = self
            .send_in_thread(actor, channel.clone(), None, input)
            .await?;
        let room = self.live_room_view(actor, channel).await?;
        Ok((view, room))
    }

    /// Reads a room's chat in sealed windows. Without `window`, the newest messages
    /// (the last `max` seqs) and an empty window at the end of the sequence. With a
    /// window (one this method returned earlier), exactly that window's messages —
    /// asking again returns the same batch — and the window after it: everything
    /// committed by now, at most `max` seqs. A window of another epoch, reaching
    /// beyond the sequence or wider than `max` is refused as an invalid `cursor`.
    pub async fn live_chat_window(
        &self,
        actor: &Actor,
        room: ChannelId,
        window: Option<SeqWindow>,
        max: u32,
    ) -> Result<ChatWindow> {
        let channel = self.live_room(actor, room).await?;
        if let Some(user) = actor.user() {
            self.require_room_reader(&channel, user).await?;
        }
        let max = i64::from(max.max(1));
        let last = channel.last_seq;
        let (after, upto) = match &window {
            None => ((last - max).max(0), last),
            Some(w) => {
                check_window(w, &channel.epoch, last, max)?;
                (w.after, w.upto)
            }
        };
        let mut messages = if upto > after {
            self.store
                .messages_after_seq(channel.app_id, channel.id, after, (upto - after) as u32)
                .await?
        } else {
            Vec::new()
        };
        messages.retain(|m| m.message.seq > after && m.message.seq <= upto);
        let next_upto = if window.is_none() {
            last
        } else {
            last.min(upto + max)
        };
        let next = SeqWindow {
            epoch: channel.epoch.clone(),
            after: upto,
            upto: next_upto,
        };
        let mut authors = HashMap::new();
        for author in messages.iter().filter_map(|m| m.message.user_id) {
            if let std::collections::hash_map::Entry::Vacant(slot) = authors.entry(author) {
                slot.insert(self.room_role(&channel, author).await?);
            }
        }
        Ok(ChatWindow {
            more: next.upto > next.after,
            room: channel,
            messages,
            next,
            authors,
        })
    }

    /// Deletes a message of a room as one of its moderators: the room's owner, a
    /// moderator, or the backend — not its author, unlike [`Engine::delete_message`].
    /// A message of another room is reported as missing.
    pub async fn delete_room_message_as_moderator(
        &self,
        actor: &Actor,
        room: ChannelId,
        message: MessageId,
    ) -> Result<MessageView> {
        let channel = self.live_room(actor, room).await?;
        let found = self.get_message(actor, message).await?;
        if found.message.channel_id != channel.id {
            return Err(Error::not_found("message"));
        }
        if !self.can_moderate(actor, &channel).await? {
            return Err(Error::Forbidden(
                "only the room's owner or its admins may delete messages".into(),
            ));
        }
        self.delete_message(actor, message).await
    }

    /// The live status of each room asked for, in order; `None` for an id that is no
    /// room of the application.
    pub async fn live_room_statuses(
        &self,
        actor: &Actor,
        rooms: &[ChannelId],
    ) -> Result<Vec<Option<LiveStatus>>> {
        let mut out = Vec::with_capacity(rooms.len());
        for room in rooms {
            out.push(match self.live_room(actor, *room).await {
                Ok(channel) => Some(channel.live.status),
                Err(Error::NotFound { .. }) => None,
                Err(e) => return Err(e),
            });
        }
        Ok(out)
    }

    /// A viewer may read a room unless banned there; a non-public room admits its
    /// owner and members only.
    async fn require_room_reader(&self, channel: &Channel, user: UserId) -> Result<()> {
        self.require_can_enter(channel, user).await?;
        if channel.kind != ChannelKind::Public
            && channel.creator != Some(user)
            && !self
                .store
                .is_member(channel.app_id, channel.id, user)
                .await?
        {
            return Err(Error::Forbidden("only members may enter this room".into()));
        }
        Ok(())
    }
}

fn require_user(actor: &Actor) -> Result<UserId> {
    actor
        .user()
        .ok_or_else(|| Error::invalid("user", "only a user can enter a room"))
}

/// A window is valid for a channel when it is of the channel's epoch, lies within
/// the sequence committed so far and spans at most `max` seqs.
fn check_window(w: &SeqWindow, epoch: &str, last_seq: i64, max: i64) -> Result<()> {
    let invalid = |reason: &str| Err(Error::invalid("cursor", reason));
    if w.epoch != epoch {
        return invalid("belongs to another sequence of this room; start again without one");
    }
    if w.after < 0 || w.upto < w.after || w.upto > last_seq {
        return invalid("is not a window of this room");
    }
    if w.upto - w.after > max {
        return invalid("spans more messages than one batch");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(epoch: &str, after: i64, upto: i64) -> SeqWindow {
        SeqWindow {
            epoch: epoch.into(),
            after,
            upto,
        }
    }

    #[test]
    fn windows_must_lie_in_the_committed_sequence() {
        assert!(check_window(&w("e1", 0, 0), "e1", 0, 50).is_ok());
        assert!(check_window(&w("e1", 3, 10), "e1", 10, 50).is_ok());
        assert!(
            check_window(&w("e1", 3, 11), "e1", 10, 50).is_err(),
            "beyond"
        );
        assert!(
            check_window(&w("e1", 5, 4), "e1", 10, 50).is_err(),
            "reversed"
        );
        assert!(
            check_window(&w("e1", -1, 4), "e1", 10, 50).is_err(),
            "negative"
        );
        assert!(
            check_window(&w("e0", 3, 4), "e1", 10, 50).is_err(),
            "old epoch"
        );
        assert!(
            check_window(&w("e1", 0, 51), "e1", 100, 50).is_err(),
            "too wide"
        );
        match check_window(&w("e1", 0, 51), "e1", 100, 50) {
            Err(Error::Invalid { field, .. }) => assert_eq!(field, "cursor"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn owners_and_moderators_moderate() {
        let owner = RoomRole {
            is_owner: true,
            ..RoomRole::default()
        };
        let moderator = RoomRole {
            is_moderator: true,
            ..RoomRole::default()
        };
        assert!(owner.can_moderate());
        assert!(moderator.can_moderate());
        assert!(!RoomRole::default().can_moderate());
    }
}
