//! Room operations that streaming tools need (first written for NAVER PRISM Live
//! Studio, kept generic so any poller or broadcaster dialect can use them):
//!
//! * polling a room's chat with an opaque cursor bound to that room
//!   ([`ChatCursor`], [`Engine::poll_chat`]): a page is always in `seq` order, and
//!   a poll with nothing new returns the cursor it was given;
//! * a room's overview with its count of visible messages ([`Engine::room_overview`]);
//! * deleting a message addressed through its room ([`Engine::delete_room_message`]);
//! * the owner of a room appointing and dismissing its moderators
//!   ([`Engine::appoint_moderator`], [`Engine::dismiss_moderator`]);
//! * an owner's live rooms ([`Engine::owned_live_rooms`]) and starting a broadcast,
//!   which ends the owner's other broadcasts ([`Engine::start_broadcast`]).

use super::channels::user_summary;
use super::{Actor, ChannelPatch, Engine, LivePatch, RealtimeIdentity, UserRef};
use crate::error::{Error, Result};
use crate::events::{ChannelEvent, EventType};
use crate::ids::{ChannelId, MessageId, UserId};
use crate::model::{Channel, ChannelFilter, LiveStatus, MessageFilter, MessageView, User};
use crate::paging::{CursorRequest, MAX_PAGE_SIZE, PageRequest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The longest encoded cursor accepted; anything longer is not one of ours.
const MAX_CURSOR_CHARS: usize = 256;

/// A position in one room's message sequence: "after `seq`" in the room `channel`
/// whose sequence has epoch `epoch`. Encoded as an opaque URL-safe string, so a client
/// can only hand it back. The same position always encodes to the same string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatCursor {
    pub channel: ChannelId,
    pub epoch: String,
    pub seq: i64,
}

impl ChatCursor {
    /// The position after `seq` in `channel`'s current sequence.
    pub fn after(channel: &Channel, seq: i64) -> Self {
        Self {
            channel: channel.id,
            epoch: channel.epoch.clone(),
            seq,
        }
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}:{}", self.channel, self.seq, self.epoch))
    }

    /// The cursor a string encodes, or `None` when it is not an encoded cursor.
    pub fn decode(raw: &str) -> Option<Self> {
        if raw.is_empty() || raw.len() > MAX_CURSOR_CHARS {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.splitn(3, ':');
        let channel = parts.next()?.parse::<i64>().ok().filter(|c| *c > 0)?;
        let seq = parts.next()?.parse::<i64>().ok().filter(|s| *s >= 0)?;
        let epoch = parts.next()?;
        if epoch.is_empty() || epoch.len() > 64 || !epoch.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return None;
        }
        Some(Self {
            channel: ChannelId(channel),
            epoch: epoch.to_owned(),
            seq,
        })
    }
}

/// One message of a poll with its author's role in the room.
#[derive(Debug, Clone)]
pub struct ChatEntry {
    pub view: MessageView,
    /// Written by the room's owner (its creator).
    pub by_owner: bool,
    /// Written by one of the room's moderators.
    pub by_moderator: bool,
}

/// The answer to a poll: the room, its messages after the cursor in `seq` order
/// (oldest first), and the cursor to poll with next.
#[derive(Debug, Clone)]
pub struct ChatPoll {
    pub channel: Channel,
    pub entries: Vec<ChatEntry>,
    /// After the last entry; with no entry, the cursor that was given (or, without
    /// one, the room's newest position).
    pub next: ChatCursor,
}

/// A room with what a live dashboard shows beside it.
#[derive(Debug, Clone)]
pub struct RoomOverview {
    pub channel: Channel,
    pub owner: Option<User>,
    /// Messages in the room now (deleted ones are gone).
    pub visible_messages: u64,
}

