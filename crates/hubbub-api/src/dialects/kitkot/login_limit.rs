//! The login attempt limit behind kitkot's 400 "Too many attempts, try again later".
//! Failed logins are counted per client address and per login name (within one
//! application) over a fixed window; once either count reaches its limit, further
//! attempts are refused without checking any password until the window ends. A
//! successful login clears the name's count (not the address's).
//!
//! Counts live in this node's memory: a cluster of N nodes allows up to N times the
//! limit, which still stops guessing at any useful speed.

use hubbub_core::ids::AppId;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// How long failures are remembered.
pub(crate) const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed logins of one name per window.
pub(crate) const MAX_FAILURES_PER_NAME: u32 = 5;
/// Failed logins from one address per window (any names).
pub(crate) const MAX_FAILURES_PER_ADDRESS: u32 = 20;
/// Counters kept at most; beyond this, expired ones are dropped, and if that is not
/// enough all are (a flood of fresh addresses must not exhaust memory).
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Address(IpAddr),
    Name(AppId, String),
}

#[derive(Debug, Clone, Copy)]
struct Count {
    since: Instant,
    failures: u32,
}

/// What one login attempt is counted against.
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    keys: Vec<(Key, u32)>,
}

impl Attempt {
    pub(crate) fn new(app: AppId, name: &str, address: Option<IpAddr>) -> Self {
        let mut keys = vec![(
            Key::Name(app, name.trim().to_lowercase()),
            MAX_FAILURES_PER_NAME,
        )];
        if let Some(ip) = address {
            keys.push((Key::Address(ip), MAX_FAILURES_PER_ADDRESS));
        }
        Self { keys }
    }
}

#[derive(Default)]
pub(crate) struct LoginAttempts {
    counts: Mutex<HashMap<Key, Count>>,
}

impl LoginAttempts {
    /// `Err(wait)` when the attempt must be refused, with the time until it may be
    /// tried again.
    pub(crate) fn check(&self, attempt: &Attempt) -> Result<(), Duration> {
        let now = Instant::now();
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let mut wait = None;
        for (key, max) in &attempt.keys {
            if let Some(c) = counts.get(key) {
                let ends = c.since + WINDOW;
                if ends > now && c.failures >= *max {
                    let left = ends - now;
                    wait = Some(wait.map_or(left, |w: Duration| w.max(left)));
                }
            }
        }
        wait.map_or(Ok(()), Err)
    }

    /// Counts a failed attempt.
    pub(crate) fn failed(&self, attempt: &Attempt) {
        let now = Instant::now();
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if counts.len() >= MAX_ENTRIES {
            counts.retain(|_, c| c.since + WINDOW > now);
            if counts.len() >= MAX_ENTRIES {
                counts.clear();
            }
        }
        for (key, _) in &attempt.keys {
            let c = counts.entry(key.clone()).or_insert(Count {
                since: now,
                failures: 0,
            });
            if c.since + WINDOW <= now {
                *c = Count {
                    since: now,
                    failures: 0,
                };
            }
            c.failures += 1;
        }
    }

    /// A successful login clears the name's failures.
    pub(crate) fn succeeded(&self, attempt: &Attempt) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        for (key, _) in &attempt.keys {
            if matches!(key, Key::Name(..)) {
                counts.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_name_is_locked_after_its_failures_until_the_window_ends() {
        let limits = LoginAttempts::default();
        let attempt = Attempt::new(AppId(1), "Alice", None);
        for _ in 0..MAX_FAILURES_PER_NAME {
            assert!(limits.check(&attempt).is_ok());
            limits.failed(&attempt);
        }
        let wait = limits.check(&attempt).unwrap_err();
        assert_eq!(wait, WINDOW);
        // The same name in another application, or spelled in another case, counts
        // as itself.
        assert!(limits.check(&Attempt::new(AppId(2), "alice", None)).is_ok());
        assert!(
            limits
                .check(&Attempt::new(AppId(1), "ALICE", None))
                .is_err()
        );
        tokio::time::advance(WINDOW - Duration::from_secs(1)).await;
        assert_eq!(limits.check(&attempt).unwrap_err(), Duration::from_secs(1));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(limits.check(&attempt).is_ok());
        limits.failed(&attempt);
        assert!(
            limits.check(&attempt).is_ok(),
            "a new window starts at one failure"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_address_is_locked_across_names_and_success_clears_only_the_name() {
        let limits = LoginAttempts::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for i in 0..MAX_FAILURES_PER_ADDRESS {
            let attempt = Attempt::new(AppId(1), &format!("user{i}"), Some(ip));
            assert!(limits.check(&attempt).is_ok(), "attempt {i}");
            limits.failed(&attempt);
        }
        let fresh = Attempt::new(AppId(1), "someone-else", Some(ip));
        assert!(limits.check(&fresh).is_err());
        let elsewhere = Attempt::new(AppId(1), "someone-else", Some("192.0.2.8".parse().unwrap()));
        assert!(limits.check(&elsewhere).is_ok());

        let bob = Attempt::new(AppId(1), "bob", None);
        for _ in 0..MAX_FAILURES_PER_NAME - 1 {
            limits.failed(&bob);
        }
        limits.succeeded(&bob);
        limits.failed(&bob);
        assert!(
            limits.check(&bob).is_ok(),
            "the success cleared bob's count"
        );
        assert!(limits.check(&fresh).is_err(), "but not the address's");
    }
}
