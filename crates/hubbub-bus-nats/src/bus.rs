//! [`NatsBus`]: the [`Bus`] of a node in a cluster (see the crate docs for the
//! subject design).

use crate::codec;
use async_nats::connection::State;
use futures::StreamExt;
use hubbub_core::bus::Bus;
use hubbub_core::events::{ChannelEvent, EventType};
use hubbub_core::ids::{AppId, ChannelId};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

/// Settings of the NATS connection and bus.
#[derive(Debug, Clone)]
pub struct NatsConfig {
    /// `nats://host:port` (several, comma-separated, for a NATS cluster).
    pub url: String,
    /// First token of every subject, so several hubbub clusters can share one NATS.
    pub subject_prefix: String,
    /// The connection's name, as NATS monitoring shows it.
    pub connection_name: String,
    /// Events buffered for this node's slowest consumer before it lags (and resyncs
    /// from the store).
    pub local_capacity: usize,
    /// Events waiting to be handed to the NATS client before new ones are dropped
    /// (their subscribers on other nodes recover from the store).
    pub outgoing_capacity: usize,
    /// How long [`NatsBus::connect`] waits for the first connection before it returns
    /// a bus that is not ready yet (it keeps trying in the background).
    pub connect_wait: Duration,
    /// Longest pause between two reconnect attempts.
    pub max_reconnect_delay: Duration,
}

impl Default for NatsConfig {
    fn default() -> Self {
        Self {
            url: "nats://127.0.0.1:4222".into(),
            subject_prefix: "hubbub".into(),
            connection_name: "hubbub".into(),
            local_capacity: 65_536,
            outgoing_capacity: 65_536,
            connect_wait: Duration::from_secs(5),
            max_reconnect_delay: Duration::from_secs(2),
        }
    }
}

/// Why the bus could not be set up (a wrong URL; an unreachable server is not an
/// error: the bus starts not ready and connects when it can).
#[derive(Debug)]
pub struct ConnectError(String);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot set up NATS: {}", self.0)
    }
}

impl std::error::Error for ConnectError {}

/// Counters of the bus (cumulative).
#[derive(Debug, Default)]
pub struct BusCounters {
    /// Events handed to NATS.
    pub published: AtomicU64,
    /// Events not handed to NATS (queue full or client closed).
    pub dropped: AtomicU64,
    /// Events received from other nodes.
    pub received: AtomicU64,
    /// Messages on our subjects that could not be read.
    pub undecodable: AtomicU64,
}

/// How long a new subscriber waits at most for its channel's subscription to become
/// live; past it, it goes on (the resync still brings the messages it missed).
const LIVE_WAIT: Duration = Duration::from_secs(2);

type ChannelKey = (AppId, ChannelId);

enum Command {
    /// Subscribe (reporting liveness on the sender) or, with `None`, unsubscribe.
    Interest(ChannelKey, Option<watch::Sender<bool>>),
    Reconnected,
}

/// The clustered bus of one node. Cheap to share (`Arc<NatsBus>`).
pub struct NatsBus {
    client: async_nats::Client,
    local: broadcast::Sender<Arc<ChannelEvent>>,
    outgoing: mpsc::Sender<Arc<ChannelEvent>>,
    commands: mpsc::UnboundedSender<Command>,
    /// Whether each watched channel's subscription is live at the server.
    live: Mutex<HashMap<ChannelKey, watch::Receiver<bool>>>,
    counters: Arc<BusCounters>,
    tasks: Vec<JoinHandle<()>>,
}

/// `<prefix>.<app>.<channel>`: the subject of a channel's events.
pub fn channel_subject(prefix: &str, app: AppId, channel: ChannelId) -> String {
    format!("{prefix}.{}.{}", app.0, channel.0)
}

