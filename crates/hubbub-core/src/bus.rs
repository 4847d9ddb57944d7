//! The bus carries committed channel events to every consumer on every node.
//!
//! It is a notification path only: the store is the source of truth, and a consumer
//! that misses events (lag, reconnect, a node restart) fills the gap from the store by
//! seq. So a bus may drop events under pressure, but must never deliver an event whose
//! data was not committed — the engine guarantees that by publishing after commit.

use crate::events::ChannelEvent;
use crate::ids::{AppId, ChannelId};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::broadcast;

/// A bus implementation (in-process by default, NATS when scaled out).
pub trait Bus: Send + Sync + 'static {
    /// Publishes a committed event. Never blocks; a bus that cannot deliver drops the
    /// event and consumers recover from the store.
    fn publish(&self, event: Arc<ChannelEvent>);

    /// A stream of every event published for this node's consumers. A receiver that
    /// lags behind gets `RecvError::Lagged` and must resync from the store.
    fn subscribe(&self) -> broadcast::Receiver<Arc<ChannelEvent>>;

    /// Carries an event to the other nodes only: this node has delivered it itself.
    /// For join and leave pushes, which the announcing node delivers to its own
    /// subscribers but the one who joined. A single-node bus has nothing to do.
    fn announce(&self, event: Arc<ChannelEvent>) {
        let _ = event;
    }

    /// Whether the bus is connected (for `/readyz`, and the engine refuses writes
    /// that announce an event while it is not).
    fn is_ready(&self) -> bool {
        true
    }

    /// This node's consumers start (`true`) or stop (`false`) caring about a channel:
    /// the fan-out hub calls it when a channel's first local subscriber arrives and
    /// when its last one leaves. A clustered bus uses it to receive other nodes'
    /// events of that channel only while someone here watches it. Events published
    /// by this node always reach its own consumers, interest or not.
    ///
    /// Must not block. Called once per transition, in order.
    fn interest(&self, app: AppId, channel: ChannelId, interested: bool) {
        let _ = (app, channel, interested);
    }

    /// Completes once other nodes' events of a channel this node declared interest in
    /// reach it, so a subscriber that waits for it before reading its position misses
    /// nothing, not even events the store cannot replay (edits, typing, joins). A
    /// bus may give up waiting (an outage must not hold subscribers); a single-node
    /// bus is always there.
    fn until_live(
        &self,
        app: AppId,
        channel: ChannelId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        let _ = (app, channel);
        Box::pin(std::future::ready(()))
    }
}

/// The single-node bus: a tokio broadcast channel.
pub struct InProcessBus {
    sender: broadcast::Sender<Arc<ChannelEvent>>,
}

impl InProcessBus {
    /// `capacity` events are buffered for the slowest receiver before it lags.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(16));
        Self { sender }
    }
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self::new(65_536)
    }
}

impl Bus for InProcessBus {
    fn publish(&self, event: Arc<ChannelEvent>) {
        // No receiver is fine: nobody is watching.
        let _ = self.sender.send(event);
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<ChannelEvent>> {
        self.sender.subscribe()
    }
}
