//! Realtime fan-out load: N WebSocket viewers (Centrifugo JSON protocol) in one channel,
//! M publishers sending R messages/s in total for T seconds through REST.
//!
//! Viewers run in child processes (`hubbub-bench ws-viewers`, at most
//! `--viewers-per-process` each, since a process may hold 20,000 open files). Each
//! viewer checks every delivery: offsets must go up by exactly one (no gap, no
//! duplicate, no reordering). Messages carry their send time (`t=<unix µs>` at the start
//! of the body), so each delivery yields a publish→receive latency.
//!
//! The parent prints deliveries/s, latency p50/p99/p99.9, the server's CPU time per
//! delivery and RSS per connection (from `/proc/<pid>`), and publications per WebSocket
//! frame as the viewers saw them (the server writes one frame per socket write, so this
//! is its frames-per-write). `--idle` only connects the viewers and reports memory.
//!
//! Loopback only; every loop is bounded by a count or a deadline.

use crate::proc_stat;
use crate::ws_client::{self, Event, OP_CLOSE, OP_PONG, OP_TEXT};
use anyhow::{Context, bail};
use base64::Engine as _;
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use memchr::memmem;
use serde_json::{Value, json};
use std::io::{BufRead, Write};
use std::pin::Pin;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

#[derive(clap::Args)]
pub(crate) struct WsArgs {
    /// Server base URL (loopback), e.g. http://127.0.0.1:8080
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base: String,
    #[arg(long)]
    client_id: String,
    #[arg(long)]
    client_secret: String,
    /// Viewers (WebSocket connections subscribed to the channel).
    #[arg(long, default_value_t = 1000)]
    viewers: usize,
    /// Most viewers per child process.
    #[arg(long, default_value_t = 15_000)]
    viewers_per_process: usize,
    /// Publishers (each its own user and connection).
    #[arg(long, default_value_t = 4)]
    publishers: usize,
    /// How publishers send: `rest` (POST /v1/channels/{id}/messages) or `ws` (the
    /// protocol's publish command).
    #[arg(long, default_value = "rest", value_parser = ["rest", "ws"])]
    publish_via: String,
    /// Messages per second, all publishers together.
    #[arg(long, default_value_t = 100)]
    rate: u64,
    /// Seconds of publishing.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Message body size in bytes (at least the timestamp).
    #[arg(long, default_value_t = 100)]
    body_bytes: usize,
    /// PID of the server, for CPU per delivery and RSS per connection.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Only connect the viewers and report memory per connection.
    #[arg(long)]
    idle: bool,
}

#[derive(clap::Args)]
pub(crate) struct ViewersArgs {
    #[arg(long)]
    ws_url: String,
    #[arg(long)]
    token: String,
    #[arg(long)]
    channel: String,
    #[arg(long)]
    count: usize,
}

// ----- latency histogram --------------------------------------------------------------

/// Buckets of 10 µs up to 10 ms, 100 µs up to 100 ms, 1 ms up to 10 s.
const BUCKETS: usize = 1000 + 900 + 9900;

fn bucket(micros: u64) -> usize {
    if micros < 10_000 {
        (micros / 10) as usize
    } else if micros < 100_000 {
        1000 + ((micros - 10_000) / 100) as usize
    } else {
        (1900 + ((micros - 100_000) / 1000) as usize).min(BUCKETS - 1)
    }
}

fn bucket_upper_micros(b: usize) -> u64 {
    if b < 1000 {
        (b as u64 + 1) * 10
    } else if b < 1900 {
        10_000 + (b as u64 - 999) * 100
    } else {
        100_000 + (b as u64 - 1899) * 1000
    }
}

struct Histogram(Vec<AtomicU64>);

impl Histogram {
    fn new() -> Self {
        Self((0..BUCKETS).map(|_| AtomicU64::new(0)).collect())
    }
    fn record(&self, micros: u64) {
        self.0[bucket(micros)].fetch_add(1, Ordering::Relaxed);
    }
    fn sparse(&self) -> Vec<(usize, u64)> {
        self.0
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.load(Ordering::Relaxed)))
            .filter(|(_, c)| *c > 0)
            .collect()
    }
}

