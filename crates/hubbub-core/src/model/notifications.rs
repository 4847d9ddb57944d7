//! Notifications of users: what happened elsewhere that concerns them (a mention, a
//! reply to their message, a system message in their channel, a direct message).

use super::{MessageView, Timestamp};
use crate::ids::{AppId, ChannelId, MessageId, NotificationId, UserId};
use crate::paging::CursorDirection;
use serde::{Deserialize, Serialize};

/// Why a user is notified. The string is the `type` of the notification's `data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NotificationKind {
    /// A message mentions the user (`ChatUserMentionedChatUserNotificationData`).
    UserMentioned,
    /// A message replies to the user's message
    /// (`ChatUserRepliedToChatUserMessageNotificationData`).
    RepliedTo,
    /// The application sent a system message to a channel the user is a member of
    /// (`ApplicationSentSystemMessageNotificationData`).
    SystemMessage,
    /// Another user sent a message to a direct channel of the user
    /// (`ChatUserSentChatUserMessageNotificationData`).
    DirectMessage,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::UserMentioned => "chat_user:mentioned:chat_user",
            NotificationKind::RepliedTo => "chat_user:replied_to:chat_user_message",
            NotificationKind::SystemMessage => "application:sent:system_message",
            NotificationKind::DirectMessage => "chat_user:sent:chat_user_message",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            NotificationKind::UserMentioned,
            NotificationKind::RepliedTo,
            NotificationKind::SystemMessage,
            NotificationKind::DirectMessage,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A notification to write with the message that causes it (the store fills in the
/// message, its channel and the time).
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub user_id: UserId,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
}

/// A stored notification.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: NotificationId,
    pub app_id: AppId,
    pub user_id: UserId,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    pub channel_id: ChannelId,
    pub message_id: MessageId,
    pub created_at: Timestamp,
    pub read_at: Option<Timestamp>,
    pub muted: bool,
}

/// A notification with the message that caused it (and, for a reply, the message
/// replied to, while it exists).
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationView {
    pub notification: Notification,
    pub message: MessageView,
    pub parent: Option<MessageView>,
}

/// A cursor page request over a user's notifications (newest first), like
/// [`CursorRequest`](crate::paging::CursorRequest) over messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationCursor {
    pub size: u32,
    /// Exclusive bound: with `Older`, only ids below it; with `Newer`, only above.
    pub cursor: Option<NotificationId>,
    pub direction: CursorDirection,
}

impl From<&crate::paging::CursorRequest> for NotificationCursor {
    fn from(r: &crate::paging::CursorRequest) -> Self {
        Self {
            size: r.size,
            cursor: r.cursor.map(|c| NotificationId(c.0)),
            direction: r.direction,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in [
            NotificationKind::UserMentioned,
            NotificationKind::RepliedTo,
            NotificationKind::SystemMessage,
            NotificationKind::DirectMessage,
        ] {
            assert_eq!(NotificationKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(NotificationKind::parse("nope"), None);
    }
}