impl NatsBus {
    /// Connects (waiting up to `connect_wait` for the first connection) and starts
    /// the bus's tasks. Needs a Tokio runtime.
    pub async fn connect(config: &NatsConfig) -> Result<Self, ConnectError> {
        let (commands, command_rx) = mpsc::unbounded_channel();
        let on_event = commands.clone();
        let max_delay = config.max_reconnect_delay;
        let client = async_nats::ConnectOptions::new()
            // This node delivers its own events directly; the broker must not echo
            // them back (they would arrive twice).
            .no_echo()
            .name(&config.connection_name)
            .retry_on_initial_connect()
            .max_reconnects(None)
            .reconnect_delay_callback(move |attempts| {
                Duration::from_millis(100 * attempts.min(100) as u64).min(max_delay)
            })
            .ping_interval(Duration::from_secs(10))
            .event_callback(move |event| {
                let commands = on_event.clone();
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            tracing::info!("NATS connected");
                            let _ = commands.send(Command::Reconnected);
                        }
                        async_nats::Event::Disconnected => {
                            tracing::warn!("NATS disconnected; reconnecting");
                        }
                        other => tracing::debug!(event = %other, "NATS event"),
                    }
                }
            })
            .connect(config.url.as_str())
            .await
            .map_err(|e| ConnectError(e.to_string()))?;
        Ok(Self::start(client, config, commands, command_rx).await)
    }

    async fn start(
        client: async_nats::Client,
        config: &NatsConfig,
        commands: mpsc::UnboundedSender<Command>,
        command_rx: mpsc::UnboundedReceiver<Command>,
    ) -> Self {
        let deadline = tokio::time::Instant::now() + config.connect_wait;
        while client.connection_state() != State::Connected
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if client.connection_state() != State::Connected {
            tracing::warn!(url = %config.url, "NATS is not reachable yet; not ready until it is");
        }
        let (local, _) = broadcast::channel(config.local_capacity.max(16));
        let (outgoing, outgoing_rx) = mpsc::channel(config.outgoing_capacity.max(16));
        let counters = Arc::new(BusCounters::default());
        let prefix: Arc<str> = Arc::from(config.subject_prefix.as_str());
        let publisher = tokio::spawn(publish_loop(
            client.clone(),
            prefix.clone(),
            outgoing_rx,
            counters.clone(),
        ));
        let subscriptions = tokio::spawn(
            Subscriptions {
                client: client.clone(),
                prefix,
                local: local.clone(),
                counters: counters.clone(),
                channels: HashMap::new(),
            }
            .run(command_rx),
        );
        Self {
            client,
            local,
            outgoing,
            commands,
            live: Mutex::new(HashMap::new()),
            counters,
            tasks: vec![publisher, subscriptions],
        }
    }

    /// The NATS client (presence shares the connection).
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    pub fn counters(&self) -> &BusCounters {
        &self.counters
    }
}

