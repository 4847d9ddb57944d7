//! The Engine: the only write path of hubbub.
//!
//! Every dialect, the realtime gateway, the CLI and bots call these methods. Each
//! write method validates its input, authorises the [`Actor`], persists through the
//! [`Store`] and — only after the store has committed — publishes the resulting event
//! through the [`Bus`]. Nothing here knows about HTTP or SQL.

pub mod allmine_support;
mod applications;
mod channels;
mod dialects;
mod event_payloads;
mod exports;
mod imports;
mod invites;
mod jobs;
mod keystrokes;
mod kitkot_support;
mod live;
mod mentions;
mod messages;
mod moderation;
mod notifications;
mod participants;
pub mod prism_support;
mod realtime;
mod receipts;
mod reports;
mod sessions;
pub mod tencent_support;
mod threads;
mod users;

pub use applications::{IssuedToken, NewApplicationCredentials};
pub use channels::{ChannelPatch, ChannelView, CreateChannel};
pub use dialects::{
    ALLMINE_ACCESS_TTL, ALLMINE_REFRESH_TTL, DialectIdentity, KITKOT_SESSION_TTL,
    MAX_PASSWORD_CHARS, MAX_TENCENT_ADMINS, MIN_PASSWORD_CHARS, PRISM_ACCESS_TTL, PRISM_CODE_TTL,
    PRISM_REFRESH_TTL, TokenPair,
};
pub use exports::{EXPORT_CONTENT_TYPE, ExportKind, export_download_name};
pub use imports::{ImportKind, check_import_file};
pub use jobs::{INTERRUPTED, JobsConfig};
pub use keystrokes::KEYSTROKES_INTERVAL;
pub use kitkot_support::{ChatWindow, LiveRoomView, RoomRole, SeqWindow};
pub use live::{CounterDelta, LivePatch, MAX_LIVE_TITLE_CHARS};
pub use messages::{
    MAX_NESTED_LEVEL, MessagePatch, SendContent, SendMessage, message_summary, message_type,
};
pub use moderation::{
    MAX_RESTRICTION, MAX_RESTRICTION_REASON_BYTES, MAX_ROBOTS_PER_ROOM, Restrict,
};
pub use notifications::{MAX_SYSTEM_RECIPIENTS, NotificationEntry};
pub use realtime::{
    DIRECT_PREFIX, MAX_TOKEN_TTL, RealtimeIdentity, TokenError, channel_protocol_name,
    message_created_event, sign_hs256,
};
pub use receipts::UnreadSummaryEntry;
pub use reports::MAX_REASON_BYTES;
pub use sessions::SessionRecorder;
pub use users::{CreateUser, UserPatch};

use crate::bus::Bus;
use crate::error::{Error, Result};
use crate::events::ChannelEvent;
use crate::ids::{AppId, UserId};
use crate::limits::Limits;
use crate::model::User;
use crate::names::UserName;
use crate::presence::{LocalOnlineUsers, OnlineUsers};
use crate::store::Store;
use std::sync::Arc;

/// Who is asking. Every engine call is made on behalf of one actor, and the actor
/// fixes the application: no call can reach another application's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The application's backend (Platform API token, CLI): may do anything within
    /// the application.
    App(AppId),
    /// A chat user acting for themselves (realtime gateway, live dialects).
    User { app: AppId, user: UserId },
}

impl Actor {
    pub fn app(&self) -> AppId {
        match self {
            Actor::App(app) => *app,
            Actor::User { app, .. } => *app,
        }
    }
    pub fn user(&self) -> Option<UserId> {
        match self {
            Actor::App(_) => None,
            Actor::User { user, .. } => Some(*user),
        }
    }
    pub fn is_app(&self) -> bool {
        matches!(self, Actor::App(_))
    }
}

/// A reference to a user as clients give it: by id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    Id(UserId),
    Name(UserName),
}

/// The chat engine. Cheap to share (`Arc<Engine>`).
pub struct Engine {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    limits: Limits,
    /// When each user last typed in each channel (keystrokes rate limit).
    typing: keystrokes::TypingLimiter,
    /// Users with a live realtime session (this node's, or the cluster's).
    online: Arc<dyn OnlineUsers>,
    /// Settings and runner id of this process's imports and exports.
    jobs: jobs::JobsRuntime,
    /// Serialises read-modify-write updates of live attributes and counters.
    live_updates: tokio::sync::Mutex<()>,
}

impl Engine {
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>, limits: Limits) -> Self {
        Self {
            store,
            bus,
            limits,
            typing: Default::default(),
            online: Arc::new(LocalOnlineUsers::default()),
            jobs: jobs::JobsRuntime::new(JobsConfig::default()),
            live_updates: Default::default(),
        }
    }

    /// Counts users online in `online` (the cluster's, when scaled out) instead of
    /// this node alone.
    pub fn with_online_users(mut self, online: Arc<dyn OnlineUsers>) -> Self {
        self.online = online;
        self
    }

    /// The store, for read paths that need no rule beyond tenancy.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn bus(&self) -> &Arc<dyn Bus> {
        &self.bus
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Readiness: the store answers with its migrations applied and the bus is up.
    pub async fn check_ready(&self) -> Result<()> {
        self.store.check_ready().await?;
        if !self.bus.is_ready() {
            return Err(Error::Unavailable("bus not connected".into()));
        }
        Ok(())
    }

    /// Writes that announce an event in real time are refused (503 + `Retry-After` at
    /// the edge) while the bus is down, before anything is written: the store would
    /// take the write, but other nodes' subscribers would not hear of it until a
    /// later event of the channel reveals the gap, and events without a seq (edits,
    /// deletions, membership) would never reach them. The client retries, on this
    /// node once the bus is back or on another node. Writes that announce nothing
    /// (users, tokens, reads) go on: the database alone serves them.
    pub(crate) fn require_bus(&self) -> Result<()> {
        if self.bus.is_ready() {
            Ok(())
        } else {
            Err(Error::Unavailable("bus not connected".into()))
        }
    }

    /// Resolves a user reference within the actor's application.
    pub async fn resolve_user(&self, app: AppId, user: &UserRef) -> Result<User> {
        let found = match user {
            UserRef::Id(id) => self.store.get_user(app, *id).await?,
            UserRef::Name(name) => self.store.get_user_by_name(app, name).await?,
        };
        found.ok_or_else(|| Error::not_found("user"))
    }

    /// Publishes a committed event. Call only after the store returned.
    fn publish(&self, event: ChannelEvent) {
        self.bus.publish(Arc::new(event));
    }
}

/// Only the application's backend may do this.
fn require_app(actor: &Actor) -> Result<()> {
    if actor.is_app() {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "only the application's backend may do this".into(),
        ))
    }
}