fn percentile(counts: &[u64], p: f64) -> f64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let rank = ((total as f64) * p).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (b, c) in counts.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return bucket_upper_micros(b) as f64 / 1000.0;
        }
    }
    0.0
}

fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

// ----- child: viewers -----------------------------------------------------------------

#[derive(Default, Clone, Copy)]
struct ViewerStats {
    deliveries: u64,
    duplicates: u64,
    reordered: u64,
    gaps: u64,
    missing: u64,
    frames: u64,
    last: i64,
    connected: bool,
}

/// The leading ASCII digits of `bytes` as a number; `None` without a digit or on
/// overflow.
fn leading_number(bytes: &[u8]) -> Option<u64> {
    let mut value = 0u64;
    let mut digits = 0;
    for &b in bytes.iter().take_while(|b| b.is_ascii_digit()) {
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        digits += 1;
    }
    (digits > 0).then_some(value)
}

static PUB_MARKER: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"\"pub\":"));
static OFFSET_MARKER: LazyLock<memmem::FinderRev<'static>> =
    LazyLock::new(|| memmem::FinderRev::new(b"\"offset\":"));
static BODY_MARKER: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"\"body\":\"t="));

/// Where the digits of `"offset":N` start when the line ends with `"offset":N}…}`: then
/// this is the last `"offset":` of the line, the one `rfind` would find.
fn offset_at_end(line: &[u8]) -> Option<usize> {
    let braces = line.iter().rev().take_while(|b| **b == b'}').count();
    let end = line.len() - braces;
    let digits = line[..end]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let start = end - digits;
    (digits > 0 && line[..start].ends_with(b"\"offset\":")).then_some(start)
}

/// Parses `"offset":N` of a publication line, and the `t=` timestamp of its body.
fn parse_publication(line: &[u8]) -> Option<(i64, Option<u64>)> {
    // `{"push":{"channel":"…","pub":…`: the marker sits right after the short channel
    // name, so only the head of the line is searched.
    let head = &line[..line.len().min(96)];
    if !line.starts_with(b"{\"push\":") || PUB_MARKER.find(head).is_none() {
        return None;
    }
    // The offset closes the publication object (`,"offset":N}}}`): look right there
    // before searching from the end.
    let at = match offset_at_end(line) {
        Some(at) => at,
        None => OFFSET_MARKER.rfind(line)? + 9,
    };
    let offset = i64::try_from(leading_number(&line[at..])?).ok()?;
    let sent = BODY_MARKER
        .find(line)
        .and_then(|i| leading_number(&line[i + 10..]));
    Some((offset, sent))
}

/// The published range, handed to every viewer at once when the parent says STOP.
///
/// A viewer polls it on every wake-up: that is one atomic load of a line all viewers
/// share (and only read until the stop), and a lock only on the first poll, to leave
/// the task's waker. (A per-viewer channel costs a cache miss per wake-up; polling a
/// shared `watch` locks its waiter list, shared by all viewers, every time.)
#[derive(Default)]
struct Stop {
    range: OnceLock<(i64, i64)>,
    wakers: Mutex<Vec<Waker>>,
}

impl Stop {
    /// Ready with the range once stopped. `registered` is the caller's: whether its
    /// waker is already left here (a task's waker stays valid for the task's life).
    fn poll(&self, cx: &mut TaskContext<'_>, registered: &mut bool) -> Poll<(i64, i64)> {
        if let Some(range) = self.range.get() {
            return Poll::Ready(*range);
        }
        if !*registered {
            *registered = true;
            self.wakers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(cx.waker().clone());
            // `stop` sets the range before it takes the wakers: look again.
            if let Some(range) = self.range.get() {
                return Poll::Ready(*range);
            }
        }
        Poll::Pending
    }

    fn stop(&self, range: (i64, i64)) {
        let _ = self.range.set(range);
        let wakers = std::mem::take(&mut *self.wakers.lock().unwrap_or_else(|e| e.into_inner()));
        for waker in wakers {
            waker.wake();
        }
    }
}

