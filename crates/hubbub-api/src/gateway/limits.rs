//! Connection accounting and command rates.
//!
//! Every open realtime connection (WebSocket or SSE) holds a [`ConnectionGuard`]: it
//! counts the connection against its IP (and, once authenticated, its user) and lets
//! graceful shutdown reach its outbox. Dropping the guard releases everything.

use hubbub_core::fanout::{Closing, Outbox};
use hubbub_core::ids::{AppId, UserId};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Default)]
struct Counts {
    outboxes: HashMap<u64, Arc<Outbox>>,
    per_ip: HashMap<IpAddr, usize>,
    per_user: HashMap<(AppId, UserId), usize>,
}

/// Every open connection of the node.
#[derive(Default)]
pub struct ConnectionRegistry {
    counts: Arc<Mutex<Counts>>,
    next_id: AtomicU64,
}

fn lock(counts: &Mutex<Counts>) -> std::sync::MutexGuard<'_, Counts> {
    counts.lock().unwrap_or_else(|e| e.into_inner())
}

impl ConnectionRegistry {
    /// Registers a connection from `ip`; `None` when the IP already has `max`
    /// connections (0 = unlimited).
    pub fn open(
        &self,
        ip: IpAddr,
        outbox: Arc<Outbox>,
        max_per_ip: usize,
    ) -> Option<ConnectionGuard> {
        let mut counts = lock(&self.counts);
        let n = counts.per_ip.entry(ip).or_default();
        if max_per_ip > 0 && *n >= max_per_ip {
            if *n == 0 {
                counts.per_ip.remove(&ip);
            }
            return None;
        }
        *n += 1;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        counts.outboxes.insert(id, outbox);
        Some(ConnectionGuard {
            counts: self.counts.clone(),
            id,
            ip,
            user: None,
        })
    }

    /// Connections open now.
    pub fn open_count(&self) -> usize {
        lock(&self.counts).outboxes.len()
    }

    /// Closes every connection's outbox with `closing`.
    pub fn close_all(&self, closing: Closing) {
        let outboxes: Vec<_> = lock(&self.counts).outboxes.values().cloned().collect();
        for outbox in outboxes {
            outbox.close(closing);
        }
    }
}

/// One open connection's place in the registry.
pub struct ConnectionGuard {
    counts: Arc<Mutex<Counts>>,
    id: u64,
    ip: IpAddr,
    user: Option<(AppId, UserId)>,
}

impl ConnectionGuard {
    /// Counts the connection against a user; `false` when the user already has `max`
    /// connections (0 = unlimited).
    pub fn claim_user(&mut self, app: AppId, user: UserId, max_per_user: usize) -> bool {
        if self.user == Some((app, user)) {
            return true;
        }
        let mut counts = lock(&self.counts);
        let n = counts.per_user.entry((app, user)).or_default();
        if max_per_user > 0 && *n >= max_per_user {
            if *n == 0 {
                counts.per_user.remove(&(app, user));
            }
            return false;
        }
        *n += 1;
        self.user = Some((app, user));
        true
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        let mut counts = lock(&self.counts);
        counts.outboxes.remove(&self.id);
        if let Some(n) = counts.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                counts.per_ip.remove(&self.ip);
            }
        }
        if let Some(key) = self.user
            && let Some(n) = counts.per_user.get_mut(&key)
        {
            *n -= 1;
            if *n == 0 {
                counts.per_user.remove(&key);
            }
        }
    }
}

/// The node's budget of realtime socket writes per second.
///
/// On loopback one small socket write costs 5–8 µs of CPU whatever it carries, so
/// the CPU a hot room costs is set by writes, not deliveries. Unpaced, 10,000 viewers
/// of a room taking 100 messages/s would ask for a million writes a second; the node
/// then saturates and every queue grows until batches are big enough, with latency
/// (and its tail) set by whatever the scheduler happens to do. With a budget, writers
/// take turns: up to `burst` worth of writes go out at once (a lone message reaches a
/// big room at full speed), beyond that each write waits for its slot, and whatever
/// its connection queued meanwhile goes out in that same write. Latency then grows
/// smoothly with load (about `busy connections ÷ budget`) and the CPU spent on writes
/// stays bounded.
///
/// It is a GCRA (virtual scheduling): one atomic holds the theoretical time of the
/// next write; a writer reserves a slot with one compare-and-swap and sleeps until
/// it, so waiting writers go in the order they asked, with no queue to manage.
#[derive(Debug)]
pub struct WriteBudget {
    /// Nanoseconds between two writes at the sustained rate; 0 = unlimited.
    interval_ns: u64,
    /// How far reservations may run ahead of now before a writer waits.
    tolerance_ns: u64,
    origin: tokio::time::Instant,
    /// The theoretical time of the next write, in nanoseconds since `origin`.
    next: AtomicU64,
    /// Writes that had to wait for their slot.
    paced: AtomicU64,
}

