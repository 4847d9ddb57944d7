//! Read state: marking channels read, per-message read receipts and the
//! application's unread summaries. (Per-user unread counts and the users list's
//! `unread` filter read the same read marks; see [`Engine::count_unread`].)

use super::channels::ChannelView;
use super::{Actor, Engine, UserRef};
use crate::error::{Error, Result};
use crate::ids::{ChannelId, MessageId};
use crate::model::{ChannelKind, ReadMark, ReadReceipt, UnreadSummary, User};
use crate::paging::{Page, PageRequest};
use std::collections::HashMap;

/// A member's unread messages in a channel, as the API shows it.
#[derive(Debug, Clone)]
pub struct UnreadSummaryEntry {
    pub channel: ChannelView,
    pub user: User,
    pub count: u64,
}

impl Engine {
    /// Marks `channel` read by a user up to `message` (by default its newest message).
    /// A user actor marks for themselves; the app backend names the user. Read marks
    /// never move backwards. The user must be able to read the channel (PUBLIC, or a
    /// member of it).
    pub async fn mark_read(
        &self,
        actor: &Actor,
        channel: ChannelId,
        user: Option<&UserRef>,
        message: Option<MessageId>,
    ) -> Result<ReadMark> {
        let app = actor.app();
        let channel = self.get_channel(actor, channel).await?;
        let reader = match (actor, user) {
            (Actor::User { user, .. }, _) => *user,
            (Actor::App(_), Some(r)) => {
                self.resolve_user(app, r)
                    .await
                    .map_err(|_| Error::invalid("user", "no such user in this application"))?
                    .id
            }
            (Actor::App(_), None) => {
                return Err(Error::invalid("user", "required: whose read mark to move"));
            }
        };
        if channel.kind != ChannelKind::Public
            && channel.creator != Some(reader)
            && !self.store.is_member(app, channel.id, reader).await?
        {
            return Err(Error::Forbidden(
                "only members may read this channel".into(),
            ));
        }
        let seq = match message {
            None => channel.last_seq,
            Some(id) => {
                let view = self
                    .store
                    .get_message(app, id)
                    .await?
                    .filter(|v| v.message.channel_id == channel.id)
                    .ok_or_else(|| {
                        Error::invalid("message_id", "no such message in this channel")
                    })?;
                view.message.seq
            }
        };
        self.store.mark_read(app, channel.id, reader, seq).await?;
        self.store
            .get_read_mark(app, channel.id, reader)
            .await?
            .ok_or_else(|| Error::internal("a read mark vanished after it was written"))
    }

    /// Who has read a message, and when.
    pub async fn list_read_receipts(
        &self,
        actor: &Actor,
        message: MessageId,
        page: &PageRequest,
    ) -> Result<Page<ReadReceipt>> {
        self.get_message(actor, message).await?;
        self.store
            .list_read_receipts(actor.app(), message, page)
            .await
    }

    /// Every (channel, member) pair with unread messages, with the count.
    pub async fn list_unread_summaries(
        &self,
        actor: &Actor,
        page: &PageRequest,
    ) -> Result<Page<UnreadSummaryEntry>> {
        super::require_app(actor)?;
        let found = self.store.list_unread_summaries(actor.app(), page).await?;
        let mut views: HashMap<ChannelId, ChannelView> = HashMap::new();
        let mut items = Vec::with_capacity(found.items.len());
        for UnreadSummary {
            channel,
            user,
            count,
        } in found.items
        {
            let view = match views.get(&channel.id) {
                Some(v) => v.clone(),
                None => {
                    let v = self.channel_view(channel).await?;
                    views.insert(v.channel.id, v.clone());
                    v
                }
            };
            items.push(UnreadSummaryEntry {
                channel: view,
                user,
                count,
            });
        }
        Ok(Page {
            items,
            request: found.request,
            total: found.total,
        })
    }
}