impl Engine {
    /// Polls a room's chat. Without `after`, the newest `limit` messages; with it,
    /// the `limit` messages that follow it. Both come oldest first. A cursor of
    /// another room, or of an older sequence of this room, is `Invalid("cursor")`.
    /// The reader must be allowed to read the room (as for a realtime subscription).
    pub async fn poll_chat(
        &self,
        actor: &Actor,
        channel: ChannelId,
        after: Option<&ChatCursor>,
        limit: u32,
    ) -> Result<ChatPoll> {
        let channel = self.get_channel(actor, channel).await?;
        self.require_can_read_room(actor, &channel).await?;
        let app = channel.app_id;
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let views = match after {
            Some(cursor) => {
                if cursor.channel != channel.id || cursor.epoch != channel.epoch {
                    return Err(Error::invalid("cursor", "is not a cursor of this room"));
                }
                self.store
                    .messages_after_seq(app, channel.id, cursor.seq, limit)
                    .await?
            }
            None => {
                let filter = MessageFilter {
                    channel_id: Some(channel.id),
                    ..MessageFilter::default()
                };
                let newest = CursorRequest {
                    size: limit,
                    ..CursorRequest::default()
                };
                let mut page = self.store.list_messages(app, &filter, &newest).await?.items;
                page.reverse();
                page
            }
        };
        let next = match (views.last(), after) {
            (Some(last), _) => ChatCursor::after(&channel, last.message.seq),
            (None, Some(cursor)) => cursor.clone(),
            (None, None) => ChatCursor::after(&channel, channel.last_seq),
        };
        let mut moderators: HashMap<UserId, bool> = HashMap::new();
        let mut entries = Vec::with_capacity(views.len());
        for view in views {
            let author = view.message.user_id;
            let by_moderator = match author {
                None => false,
                Some(user) => match moderators.get(&user) {
                    Some(known) => *known,
                    None => {
                        let is = self.store.is_moderator(app, channel.id, user).await?;
                        moderators.insert(user, is);
                        is
                    }
                },
            };
            entries.push(ChatEntry {
                by_owner: author.is_some() && author == channel.creator,
                by_moderator,
                view,
            });
        }
        Ok(ChatPoll {
            channel,
            entries,
            next,
        })
    }

    /// A room with its owner and its count of visible messages, for whoever may read
    /// the room.
    pub async fn room_overview(&self, actor: &Actor, channel: ChannelId) -> Result<RoomOverview> {
        let channel = self.get_channel(actor, channel).await?;
        self.require_can_read_room(actor, &channel).await?;
        let filter = MessageFilter {
            channel_id: Some(channel.id),
            ..MessageFilter::default()
        };
        let one = CursorRequest {
            size: 1,
            ..CursorRequest::default()
        };
        let visible_messages = self
            .store
            .list_messages(channel.app_id, &filter, &one)
            .await?
            .total;
        let owner = match channel.creator {
            Some(owner) => self.store.get_user(channel.app_id, owner).await?,
            None => None,
        };
        Ok(RoomOverview {
            channel,
            owner,
            visible_messages,
        })
    }

    /// Deletes a message of `channel` (the rules of [`Engine::delete_message`]). A
    /// message of another room is `NotFound`, like a missing one.
    pub async fn delete_room_message(
        &self,
        actor: &Actor,
        channel: ChannelId,
        message: MessageId,
    ) -> Result<MessageView> {
        let channel = self.get_channel(actor, channel).await?;
        let found = self.get_message(actor, message).await?;
        if found.message.channel_id != channel.id {
            return Err(Error::not_found("message"));
        }
        self.delete_message(actor, message).await
    }

    /// Makes a user a moderator (manager) of a room: the application's backend or the
    /// room's owner may. Returns whether the user was newly made one; appointing a
    /// moderator again changes nothing.
    pub async fn appoint_moderator(
        &self,
        actor: &Actor,
        channel: ChannelId,
        user: &UserRef,
    ) -> Result<bool> {
        let channel = self.get_channel(actor, channel).await?;
        require_owner(actor, &channel)?;
        let target = self.resolve_user(actor.app(), user).await?;
        if self
            .store
            .is_moderator(channel.app_id, channel.id, target.id)
            .await?
        {
            return Ok(false);
        }
        self.store
            .add_moderator(channel.app_id, channel.id, target.id)
            .await?;
        self.publish_role(&channel, EventType::ModeratorAdded, &target);
        Ok(true)
    }

