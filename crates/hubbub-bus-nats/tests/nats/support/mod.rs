//! NATS for the tests: the shared server (`HUBBUB_TEST_NATS_URL`, default
//! `nats://127.0.0.1:4222`) and private servers a test starts and stops itself.
//!
//! Without NATS a test is skipped with a note, except under `CI=true`, where a
//! missing server or `nats-server` binary is a failure.

#![allow(dead_code)]

use hubbub_bus_nats::{NatsBus, NatsConfig};
use hubbub_core::bus::Bus;
use hubbub_core::events::{ChannelEvent, EventType};
use hubbub_core::ids::{AppId, ChannelId};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

pub(crate) const WAIT: Duration = Duration::from_secs(10);

const NATS_SERVER: &str = "/usr/sbin/nats-server";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn unavailable<T>(what: String) -> Option<T> {
    assert!(!in_ci(), "CI=true: {what}");
    eprintln!("skipped: {what}");
    None
}

/// The shared server's URL, if it answers.
pub(crate) fn shared_nats() -> Option<String> {
    let url =
        std::env::var("HUBBUB_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let addr = url.trim_start_matches("nats://");
    let reachable = addr
        .parse::<SocketAddr>()
        .ok()
        .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok());
    if reachable {
        Some(url)
    } else {
        unavailable(format!("NATS is not reachable at {url}"))
    }
}

/// A name no other test (or run) uses: subject prefixes and bucket names.
pub(crate) fn unique(label: &str) -> String {
    format!("t{}{}", label, uuid::Uuid::new_v4().simple())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `nats-server` of the test's own, with JetStream and monitoring.
pub(crate) struct PrivateNats {
    pub(crate) port: u16,
    pub(crate) monitor_port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl PrivateNats {
    pub(crate) fn start() -> Option<Self> {
        if !std::path::Path::new(NATS_SERVER).exists() {
            return unavailable(format!("{NATS_SERVER} is not installed"));
        }
        let mut server = Self {
            port: free_port(),
            monitor_port: free_port(),
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        server.resume();
        Some(server)
    }

    pub(crate) fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again, on the same ports).
    pub(crate) fn resume(&mut self) {
        let child = Command::new(NATS_SERVER)
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-m", &self.monitor_port.to_string()])
            .args(["-js", "-sd"])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        let addr: SocketAddr = ([127, 0, 0, 1], self.port).into();
        let deadline = std::time::Instant::now() + WAIT;
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(std::time::Instant::now() < deadline, "nats-server listens");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server (an outage, not a shutdown).
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `(in_msgs, out_msgs)` of the server's `/varz`: messages received from clients
    /// and delivered to them.
    pub(crate) fn message_counts(&self) -> (u64, u64) {
        use std::io::{Read, Write};
        let mut stream = TcpStream::connect(("127.0.0.1", self.monitor_port)).unwrap();
        stream
            .write_all(b"GET /varz HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let body = &response[response.find("\r\n\r\n").unwrap() + 4..];
        let varz: serde_json::Value = serde_json::from_str(body).unwrap();
        (
            varz["in_msgs"].as_u64().unwrap(),
            varz["out_msgs"].as_u64().unwrap(),
        )
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A node's bus on `url` with its own subject prefix.
pub(crate) async fn node(url: &str, prefix: &str) -> Arc<NatsBus> {
    let config = NatsConfig {
        url: url.into(),
        subject_prefix: prefix.into(),
        max_reconnect_delay: Duration::from_millis(200),
        ..NatsConfig::default()
    };
    let bus = NatsBus::connect(&config).await.expect("bus connects");
    assert!(bus.is_ready(), "connected to {url}");
    Arc::new(bus)
}

pub(crate) fn message(app: i64, channel: i64, seq: i64, body: &str) -> Arc<ChannelEvent> {
    Arc::new(ChannelEvent::new(
        AppId(app),
        ChannelId(channel),
        EventType::MessageCreated,
        Some(seq),
        "epoch1",
        &serde_json::json!({"type": "message.created", "message": {"seq": seq, "body": body}}),
    ))
}

/// Declares interest and waits until the subscription is live (the bus says so
/// with a resync of the channel).
pub(crate) async fn watch(
    bus: &NatsBus,
    app: i64,
    channel: i64,
) -> broadcast::Receiver<Arc<ChannelEvent>> {
    let mut events = bus.subscribe();
    bus.interest(AppId(app), ChannelId(channel), true);
    tokio::time::timeout(WAIT, async {
        loop {
            let event = events.recv().await.unwrap();
            if event.event_type == EventType::Resync && event.channel_id == ChannelId(channel) {
                return;
            }
        }
    })
    .await
    .expect("the subscription becomes live");
    events
}

/// The next event that is not a resync.
pub(crate) async fn next_event(
    events: &mut broadcast::Receiver<Arc<ChannelEvent>>,
) -> Arc<ChannelEvent> {
    tokio::time::timeout(WAIT, async {
        loop {
            let event = events.recv().await.unwrap();
            if event.event_type != EventType::Resync {
                return event;
            }
        }
    })
    .await
    .expect("an event in time")
}

/// Asserts nothing but resyncs arrives for `quiet`.
pub(crate) async fn assert_quiet(
    events: &mut broadcast::Receiver<Arc<ChannelEvent>>,
    quiet: Duration,
) {
    let got = tokio::time::timeout(quiet, async {
        loop {
            match events.recv().await {
                Ok(e) if e.event_type == EventType::Resync => continue,
                other => return other,
            }
        }
    })
    .await;
    if let Ok(event) = got {
        panic!("expected nothing, got {event:?}");
    }
}

/// Polls `check` until it holds (or fails after [`WAIT`]).
pub(crate) async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