/// One viewer: connects with the lean client (`ws_client`), subscribes and checks every
/// publication until `stop` gives the published range and the last of it arrived (or
/// 10 s passed).
async fn viewer(
    url: String,
    token: String,
    channel: String,
    histogram: Arc<Histogram>,
    ready: tokio::sync::mpsc::Sender<bool>,
    stop: Arc<Stop>,
) -> ViewerStats {
    let mut stats = ViewerStats::default();
    let connected = tokio::time::timeout(Duration::from_secs(60), ws_client::connect(&url)).await;
    let Ok(Ok((mut stream, mut frames))) = connected else {
        let _ = ready.send(false).await;
        return stats;
    };
    let hello = format!(
        "{}\n{}",
        json!({"id": 1, "connect": {"token": token, "name": "hubbub-bench"}}),
        json!({"id": 2, "subscribe": {"channel": channel}})
    );
    // Frames to send (pongs), written once all buffered input is handled.
    let mut out = Vec::with_capacity(hello.len() + 16);
    ws_client::push_frame(&mut out, OP_TEXT, hello.as_bytes());
    if stream.write_all(&out).await.is_err() {
        let _ = ready.send(false).await;
        return stats;
    }
    out.clear();
    let mut subscribed = false;
    let mut target: Option<(i64, i64)> = None;
    let mut stop_registered = false;
    let mut deadline: Option<Pin<Box<tokio::time::Sleep>>> = None;
    let mut close_sent = false;
    'connection: loop {
        // Handle every complete frame already read, then read once more.
        loop {
            if let Some((_, last)) = target
                && stats.last >= last
            {
                break 'connection;
            }
            let text = match frames.next_event() {
                Ok(Some(Event::Message(text))) => text,
                Ok(Some(Event::Ping(payload))) => {
                    ws_client::push_frame(&mut out, OP_PONG, payload);
                    continue;
                }
                Ok(Some(Event::Pong)) => continue,
                Ok(Some(Event::Close(payload))) => {
                    // Echo the status code, as RFC 6455 §5.5.1 asks.
                    let code = payload.get(..2).unwrap_or_default();
                    ws_client::push_frame(&mut out, OP_CLOSE, code);
                    close_sent = true;
                    break 'connection;
                }
                Ok(None) => break,
                Err(_) => break 'connection,
            };
            let now = unix_micros();
            let mut pubs = 0;
            let mut rest = text;
            while !rest.is_empty() {
                let line;
                (line, rest) = match memchr::memchr(b'\n', rest) {
                    Some(i) => (&rest[..i], &rest[i + 1..]),
                    None => (rest, &[][..]),
                };
                if line == b"{}" {
                    ws_client::push_frame(&mut out, OP_TEXT, b"{}");
                    continue;
                }
                if !subscribed {
                    if memmem::find(line, b"\"id\":2").is_some() {
                        subscribed = memmem::find(line, b"\"subscribe\"").is_some();
                        if let Some(at) = memmem::find(line, b"\"offset\":") {
                            stats.last = leading_number(&line[at + 9..])
                                .and_then(|n| i64::try_from(n).ok())
                                .unwrap_or(0);
                        }
                        stats.connected = subscribed;
                        let _ = ready.send(subscribed).await;
                        if !subscribed {
                            return stats;
                        }
                    }
                    continue;
                }
                let Some((offset, sent)) = parse_publication(line) else {
                    continue;
                };
                pubs += 1;
                stats.deliveries += 1;
                if let Some(sent) = sent {
                    histogram.record(now.saturating_sub(sent));
                }
                if offset == stats.last + 1 {
                    stats.last = offset;
                } else if offset <= stats.last {
                    stats.duplicates += 1;
                } else {
                    stats.gaps += (offset - stats.last - 1) as u64;
                    stats.reordered += 1;
                    stats.last = offset;
                }
            }
            if pubs > 0 {
                stats.frames += 1;
            }
        }
        if !out.is_empty() {
            let _ = stream.write_all(&out).await;
            out.clear();
        }
        tokio::select! {
            biased;
            range = std::future::poll_fn(|cx| stop.poll(cx, &mut stop_registered)),
                if target.is_none() =>
            {
                target = Some(range);
                deadline = Some(Box::pin(tokio::time::sleep(Duration::from_secs(10))));
            }
            () = async {
                if let Some(d) = deadline.as_mut() {
                    d.await;
                }
            }, if deadline.is_some() => break,
            read = frames.read_from(&mut stream) => match read {
                Ok(n) if n > 0 => {}
                _ => break,
            },
        }
    }
    if let Some((first, last)) = target {
        let expected = (last - first + 1).max(0) as u64;
        let unique = stats.deliveries.saturating_sub(stats.duplicates);
        stats.missing = expected.saturating_sub(unique);
    }
    if !close_sent {
        ws_client::push_frame(&mut out, OP_CLOSE, &1000u16.to_be_bytes());
    }
    let _ = stream.write_all(&out).await;
    stats
}

