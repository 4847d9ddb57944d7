//! Joining a cluster: with `cluster.nats_url` set, the node's bus is NATS and its
//! presence and online users are the cluster's (see `hubbub-bus-nats`).

use crate::config::{Config, redact_url};
use hubbub_bus_nats::{ClusterPresence, NatsBus, NatsConfig, PresenceConfig};
use hubbub_core::bus::Bus;
use hubbub_core::presence::{OnlineUsers, Presence};
use std::sync::Arc;
use std::time::Duration;

/// This node's membership of a cluster.
pub struct ClusterNode {
    bus: Arc<NatsBus>,
    presence: Arc<ClusterPresence>,
}

impl ClusterNode {
    /// Connects to NATS when the configuration names it; `None` for a single node.
    /// An unreachable NATS is not an error: the node starts not ready and joins
    /// when NATS answers.
    pub async fn join(config: &Config) -> anyhow::Result<Option<Self>> {
        let cluster = &config.cluster;
        if cluster.nats_url.is_empty() {
            return Ok(None);
        }
        let nats = NatsConfig {
            url: cluster.nats_url.clone(),
            subject_prefix: cluster.subject_prefix.clone(),
            connection_name: format!("hubbub {}", config.listen),
            ..NatsConfig::default()
        };
        let bus = NatsBus::connect(&nats).await.map_err(|e| {
            anyhow::anyhow!("{e} (cluster.nats_url {})", redact_url(&cluster.nats_url))
        })?;
        let presence = ClusterPresence::start(
            bus.client().clone(),
            PresenceConfig {
                bucket: cluster.presence_bucket.clone(),
                ttl: Duration::from_secs(cluster.presence_ttl_secs),
                ..PresenceConfig::default()
            },
        );
        tracing::info!(
            nats = %redact_url(&cluster.nats_url),
            node = presence.node_id(),
            ready = bus.is_ready(),
            "joined the cluster"
        );
        Ok(Some(Self {
            bus: Arc::new(bus),
            presence: Arc::new(presence),
        }))
    }

    pub fn bus(&self) -> Arc<dyn Bus> {
        self.bus.clone()
    }

    pub fn presence(&self) -> Arc<dyn Presence> {
        self.presence.clone()
    }

    pub fn online_users(&self) -> Arc<dyn OnlineUsers> {
        self.presence.clone()
    }

    /// Leaves the cluster's presence at once (rather than after the TTL).
    pub async fn leave(&self) {
        self.presence.shutdown(self.bus.client().clone()).await;
    }
}
