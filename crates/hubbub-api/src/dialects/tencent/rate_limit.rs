//! Tencent's per-command call rates (seed-surfaces 4.3: 200, 100 or 10 calls a
//! second), counted per application in one-second windows.
//!
//! The counts live in this node's memory: behind a load balancer, N nodes together
//! allow up to N times the rate. That is enough to keep one runaway integration from
//! flooding a node, which is what the limit is for.

use hubbub_core::ids::AppId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// The calls of one application to one command in the current window.
#[derive(Clone, Copy)]
struct Window {
    second: u64,
    calls: u32,
}

pub(crate) struct RateLimiter {
    epoch: Instant,
    windows: Mutex<HashMap<(AppId, &'static str), Window>>,
}

impl RateLimiter {
    pub(crate) fn new() -> Self {
        Self {
            epoch: Instant::now(),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a call; `false` when the application is over `per_second` calls of
    /// `command` in the current second.
    pub(crate) fn allow(&self, app: AppId, command: &'static str, per_second: u32) -> bool {
        self.allow_at(app, command, per_second, self.epoch.elapsed().as_secs())
    }

    fn allow_at(&self, app: AppId, command: &'static str, per_second: u32, second: u64) -> bool {
        let Ok(mut windows) = self.windows.lock() else {
            // A poisoned lock only means another request panicked mid-count.
            return true;
        };
        let window = windows
            .entry((app, command))
            .or_insert(Window { second, calls: 0 });
        if window.second != second {
            *window = Window { second, calls: 0 };
        }
        if window.calls >= per_second {
            return false;
        }
        window.calls += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_app_and_command_has_its_own_budget_per_second() {
        let limiter = RateLimiter::new();
        let (a, b) = (AppId(1), AppId(2));
        for _ in 0..10 {
            assert!(limiter.allow_at(a, "get_room_list", 10, 5));
        }
        assert!(!limiter.allow_at(a, "get_room_list", 10, 5));
        // Another command, another application: untouched.
        assert!(limiter.allow_at(a, "get_room_info", 200, 5));
        assert!(limiter.allow_at(b, "get_room_list", 10, 5));
        // The next second starts afresh.
        assert!(limiter.allow_at(a, "get_room_list", 10, 6));
    }
}
