//! The real-time gateway: the Centrifugo client protocol v2 (JSON) over WebSocket,
//! a resumable Server-Sent-Events feed, and the token endpoint that mints connection
//! tokens.
//!
//! * [`protocol`] — commands, replies, pushes, error and disconnect codes.
//! * [`session`] — the one session brain (connect, subscribe with recovery, publish,
//!   history, presence, rpc, refresh, pings), independent of any transport.
//! * [`ws`] — `GET /connection/websocket`: the WebSocket adapter (reader = session,
//!   writer = drains the connection's outbox into one frame per write).
//! * [`sse`] — `GET /connection/sse?channel=NAME&token=JWT`: read-only event stream.
//! * [`uni_sse`] — `GET|POST /connection/uni_sse`: Centrifugo's unidirectional SSE
//!   transport (the session brain with another wire).
//! * [`tokens`] — `POST /v1/realtime/tokens`: connection tokens for the app backend.
//! * [`limits`] — connections per IP and per user, command rates.
//! * [`control`] — server-side unsubscribes (member removed, channel deleted).
//!
//! Fan-out is the core's [`Hub`]: each committed event is encoded once per wire format
//! and the same frame is queued for every subscriber.

pub mod autobahn;
pub mod control;
pub mod limits;
pub mod protocol;
pub mod session;
pub mod sse;
pub mod tokens;
pub mod uni_sse;
pub mod ws;

use crate::AppState;
use axum::routing::get;
use hubbub_core::Engine;
use hubbub_core::events::{ChannelEvent, EventType};
use hubbub_core::fanout::{Frame, FrameEncoder, FrameFormat, Hub, Outbox};
use hubbub_core::presence::{MemoryPresence, Presence};
use limits::ConnectionRegistry;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Notify;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Frames for Centrifugo JSON clients.
pub const FORMAT_CENTRIFUGO_JSON: FrameFormat = FrameFormat(0);
/// Frames for SSE streams.
pub const FORMAT_SSE: FrameFormat = FrameFormat(1);
/// Frames for Centrifugo's unidirectional SSE (`data: <push>`).
pub const FORMAT_UNI_SSE: FrameFormat = FrameFormat(2);

/// Settings of the gateway (the `[realtime]` section of the configuration).
#[derive(Debug, Clone)]
pub struct RealtimeConfig {
    /// How often the server pings each connection; a client that has not answered
    /// the previous ping by the next one is disconnected (3012 "no pong").
    pub ping_interval: Duration,
    /// Largest incoming WebSocket message; larger ones close the connection (1009).
    pub max_frame_bytes: usize,
    /// Channels one connection may subscribe to at once (error 106 beyond).
    pub max_subscriptions: usize,
    /// Open connections per client IP (0 = unlimited; beyond: close 3504).
    pub max_connections_per_ip: usize,
    /// Open connections per user of an application (0 = unlimited; beyond: 3504).
    pub max_connections_per_user: usize,
    /// Sustained commands per second per connection (error 111 beyond).
    pub commands_per_second: u32,
    /// Commands a connection may send in a burst above the sustained rate.
    pub command_burst: u32,
    /// Most frames queued for one connection before it counts as slow (3008).
    pub queue_max_frames: usize,
    /// Most bytes queued for one connection before it counts as slow (3008).
    pub queue_max_bytes: usize,
    /// Shortest interval between two socket writes of one connection: frames queued
    /// meanwhile go out together in the next write (0 = write whenever woken).
    pub write_coalesce: Duration,
    /// Socket writes per second for all realtime connections of the node together
    /// (0 = unlimited); see [`limits::WriteBudget`].
    pub max_writes_per_second: u64,
    /// Writes the budget lets through at once before it paces.
    pub write_burst: Duration,
    /// Most publications a resubscribe recovers; beyond, `recovered: false`.
    pub recovery_max_publications: u32,
    /// Largest `history` limit; larger limits are clamped.
    pub history_max_limit: u32,
    /// Read and write buffer of each WebSocket, in bytes.
    pub ws_buffer_bytes: usize,
    /// How long a fresh connection may take to send its connect command.
    pub connect_timeout: Duration,
    /// SSE keep-alive comment interval.
    pub sse_keepalive: Duration,
    /// How long graceful shutdown waits for connections to close.
    pub shutdown_grace: Duration,
    /// Serve `/connection/autobahn-echo` (for the Autobahn conformance script only).
    pub autobahn_echo: bool,
    /// Browser origins allowed to open realtime connections (`https://example.com`);
    /// empty allows every origin. Requests without an `Origin` header (non-browser
    /// clients) are always allowed: authentication is the token, never a cookie.
    pub allowed_origins: Vec<String>,
}