impl Drop for NatsBus {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Bus for NatsBus {
    fn publish(&self, event: Arc<ChannelEvent>) {
        if event.event_type == EventType::Resync {
            // A local signal only; it means nothing to another node.
            let _ = self.local.send(event);
            return;
        }
        // This node's consumers get the event at once, whatever NATS does.
        let _ = self.local.send(event.clone());
        if self.outgoing.try_send(event).is_err() {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<ChannelEvent>> {
        self.local.subscribe()
    }

    fn announce(&self, event: Arc<ChannelEvent>) {
        if self.outgoing.try_send(event).is_err() {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn is_ready(&self) -> bool {
        self.client.connection_state() == State::Connected
    }

    fn interest(&self, app: AppId, channel: ChannelId, interested: bool) {
        let key = (app, channel);
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        // Registered here, not in the task, so `until_live` right after finds it.
        let report = if interested {
            let (tx, rx) = watch::channel(false);
            live.insert(key, rx);
            Some(tx)
        } else {
            live.remove(&key);
            None
        };
        let _ = self.commands.send(Command::Interest(key, report));
    }

    fn until_live(
        &self,
        app: AppId,
        channel: ChannelId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        let live = self
            .live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(app, channel))
            .cloned();
        // During an outage nothing would become live: do not hold the subscriber.
        let connected = self.is_ready();
        Box::pin(async move {
            if let (Some(mut live), true) = (live, connected) {
                let _ = tokio::time::timeout(LIVE_WAIT, live.wait_for(|l| *l)).await;
            }
        })
    }
}

/// Hands events to the NATS client in the order they were published.
async fn publish_loop(
    client: async_nats::Client,
    prefix: Arc<str>,
    mut events: mpsc::Receiver<Arc<ChannelEvent>>,
    counters: Arc<BusCounters>,
) {
    while let Some(event) = events.recv().await {
        let subject = channel_subject(&prefix, event.app_id, event.channel_id);
        match client.publish(subject, codec::encode(&event)).await {
            Ok(()) => counters.published.fetch_add(1, Ordering::Relaxed),
            Err(e) => {
                tracing::debug!(error = %e, "event not handed to NATS");
                counters.dropped.fetch_add(1, Ordering::Relaxed)
            }
        };
    }
}

/// The node's subscriptions: one per channel with local subscribers.
struct Subscriptions {
    client: async_nats::Client,
    prefix: Arc<str>,
    local: broadcast::Sender<Arc<ChannelEvent>>,
    counters: Arc<BusCounters>,
    channels: HashMap<(AppId, ChannelId), JoinHandle<()>>,
}

impl Subscriptions {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        while let Some(command) = commands.recv().await {
            match command {
                Command::Interest(key, Some(live)) => {
                    let task = tokio::spawn(receive_channel(
                        self.client.clone(),
                        channel_subject(&self.prefix, key.0, key.1),
                        key,
                        self.local.clone(),
                        live,
                        self.counters.clone(),
                    ));
                    if let Some(old) = self.channels.insert(key, task) {
                        old.abort();
                    }
                }
                Command::Interest(key, None) => {
                    // Dropping the subscriber (with its task) unsubscribes.
                    if let Some(task) = self.channels.remove(&key) {
                        task.abort();
                    }
                }
                Command::Reconnected => {
                    // Whatever other nodes published while we were away is lost on the
                    // bus; the rooms re-read the store. The client re-sends our
                    // subscriptions on reconnect, before the round trip's request, so
                    // once it returns nothing newer can be missed.
                    let keys: Vec<_> = self.channels.keys().copied().collect();
                    if keys.is_empty() {
                        continue;
                    }
                    let client = self.client.clone();
                    let local = self.local.clone();
                    tokio::spawn(async move {
                        round_trip(&client).await;
                        for (app, channel) in keys {
                            let _ = local.send(Arc::new(ChannelEvent::resync(app, channel)));
                        }
                    });
                }
            }
        }
    }
}

impl Drop for Subscriptions {
    fn drop(&mut self) {
        for task in self.channels.values() {
            task.abort();
        }
    }
}

/// Returns once the server has processed everything this connection sent before.
/// (`Client::flush` only empties the socket buffer.) A request nobody answers does
/// it: the server handles a connection's operations in order and replies "no
/// responders" itself.
async fn round_trip(client: &async_nats::Client) {
    let subject = client.new_inbox();
    match client.request(subject, bytes::Bytes::new()).await {
        Err(e) if e.kind() == async_nats::RequestErrorKind::NoResponders => {}
        Ok(_) => {}
        Err(e) => tracing::debug!(error = %e, "round trip to NATS failed"),
    }
}

/// Receives one channel's events from other nodes while this node has interest.
async fn receive_channel(
    client: async_nats::Client,
    subject: String,
    (app, channel): (AppId, ChannelId),
    local: broadcast::Sender<Arc<ChannelEvent>>,
    live: watch::Sender<bool>,
    counters: Arc<BusCounters>,
) {
    let mut subscriber = match client.subscribe(subject.clone()).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, %subject, "cannot subscribe; the channel's subscribers here get other nodes' messages late");
            return;
        }
    };
    // The subscriber read its position from the store before this subscription was
    // live at the server; once the round trip returns it is, and the room re-reads
    // the store for whatever was committed in between.
    round_trip(&client).await;
    live.send_replace(true);
    let _ = local.send(Arc::new(ChannelEvent::resync(app, channel)));
    while let Some(message) = subscriber.next().await {
        match codec::decode(app, channel, &message.payload) {
            Ok(event) => {
                counters.received.fetch_add(1, Ordering::Relaxed);
                let _ = local.send(Arc::new(event));
            }
            Err(e) => {
                counters.undecodable.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(error = %e, %subject, "undecodable event dropped");
            }
        }
    }
}
