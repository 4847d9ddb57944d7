//! Reports of messages, and invitations to channels.

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