impl Default for RealtimeConfig {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(25),
            max_frame_bytes: 64 * 1024,
            max_subscriptions: 128,
            max_connections_per_ip: 1000,
            max_connections_per_user: 20,
            commands_per_second: 50,
            command_burst: 100,
            queue_max_frames: 4096,
            queue_max_bytes: 1024 * 1024,
            write_coalesce: Duration::ZERO,
            max_writes_per_second: 0,
            write_burst: Duration::from_millis(100),
            recovery_max_publications: 1000,
            history_max_limit: 1000,
            ws_buffer_bytes: 1024,
            connect_timeout: Duration::from_secs(10),
            sse_keepalive: Duration::from_secs(15),
            shutdown_grace: Duration::from_secs(5),
            autobahn_echo: false,
            allowed_origins: Vec::new(),
        }
    }
}

/// Encodes events for both wire formats.
struct WireEncoder;

impl FrameEncoder for WireEncoder {
    fn encode(&self, format: FrameFormat, room: &str, event: &ChannelEvent) -> Frame {
        match format {
            FORMAT_SSE => sse::event_frame(event),
            FORMAT_UNI_SSE => uni_sse::publication_event(room, &event.data, event.seq),
            _ => protocol::publication_push(room, &event.data, event.seq),
        }
    }

    fn encode_push(&self, format: FrameFormat, room: &str, event: &ChannelEvent) -> Option<Frame> {
        let kind = match event.event_type {
            EventType::Join => "join",
            EventType::Leave => "leave",
            _ => return None,
        };
        let wire = match format {
            FORMAT_CENTRIFUGO_JSON => session::Wire::Bidirectional,
            FORMAT_UNI_SSE => session::Wire::UniSse,
            // SSE streams carry publications only.
            _ => return None,
        };
        let body: serde_json::Value = serde_json::from_slice(&event.data).ok()?;
        Some(wire.push(Some(room), kind, &body))
    }
}

/// The gateway of one node. Cheap to share (`Arc<Gateway>`).
pub struct Gateway {
    pub engine: Arc<Engine>,
    pub hub: Arc<Hub>,
    pub presence: Arc<dyn Presence>,
    pub config: RealtimeConfig,
    pub connections: ConnectionRegistry,
    pub controls: Arc<control::Controls>,
    /// WebSocket writes, and frames (replies and pushes) carried by them.
    pub ws_writes: AtomicU64,
    pub ws_frames: AtomicU64,
    /// The node's budget of socket writes (shared by every realtime connection).
    pub write_budget: limits::WriteBudget,
    shutting_down: AtomicBool,
    stop_hub: Arc<Notify>,
}

impl Gateway {
    /// Builds the gateway with this node's own presence and starts its hub on the
    /// engine's bus (needs a runtime).
    pub fn new(engine: Arc<Engine>, config: RealtimeConfig) -> Arc<Self> {
        Self::with_presence(engine, config, Arc::new(MemoryPresence::new()))
    }

