//! Reply threads: retrieving them, listing and sending their messages (the thread
//! model is described in [`model::threads`](crate::model::ThreadRef)).
//!
//! Replies are messages of their channel like any other: they take the channel's next
//! seq, reach the channel's realtime subscribers, count as unread, and honour
//! idempotency keys. A reply's `nested_level` is its parent's plus one.

use super::messages::SendMessage;
use super::{Actor, Engine};
use crate::error::{Error, Result};
use crate::ids::{MessageId, ThreadId};
use crate::model::{
    Appended, Channel, MessageFilter, MessageView, Thread, ThreadFilter, ThreadRef,
};
use crate::paging::{CursorPage, CursorRequest};

/// A resolved thread: its channel, and for a MESSAGE thread the message replied to.
pub(crate) struct ResolvedThread {
    pub thread: Thread,
    pub channel: Channel,
    pub parent: Option<MessageView>,
}

impl Engine {
    pub(crate) async fn resolve_thread(
        &self,
        actor: &Actor,
        reference: ThreadRef,
    ) -> Result<ResolvedThread> {
        let app = actor.app();
        let not_found = || Error::not_found("thread");
        match reference {
            ThreadRef::Main(channel) => {
                let channel = self
                    .store
                    .get_channel(app, channel)
                    .await?
                    .ok_or_else(not_found)?;
                Ok(ResolvedThread {
                    thread: Thread {
                        reference,
                        channel_id: channel.id,
                        created_at: channel.created_at,
                    },
                    channel,
                    parent: None,
                })
            }
            ThreadRef::Message(message) => {
                let parent = self
                    .store
                    .get_message(app, message)
                    .await?
                    .ok_or_else(not_found)?;
                let channel = self.get_channel(actor, parent.message.channel_id).await?;
                Ok(ResolvedThread {
                    thread: Thread {
                        reference,
                        channel_id: channel.id,
                        created_at: parent.message.created_at,
                    },
                    channel,
                    parent: Some(parent),
                })
            }
        }
    }

    async fn resolve_thread_id(&self, actor: &Actor, id: ThreadId) -> Result<ResolvedThread> {
        let reference = ThreadRef::from_id(id).ok_or_else(|| Error::not_found("thread"))?;
        self.resolve_thread(actor, reference).await
    }

    /// The thread an id names.
    pub async fn get_thread(&self, actor: &Actor, id: ThreadId) -> Result<Thread> {
        Ok(self.resolve_thread_id(actor, id).await?.thread)
    }

    /// The thread a message is in: the reply thread of its parent, or its channel's
    /// main thread.
    pub async fn thread_of(&self, actor: &Actor, view: &MessageView) -> Result<Thread> {
        let m = &view.message;
        match m.parent_id {
            None => Ok(self
                .resolve_thread(actor, ThreadRef::Main(m.channel_id))
                .await?
                .thread),
            Some(parent) => {
                // The parent may be gone; the thread is still named after it.
                let created_at = match self.store.get_message(actor.app(), parent).await? {
                    Some(p) => p.message.created_at,
                    None => m.created_at,
                };
                Ok(Thread {
                    reference: ThreadRef::Message(parent),
                    channel_id: m.channel_id,
                    created_at,
                })
            }
        }
    }

    /// Deletes a message (like [`Engine::delete_message`]) and returns the thread it
    /// was in, as `DELETE /messages/{id}` answers.
    pub async fn delete_message_from_thread(
        &self,
        actor: &Actor,
        message: MessageId,
    ) -> Result<Thread> {
        let view = self.get_message(actor, message).await?;
        let thread = self.thread_of(actor, &view).await?;
        self.delete_message(actor, message).await?;
        Ok(thread)
    }

    /// The messages of a thread, newest first: a channel's top-level messages, or the
    /// direct replies to a message.
    pub async fn list_thread_messages(
        &self,
        actor: &Actor,
        id: ThreadId,
        cursor: &CursorRequest,
    ) -> Result<CursorPage<MessageView>> {
        let resolved = self.resolve_thread_id(actor, id).await?;
        let filter = match resolved.thread.reference {
            ThreadRef::Main(channel) => MessageFilter {
                channel_id: Some(channel),
                thread: Some(ThreadFilter::TopLevel),
                ..Default::default()
            },
            ThreadRef::Message(parent) => MessageFilter {
                thread: Some(ThreadFilter::RepliesTo(parent)),
                ..Default::default()
            },
        };
        self.store.list_messages(actor.app(), &filter, cursor).await
    }

    /// Sends a message to a thread: a top-level message of the channel for a MAIN
    /// thread, a reply for a MESSAGE thread.
    pub async fn send_thread_message(
        &self,
        actor: &Actor,
        id: ThreadId,
        input: SendMessage,
    ) -> Result<(Appended, MessageView)> {
        let resolved = self.resolve_thread_id(actor, id).await?;
        self.send_in_thread(actor, resolved.channel, resolved.parent.as_ref(), input)
            .await
    }
}