impl WriteBudget {
    /// `per_second` writes sustained (0 = unlimited), `burst` of saved-up time.
    pub fn new(per_second: u64, burst: std::time::Duration) -> Self {
        Self {
            interval_ns: 1_000_000_000u64
                .checked_div(per_second)
                .map_or(0, |ns| ns.max(1)),
            tolerance_ns: burst.as_nanos() as u64,
            origin: tokio::time::Instant::now(),
            next: AtomicU64::new(0),
            paced: AtomicU64::new(0),
        }
    }

    /// Reserves the slot of one write; returns how long to wait before making it.
    pub fn reserve(&self) -> std::time::Duration {
        if self.interval_ns == 0 {
            return std::time::Duration::ZERO;
        }
        let now = self.origin.elapsed().as_nanos() as u64;
        let mut next = self.next.load(Ordering::Relaxed);
        loop {
            let slot = next.max(now);
            match self.next.compare_exchange_weak(
                next,
                slot + self.interval_ns,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    let wait = slot.saturating_sub(now + self.tolerance_ns);
                    if wait > 0 {
                        self.paced.fetch_add(1, Ordering::Relaxed);
                    }
                    return std::time::Duration::from_nanos(wait);
                }
                Err(current) => next = current,
            }
        }
    }

    /// Waits for the slot of one write.
    pub async fn acquire(&self) {
        let wait = self.reserve();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Writes so far that had to wait for their slot.
    pub fn paced(&self) -> u64 {
        self.paced.load(Ordering::Relaxed)
    }
}

/// A token bucket: `rate` tokens per second, at most `burst` saved up.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(rate: u32, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            rate: f64::from(rate),
            burst,
            tokens: burst,
            last: Instant::now(),
        }
    }

    /// Takes one token if there is one. A rate of 0 means unlimited.
    pub fn take(&mut self, now: Instant) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn outbox() -> Arc<Outbox> {
        Arc::new(Outbox::new(
            4,
            1024,
            Closing {
                code: 3008,
                reason: "slow",
            },
        ))
    }

    #[test]
    fn connections_are_counted_per_ip_and_per_user() {
        let registry = ConnectionRegistry::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let mut a = registry.open(ip, outbox(), 2).unwrap();
        let mut b = registry.open(ip, outbox(), 2).unwrap();
        assert!(
            registry.open(ip, outbox(), 2).is_none(),
            "third from one IP"
        );
        assert!(a.claim_user(AppId(1), UserId(1), 1));
        assert!(!b.claim_user(AppId(1), UserId(1), 1), "second of one user");
        assert!(b.claim_user(AppId(2), UserId(1), 1), "another app's user");
        drop(a);
        assert!(registry.open(ip, outbox(), 2).is_some());
        assert_eq!(
            registry.open_count(),
            1,
            "the guard above was dropped at once"
        );
    }

    #[test]
    fn the_bucket_refills_at_its_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(10, 2);
        assert!(bucket.take(start));
        assert!(bucket.take(start));
        assert!(!bucket.take(start));
        assert!(bucket.take(start + Duration::from_millis(100)));
        assert!(!bucket.take(start + Duration::from_millis(100)));
    }

    #[tokio::test(start_paused = true)]
    async fn the_write_budget_lets_a_burst_through_then_paces_writes_in_turn() {
        // 1000 writes/s = one per millisecond, with 10 ms saved up.
        let budget = WriteBudget::new(1000, Duration::from_millis(10));
        // The write due now and 10 ms worth saved up.
        for _ in 0..11 {
            assert_eq!(budget.reserve(), Duration::ZERO, "inside the burst");
        }
        assert_eq!(budget.paced(), 0);
        // Beyond the burst each writer waits one interval more than the one before.
        assert_eq!(budget.reserve(), Duration::from_millis(1));
        assert_eq!(budget.reserve(), Duration::from_millis(2));
        assert_eq!(budget.paced(), 2);
        // Time passing gives the slots back: after 50 ms the burst is whole again.
        tokio::time::advance(Duration::from_millis(50)).await;
        for _ in 0..11 {
            assert_eq!(budget.reserve(), Duration::ZERO);
        }
        assert!(budget.reserve() > Duration::ZERO);
        let started = tokio::time::Instant::now();
        budget.acquire().await;
        assert!(
            started.elapsed() >= Duration::from_millis(1),
            "acquire sleeps out the wait"
        );
    }

    #[test]
    fn an_unlimited_write_budget_never_waits() {
        let budget = WriteBudget::new(0, Duration::ZERO);
        for _ in 0..10_000 {
            assert_eq!(budget.reserve(), Duration::ZERO);
        }
        assert_eq!(budget.paced(), 0);
    }
}