    /// [`Gateway::new`] with another presence (the cluster's, when scaled out).
    pub fn with_presence(
        engine: Arc<Engine>,
        config: RealtimeConfig,
        presence: Arc<dyn Presence>,
    ) -> Arc<Self> {
        let hub = Arc::new(
            Hub::new(Arc::new(WireEncoder), engine.store().clone())
                .with_interest(engine.bus().clone()),
        );
        let stop_hub = Arc::new(Notify::new());
        let events = engine.bus().subscribe();
        let stop = stop_hub.clone();
        tokio::spawn(
            hub.clone()
                .run(events, async move { stop.notified().await }),
        );
        let controls = Arc::new(control::Controls::default());
        let mut membership = engine.bus().subscribe();
        let dispatcher = controls.clone();
        let stop = stop_hub.clone();
        tokio::spawn(async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                tokio::select! {
                    _ = stop.notified() => return,
                    received = membership.recv() => match received {
                        Ok(event) => dispatcher.dispatch(&event),
                        Err(RecvError::Lagged(_)) => continue,
                        Err(RecvError::Closed) => return,
                    },
                }
            }
        });
        Arc::new(Self {
            controls,
            ws_writes: AtomicU64::new(0),
            ws_frames: AtomicU64::new(0),
            write_budget: limits::WriteBudget::new(
                config.max_writes_per_second,
                config.write_burst,
            ),
            engine,
            hub,
            presence,
            connections: ConnectionRegistry::default(),
            config,
            shutting_down: AtomicBool::new(false),
            stop_hub,
        })
    }

    /// A new connection's outbox, sized by the configuration.
    pub fn new_outbox(&self) -> Arc<Outbox> {
        Arc::new(Outbox::new(
            self.config.queue_max_frames,
            self.config.queue_max_bytes,
            protocol::SLOW.closing(),
        ))
    }

    /// Waits for the slot of a connection's next write in the node's write budget
    /// (see [`limits::WriteBudget`]); at once when only a closing is left to send.
    /// Every realtime transport calls this between [`Outbox::ready`] and taking
    /// the batch, so the write carries whatever was queued while it waited.
    pub async fn write_slot(&self, outbox: &Outbox) {
        if !outbox.is_empty() {
            self.write_budget.acquire().await;
        }
    }

    /// Whether a request with this `Origin` header may connect.
    pub fn origin_allowed(&self, origin: Option<&str>) -> bool {
        match origin {
            None => true,
            Some(_) if self.config.allowed_origins.is_empty() => true,
            Some(origin) => self
                .config
                .allowed_origins
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(origin.trim_end_matches('/'))),
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }

    /// Starts a graceful shutdown: refuses new connections and tells every open one
    /// to reconnect elsewhere (disconnect 3001 "shutdown", reconnect advised). SSE
    /// streams end.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Relaxed);
        self.connections.close_all(protocol::SHUTDOWN.closing());
    }

    /// Waits (at most the configured grace) until every connection has closed, then
    /// stops the hub.
    pub async fn drained(&self) {
        let deadline = tokio::time::Instant::now() + self.config.shutdown_grace;
        while self.connections.open_count() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.stop_hub.notify_waiters();
    }
}

impl Gateway {
    /// Appends the gateway's figures to a Prometheus text page.
    pub fn render_metrics(&self, out: &mut String) {
        use std::fmt::Write;
        let hub = self.hub.stats();
        let figures: [(&str, &str, &str, u64); 9] = [
            (
                "hubbub_realtime_connections",
                "gauge",
                "Open realtime connections (WebSocket and SSE).",
                self.connections.open_count() as u64,
            ),
            (
                "hubbub_realtime_rooms",
                "gauge",
                "Channels with local subscribers.",
                hub.rooms,
            ),
            (
                "hubbub_realtime_events_total",
                "counter",
                "Events routed to rooms with subscribers.",
                hub.events,
            ),
            (
                "hubbub_realtime_deliveries_total",
                "counter",
                "Publications queued to subscribers.",
                hub.deliveries,
            ),
            (
                "hubbub_realtime_slow_disconnects_total",
                "counter",
                "Subscribers dropped because their queue overflowed or closed.",
                hub.dropped_subscribers,
            ),
            (
                "hubbub_realtime_gap_fills_total",
                "counter",
                "Messages read from the store to fill fan-out gaps.",
                hub.gap_fills,
            ),
            (
                "hubbub_realtime_ws_writes_total",
                "counter",
                "WebSocket frames written (one socket write each).",
                self.ws_writes.load(Ordering::Relaxed),
            ),
            (
                "hubbub_realtime_ws_frames_total",
                "counter",
                "Replies and pushes carried by those writes.",
                self.ws_frames.load(Ordering::Relaxed),
            ),
            (
                "hubbub_realtime_paced_writes_total",
                "counter",
                "Realtime writes that waited for their slot in the node's write budget.",
                self.write_budget.paced(),
            ),
        ];
        for (name, kind, help, value) in figures {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {value}");
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop_hub.notify_waiters();
    }
}

/// The gateway's connection endpoints, served at the root only.
pub fn connection_routes(state: &AppState) -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::new()
        .routes(routes!(ws::upgrade))
        .routes(routes!(sse::stream))
        .routes(routes!(uni_sse::get, uni_sse::post));
    if state.gateway.config.autobahn_echo {
        // Test-only (scripts/autobahn.sh), so not in the API description.
        router = router.route("/connection/autobahn-echo", get(autobahn::echo));
    }
    router
}

/// The gateway's REST routes, served like the Platform API (with and without `/v1`).
pub fn rest_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(tokens::mint))
}
