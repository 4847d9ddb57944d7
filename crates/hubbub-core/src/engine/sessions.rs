//! User sessions and chat sessions, and who is online.
//!
//! The realtime gateway asks for a [`SessionRecorder`] when a user's client connects
//! (anonymous viewers have no session), tells it which channels the client subscribes
//! to and leaves, and drops it when the connection ends. The recorder:
//! * counts the user online at once (a user is online while they have at least one
//!   user session — ChatKitty's `presence.online` — on this node, or in the cluster
//!   when the engine was given the cluster's [`OnlineUsers`]);
//! * writes the sessions in the background, in order, so connecting and subscribing
//!   never wait for a commit: a user session is started at connect, a chat session at
//!   each subscribe and ended at its unsubscribe, and the user session (with any chat
//!   session still open) is ended at disconnect.
//!
//! No connection survives a restart, so [`Engine::end_stale_sessions`] ends every
//! session still ACTIVE when a single-node server starts. In a cluster a starting
//! node must not end the other nodes' live sessions, so it ends none; the sessions a
//! crashed node left ACTIVE stay so until sessions carry their node (not yet).

use super::{Actor, Engine, require_app};
use crate::error::Result;
use crate::ids::{AppId, ChannelId, ChatSessionId, UserId};
use crate::model::{ChatSession, NewUserSession, SessionState, UserSession};
use crate::paging::{Page, PageRequest};
use crate::presence::OnlineUsers;
use crate::store::Store;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Longest user agent kept, in bytes.
const MAX_USER_AGENT_BYTES: usize = 256;

enum SessionEvent {
    Subscribed(ChannelId),
    Unsubscribed(ChannelId),
}

/// The sessions of one connected realtime client of a user. Dropping it ends them.
pub struct SessionRecorder {
    events: mpsc::UnboundedSender<SessionEvent>,
    online: Arc<dyn OnlineUsers>,
    key: (AppId, UserId),
}

impl SessionRecorder {
    /// The client subscribed to a channel: a chat session starts.
    pub fn subscribed(&self, channel: ChannelId) {
        let _ = self.events.send(SessionEvent::Subscribed(channel));
    }

    /// The client left a channel: its chat session ends.
    pub fn unsubscribed(&self, channel: ChannelId) {
        let _ = self.events.send(SessionEvent::Unsubscribed(channel));
    }
}

impl Drop for SessionRecorder {
    fn drop(&mut self) {
        self.online.disconnected(self.key.0, self.key.1);
        // The writer task sees the channel close and ends the user session.
    }
}

/// Writes one client's sessions, in the order things happened.
async fn record(
    store: Arc<dyn Store>,
    app: AppId,
    new: NewUserSession,
    mut events: mpsc::UnboundedReceiver<SessionEvent>,
) {
    let session = match store.start_user_session(app, new).await {
        Ok(session) => session,
        Err(e) => {
            tracing::warn!(error = %e, "cannot record a user session");
            return;
        }
    };
    let mut chats: HashMap<ChannelId, ChatSessionId> = HashMap::new();
    while let Some(event) = events.recv().await {
        match event {
            SessionEvent::Subscribed(channel) => {
                if chats.contains_key(&channel) {
                    continue;
                }
                match store.start_chat_session(app, session.id, channel).await {
                    Ok(chat) => {
                        chats.insert(channel, chat.id);
                    }
                    Err(e) => tracing::debug!(error = %e, "cannot record a chat session"),
                }
            }
            SessionEvent::Unsubscribed(channel) => {
                if let Some(chat) = chats.remove(&channel)
                    && let Err(e) = store.end_chat_session(app, chat).await
                {
                    tracing::debug!(error = %e, "cannot end a chat session");
                }
            }
        }
    }
    if let Err(e) = store.end_user_session(app, session.id).await {
        tracing::debug!(error = %e, "cannot end a user session");
    }
}

impl Engine {
    /// Starts recording a connected realtime client of `user` (see the module docs).
    /// Must be called within a Tokio runtime.
    pub fn record_user_session(
        &self,
        app: AppId,
        user: UserId,
        user_agent: Option<&str>,
    ) -> SessionRecorder {
        let key = (app, user);
        self.online.connected(app, user);
        let user_agent = user_agent
            .map(|ua| {
                let mut end = ua.len().min(MAX_USER_AGENT_BYTES);
                while !ua.is_char_boundary(end) {
                    end -= 1;
                }
                ua[..end].trim().to_owned()
            })
            .filter(|ua| !ua.is_empty());
        let (events, receiver) = mpsc::unbounded_channel();
        tokio::spawn(record(
            self.store.clone(),
            app,
            NewUserSession {
                user_id: user,
                user_agent,
            },
            receiver,
        ));
        SessionRecorder {
            events,
            online: self.online.clone(),
            key,
        }
    }

    /// Whether the user has a live realtime session (see the module docs).
    pub fn is_online(&self, app: AppId, user: UserId) -> bool {
        self.online.is_online(app, user)
    }

    /// Ends every session left ACTIVE by a previous run (call at start).
    pub async fn end_stale_sessions(&self) -> Result<u64> {
        self.store.end_active_sessions().await
    }

    /// User sessions of the application, in a state or all.
    pub async fn list_user_sessions(
        &self,
        actor: &Actor,
        state: Option<SessionState>,
        page: &PageRequest,
    ) -> Result<Page<UserSession>> {
        require_app(actor)?;
        self.store
            .list_user_sessions(actor.app(), state, page)
            .await
    }

    /// Chat sessions of the application, in a state or all.
    pub async fn list_chat_sessions(
        &self,
        actor: &Actor,
        state: Option<SessionState>,
        page: &PageRequest,
    ) -> Result<Page<ChatSession>> {
        require_app(actor)?;
        self.store
            .list_chat_sessions(actor.app(), state, page)
            .await
    }
}
