//! Viewers who joined through kitkot. kitkot clients hold no connection, so a
//! `/live/join` makes the user present in the room — in the gateway's presence, so
//! that realtime viewers and kitkot viewers are counted together — until they call
//! `/live/leave` or stop calling about the room (join, chat polls, sends) for
//! [`VIEWER_TTL`].

use hubbub_core::ids::{AppId, ChannelId, UserId};
use hubbub_core::model::LiveCounters;
use hubbub_core::presence::{Presence, PresenceEntry};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// How long a kitkot viewer stays present without calling.
pub(crate) const VIEWER_TTL: Duration = Duration::from_secs(60);
/// Expired viewers are looked for at most this often.
const SWEEP_EVERY: Duration = Duration::from_secs(5);

type ViewerKey = (AppId, ChannelId, UserId);

/// The kitkot viewers of every room; the presence they are entered in is the
/// gateway's, passed to each call.
#[derive(Default)]
pub(crate) struct KitkotViewers {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// viewer → last call about the room
    seen: HashMap<ViewerKey, Instant>,
    last_sweep: Option<Instant>,
}

impl KitkotViewers {
    /// The user is in the room as of now.
    pub(crate) fn join(
        &self,
        presence: &dyn Presence,
        app: AppId,
        room: ChannelId,
        user: UserId,
        name: &str,
    ) {
        let mut state = self.lock();
        sweep(presence, &mut state);
        state.seen.insert((app, room, user), Instant::now());
        presence.join(
            app,
            room,
            PresenceEntry {
                client: client(user).into(),
                user: name.into(),
            },
        );
    }

    /// A call about the room by a viewer keeps them present (nobody joins by it).
    pub(crate) fn touch(&self, presence: &dyn Presence, app: AppId, room: ChannelId, user: UserId) {
        let mut state = self.lock();
        sweep(presence, &mut state);
        if let Some(seen) = state.seen.get_mut(&(app, room, user)) {
            *seen = Instant::now();
        }
    }

    /// The user left the room. Returns whether they were in it through kitkot.
    pub(crate) fn leave(
        &self,
        presence: &dyn Presence,
        app: AppId,
        room: ChannelId,
        user: UserId,
    ) -> bool {
        let mut state = self.lock();
        sweep(presence, &mut state);
        let was = state.seen.remove(&(app, room, user)).is_some();
        presence.leave(app, room, &client(user));
        was
    }

    /// Viewers of the room now: distinct users present (realtime or kitkot), or the
    /// room's own `viewers_now` counter when that is higher (viewers counted by
    /// another node or set by the backend).
    pub(crate) fn count(
        &self,
        presence: &dyn Presence,
        app: AppId,
        room: ChannelId,
        counters: &LiveCounters,
    ) -> u64 {
        sweep(presence, &mut self.lock());
        let present = u64::from(presence.stats(app, room).num_users);
        present.max(counters.viewers_now)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The presence client id of a kitkot viewer (one per user and room).
fn client(user: UserId) -> String {
    format!("kitkot:{}", user.0)
}

/// Drops the viewers quiet for [`VIEWER_TTL`], at most every [`SWEEP_EVERY`].
fn sweep(presence: &dyn Presence, state: &mut State) {
    let now = Instant::now();
    if state
        .last_sweep
        .is_some_and(|last| now.duration_since(last) < SWEEP_EVERY)
    {
        return;
    }
    state.last_sweep = Some(now);
    state.seen.retain(|(app, room, user), seen| {
        let alive = now.duration_since(*seen) < VIEWER_TTL;
        if !alive {
            presence.leave(*app, *room, &client(*user));
        }
        alive
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubbub_core::presence::MemoryPresence;

    #[tokio::test(start_paused = true)]
    async fn kitkot_viewers_are_present_until_they_leave_or_go_quiet() {
        let presence = MemoryPresence::new();
        let p: &dyn Presence = &presence;
        let viewers = KitkotViewers::default();
        let (app, room) = (AppId(1), ChannelId(10));
        let none = LiveCounters::default();
        assert_eq!(viewers.count(p, app, room, &none), 0);
        viewers.join(p, app, room, UserId(1), "ann");
        viewers.join(p, app, room, UserId(2), "bob");
        viewers.join(p, app, room, UserId(2), "bob");
        assert_eq!(viewers.count(p, app, room, &none), 2);
        assert_eq!(viewers.count(p, app, ChannelId(11), &none), 0);

        assert!(viewers.leave(p, app, room, UserId(1)));
        assert!(!viewers.leave(p, app, room, UserId(1)));
        assert_eq!(viewers.count(p, app, room, &none), 1);

        // bob keeps calling for a while, then goes quiet.
        tokio::time::advance(VIEWER_TTL / 2).await;
        viewers.touch(p, app, room, UserId(2));
        tokio::time::advance(VIEWER_TTL / 2 + Duration::from_secs(1)).await;
        assert_eq!(
            viewers.count(p, app, room, &none),
            1,
            "touched half a TTL ago"
        );
        tokio::time::advance(VIEWER_TTL).await;
        assert_eq!(viewers.count(p, app, room, &none), 0);
        assert!(presence.list(app, room).is_empty());

        // A touch does not make anyone present.
        viewers.touch(p, app, room, UserId(3));
        assert_eq!(viewers.count(p, app, room, &none), 0);
        // The room's own counter counts when it is higher.
        let counted = LiveCounters {
            viewers_now: 7,
            ..LiveCounters::default()
        };
        assert_eq!(viewers.count(p, app, room, &counted), 7);
    }
}
