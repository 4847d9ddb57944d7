//! Mentions in message text, and what is written in the same commit as a message.

use super::{NewNotification, Timestamp, User};
use crate::ids::ChannelId;
use crate::names::Properties;
use serde::{Deserialize, Serialize};

/// A mention inside a text message: `@username` (a user of the application) or
/// `#channel-name` (a group channel of the application). Positions are offsets in
/// UTF-16 code units (as JavaScript and Java index strings); `end_position` is
/// exclusive, so `body[start..end]` is `tag`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mention {
    pub target: MentionTarget,
    /// The literal text, e.g. `@jane`.
    pub tag: String,
    pub start_position: u32,
    pub end_position: u32,
}

/// What a mention refers to, as it was when the message was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MentionTarget {
    User { user: Box<User> },
    Channel { channel: MentionedChannel },
}

/// The channel of a channel mention (the `MessageMentionChannelProperties` fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MentionedChannel {
    pub id: ChannelId,
    /// `PUBLIC` or `PRIVATE`.
    pub kind: String,
    pub name: String,
    pub display_name: String,
    pub created_at: Timestamp,
    #[serde(default)]
    pub properties: Properties,
}

/// What a store writes in the same commit as a new message (see
/// [`Store::append_message_with`](crate::store::Store::append_message_with)): its
/// mentions and the notifications it causes. Nothing of it is written when the append
/// turns out to be a retry of a message already stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageExtras {
    pub mentions: Vec<Mention>,
    pub notifications: Vec<NewNotification>,
}

impl MessageExtras {
    pub fn is_empty(&self) -> bool {
        self.mentions.is_empty() && self.notifications.is_empty()
    }
}
