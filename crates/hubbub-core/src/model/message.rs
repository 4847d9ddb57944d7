use super::{Mention, ThreadFilter, Timestamp, User};
use crate::ids::{AppId, ChannelId, MessageId, UserId};
use crate::names::{ExternalUrl, IdempotencyKey, MessageBody, Properties, UserName};
use serde::{Deserialize, Serialize};

/// A stored message. `seq` is its position in the channel (1, 2, 3, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub app_id: AppId,
    pub channel_id: ChannelId,
    pub seq: i64,
    /// The author; `None` for system messages.
    pub user_id: Option<UserId>,
    pub content: MessageContent,
    pub group_tag: Option<String>,
    pub properties: Properties,
    pub created_at: Timestamp,
    pub edited_at: Option<Timestamp>,
    /// The message this one replies to (reply threads).
    pub parent_id: Option<MessageId>,
    pub nested_level: i32,
    pub idempotency_key: Option<IdempotencyKey>,
    /// The `@user` and `#channel` mentions in a text message's body, as parsed when it
    /// was sent.
    #[serde(default)]
    pub mentions: Vec<Mention>,
    /// Messages replying to this one (kept by the store as replies come and go).
    #[serde(default)]
    pub replies_count: u32,
    /// Times this message was reported.
    #[serde(default)]
    pub report_count: u32,
}

/// What a message carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MessageContent {
    Text { body: MessageBody },
    File { file: FileRef },
}

impl MessageContent {
    pub fn body(&self) -> Option<&str> {
        match self {
            MessageContent::Text { body } => Some(body.as_str()),
            MessageContent::File { .. } => None,
        }
    }
}

/// A file attached to a message. hubbub does not host files; it links to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRef {
    pub url: ExternalUrl,
    pub name: String,
    pub content_type: String,
    pub size: i64,
}

/// A message together with its author, as readers need it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageView {
    pub message: Message,
    pub user: Option<User>,
}

/// A validated message ready to be appended to a channel. The store assigns `id`,
/// `seq` and `created_at` (unless `created_at` is given, as imports do).
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub channel_id: ChannelId,
    pub user_id: Option<UserId>,
    pub content: MessageContent,
    pub group_tag: Option<String>,
    pub properties: Properties,
    pub parent_id: Option<MessageId>,
    pub nested_level: i32,
    pub idempotency_key: Option<IdempotencyKey>,
    pub created_at: Option<Timestamp>,
}

/// The result of appending: either the new message, or — for a retried send with a
/// known idempotency key — the message stored by the first attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Appended {
    pub message: Message,
    pub duplicate: bool,
}

/// A validated change to a message.
#[derive(Debug, Clone, Default)]
pub struct MessageChanges {
    pub body: Option<MessageBody>,
    pub properties: Option<Properties>,
    pub group_tag: Option<Option<String>>,
}

/// Filters of a message list.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub channel_id: Option<ChannelId>,
    /// Messages sent by this user.
    pub sender: Option<UserId>,
    /// Messages whose sender is this name; resolved by the engine to `sender`.
    pub sender_name: Option<UserName>,
    /// Text messages whose body contains this text (case-insensitive).
    pub query: Option<String>,
    /// Messages in channels this user is a member of.
    pub member: Option<UserId>,
    /// Only messages unread by this user: in a channel the user is a member of, with
    /// a seq above the user's read mark there, and not sent by the user.
    pub unread_for: Option<UserId>,
    /// Only the messages of one thread: top-level messages, or replies to a message.
    pub thread: Option<ThreadFilter>,
}