    /// Takes a room's moderator role from a user (backend or owner). Returns whether
    /// the user was one; dismissing a non-moderator changes nothing.
    pub async fn dismiss_moderator(
        &self,
        actor: &Actor,
        channel: ChannelId,
        user: &UserRef,
    ) -> Result<bool> {
        let channel = self.get_channel(actor, channel).await?;
        require_owner(actor, &channel)?;
        let target = self.resolve_user(actor.app(), user).await?;
        if !self
            .store
            .is_moderator(channel.app_id, channel.id, target.id)
            .await?
        {
            return Ok(false);
        }
        match self
            .store
            .remove_moderator(channel.app_id, channel.id, target.id)
            .await
        {
            Ok(()) => {}
            // Dismissed concurrently: the outcome is the one asked for.
            Err(Error::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(e),
        }
        self.publish_role(&channel, EventType::ModeratorRemoved, &target);
        Ok(true)
    }

    /// A user as a streamer: the user themselves or the application's backend may
    /// look; another user is `Forbidden` (an unknown user is `NotFound` first).
    pub async fn streamer(&self, actor: &Actor, owner: UserId) -> Result<User> {
        let user = self.get_user(actor, owner).await?;
        require_self(actor, owner)?;
        Ok(user)
    }

    /// The live rooms a user owns (created; ordinary channels, whose live status is
    /// `None`, are not live rooms), newest first, optionally only those in `status`.
    /// The owner or the backend may list them. Rooms are found among the channels the
    /// owner is a member of (a creator is one from the start).
    pub async fn owned_live_rooms(
        &self,
        actor: &Actor,
        owner: UserId,
        status: Option<LiveStatus>,
    ) -> Result<Vec<Channel>> {
        self.streamer(actor, owner).await?;
        let filter = ChannelFilter {
            member: Some(owner),
            ..ChannelFilter::default()
        };
        let mut rooms = Vec::new();
        let mut page = PageRequest {
            page: 0,
            size: MAX_PAGE_SIZE,
            sort: Vec::new(),
        };
        loop {
            let found = self
                .store
                .list_channels(actor.app(), &filter, &page)
                .await?;
            let last = found.items.len() < page.size as usize;
            rooms.extend(found.items.into_iter().filter(|c| {
                c.creator == Some(owner)
                    && c.live.status != LiveStatus::None
                    && status.is_none_or(|s| c.live.status == s)
            }));
            if last {
                break;
            }
            page.page += 1;
        }
        rooms.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(rooms)
    }

    /// Starts a broadcast in a room (status `Live`, a new live session). An owner
    /// broadcasts in one room at a time: the owner's other rooms that are live end
    /// first, by the rule rather than by the caller (so a moderator starting the
    /// owner's broadcast may end it elsewhere). `properties`, when given, is merged
    /// into the room's properties when the broadcast starts (dialects record their own
    /// facts, e.g. a start time); starting a room that is live already changes nothing.
    pub async fn start_broadcast(
        &self,
        actor: &Actor,
        channel: ChannelId,
        properties: Option<Value>,
    ) -> Result<Channel> {
        let room = self.get_channel(actor, channel).await?;
        self.require_moderator(actor, &room).await?;
        if room.live.status == LiveStatus::Live {
            return Ok(room);
        }
        if let Some(properties) = properties {
            self.update_channel(
                actor,
                channel,
                ChannelPatch {
                    properties: Some(properties),
                    ..ChannelPatch::default()
                },
            )
            .await?;
        }
        if let Some(owner) = room.creator {
            let system = Actor::App(actor.app());
            for other in self
                .owned_live_rooms(&system, owner, Some(LiveStatus::Live))
                .await?
            {
                if other.id != room.id {
                    self.update_live(
                        &system,
                        other.id,
                        LivePatch {
                            status: Some(LiveStatus::Ended),
                            ..LivePatch::default()
                        },
                    )
                    .await?;
                }
            }
        }
        self.update_live(
            actor,
            channel,
            LivePatch {
                status: Some(LiveStatus::Live),
                ..LivePatch::default()
            },
        )
        .await
    }

    /// The realtime read rule ([`Engine::require_can_read`]) for an engine actor.
    async fn require_can_read_room(&self, actor: &Actor, channel: &Channel) -> Result<()> {
        let Actor::User { user, .. } = actor else {
            return Ok(());
        };
        let identity = RealtimeIdentity {
            app: self.get_application(actor).await?,
            user: Some(self.get_user(actor, *user).await?),
            expires_at: i64::MAX,
        };
        self.require_can_read(&identity, channel).await
    }

    fn publish_role(&self, channel: &Channel, event_type: EventType, user: &User) {
        self.publish(ChannelEvent::new(
            channel.app_id,
            channel.id,
            event_type,
            None,
            &channel.epoch,
            &json!({
                "type": event_type.as_str(),
                "channel_id": channel.id,
                "user": user_summary(user),
            }),
        ));
    }
}

/// The backend, or the room's owner.
fn require_owner(actor: &Actor, channel: &Channel) -> Result<()> {
    match actor {
        Actor::App(_) => Ok(()),
        Actor::User { user, .. } if channel.creator == Some(*user) => Ok(()),
        Actor::User { .. } => Err(Error::Forbidden(
            "only the room's owner may change its moderators".into(),
        )),
    }
}

/// The backend, or the user `owner` themselves.
fn require_self(actor: &Actor, owner: UserId) -> Result<()> {
    match actor {
        Actor::App(_) => Ok(()),
        Actor::User { user, .. } if *user == owner => Ok(()),
        Actor::User { .. } => Err(Error::Forbidden(
            "only the owner may see this channel".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(channel: i64, seq: i64, epoch: &str) -> ChatCursor {
        ChatCursor {
            channel: ChannelId(channel),
            epoch: epoch.into(),
            seq,
        }
    }

    #[test]
    fn cursors_round_trip_and_encode_the_same_position_the_same_way() {
        let c = cursor(42, 7, "0a1b2c3d4e5f6a7b");
        let encoded = c.encode();
        assert_eq!(ChatCursor::decode(&encoded), Some(c.clone()));
        assert_eq!(encoded, cursor(42, 7, "0a1b2c3d4e5f6a7b").encode());
        assert_ne!(encoded, cursor(43, 7, "0a1b2c3d4e5f6a7b").encode());
        assert!(
            encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }

    #[test]
    fn anything_else_is_not_a_cursor() {
        let raw = |s: &str| URL_SAFE_NO_PAD.encode(s);
        for bad in [
            String::new(),
            "8239".into(),
            "not base64!".into(),
            raw("42:7"),
            raw("0:7:abc"),
            raw("42:-1:abc"),
            raw("42:7:"),
            raw("42:7:ab:cd"),
            raw("x:7:abc"),
            "A".repeat(MAX_CURSOR_CHARS + 1),
        ] {
            assert_eq!(ChatCursor::decode(&bad), None, "{bad}");
        }
    }

    #[test]
    fn only_the_owner_or_backend_changes_moderators() {
        let channel = Channel {
            id: ChannelId(1),
            app_id: crate::ids::AppId(1),
            kind: crate::model::ChannelKind::Public,
            name: None,
            display_name: None,
            creator: Some(UserId(5)),
            properties: Default::default(),
            created_at: crate::model::now(),
            epoch: "e".into(),
            last_seq: 0,
            last_message_id: None,
            live: Default::default(),
        };
        let app = crate::ids::AppId(1);
        assert!(require_owner(&Actor::App(app), &channel).is_ok());
        assert!(
            require_owner(
                &Actor::User {
                    app,
                    user: UserId(5)
                },
                &channel
            )
            .is_ok()
        );
        assert!(matches!(
            require_owner(
                &Actor::User {
                    app,
                    user: UserId(6)
                },
                &channel
            ),
            Err(Error::Forbidden(_))
        ));
        assert!(require_self(&Actor::App(app), UserId(9)).is_ok());
        assert!(
            require_self(
                &Actor::User {
                    app,
                    user: UserId(9)
                },
                UserId(9)
            )
            .is_ok()
        );
        assert!(
            require_self(
                &Actor::User {
                    app,
                    user: UserId(8)
                },
                UserId(9)
            )
            .is_err()
        );
    }
}