pub(crate) async fn run_viewers(args: ViewersArgs) -> anyhow::Result<()> {
    let histogram = Arc::new(Histogram::new());
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(1024);
    let limit = Arc::new(tokio::sync::Semaphore::new(256));
    let mut tasks = Vec::with_capacity(args.count);
    let stop = Arc::new(Stop::default());
    for _ in 0..args.count {
        let permit = limit.clone().acquire_owned().await?;
        let (url, token, channel) = (
            args.ws_url.clone(),
            args.token.clone(),
            args.channel.clone(),
        );
        let stop = stop.clone();
        let (histogram, ready) = (histogram.clone(), ready_tx.clone());
        let (inner_tx, mut inner_rx) = tokio::sync::mpsc::channel(1);
        tasks.push(tokio::spawn(viewer(
            url, token, channel, histogram, inner_tx, stop,
        )));
        tokio::spawn(async move {
            let ok = inner_rx.recv().await.unwrap_or(false);
            drop(permit);
            let _ = ready.send(ok).await;
        });
    }
    drop(ready_tx);
    let mut connected = 0;
    for _ in 0..args.count {
        match ready_rx.recv().await {
            Some(true) => connected += 1,
            Some(false) => {}
            None => break,
        }
    }
    println!("READY {connected}");
    std::io::stdout().flush()?;

    // Wait for "STOP <first seq> <last seq>" on stdin.
    let line = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
        line
    })
    .await?;
    let mut parts = line
        .split_whitespace()
        .skip(1)
        .map(|p| p.parse::<i64>().unwrap_or(0));
    let (first, last) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    stop.stop((first, last));
    let mut total = ViewerStats::default();
    let mut connected_viewers = 0;
    for t in tasks {
        let s = t.await?;
        if s.connected {
            connected_viewers += 1;
        }
        total.deliveries += s.deliveries;
        total.duplicates += s.duplicates;
        total.reordered += s.reordered;
        total.gaps += s.gaps;
        total.missing += s.missing;
        total.frames += s.frames;
    }
    let result = json!({
        "viewers": connected_viewers,
        "deliveries": total.deliveries,
        "duplicates": total.duplicates,
        "reordered": total.reordered,
        "gaps": total.gaps,
        "missing": total.missing,
        "frames": total.frames,
        "histogram": histogram.sparse(),
    });
    println!("RESULT {result}");
    std::io::stdout().flush()?;
    Ok(())
}

// ----- publishers ----------------------------------------------------------------------

/// Publishes `count` messages over one WebSocket connection at one per `interval`;
/// returns (acknowledged, failed, ack latencies).
async fn ws_publisher(
    url: String,
    token: String,
    channel: String,
    count: u64,
    interval: Duration,
    pad: usize,
) -> (u64, u64, Vec<Duration>) {
    let Ok(Ok((mut ws, _))) = tokio::time::timeout(
        Duration::from_secs(30),
        tokio_tungstenite::connect_async(url.as_str()),
    )
    .await
    else {
        return (0, count, Vec::new());
    };
    let connect = json!({"id": 1, "connect": {"token": token, "name": "hubbub-bench"}});
    if ws
        .send(Message::Text(connect.to_string().into()))
        .await
        .is_err()
    {
        return (0, count, Vec::new());
    }
    let mut pending = std::collections::HashMap::new();
    let (mut sent, mut ok, mut bad) = (0u64, 0u64, 0u64);
    let mut acks = Vec::with_capacity(count as usize);
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let deadline =
        tokio::time::Instant::now() + interval * (count as u32) + Duration::from_secs(60);
    while ok + bad < count && tokio::time::Instant::now() < deadline {
        tokio::select! {
            _ = tick.tick(), if sent < count => {
                sent += 1;
                let id = sent as u32 + 1;
                let body = format!("t={} {}", unix_micros(), "x".repeat(pad));
                let command = json!({"id": id, "publish": {"channel": channel, "data": {"body": body}}});
                pending.insert(id, Instant::now());
                if ws.send(Message::Text(command.to_string().into())).await.is_err() {
                    break;
                }
            }
            message = ws.next() => {
                let text = match message {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(_)) => continue,
                    _ => break,
                };
                for line in text.as_str().split('\n') {
                    if line == "{}" {
                        let _ = ws.send(Message::Text("{}".into())).await;
                        continue;
                    }
                    let Ok(reply) = serde_json::from_str::<Value>(line) else { continue };
                    let Some(at) = reply["id"].as_u64().and_then(|id| pending.remove(&(id as u32))) else {
                        continue;
                    };
                    if reply["publish"].is_object() {
                        ok += 1;
                        acks.push(at.elapsed());
                    } else {
                        bad += 1;
                    }
                }
            }
        }
    }
    let _ = ws.close(None).await;
    // Anything not acknowledged by the deadline counts as failed.
    let _ = bad;
    (ok, count - ok, acks)
}

