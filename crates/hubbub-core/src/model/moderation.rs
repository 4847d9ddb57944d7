//! Reports of messages, invitations to channels, and channel restrictions (bans and mutes).

use super::{Timestamp, User};
use crate::ids::{AppId, ChannelId, MessageId, ReportId, UserId};

/// A validated report of a message.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    pub message_id: MessageId,
    /// The reporting user; `None` when the application's backend reports.
    pub user_id: Option<UserId>,
    pub reason: String,
}

/// A stored report. A user reports a message at most once (a second report returns
/// the first); the application's backend may report any number of times.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub id: ReportId,
    pub app_id: AppId,
    pub channel_id: ChannelId,
    pub message_id: MessageId,
    pub user_id: Option<UserId>,
    pub reason: String,
    pub created_at: Timestamp,
}

/// A pending invitation of a user to a channel (pending while the user is not a
/// member).
#[derive(Debug, Clone, PartialEq)]
pub struct Invite {
    pub channel_id: ChannelId,
    pub user: User,
    pub invited_by: Option<UserId>,
    pub created_at: Timestamp,
}

/// What a channel restriction takes away from a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RestrictionKind {
    /// Banned: may not post, subscribe or join the room.
    Ban,
    /// Muted: may read but not post.
    Mute,
}

impl RestrictionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RestrictionKind::Ban => "BAN",
            RestrictionKind::Mute => "MUTE",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "BAN" => Some(RestrictionKind::Ban),
            "MUTE" => Some(RestrictionKind::Mute),
            _ => None,
        }
    }
}

/// A validated ban or mute of one user in one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRestriction {
    pub user_id: UserId,
    pub kind: RestrictionKind,
    /// When it lapses by itself; `None` = until lifted.
    pub until: Option<Timestamp>,
    pub reason: String,
    /// The moderator who imposed it; `None` for the application's backend.
    pub created_by: Option<UserId>,
}

/// A stored restriction. A user holds at most one of each kind per channel; setting
/// one again replaces it (a new duration, a new reason).
#[derive(Debug, Clone, PartialEq)]
pub struct Restriction {
    pub channel_id: ChannelId,
    pub user: User,
    pub kind: RestrictionKind,
    pub until: Option<Timestamp>,
    pub reason: String,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
}

impl Restriction {
    /// In force at `now`: permanent, or not yet lapsed.
    pub fn in_force(&self, now: Timestamp) -> bool {
        self.until.is_none_or(|until| until > now)
    }
}
