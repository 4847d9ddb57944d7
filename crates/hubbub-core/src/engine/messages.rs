//! Sending, reading, editing and deleting messages.

use super::users::merge_properties;
use super::{Actor, Engine, UserRef, require_app};
use crate::error::{Error, Result};
use crate::events::{ChannelEvent, EventType};
use crate::ids::{ChannelId, MessageId, UserId};
use crate::model::{
    Appended, Channel, ChannelKind, FileRef, MessageChanges, MessageContent, MessageExtras,
    MessageFilter, MessageView, NewMessage,
};
use crate::names::{ExternalUrl, IdempotencyKey, MessageBody, Properties, UserName};
use crate::paging::{CursorPage, CursorRequest};
use serde_json::{Value, json};

/// A request to send a message, as decoded from any dialect.
#[derive(Debug, Clone)]
pub struct SendMessage {
    /// For the app backend: send on behalf of this user; `None` sends a system message.
    /// Ignored for user actors, who always send as themselves.
    pub on_behalf_of: Option<UserRef>,
    pub content: SendContent,
    pub group_tag: Option<String>,
    pub properties: Value,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone)]
pub enum SendContent {
    Text(String),
    ExternalFile {
        url: String,
        name: String,
        content_type: String,
        size: i64,
    },
}

/// A merge patch of a message.
#[derive(Debug, Clone, Default)]
pub struct MessagePatch {
    pub body: Option<String>,
    pub properties: Option<Value>,
}

pub(super) const MAX_GROUP_TAG_BYTES: usize = 128;

/// How deep replies to replies may nest (a top-level message is level 0).
pub const MAX_NESTED_LEVEL: i32 = 8;

impl Engine {
    /// Sends a message to a channel. The reply comes after the commit; the
    /// `message.created` event is published after it. A retried send with the same
    /// idempotency key returns the original message and publishes nothing.
    pub async fn send_message(
        &self,
        actor: &Actor,
        channel: ChannelId,
        input: SendMessage,
    ) -> Result<(Appended, MessageView)> {
        let channel = self.get_channel(actor, channel).await?;
        self.send_in_thread(actor, channel, None, input).await
    }

    /// Sends a message to `channel`, replying to `parent` (a message of that channel)
    /// when given. The message's mentions and the notifications it causes are written
    /// in the same commit as the message.
    pub(crate) async fn send_in_thread(
        &self,
        actor: &Actor,
        channel: Channel,
        parent: Option<&MessageView>,
        input: SendMessage,
    ) -> Result<(Appended, MessageView)> {
        self.require_bus()?;
        let app = actor.app();
        let nested_level = match parent {
            None => 0,
            Some(p) if p.message.channel_id != channel.id => {
                return Err(Error::invalid(
                    "parent",
                    "replies go to the channel of the message they reply to",
                ));
            }
            Some(p) if p.message.nested_level >= MAX_NESTED_LEVEL => {
                return Err(Error::invalid(
                    "parent",
                    format!("replies nest at most {MAX_NESTED_LEVEL} levels deep"),
                ));
            }
            Some(p) => p.message.nested_level + 1,
        };
        let author = match actor {
            Actor::User { user, .. } => Some(self.get_user(actor, *user).await?),
            Actor::App(_) => match &input.on_behalf_of {
                Some(r) => Some(
                    self.resolve_user(app, r)
                        .await
                        .map_err(|_| Error::invalid("user", "no such user in this application"))?,
                ),
                None => None,
            },
        };
        if let Actor::User { user, .. } = actor {
            self.require_can_post(&channel, *user).await?;
        }
        if let Some(author) = &author {
            self.require_unrestricted_author(&channel, author.id)
                .await?;
        }
        let content = self.parse_content(input.content)?;
        let group_tag = match input.group_tag {
            Some(t) if t.len() > MAX_GROUP_TAG_BYTES => {
                return Err(Error::invalid(
                    "group_tag",
                    format!("must be at most {MAX_GROUP_TAG_BYTES} bytes"),
                ));
            }
            other => other,
        };
        let properties = Properties::parse("properties", input.properties)?;
        let idempotency_key = input
            .idempotency_key
            .as_deref()
            .map(IdempotencyKey::parse)
            .transpose()?;
        let mentions = match &content {
            MessageContent::Text { body } => self.find_mentions(&channel, body.as_str()).await?,
            MessageContent::File { .. } => Vec::new(),
        };
        let notifications = self
            .plan_notifications(&channel, author.as_ref(), parent, &mentions, &content)
            .await?;
        let appended = self
            .store
            .append_message_with(
                app,
                NewMessage {
                    channel_id: channel.id,
                    user_id: author.as_ref().map(|u| u.id),
                    content,
                    group_tag,
                    properties,
                    parent_id: parent.map(|p| p.message.id),
                    nested_level,
                    idempotency_key,
                    created_at: None,
                },
                MessageExtras {
                    mentions,
                    notifications,
                },
            )
            .await?;
        let view = MessageView {
            message: appended.message.clone(),
            user: author,
        };
        if !appended.duplicate {
            self.publish(ChannelEvent::new(
                app,
                channel.id,
                EventType::MessageCreated,
                Some(view.message.seq),
                &channel.epoch,
                &super::event_payloads::MessageEvent::new(EventType::MessageCreated, &view),
            ));
        }
        Ok((appended, view))
    }

