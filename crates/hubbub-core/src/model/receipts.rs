//! Read state: read marks, read receipts and unread summaries.

use super::{Channel, Timestamp, User};
use crate::ids::{ChannelId, UserId};

/// How far a user has read a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadMark {
    pub channel_id: ChannelId,
    pub user_id: UserId,
    /// Every message with a seq up to this one is read.
    pub last_read_seq: i64,
    /// When the mark last moved.
    pub read_at: Timestamp,
}

/// A user who has read a message, and when their read mark first covered it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadReceipt {
    pub user: User,
    pub read_at: Timestamp,
}

/// A member's unread messages in one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct UnreadSummary {
    pub channel: Channel,
    pub user: User,
    pub count: u64,
}