// ----- parent --------------------------------------------------------------------------

struct Conn {
    sender: http1::SendRequest<Full<Bytes>>,
}

async fn connect(authority: &str) -> anyhow::Result<Conn> {
    let stream = TcpStream::connect(authority)
        .await
        .with_context(|| format!("connect {authority}"))?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(Conn { sender })
}

impl Conn {
    async fn call(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: String,
    ) -> anyhow::Result<(u16, Value)> {
        self.sender.ready().await?;
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "bench");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let response = self
            .sender
            .send_request(req.body(Full::new(Bytes::from(body)))?)
            .await?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, value))
    }
}

fn authority(base: &str) -> anyhow::Result<String> {
    let host = base
        .strip_prefix("http://")
        .context("--base must be http://HOST:PORT")?
        .trim_end_matches('/');
    if !(host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]")) {
        bail!("refusing to load a non-loopback address: {host}");
    }
    Ok(host.to_owned())
}

struct ViewerProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: std::sync::mpsc::Receiver<String>,
}

fn spawn_viewers(
    ws_url: &str,
    token: &str,
    channel: &str,
    count: usize,
) -> anyhow::Result<ViewerProcess> {
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "ws-viewers",
            "--ws-url",
            ws_url,
            "--token",
            token,
            "--channel",
            channel,
        ])
        .args(["--count", &count.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("spawn a viewer process")?;
    let stdout = child.stdout.take().context("child stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let stdin = child.stdin.take();
    Ok(ViewerProcess {
        child,
        stdin,
        lines: rx,
    })
}

fn viewers_cpu(processes: &[ViewerProcess]) -> Duration {
    processes
        .iter()
        .filter_map(|p| proc_stat::cpu_time(p.child.id()))
        .sum()
}

fn expect_line(p: &ViewerProcess, prefix: &str, timeout: Duration) -> anyhow::Result<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = p
            .lines
            .recv_timeout(left)
            .with_context(|| format!("a viewer process did not print {prefix} in time"))?;
        if let Some(rest) = line.strip_prefix(prefix) {
            return Ok(rest.trim().to_owned());
        }
    }
}

