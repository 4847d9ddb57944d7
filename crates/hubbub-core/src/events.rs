//! Events published after a commit. The payload is serialized once, here, and shared
//! by every consumer (gateway connections, SSE streams, other nodes).
//!
//! The JSON shape of `data` is documented in the README ("Real-time events"):
//! `{"type": "<event type>", ...}` where the rest depends on the type.

use crate::ids::{AppId, ChannelId};
use serde::Serialize;
use std::sync::Arc;

/// The kinds of channel events. The string is the `type` field of the JSON payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    MessageCreated,
    MessageUpdated,
    MessageDeleted,
    ChannelUpdated,
    ChannelDeleted,
    MemberAdded,
    MemberRemoved,
    ModeratorAdded,
    ModeratorRemoved,
    /// A user was banned or muted in the channel (or the restriction replaced).
    UserRestricted,
    /// A ban or mute was lifted.
    UserUnrestricted,
    /// A robot (bot user) joined or left the room.
    RobotAdded,
    RobotRemoved,
    /// A custom event sent through `POST /channels/{id}/events`.
    Custom,
    Keystrokes,
    /// A user's connection joined the channel on another node: delivered as a
    /// Centrifugo `join` push, never stored nor published to clients as a
    /// publication. `data` is `{"info": {"user", "client"}}`.
    Join,
    /// Like [`EventType::Join`], for a connection that left.
    Leave,
    /// Not a change: the bus tells this node's consumers that events of the channel
    /// may have been lost (a cross-node subscription just became live, or the bus
    /// reconnected), so they re-read what they need from the store. The engine never
    /// publishes it and no client ever sees it.
    Resync,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::MessageCreated => "message.created",
            EventType::MessageUpdated => "message.updated",
            EventType::MessageDeleted => "message.deleted",
            EventType::ChannelUpdated => "channel.updated",
            EventType::ChannelDeleted => "channel.deleted",
            EventType::MemberAdded => "member.added",
            EventType::MemberRemoved => "member.removed",
            EventType::ModeratorAdded => "moderator.added",
            EventType::ModeratorRemoved => "moderator.removed",
            EventType::UserRestricted => "user.restricted",
            EventType::UserUnrestricted => "user.unrestricted",
            EventType::RobotAdded => "robot.added",
            EventType::RobotRemoved => "robot.removed",
            EventType::Custom => "channel.event",
            EventType::Keystrokes => "keystrokes",
            EventType::Join => "join",
            EventType::Leave => "leave",
            EventType::Resync => "resync",
        }
    }
}

/// One committed change of a channel, ready to fan out.
#[derive(Debug, Clone)]
pub struct ChannelEvent {
    pub app_id: AppId,
    pub channel_id: ChannelId,
    pub event_type: EventType,
    /// The channel seq of a created message (the realtime offset); `None` for events
    /// that do not occupy a position in the channel's history.
    pub seq: Option<i64>,
    /// The channel epoch the seq belongs to.
    pub epoch: Arc<str>,
    /// The serialized JSON payload, `{"type": ..., ...}`.
    pub data: Arc<[u8]>,
}

impl ChannelEvent {
    /// Serializes `payload` (which must produce a JSON object carrying `type`) once.
    pub fn new(
        app_id: AppId,
        channel_id: ChannelId,
        event_type: EventType,
        seq: Option<i64>,
        epoch: &str,
        payload: &impl Serialize,
    ) -> Self {
        let data = serde_json::to_vec(payload).unwrap_or_else(|_| b"{}".to_vec());
        Self {
            app_id,
            channel_id,
            event_type,
            seq,
            epoch: Arc::from(epoch),
            data: Arc::from(data),
        }
    }

    /// The [`EventType::Resync`] signal for a channel.
    pub fn resync(app_id: AppId, channel_id: ChannelId) -> Self {
        Self {
            app_id,
            channel_id,
            event_type: EventType::Resync,
            seq: None,
            epoch: Arc::from(""),
            data: Arc::from(&b"{}"[..]),
        }
    }
}
