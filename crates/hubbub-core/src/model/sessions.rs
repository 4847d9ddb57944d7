//! User sessions (one per connected realtime client of a user) and chat sessions (one
//! per user session per subscribed channel).

use super::{Timestamp, User};
use crate::ids::{AppId, ChannelId, ChatSessionId, UserId, UserSessionId};
use serde::{Deserialize, Serialize};

/// `ACTIVE` while the client is connected (or subscribed), `ENDED` after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SessionState {
    Active,
    Ended,
}

impl SessionState {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Active => "ACTIVE",
            SessionState::Ended => "ENDED",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "ACTIVE" => Some(SessionState::Active),
            "ENDED" => Some(SessionState::Ended),
            _ => None,
        }
    }
}

/// A new user session.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUserSession {
    pub user_id: UserId,
    /// The client's self-description (`centrifuge-js/5.8.0`, say), at most 256 bytes.
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserSession {
    pub id: UserSessionId,
    pub app_id: AppId,
    pub user: User,
    pub user_agent: Option<String>,
    pub created_at: Timestamp,
    pub ended_at: Option<Timestamp>,
}

impl UserSession {
    pub fn state(&self) -> SessionState {
        if self.ended_at.is_some() {
            SessionState::Ended
        } else {
            SessionState::Active
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatSession {
    pub id: ChatSessionId,
    pub app_id: AppId,
    pub channel_id: ChannelId,
    pub user_session: UserSession,
    pub created_at: Timestamp,
    pub ended_at: Option<Timestamp>,
}

impl ChatSession {
    pub fn state(&self) -> SessionState {
        if self.ended_at.is_some() {
            SessionState::Ended
        } else {
            SessionState::Active
        }
    }
}