pub(crate) async fn run(args: WsArgs) -> anyhow::Result<()> {
    let authority = authority(&args.base)?;
    let mut setup = connect(&authority).await?;
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", args.client_id, args.client_secret));
    let (status, body) = setup
        .call(
            "POST",
            "/oauth/token",
            &[
                ("authorization", &format!("Basic {basic}")),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            "grant_type=client_credentials".into(),
        )
        .await?;
    if status != 200 {
        bail!("token request failed: {status} {body}");
    }
    let auth = format!(
        "Bearer {}",
        body["access_token"].as_str().context("no access_token")?
    );
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let run_id = format!("{}-{}", std::process::id(), unix_micros() % 1_000_000);
    let channel_name = format!("bench-{run_id}");
    let (status, channel) = setup
        .call(
            "POST",
            "/v1/channels",
            &headers,
            json!({"type": "PUBLIC", "name": channel_name}).to_string(),
        )
        .await?;
    if status != 200 {
        bail!("channel create failed: {status} {channel}");
    }
    let channel_id = channel["id"].as_i64().context("no channel id")?;
    let (status, minted) = setup
        .call(
            "POST",
            "/v1/realtime/tokens",
            &headers,
            json!({"ttl": 86_400}).to_string(),
        )
        .await?;
    if status != 200 {
        bail!("realtime token failed: {status} {minted}");
    }
    let viewer_token = minted["token"].as_str().context("no token")?.to_owned();
    let publishers = args.publishers.max(1);
    for p in 0..publishers {
        setup
            .call(
                "POST",
                "/v1/users",
                &headers,
                json!({"name": format!("pub-{run_id}-{p}")}).to_string(),
            )
            .await?;
    }

    let rss = |pid: Option<u32>| pid.and_then(proc_stat::rss_kib);
    let rss_before = rss(args.server_pid);
    let ws_url = format!("ws://{authority}/connection/websocket");
    let per_process = args.viewers_per_process.max(1);
    let mut processes = Vec::new();
    let mut left = args.viewers;
    let started_connecting = Instant::now();
    while left > 0 {
        let count = left.min(per_process);
        processes.push(spawn_viewers(&ws_url, &viewer_token, &channel_name, count)?);
        left -= count;
    }
    let mut connected = 0usize;
    let connect_timeout = Duration::from_secs(60 + args.viewers as u64 / 100);
    for p in &processes {
        connected += expect_line(p, "READY", connect_timeout)?
            .parse::<usize>()
            .unwrap_or(0);
    }
    let connect_secs = started_connecting.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_connected = rss(args.server_pid);
    println!(
        "WebSocket fan-out: {} viewers ({} connected and subscribed in {:.1} s, {} processes), channel {}",
        args.viewers,
        connected,
        connect_secs,
        processes.len(),
        channel_name
    );
    if let (Some(before), Some(after)) = (rss_before, rss_connected) {
        println!(
            "  server RSS:        {} MiB → {} MiB with the viewers: {:.1} KiB per connection",
            before / 1024,
            after / 1024,
            (after.saturating_sub(before)) as f64 / connected.max(1) as f64
        );
    }

    let mut first_seq = 0i64;
    let mut last_seq = 0i64;
    let mut sent = 0u64;
    let mut failed = 0u64;
    let mut publish_elapsed = Duration::ZERO;
    let mut cpu = None;
    let mut ack_latencies: Vec<Duration> = Vec::new();
    let mut viewers_cpu_used = Duration::ZERO;
    if !args.idle {
        let total = args.rate * args.duration;
        let per_publisher = total / publishers as u64;
        let interval = Duration::from_secs_f64(publishers as f64 / args.rate.max(1) as f64);
        let cpu_before = args.server_pid.and_then(proc_stat::cpu_time);
        let viewers_cpu_before = viewers_cpu(&processes);
        let started = Instant::now();
        let mut tasks = Vec::new();
        if args.publish_via == "ws" {
            for p in 0..publishers {
                let user = format!("pub-{run_id}-{p}");
                let (_, minted) = setup
                    .call(
                        "POST",
                        "/v1/realtime/tokens",
                        &headers,
                        json!({"user": user, "ttl": 86_400}).to_string(),
                    )
                    .await?;
                let token = minted["token"].as_str().context("no token")?.to_owned();
                let (url, channel) = (ws_url.clone(), channel_name.clone());
                let pad = args.body_bytes.saturating_sub(20);
                tasks.push(tokio::spawn(async move {
                    let (ok, bad, acks) =
                        ws_publisher(url, token, channel, per_publisher, interval, pad).await;
                    (i64::MAX, 0, ok, bad, acks)
                }));
            }
        }
        for p in 0..publishers {
            if args.publish_via == "ws" {
                break;
            }
            let mut conn = connect(&authority).await?;
            let auth = auth.clone();
            let user = format!("pub-{run_id}-{p}");
            let path = format!("/v1/channels/{channel_id}/messages");
            let pad = args.body_bytes.saturating_sub(20);
            tasks.push(tokio::spawn(async move {
                let headers = [
                    ("authorization", auth.as_str()),
                    ("content-type", "application/json"),
                ];
                let mut tick = tokio::time::interval(interval);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                let (mut min, mut max, mut ok, mut bad) = (i64::MAX, 0i64, 0u64, 0u64);
                let mut acks = Vec::with_capacity(per_publisher as usize);
                for _ in 0..per_publisher {
                    tick.tick().await;
                    let body = format!("t={} {}", unix_micros(), "x".repeat(pad));
                    let message = json!({"type": "TEXT", "body": body, "user": {"username": user}});
                    let sent_at = Instant::now();
                    match conn
                        .call("POST", &path, &headers, message.to_string())
                        .await
                    {
                        Ok((200, m)) => {
                            acks.push(sent_at.elapsed());
                            let seq = m["seq"].as_i64().unwrap_or(0);
                            min = min.min(seq);
                            max = max.max(seq);
                            ok += 1;
                        }
                        _ => bad += 1,
                    }
                }
                (min, max, ok, bad, acks)
            }));
        }
        first_seq = i64::MAX;
        for t in tasks {
            let (min, max, ok, bad, acks) = t.await?;
            ack_latencies.extend(acks);
            first_seq = first_seq.min(min);
            last_seq = last_seq.max(max);
            sent += ok;
            failed += bad;
        }
        publish_elapsed = started.elapsed();
        if args.publish_via == "ws" {
            // Publish replies carry no seq: take the range from the channel.
            let (_, now) = setup
                .call(
                    "GET",
                    &format!("/v1/channels/{channel_id}"),
                    &headers,
                    String::new(),
                )
                .await?;
            last_seq = now["last_seq"].as_i64().unwrap_or(0);
            first_seq = last_seq - sent as i64 + 1;
        }
        // Let the last deliveries land before reading the CPU counter.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let cpu_after = args.server_pid.and_then(proc_stat::cpu_time);
        viewers_cpu_used = viewers_cpu(&processes).saturating_sub(viewers_cpu_before);
        cpu = cpu_before.zip(cpu_after).map(|(b, a)| a.saturating_sub(b));
        if sent == 0 {
            first_seq = 0;
        }
    }

    for p in &mut processes {
        if let Some(mut stdin) = p.stdin.take() {
            writeln!(stdin, "STOP {first_seq} {last_seq}")?;
        }
    }
    let mut totals = [0u64; 6];
    let mut counts = vec![0u64; BUCKETS];
    let mut viewers_ok = 0u64;
    for p in &mut processes {
        let result: Value =
            serde_json::from_str(&expect_line(p, "RESULT", Duration::from_secs(60))?)?;
        viewers_ok += result["viewers"].as_u64().unwrap_or(0);
        for (i, key) in [
            "deliveries",
            "duplicates",
            "reordered",
            "gaps",
            "missing",
            "frames",
        ]
        .iter()
        .enumerate()
        {
            totals[i] += result[key].as_u64().unwrap_or(0);
        }
        for pair in result["histogram"].as_array().into_iter().flatten() {
            let (b, c) = (
                pair[0].as_u64().unwrap_or(0) as usize,
                pair[1].as_u64().unwrap_or(0),
            );
            if b < BUCKETS {
                counts[b] += c;
            }
        }
        let _ = p.child.wait();
    }
    if args.idle {
        return Ok(());
    }
    let [deliveries, duplicates, reordered, gaps, missing, frames] = totals;
    let secs = publish_elapsed.as_secs_f64().max(1e-9);
    println!(
        "  published:         {sent} messages ({failed} failed) by {publishers} {} publishers in {secs:.2} s ({:.0}/s), {} bytes each",
        args.publish_via.to_uppercase(),
        sent as f64 / secs,
        args.body_bytes
    );
    ack_latencies.sort_unstable();
    let ack = |p: f64| {
        ack_latencies
            .get(
                ((ack_latencies.len() as f64 * p) as usize)
                    .min(ack_latencies.len().saturating_sub(1)),
            )
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    println!(
        "  publish ack:       p50 {:.2} ms, p99 {:.2} ms (after the commit; part of publish → receive)",
        ack(0.5),
        ack(0.99)
    );
    println!(
        "  deliveries:        {deliveries} ({:.0}/s) to {viewers_ok} viewers",
        deliveries as f64 / secs
    );
    println!(
        "  checks:            {missing} lost, {duplicates} duplicated, {reordered} out of order (gaps {gaps})"
    );
    println!(
        "  latency:           p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms (publish → receive)",
        percentile(&counts, 0.50),
        percentile(&counts, 0.99),
        percentile(&counts, 0.999),
        percentile(&counts, 1.0)
    );
    println!(
        "  frames per write:  {:.2} publications per WebSocket frame ({frames} frames)",
        deliveries as f64 / frames.max(1) as f64
    );
    if let Some(cpu) = cpu {
        println!(
            "  server CPU:        {:.2} s = {:.2} µs per delivery ({:.2} cores busy)",
            cpu.as_secs_f64(),
            cpu.as_secs_f64() * 1e6 / deliveries.max(1) as f64,
            cpu.as_secs_f64() / (secs + 0.5)
        );
    }
    println!(
        "  load generator:    viewer processes used {:.2} s CPU ({:.2} cores) on the same host",
        viewers_cpu_used.as_secs_f64(),
        viewers_cpu_used.as_secs_f64() / (secs + 0.5)
    );
    if let Some(rss) = rss(args.server_pid) {
        println!("  server RSS now:    {} MiB", rss / 1024);
    }
    if missing > 0 || duplicates > 0 || reordered > 0 || failed > 0 {
        bail!(
            "{missing} lost, {duplicates} duplicated, {reordered} out of order, {failed} failed sends"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publications_are_parsed_without_a_json_parser() {
        let line = r#"{"push":{"channel":"c","pub":{"data":{"type":"message.created","message":{"body":"t=123 xx","seq":9}},"offset":9}}}"#;
        assert_eq!(parse_publication(line.as_bytes()), Some((9, Some(123))));
        // Not at the end: found by searching (the last one counts, as before).
        let line = r#"{"push":{"channel":"c","pub":{"offset":4,"data":{"offset":5,"body":"t=7"}}}"#;
        assert_eq!(parse_publication(line.as_bytes()), Some((5, Some(7))));
        let line = r#"{"push":{"channel":"c","pub":{"data":{"body":"x"},"offset":12345678901}}}"#;
        assert_eq!(
            parse_publication(line.as_bytes()),
            Some((12345678901, None))
        );
        assert_eq!(offset_at_end(br#"{"x":1}"#), None);
        assert_eq!(offset_at_end(br#""offset":}"#), None);
        assert_eq!(offset_at_end(br#""offset":42"#), Some(9));
        assert_eq!(
            parse_publication(
                br#"{"push":{"channel":"c","pub":{"data":{},"offset":99999999999999999999}}}"#
            ),
            None
        );
        assert_eq!(
            parse_publication(br#"{"id":2,"subscribe":{"offset":3}}"#),
            None
        );
    }

    #[tokio::test]
    async fn stop_wakes_every_waiting_viewer_and_later_ones_see_it() {
        let stop = Arc::new(Stop::default());
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let stop = stop.clone();
                tokio::spawn(async move {
                    let mut registered = false;
                    // Polled repeatedly before the stop, as the viewer loop does.
                    for _ in 0..3 {
                        let early = std::future::poll_fn(|cx| {
                            Poll::Ready(stop.poll(cx, &mut registered).is_ready())
                        })
                        .await;
                        assert!(!early);
                        tokio::task::yield_now().await;
                    }
                    std::future::poll_fn(|cx| stop.poll(cx, &mut registered)).await
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        stop.stop((5, 9));
        for waiter in waiters {
            let range = tokio::time::timeout(Duration::from_secs(5), waiter)
                .await
                .expect("woken")
                .unwrap();
            assert_eq!(range, (5, 9));
        }
        let mut registered = false;
        let late = std::future::poll_fn(|cx| stop.poll(cx, &mut registered)).await;
        assert_eq!(late, (5, 9));
    }

    #[test]
    fn percentiles_come_from_buckets() {
        let mut counts = vec![0u64; BUCKETS];
        counts[bucket(1_000)] = 99;
        counts[bucket(50_000)] = 1;
        assert!((percentile(&counts, 0.5) - 1.01).abs() < 0.001);
        assert!(percentile(&counts, 1.0) >= 50.0);
        assert_eq!(bucket(20_000_000), BUCKETS - 1);
    }
}
