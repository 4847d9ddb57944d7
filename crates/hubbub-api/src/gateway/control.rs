//! Server-side unsubscribes: when a user is removed from a channel, banned from it
//! (or a channel is deleted), that user's connections (every connection, for a
//! deletion) leave the channel and are told so with an unsubscribe push (code 2000:
//! stay unsubscribed).
//!
//! A task of the gateway reads these events from the bus and posts them to the
//! affected sessions' [`SessionControl`]; each session applies them between commands.

use hubbub_core::events::{ChannelEvent, EventType};
use hubbub_core::ids::{AppId, ChannelId, UserId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// What the gateway asks of one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// The user is no longer a member: leave the channel if it admits members only.
    MemberRemoved(ChannelId),
    /// The channel is gone: leave it.
    ChannelDeleted(ChannelId),
    /// The user was banned from the channel: leave it, whatever its kind.
    Banned(ChannelId),
}

/// A session's mailbox for controls.
#[derive(Default)]
pub struct SessionControl {
    pending: Mutex<Vec<Control>>,
    pub notify: Notify,
}

impl SessionControl {
    fn post(&self, control: Control) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(control);
        self.notify.notify_one();
    }

    /// Takes the controls posted so far.
    pub fn take(&self) -> Vec<Control> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

type Sessions = HashMap<u64, (Option<UserId>, Arc<SessionControl>)>;

/// Every connected session, by application.
#[derive(Default)]
pub struct Controls {
    by_app: Arc<Mutex<HashMap<AppId, Sessions>>>,
    next_id: AtomicU64,
}

impl Controls {
    /// Registers a connected session; dropping the guard unregisters it.
    pub fn register(&self, app: AppId, user: Option<UserId>) -> ControlGuard {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let control = Arc::new(SessionControl::default());
        self.by_app
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(app)
            .or_default()
            .insert(id, (user, control.clone()));
        ControlGuard {
            by_app: self.by_app.clone(),
            app,
            id,
            control,
        }
    }

    /// Posts the control an event implies to the sessions it concerns.
    pub fn dispatch(&self, event: &ChannelEvent) {
        let (control, user) = match event.event_type {
            EventType::MemberRemoved => {
                let data: serde_json::Value =
                    serde_json::from_slice(&event.data).unwrap_or_default();
                let Some(user) = data["user"]["id"].as_i64() else {
                    return;
                };
                (Control::MemberRemoved(event.channel_id), Some(UserId(user)))
            }
            EventType::ChannelDeleted => (Control::ChannelDeleted(event.channel_id), None),
            EventType::UserRestricted => {
                let data: serde_json::Value =
                    serde_json::from_slice(&event.data).unwrap_or_default();
                let (Some(user), Some("BAN")) =
                    (data["user"]["id"].as_i64(), data["kind"].as_str())
                else {
                    return;
                };
                (Control::Banned(event.channel_id), Some(UserId(user)))
            }
            _ => return,
        };
        let by_app = self.by_app.lock().unwrap_or_else(|e| e.into_inner());
        let Some(sessions) = by_app.get(&event.app_id) else {
            return;
        };
        for (session_user, mailbox) in sessions.values() {
            if user.is_none() || *session_user == user {
                mailbox.post(control);
            }
        }
    }
}

/// A registered session's place; unregisters on drop.
pub struct ControlGuard {
    by_app: Arc<Mutex<HashMap<AppId, Sessions>>>,
    app: AppId,
    id: u64,
    pub control: Arc<SessionControl>,
}

impl Drop for ControlGuard {
    fn drop(&mut self) {
        let mut by_app = self.by_app.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sessions) = by_app.get_mut(&self.app) {
            sessions.remove(&self.id);
            if sessions.is_empty() {
                by_app.remove(&self.app);
            }
        }
    }
}
