//! Live rooms: the broadcast life of a channel (scheduled → live → ended), its chat
//! switches and its counters. PRISM lives, kitkot rooms, Allmine streams and Tencent
//! rooms all read and change them here.

use super::channels::channel_summary;
use super::{Actor, Engine};
use crate::error::{Error, Result};
use crate::events::{ChannelEvent, EventType};
use crate::ids::{ChannelId, LiveSessionId, UserId};
use crate::model::{Channel, ChannelChanges, LiveRoom, LiveStatus};
use serde_json::json;

/// Longest live title, in characters.
pub const MAX_LIVE_TITLE_CHARS: usize = 200;

/// A change of a room's live attributes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct LivePatch {
    /// `Some(None)` clears the title.
    pub title: Option<Option<String>>,
    pub status: Option<LiveStatus>,
    /// Chat on or off for everyone but the owner and moderators.
    pub chat_enabled: Option<bool>,
    pub subscriber_only: Option<bool>,
    pub slow_mode_secs: Option<u32>,
    pub join_leave_events: Option<bool>,
    pub stream_delay_secs: Option<u32>,
}

/// A change of a room's counters.
#[derive(Debug, Clone, Copy, Default)]
pub struct CounterDelta {
    pub entries: u64,
    pub distinct_viewers: u64,
    pub likes: u64,
    pub shares: u64,
}

impl Engine {
    /// Changes a room's live attributes (owner, moderators or the backend). Starting a
    /// broadcast (→ `Live` from any other status) opens a new live session.
    pub async fn update_live(
        &self,
        actor: &Actor,
        channel: ChannelId,
        patch: LivePatch,
    ) -> Result<Channel> {
        let _serial = self.live_updates.lock().await;
        let current = self.get_channel(actor, channel).await?;
        self.require_moderator(actor, &current).await?;
        let mut live = current.live.clone();
        if let Some(title) = patch.title {
            live.title = match title {
                None => None,
                Some(t) => {
                    let t = t.trim().to_owned();
                    if t.chars().count() > MAX_LIVE_TITLE_CHARS || t.chars().any(char::is_control) {
                        return Err(Error::invalid(
                            "title",
                            format!(
                                "must be at most {MAX_LIVE_TITLE_CHARS} characters, without control characters"
                            ),
                        ));
                    }
                    (!t.is_empty()).then_some(t)
                }
            };
        }
        if let Some(status) = patch.status {
            if status == LiveStatus::Live && live.status != LiveStatus::Live {
                let next = live.current_session.map_or(1, |s| s.0 + 1);
                live.current_session = Some(LiveSessionId(next));
            }
            live.status = status;
        }
        if let Some(on) = patch.chat_enabled {
            live.chat.enabled = on;
        }
        if let Some(on) = patch.subscriber_only {
            live.chat.subscriber_only = on;
        }
        if let Some(secs) = patch.slow_mode_secs {
            live.chat.slow_mode_secs = secs;
        }
        if let Some(on) = patch.join_leave_events {
            live.join_leave_events = on;
        }
        if let Some(secs) = patch.stream_delay_secs {
            live.stream_delay_secs = secs;
        }
        self.store_live(actor, current, live).await
    }

    /// Adds to a room's counters (any reader of the room may cause this: an entry, a
    /// like). Counter updates of one node are serialised, so none is lost.
    pub async fn add_live_counters(
        &self,
        actor: &Actor,
        channel: ChannelId,
        delta: CounterDelta,
    ) -> Result<Channel> {
        let _serial = self.live_updates.lock().await;
        let current = self.get_channel(actor, channel).await?;
        let mut live = current.live.clone();
        let c = &mut live.counters;
        c.entries = c.entries.saturating_add(delta.entries);
        c.distinct_viewers = c.distinct_viewers.saturating_add(delta.distinct_viewers);
        c.likes = c.likes.saturating_add(delta.likes);
        c.shares = c.shares.saturating_add(delta.shares);
        self.store_live(actor, current, live).await
    }

    /// Records that a user entered a live room: `entries` always rises, and
    /// `distinct_viewers` on the user's first entry (the user becomes a member of a
    /// public room, which is how a first entry is told from a later one).
    pub async fn enter_live(
        &self,
        actor: &Actor,
        channel: ChannelId,
        user: UserId,
    ) -> Result<Channel> {
        let current = self.get_channel(actor, channel).await?;
        self.require_can_enter(&current, user).await?;
        let first = !self
            .store
            .is_member(current.app_id, current.id, user)
            .await?;
        if first {
            self.store
                .add_member(current.app_id, current.id, user)
                .await?;
        }
        self.add_live_counters(
            actor,
            channel,
            CounterDelta {
                entries: 1,
                distinct_viewers: u64::from(first),
                ..CounterDelta::default()
            },
        )
        .await
    }

    async fn store_live(&self, actor: &Actor, current: Channel, live: LiveRoom) -> Result<Channel> {
        if live == current.live {
            return Ok(current);
        }
        let updated = self
            .store
            .update_channel(
                actor.app(),
                current.id,
                ChannelChanges {
                    live: Some(live),
                    ..ChannelChanges::default()
                },
            )
            .await?;
        self.publish(ChannelEvent::new(
            updated.app_id,
            updated.id,
            EventType::ChannelUpdated,
            None,
            &updated.epoch,
            &json!({
                "type": EventType::ChannelUpdated.as_str(),
                "channel": channel_summary(&updated),
            }),
        ));
        Ok(updated)
    }
}