    pub(super) fn parse_content(&self, content: SendContent) -> Result<MessageContent> {
        Ok(match content {
            SendContent::Text(body) => MessageContent::Text {
                body: MessageBody::parse(&body, self.limits.max_message_bytes)?,
            },
            SendContent::ExternalFile {
                url,
                name,
                content_type,
                size,
            } => {
                let url = ExternalUrl::parse("file.url", &url)?;
                if name.trim().is_empty() || name.len() > 255 {
                    return Err(Error::invalid("file.name", "must be 1 to 255 bytes"));
                }
                if content_type.is_empty()
                    || content_type.len() > 255
                    || !content_type.contains('/')
                {
                    return Err(Error::invalid(
                        "file.content_type",
                        "must be a MIME type like image/png",
                    ));
                }
                if size < 0 {
                    return Err(Error::invalid("file.size", "must be 0 or more"));
                }
                MessageContent::File {
                    file: FileRef {
                        url,
                        name,
                        content_type,
                        size,
                    },
                }
            }
        })
    }

    /// Rules for a user posting: private and direct channels admit members only, and
    /// a room with chat switched off admits moderators only.
    pub(crate) async fn require_can_post(&self, channel: &Channel, user: UserId) -> Result<()> {
        let app = channel.app_id;
        if channel.kind != ChannelKind::Public
            && !self.store.is_member(app, channel.id, user).await?
        {
            return Err(Error::Forbidden(
                "only members may post in this channel".into(),
            ));
        }
        if !channel.live.chat.enabled
            && channel.creator != Some(user)
            && !self.store.is_moderator(app, channel.id, user).await?
        {
            return Err(Error::Forbidden("chat is switched off in this room".into()));
        }
        Ok(())
    }

    pub async fn get_message(&self, actor: &Actor, message: MessageId) -> Result<MessageView> {
        self.store
            .get_message(actor.app(), message)
            .await?
            .ok_or_else(|| Error::not_found("message"))
    }

    /// Lists messages newest first. `sender_name` in the filter is resolved here; an
    /// unknown sender name simply matches nothing.
    pub async fn list_messages(
        &self,
        actor: &Actor,
        mut filter: MessageFilter,
        cursor: &CursorRequest,
    ) -> Result<CursorPage<MessageView>> {
        if let Some(channel) = filter.channel_id {
            self.get_channel(actor, channel).await?;
        }
        if let Some(name) = filter.sender_name.take() {
            match self.store.get_user_by_name(actor.app(), &name).await? {
                Some(user) => filter.sender = Some(user.id),
                None => {
                    return Ok(CursorPage {
                        items: vec![],
                        total: 0,
                        has_more: false,
                    });
                }
            }
        }
        if filter.query.as_ref().is_some_and(|q| q.len() > 256) {
            return Err(Error::invalid("query", "must be at most 256 bytes"));
        }
        self.store.list_messages(actor.app(), &filter, cursor).await
    }

