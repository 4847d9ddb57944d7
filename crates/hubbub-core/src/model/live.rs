//! The live-room attributes of a channel (DESIGN.md "One room, many names").
//!
//! Every channel carries a [`LiveRoom`]; for ordinary chat channels it stays at its
//! defaults (status `None`). The live-stream dialects (PRISM lives, kitkot rooms,
//! Allmine streams, Tencent rooms) read and write it through the Engine.

use super::Timestamp;
use crate::ids::{LiveSessionId, UserId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LiveRoom {
    /// Broadcast title, shown by streaming tools.
    pub title: Option<String>,
    pub status: LiveStatus,
    /// The current (or last) broadcast.
    pub current_session: Option<LiveSessionId>,
    /// Seconds the stream is delayed; chat may be delayed to match.
    pub stream_delay_secs: u32,
    pub counters: LiveCounters,
    pub chat: ChatSettings,
    /// Whether join/leave pushes are sent to subscribers (off for big live rooms,
    /// where presence counts serve).
    pub join_leave_events: bool,
}

impl Default for LiveRoom {
    fn default() -> Self {
        Self {
            title: None,
            status: LiveStatus::None,
            current_session: None,
            stream_delay_secs: 0,
            counters: LiveCounters::default(),
            chat: ChatSettings::default(),
            join_leave_events: true,
        }
    }
}

/// Where a live room is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LiveStatus {
    /// An ordinary chat channel, not a live room.
    #[default]
    None,
    Scheduled,
    Live,
    Ended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LiveCounters {
    pub viewers_now: u64,
    pub distinct_viewers: u64,
    pub likes: u64,
    pub shares: u64,
    pub entries: u64,
}

/// Chat rules of a room. Moderators are exempt from slow mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatSettings {
    pub enabled: bool,
    pub subscriber_only: bool,
    /// Minimum seconds between two messages of one user; 0 = off.
    pub slow_mode_secs: u32,
}

impl Default for ChatSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            subscriber_only: false,
            slow_mode_secs: 0,
        }
    }
}

/// One broadcast of a live room. History and exports can be scoped to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveSession {
    pub id: LiveSessionId,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub started_by: Option<UserId>,
}
