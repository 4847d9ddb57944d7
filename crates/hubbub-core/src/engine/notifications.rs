//! Notifications: who a new message notifies, and reading a user's notifications.
//!
//! A message notifies, once each and never its own author:
//! * every user it mentions who may read its channel (`UserMentioned`);
//! * the author of the message it replies to (`RepliedTo`);
//! * for a system message, the channel's members — the first
//!   [`MAX_SYSTEM_RECIPIENTS`] by membership age (`SystemMessage`);
//! * for a user's message in a DIRECT channel, the other members (`DirectMessage`).
//!
//! The notifications are planned here and written by the store in the same commit as
//! the message, so a message never exists without its notifications, and a retried
//! send (same idempotency key) creates none.

use super::channels::ChannelView;
use super::{Actor, Engine};
use crate::error::{Error, Result};
use crate::ids::{ChannelId, UserId};
use crate::model::{
    Channel, ChannelKind, Mention, MentionTarget, MessageContent, MessageView, NewNotification,
    NotificationCursor, NotificationKind, NotificationView, User,
};
use crate::paging::{CursorPage, PageRequest};
use std::collections::{HashMap, HashSet};

/// Most members one system message notifies.
pub const MAX_SYSTEM_RECIPIENTS: u32 = 1000;

/// Longest notification body, in characters (longer message texts are cut).
const MAX_BODY_CHARS: usize = 280;

/// A notification as the API shows it.
#[derive(Debug, Clone)]
pub struct NotificationEntry {
    pub view: NotificationView,
    /// The notified user.
    pub recipient: User,
    /// The channel of the message.
    pub channel: ChannelView,
}

fn preview(content: &MessageContent) -> String {
    match content {
        MessageContent::Text { body } => {
            let text = body.as_str();
            match text.char_indices().nth(MAX_BODY_CHARS) {
                Some((cut, _)) => format!("{}…", &text[..cut]),
                None => text.to_owned(),
            }
        }
        MessageContent::File { file } => format!("sent a file: {}", file.name),
    }
}

fn channel_title(channel: &Channel) -> String {
    channel
        .display_name
        .as_ref()
        .map(|d| d.as_str().to_owned())
        .unwrap_or_else(|| "a direct channel".to_owned())
}

impl Engine {
    /// The notifications a message will cause (see the module docs).
    pub(crate) async fn plan_notifications(
        &self,
        channel: &Channel,
        author: Option<&User>,
        parent: Option<&MessageView>,
        mentions: &[Mention],
        content: &MessageContent,
    ) -> Result<Vec<NewNotification>> {
        let app = channel.app_id;
        let body = preview(content);
        let who = author
            .map(|a| a.display_name.as_str().to_owned())
            .unwrap_or_else(|| channel_title(channel));
        let mut notified: HashSet<UserId> = author.map(|a| a.id).into_iter().collect();
        let mut out = Vec::new();
        let mut notify = |user: UserId, kind: NotificationKind, title: String| {
            if notified.insert(user) {
                out.push(NewNotification {
                    user_id: user,
                    kind,
                    title,
                    body: body.clone(),
                });
            }
        };

        for mention in mentions {
            let MentionTarget::User { user } = &mention.target else {
                continue;
            };
            let may_read = channel.kind == ChannelKind::Public
                || channel.creator == Some(user.id)
                || self.store.is_member(app, channel.id, user.id).await?;
            if may_read {
                notify(
                    user.id,
                    NotificationKind::UserMentioned,
                    format!("{who} mentioned you"),
                );
            }
        }
        if let Some(replied_to) = parent.and_then(|p| p.message.user_id) {
            notify(
                replied_to,
                NotificationKind::RepliedTo,
                format!("{who} replied to your message"),
            );
        }
        match (author, channel.kind) {
            (None, _) => {
                let page = PageRequest {
                    page: 0,
                    size: MAX_SYSTEM_RECIPIENTS,
                    sort: Vec::new(),
                };
                let members = self.store.list_members(app, channel.id, &page).await?;
                for member in members.items {
                    notify(
                        member.id,
                        NotificationKind::SystemMessage,
                        channel_title(channel),
                    );
                }
            }
            (Some(author), ChannelKind::Direct) => {
                for member in self.store.direct_members(app, channel.id).await? {
                    notify(
                        member.id,
                        NotificationKind::DirectMessage,
                        format!("{} sent you a message", author.display_name.as_str()),
                    );
                }
            }
            (Some(_), _) => {}
        }
        Ok(out)
    }

    /// A user's notifications, newest first.
    pub async fn list_notifications(
        &self,
        actor: &Actor,
        user: UserId,
        cursor: &NotificationCursor,
    ) -> Result<CursorPage<NotificationEntry>> {
        if actor.user().is_some_and(|me| me != user) {
            return Err(Error::Forbidden(
                "users may read their own notifications only".into(),
            ));
        }
        let recipient = self.get_user(actor, user).await?;
        let page = self
            .store
            .list_notifications(actor.app(), user, cursor)
            .await?;
        let mut channels: HashMap<ChannelId, ChannelView> = HashMap::new();
        let mut items = Vec::with_capacity(page.items.len());
        for view in page.items {
            let id = view.notification.channel_id;
            let channel = match channels.get(&id) {
                Some(c) => c.clone(),
                None => {
                    let Some(found) = self.store.get_channel(actor.app(), id).await? else {
                        continue;
                    };
                    let channel = self.channel_view(found).await?;
                    channels.insert(id, channel.clone());
                    channel
                }
            };
            items.push(NotificationEntry {
                view,
                recipient: recipient.clone(),
                channel,
            });
        }
        Ok(CursorPage {
            items,
            total: page.total,
            has_more: page.has_more,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::MessageBody;

    #[test]
    fn previews_cut_long_texts() {
        let long = "x".repeat(MAX_BODY_CHARS + 10);
        let body = MessageBody::parse(&long, 4096).unwrap();
        let p = preview(&MessageContent::Text { body });
        assert_eq!(p.chars().count(), MAX_BODY_CHARS + 1);
        assert!(p.ends_with('…'));
        let short = MessageBody::parse("hi", 4096).unwrap();
        assert_eq!(preview(&MessageContent::Text { body: short }), "hi");
    }
}