    /// A user's messages; with `unread`, the messages they have not read yet.
    pub async fn list_user_messages(
        &self,
        actor: &Actor,
        user: UserId,
        unread: bool,
        cursor: &CursorRequest,
    ) -> Result<CursorPage<MessageView>> {
        self.get_user(actor, user).await?;
        let filter = if unread {
            MessageFilter {
                unread_for: Some(user),
                ..Default::default()
            }
        } else {
            MessageFilter {
                member: Some(user),
                ..Default::default()
            }
        };
        self.store.list_messages(actor.app(), &filter, cursor).await
    }

    pub async fn update_message(
        &self,
        actor: &Actor,
        message: MessageId,
        patch: MessagePatch,
    ) -> Result<MessageView> {
        self.require_bus()?;
        let current = self.get_message(actor, message).await?;
        self.require_author_or_app(actor, &current)?;
        let mut changes = MessageChanges::default();
        if let Some(body) = patch.body {
            if !matches!(current.message.content, MessageContent::Text { .. }) {
                return Err(Error::invalid("body", "only text messages have a body"));
            }
            changes.body = Some(MessageBody::parse(&body, self.limits.max_message_bytes)?);
        }
        if let Some(props) = patch.properties {
            changes.properties = Some(merge_properties(
                current.message.properties.clone(),
                &props,
            )?);
        }
        let updated = self
            .store
            .update_message(actor.app(), message, changes)
            .await?;
        let channel = self.get_channel(actor, updated.message.channel_id).await?;
        self.publish(ChannelEvent::new(
            channel.app_id,
            channel.id,
            EventType::MessageUpdated,
            None,
            &channel.epoch,
            &super::event_payloads::MessageEvent::new(EventType::MessageUpdated, &updated),
        ));
        Ok(updated)
    }

    /// Deletes a message: the app backend, its author, or a moderator of its channel.
    pub async fn delete_message(&self, actor: &Actor, message: MessageId) -> Result<MessageView> {
        self.require_bus()?;
        let current = self.get_message(actor, message).await?;
        let channel = self.get_channel(actor, current.message.channel_id).await?;
        if self.require_author_or_app(actor, &current).is_err() {
            self.require_moderator(actor, &channel).await?;
        }
        let deleted = self.store.delete_message(actor.app(), message).await?;
        self.publish(ChannelEvent::new(
            channel.app_id,
            channel.id,
            EventType::MessageDeleted,
            None,
            &channel.epoch,
            &json!({
                "type": EventType::MessageDeleted.as_str(),
                "message_id": deleted.message.id,
                "channel_id": channel.id,
                "seq": deleted.message.seq,
            }),
        ));
        Ok(deleted)
    }

    /// Deletes every message of the application.
    pub async fn delete_all_messages(&self, actor: &Actor) -> Result<u64> {
        require_app(actor)?;
        self.store.delete_all_messages(actor.app()).await
    }

    fn require_author_or_app(&self, actor: &Actor, view: &MessageView) -> Result<()> {
        match actor {
            Actor::App(_) => Ok(()),
            Actor::User { user, .. } if view.message.user_id == Some(*user) => Ok(()),
            Actor::User { .. } => Err(Error::Forbidden(
                "only the author may change this message".into(),
            )),
        }
    }

    /// Resolves a `username` filter value.
    pub fn parse_sender_name(raw: &str) -> Result<UserName> {
        UserName::parse(raw).map_err(|_| Error::invalid("username", "is not a valid user name"))
    }
}

/// The ChatKitty message type of a message.
pub fn message_type(view: &MessageView) -> &'static str {
    match (&view.message.content, view.message.user_id.is_some()) {
        (MessageContent::Text { .. }, true) => "TEXT",
        (MessageContent::File { .. }, true) => "FILE",
        (MessageContent::Text { .. }, false) => "SYSTEM_TEXT",
        (MessageContent::File { .. }, false) => "SYSTEM_FILE",
    }
}

/// The message object inside realtime events (documented in the README).
pub fn message_summary(view: &MessageView) -> Value {
    serde_json::to_value(super::event_payloads::MessageSummary::new(view)).unwrap_or_default()
}
