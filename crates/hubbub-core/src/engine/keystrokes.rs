//! Keystrokes (typing indicators): published to the channel's realtime subscribers as
//! a `keystrokes` event, never stored, and rate-limited per user and channel.
//!
//! The event's data is `{"type": "keystrokes", "channel_id", "thread_id", "user",
//! "keys"}`; `thread_id` is the channel's MAIN thread (`-channel_id`) or the reply
//! thread typed in. A user may publish keystrokes in a channel once per
//! [`KEYSTROKES_INTERVAL`]; faster ones are refused with [`Error::RateLimited`] (the
//! indicator is already showing, so dropping them loses nothing).

use super::channels::user_summary;
use super::{Actor, Engine, UserRef};
use crate::error::{Error, Result};
use crate::events::{ChannelEvent, EventType};
use crate::ids::{AppId, ChannelId, ThreadId, UserId};
use crate::model::{ThreadRef, User};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// The shortest interval between two keystrokes events of one user in one channel.
pub const KEYSTROKES_INTERVAL: Duration = Duration::from_millis(200);

/// Entries beyond which forgotten users are swept from the limiter.
const SWEEP_ABOVE: usize = 10_000;

type TypingKey = (AppId, ChannelId, UserId);

/// When each user last typed in each channel (this node only: a user typing through
/// two nodes at once may publish twice as often, which is harmless).
#[derive(Default)]
pub(crate) struct TypingLimiter {
    last: Mutex<HashMap<TypingKey, Instant>>,
}

impl TypingLimiter {
    /// Admits one keystrokes event now, or says how long to wait.
    fn admit(&self, key: TypingKey, now: Instant) -> Result<()> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&at) = last.get(&key) {
            let next = at + KEYSTROKES_INTERVAL;
            if now < next {
                return Err(Error::RateLimited {
                    retry_after: next - now,
                });
            }
        }
        if last.len() >= SWEEP_ABOVE {
            last.retain(|_, at| now.duration_since(*at) < KEYSTROKES_INTERVAL);
        }
        last.insert(key, now);
        Ok(())
    }
}

impl Engine {
    /// `POST /channels/{id}/keystrokes`: `user` types in the channel's main thread.
    /// The app backend names the user; a user actor always types as themselves.
    pub async fn send_channel_keystrokes(
        &self,
        actor: &Actor,
        channel: ChannelId,
        user: Option<&UserRef>,
        keys: String,
    ) -> Result<User> {
        self.get_channel(actor, channel).await?;
        self.type_in(actor, ThreadRef::Main(channel), user, Some(keys))
            .await
    }

    /// `POST /threads/{id}/keystrokes`: `user` types in a thread.
    pub async fn send_thread_keystrokes(
        &self,
        actor: &Actor,
        thread: ThreadId,
        user: Option<&UserRef>,
        keys: String,
    ) -> Result<User> {
        let reference = ThreadRef::from_id(thread).ok_or_else(|| Error::not_found("thread"))?;
        self.type_in(actor, reference, user, Some(keys)).await
    }

    /// Validates, authorises, rate-limits and publishes one keystrokes event.
    pub(crate) async fn type_in(
        &self,
        actor: &Actor,
        thread: ThreadRef,
        user: Option<&UserRef>,
        keys: Option<String>,
    ) -> Result<User> {
        self.require_bus()?;
        let app = actor.app();
        let typist = match (actor, user) {
            (Actor::User { user, .. }, _) => self.get_user(actor, *user).await?,
            (Actor::App(_), Some(r)) => self
                .resolve_user(app, r)
                .await
                .map_err(|_| Error::invalid("user", "no such user in this application"))?,
            (Actor::App(_), None) => {
                return Err(Error::invalid("user", "required: who is typing"));
            }
        };
        if keys
            .as_ref()
            .is_some_and(|k| k.len() > self.limits.max_message_bytes)
        {
            return Err(Error::invalid("keys", "is longer than a message may be"));
        }
        let resolved = self.resolve_thread(actor, thread).await?;
        let channel = resolved.channel;
        self.require_can_post(&channel, typist.id).await?;
        self.typing
            .admit((app, channel.id, typist.id), Instant::now())?;
        self.publish(ChannelEvent::new(
            app,
            channel.id,
            EventType::Keystrokes,
            None,
            &channel.epoch,
            &json!({
                "type": EventType::Keystrokes.as_str(),
                "channel_id": channel.id,
                "thread_id": thread.id(),
                "user": user_summary(&typist),
                "keys": keys,
            }),
        ));
        Ok(typist)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn one_event_per_interval_per_user_and_channel() {
        let limiter = TypingLimiter::default();
        let key = (AppId(1), ChannelId(1), UserId(1));
        limiter.admit(key, Instant::now()).unwrap();
        let Err(Error::RateLimited { retry_after }) = limiter.admit(key, Instant::now()) else {
            panic!("a second event at once is refused");
        };
        assert_eq!(retry_after, KEYSTROKES_INTERVAL);
        limiter
            .admit((AppId(1), ChannelId(2), UserId(1)), Instant::now())
            .expect("another channel has its own budget");
        limiter
            .admit((AppId(1), ChannelId(1), UserId(2)), Instant::now())
            .expect("another user has their own budget");
        tokio::time::advance(KEYSTROKES_INTERVAL).await;
        limiter
            .admit(key, Instant::now())
            .expect("after the interval");
    }
}
