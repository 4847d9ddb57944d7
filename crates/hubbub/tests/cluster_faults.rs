//! Fault tests of a three-node cluster of real `hubbub` processes sharing PostgreSQL
//! and NATS, under load:
//!
//! * `kill -9` of one node: no acknowledged message is lost, and a viewer of that
//!   node reconnects to another one and resumes (Centrifugo recovery) with no gap;
//! * NATS stopped for 10 s: the nodes report not ready, writes answer 503 with
//!   `Retry-After` (never 500), and everything recovers by itself;
//! * PostgreSQL unreachable for 10 s (a proxy in front of it drops every connection
//!   and refuses new ones): 503 with `Retry-After`, never 500, and recovery.
//!
//! Each test prints its counts. They need PostgreSQL (`HUBBUB_TEST_DATABASE_URL`,
//! default `postgres://postgres@127.0.0.1:5432/test`) and `nats-server` on the PATH
//! or in /usr/sbin (each test runs a private one on a free port so it can stop it).
//! Without them the tests are skipped, except with `CI=true`, where they fail.

use futures::{SinkExt, StreamExt};
use reqwest::Client;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

/// The tests start nine processes each; one at a time is enough for two cores.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn base_database_url() -> String {
    std::env::var("HUBBUB_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn nats_server_binary() -> Option<PathBuf> {
    [
        "/usr/sbin/nats-server",
        "/usr/bin/nats-server",
        "/usr/local/bin/nats-server",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// Whether the services are there; panics under CI when they are not.
fn services_available() -> bool {
    let url = base_database_url();
    let pg_ok = Command::new("psql")
        .args([url.as_str(), "-qAtc", "SELECT 1"])
        .output()
        .is_ok_and(|o| o.status.success());
    let nats_ok = nats_server_binary().is_some();
    if pg_ok && nats_ok {
        return true;
    }
    let why = format!("PostgreSQL reachable: {pg_ok}, nats-server installed: {nats_ok}");
    if required() {
        panic!("cluster fault tests need PostgreSQL and nats-server ({why})");
    }
    eprintln!("SKIPPED: cluster fault tests need PostgreSQL and nats-server ({why})");
    false
}

/// A fresh database for one test, dropped at the end.
struct Database {
    admin_url: String,
    name: String,
    port: u16,
}

impl Database {
    fn create() -> Self {
        let admin_url = base_database_url();
        let name = format!("hubbub_faults_{}_{}", std::process::id(), rand_suffix());
        run_psql(&admin_url, &format!("CREATE DATABASE {name}"));
        let port = admin_url
            .rsplit_once('@')
            .and_then(|(_, host)| host.split('/').next())
            .and_then(|hp| hp.rsplit_once(':'))
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or(5432);
        Self {
            admin_url,
            name,
            port,
        }
    }

    /// The URL of this database through `port` on loopback (the server's own port,
    /// or a fault proxy's).
    fn url_via(&self, port: u16) -> String {
        let user = self
            .admin_url
            .strip_prefix("postgres://")
            .and_then(|rest| rest.split_once('@'))
            .map(|(user, _)| user)
            .unwrap_or("postgres");
        format!("postgres://{user}@127.0.0.1:{port}/{}", self.name)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        run_psql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn run_psql(url: &str, sql: &str) {
    let out = Command::new("psql")
        .args([url, "-qAtc", sql])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(Instant::now()) % 1_000_000_000
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private NATS server with JetStream, which a test can stop and start again on the
/// same port.
struct Nats {
    port: u16,
    store: tempfile::TempDir,
    child: Option<Child>,
}

impl Nats {
    fn start() -> Self {
        let mut nats = Self {
            port: free_port(),
            store: tempfile::tempdir().unwrap(),
            child: None,
        };
        nats.resume();
        nats
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn resume(&mut self) {
        let child = Command::new(nats_server_binary().expect("nats-server"))
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        wait_for_port(self.port, Duration::from_secs(10));
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill();
    }
}

fn wait_for_port(port: u16, within: Duration) {
    let deadline = Instant::now() + within;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "port {port} never opened");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A TCP proxy that can be cut: every open connection is dropped and new ones are
/// refused until it is restored — an unreachable server, as the nodes see it.
struct FaultProxy {
    port: u16,
    cut: Arc<AtomicBool>,
    /// Bumped on every cut; a connection of an older generation closes itself.
    generation: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    async fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let generation = Arc::new(AtomicU64::new(0));
        let (c, g) = (cut.clone(), generation.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else {
                    continue;
                };
                if c.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let born = g.load(Ordering::SeqCst);
                let g = g.clone();
                tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(("127.0.0.1", target)).await else {
                        return;
                    };
                    let (mut ri, mut wi) = inbound.into_split();
                    let (mut ro, mut wo) = outbound.into_split();
                    let copy = async {
                        tokio::select! {
                            _ = tokio::io::copy(&mut ri, &mut wo) => {}
                            _ = tokio::io::copy(&mut ro, &mut wi) => {}
                        }
                    };
                    let killed = async {
                        while g.load(Ordering::SeqCst) == born {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    };
                    tokio::select! {
                        _ = copy => {}
                        _ = killed => {}
                    }
                });
            }
        });
        Self {
            port,
            cut,
            generation,
            task,
        }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn hubbub(database_url: &str, nats_url: &str, data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hubbub"));
    cmd.env("HUBBUB_DATABASE_URL", database_url)
        .env("HUBBUB_NATS_URL", nats_url)
        .env("HUBBUB_DATA_DIR", data_dir)
        .env("HUBBUB_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "error")
        .env_remove("HUBBUB_CONFIG");
    cmd
}

/// One `hubbub serve` process.
struct Node {
    name: &'static str,
    child: Child,
    base: String,
}

impl Node {
    fn spawn(name: &'static str, database_url: &str, nats_url: &str, dir: &Path) -> Self {
        let mut child = hubbub(database_url, nats_url, dir)
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("hubbub starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent && let Some(rest) = line.split("listening on ").nth(1) {
                    let base = rest.split_whitespace().next().unwrap_or("").to_owned();
                    let _ = tx.send(base);
                    sent = true;
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("node {name} did not start listening"));
        Self { name, child, base }
    }

    fn ws_url(&self) -> String {
        format!(
            "{}/connection/websocket",
            self.base.replacen("http://", "ws://", 1)
        )
    }

    fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill_9();
    }
}

/// Three nodes on one database and one NATS, with an application, two users and a
/// public room.
struct Cluster {
    nodes: Vec<Node>,
    http: Client,
    token: String,
    room: i64,
    viewer_token: String,
    _dirs: Vec<tempfile::TempDir>,
}

impl Cluster {
    async fn start(database_url: &str, nats_url: &str) -> Self {
        let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
        // The application exists before any node starts, so no node creates a
        // default one (and the migrations have run once).
        let out = hubbub(database_url, nats_url, dirs[0].path())
            .args(["app", "create", "--name", "faults", "--json"])
            .output()
            .expect("app create runs");
        assert!(
            out.status.success(),
            "app create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let app: Value = serde_json::from_slice(&out.stdout).unwrap();
        let nodes = ["A", "B", "C"]
            .into_iter()
            .zip(&dirs)
            .map(|(name, dir)| Node::spawn(name, database_url, nats_url, dir.path()))
            .collect::<Vec<_>>();
        let http = Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let token: Value = http
            .post(format!("{}/oauth/token", nodes[0].base))
            .basic_auth(
                app["client_id"].as_str().unwrap(),
                app["client_secret"].as_str(),
            )
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = token["access_token"].as_str().unwrap().to_owned();
        let call = |path: &str, body: Value| {
            http.post(format!("{}/v1{path}", nodes[0].base))
                .bearer_auth(&token)
                .json(&body)
                .send()
        };
        for name in ["viewer", "publisher"] {
            let r = call("/users", json!({"name": name})).await.unwrap();
            assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        }
        let room: Value = call("/channels", json!({"type": "PUBLIC", "name": "room"}))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let viewer: Value = call("/realtime/tokens", json!({"user": "viewer", "ttl": 3600}))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Self {
            nodes,
            http,
            token,
            room: room["id"].as_i64().unwrap(),
            viewer_token: viewer["token"].as_str().unwrap().to_owned(),
            _dirs: dirs,
        }
    }

    async fn ready(&self, node: usize) -> bool {
        self.http
            .get(format!("{}/readyz", self.nodes[node].base))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    /// Waits until every listed node reports `ready` (or not).
    async fn wait_ready(&self, nodes: &[usize], ready: bool, within: Duration) -> Duration {
        let started = Instant::now();
        loop {
            let mut all = true;
            for &n in nodes {
                all &= self.ready(n).await == ready;
            }
            if all {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < within,
                "nodes {nodes:?} not {} within {within:?}",
                if ready { "ready" } else { "unready" }
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every message of the room, read from `node`, as id → seq.
    async fn stored(&self, node: usize) -> BTreeMap<i64, i64> {
        let mut all = BTreeMap::new();
        let mut url = format!(
            "{}/v1/channels/{}/messages?size=100",
            self.nodes[node].base, self.room
        );
        loop {
            let page: Value = self
                .http
                .get(&url)
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            for m in page["_embedded"]["messages"]
                .as_array()
                .into_iter()
                .flatten()
            {
                all.insert(m["id"].as_i64().unwrap(), m["seq"].as_i64().unwrap());
            }
            match page["_links"]["next"]["href"].as_str() {
                Some(next) => url = next.to_owned(),
                None => return all,
            }
        }
    }
}

/// What the publishers saw.
#[derive(Default)]
struct Sent {
    /// Acknowledged messages: id → seq.
    acked: BTreeMap<i64, i64>,
    /// Status codes of refused attempts (503 expected while a service is down).
    refused: BTreeMap<u16, u64>,
    /// 503 answers without a `Retry-After` header.
    unavailable_without_retry_after: u64,
    /// Attempts that got no answer (a killed node).
    transport_errors: u64,
}

/// Publishers: each sends with an idempotency key, and retries the same key on the
/// next node until acknowledged (as a careful client does). Only a 200 counts.
fn start_publishers(
    cluster: &Cluster,
    targets: Arc<Mutex<Vec<String>>>,
    tasks: usize,
    stop: Arc<AtomicBool>,
) -> (Arc<Mutex<Sent>>, Vec<tokio::task::JoinHandle<()>>) {
    let sent = Arc::new(Mutex::new(Sent::default()));
    let handles = (0..tasks)
        .map(|task| {
            let (http, token, room) = (cluster.http.clone(), cluster.token.clone(), cluster.room);
            let (targets, stop, sent) = (targets.clone(), stop.clone(), sent.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                let mut turn = task;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let key = format!("p{task}-{n}");
                    let body =
                        json!({"type": "TEXT", "body": key, "user": {"username": "publisher"}});
                    loop {
                        let base = {
                            let t = targets.lock().unwrap();
                            turn += 1;
                            t[turn % t.len()].clone()
                        };
                        let answer = http
                            .post(format!("{base}/v1/channels/{room}/messages"))
                            .bearer_auth(&token)
                            .header("Idempotency-Key", &key)
                            .json(&body)
                            .timeout(Duration::from_secs(5))
                            .send()
                            .await;
                        let pause = match answer {
                            Ok(r) if r.status().is_success() => {
                                let m: Value = r.json().await.unwrap();
                                sent.lock()
                                    .unwrap()
                                    .acked
                                    .insert(m["id"].as_i64().unwrap(), m["seq"].as_i64().unwrap());
                                break;
                            }
                            Ok(r) => {
                                let status = r.status().as_u16();
                                let retry_after = r.headers().get("retry-after").is_some();
                                let mut s = sent.lock().unwrap();
                                *s.refused.entry(status).or_default() += 1;
                                if status == 503 && !retry_after {
                                    s.unavailable_without_retry_after += 1;
                                }
                                Duration::from_millis(200)
                            }
                            Err(_) => {
                                sent.lock().unwrap().transport_errors += 1;
                                Duration::from_millis(100)
                            }
                        };
                        if stop.load(Ordering::SeqCst) {
                            return;
                        }
                        tokio::time::sleep(pause).await;
                    }
                    tokio::time::sleep(Duration::from_millis(15)).await;
                }
            })
        })
        .collect();
    (sent, handles)
}

/// What the viewer saw.
#[derive(Default, Debug)]
struct Seen {
    /// (offset, message id) in arrival order, across reconnects.
    publications: Vec<(u64, i64)>,
    reconnects: u32,
    /// Resubscribes answered `recovered: false`.
    not_recovered: u32,
}

/// A viewer subscribed to the room through `urls[0]`, moving to the next URL whenever
/// its connection dies, and resubscribing with recovery from its last offset.
fn start_viewer(
    urls: Vec<String>,
    token: String,
    stop: Arc<AtomicBool>,
) -> (Arc<Mutex<Seen>>, tokio::task::JoinHandle<()>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let s = seen.clone();
    let handle = tokio::spawn(async move {
        let mut position: Option<(String, u64)> = None;
        let mut node = 0usize;
        while !stop.load(Ordering::SeqCst) {
            let url = &urls[node % urls.len()];
            if let Err(e) = watch(url, &token, &mut position, &s, &stop).await {
                eprintln!("viewer on {url}: {e}; reconnecting elsewhere");
                s.lock().unwrap().reconnects += 1;
                node += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    });
    (seen, handle)
}

async fn watch(
    url: &str,
    token: &str,
    position: &mut Option<(String, u64)>,
    seen: &Mutex<Seen>,
    stop: &AtomicBool,
) -> Result<(), String> {
    let (mut ws, _) = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async(url),
    )
    .await
    .map_err(|_| "connect timed out".to_string())?
    .map_err(|e| e.to_string())?;
    let mut subscribe = json!({"channel": "room"});
    if let Some((epoch, offset)) = position.as_ref() {
        subscribe["recover"] = json!(true);
        subscribe["epoch"] = json!(epoch);
        subscribe["offset"] = json!(offset);
    }
    let commands = format!(
        "{}\n{}",
        json!({"id": 1, "connect": {"token": token, "name": "faults"}}),
        json!({"id": 2, "subscribe": subscribe})
    );
    ws.send(Message::Text(commands.into()))
        .await
        .map_err(|e| e.to_string())?;
    while !stop.load(Ordering::SeqCst) {
        let frame = match tokio::time::timeout(Duration::from_millis(500), ws.next()).await {
            Err(_) => continue,
            Ok(None) => return Err("connection closed".into()),
            Ok(Some(Err(e))) => return Err(e.to_string()),
            Ok(Some(Ok(frame))) => frame,
        };
        let text = match frame {
            Message::Text(t) => t.to_string(),
            Message::Close(c) => return Err(format!("closed: {c:?}")),
            _ => continue,
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
            if v.as_object().is_some_and(|o| o.is_empty()) {
                ws.send(Message::Text("{}".into()))
                    .await
                    .map_err(|e| e.to_string())?;
            } else if v["id"] == 2 {
                let reply = &v["subscribe"];
                if !reply.is_object() {
                    return Err(format!("subscribe refused: {v}"));
                }
                let epoch = reply["epoch"].as_str().map(str::to_owned);
                if position.is_some() && reply["recovered"] != json!(true) {
                    seen.lock().unwrap().not_recovered += 1;
                }
                for p in reply["publications"].as_array().into_iter().flatten() {
                    record(p, epoch.as_deref(), position, seen);
                }
                if position.is_none() {
                    let offset = reply["offset"].as_u64().unwrap_or(0);
                    *position = Some((epoch.unwrap_or_default(), offset));
                }
            } else if v["id"] == 1 && v["error"].is_object() {
                return Err(format!("connect refused: {v}"));
            } else if v["push"]["pub"].is_object() {
                record(&v["push"]["pub"], None, position, seen);
            }
        }
    }
    Ok(())
}

/// Notes a publication and moves the resume position to it.
fn record(
    publication: &Value,
    epoch: Option<&str>,
    position: &mut Option<(String, u64)>,
    seen: &Mutex<Seen>,
) {
    let offset = publication["offset"].as_u64().unwrap_or(0);
    if let Some(id) = publication["data"]["message"]["id"].as_i64() {
        seen.lock().unwrap().publications.push((offset, id));
    }
    let epoch = epoch
        .map(str::to_owned)
        .or_else(|| position.as_ref().map(|p| p.0.clone()))
        .unwrap_or_default();
    if offset > 0 {
        *position = Some((epoch, offset));
    }
}

/// Stops the load, waits for the viewer to see every acknowledged message, and checks
/// the books. Returns a line of counts.
/// The running publishers and viewer of a test.
struct Load {
    stop_load: Arc<AtomicBool>,
    publishers: Vec<tokio::task::JoinHandle<()>>,
    sent: Arc<Mutex<Sent>>,
    stop_viewer: Arc<AtomicBool>,
    viewer: tokio::task::JoinHandle<()>,
    seen: Arc<Mutex<Seen>>,
}

async fn settle_and_check(cluster: &Cluster, read_from: usize, load: Load) -> String {
    let Load {
        stop_load,
        publishers,
        sent,
        stop_viewer,
        viewer,
        seen,
    } = load;
    stop_load.store(true, Ordering::SeqCst);
    for p in publishers {
        let _ = p.await;
    }
    let acked = sent.lock().unwrap().acked.clone();
    let last_acked = acked.values().copied().max().unwrap_or(0) as u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen
        .lock()
        .unwrap()
        .publications
        .last()
        .is_none_or(|(offset, _)| *offset < last_acked)
    {
        assert!(
            Instant::now() < deadline,
            "the viewer never caught up to offset {last_acked}: {:?}",
            seen.lock().unwrap().publications.last()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop_viewer.store(true, Ordering::SeqCst);
    let _ = viewer.await;

    // No acknowledged message lost.
    let stored = cluster.stored(read_from).await;
    let lost: Vec<_> = acked
        .iter()
        .filter(|(id, seq)| stored.get(id) != Some(seq))
        .collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");

    // The viewer: consecutive offsets, each once, and every acknowledged message.
    let seen = seen.lock().unwrap();
    let offsets: Vec<u64> = seen.publications.iter().map(|(o, _)| *o).collect();
    for pair in offsets.windows(2) {
        assert_eq!(
            pair[1],
            pair[0] + 1,
            "the viewer saw a gap or a duplicate: {pair:?}"
        );
    }
    let first = offsets.first().copied().unwrap_or(1);
    let received: HashSet<i64> = seen.publications.iter().map(|(_, id)| *id).collect();
    let missed: Vec<_> = acked
        .iter()
        .filter(|(id, seq)| **seq as u64 >= first && !received.contains(id))
        .collect();
    assert!(missed.is_empty(), "the viewer missed {missed:?}");
    let sent = sent.lock().unwrap();
    assert!(
        !sent.refused.contains_key(&500),
        "a write answered 500: {:?}",
        sent.refused
    );
    format!(
        "acknowledged {}, stored {}, lost 0; viewer received {} (offsets {}..={}), reconnects {}, \
         unrecovered resubscribes {}; refused {:?}, 503 without Retry-After {}, transport errors {}",
        acked.len(),
        stored.len(),
        seen.publications.len(),
        first,
        offsets.last().copied().unwrap_or(0),
        seen.reconnects,
        seen.not_recovered,
        sent.refused,
        sent.unavailable_without_retry_after,
        sent.transport_errors,
    )
}

fn bases(cluster: &Cluster, nodes: &[usize]) -> Arc<Mutex<Vec<String>>> {
    Arc::new(Mutex::new(
        nodes
            .iter()
            .map(|&n| cluster.nodes[n].base.clone())
            .collect(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_a_node_loses_no_acknowledged_message_and_its_viewer_resumes() {
    let _serial = SERIAL.lock().await;
    if !services_available() {
        return;
    }
    let db = Database::create();
    let nats = Nats::start();
    let mut cluster = Cluster::start(&db.url_via(db.port), &nats.url()).await;
    let targets = bases(&cluster, &[0, 1, 2]);
    let (stop_load, stop_viewer) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    // The viewer watches through B, then A, then C.
    let urls = [1, 0, 2].map(|n| cluster.nodes[n].ws_url()).to_vec();
    let (seen, viewer) = start_viewer(urls, cluster.viewer_token.clone(), stop_viewer.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (sent, publishers) = start_publishers(&cluster, targets.clone(), 4, stop_load.clone());

    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = sent.lock().unwrap().acked.len();
    cluster.nodes[1].kill_9();
    targets
        .lock()
        .unwrap()
        .retain(|b| *b != cluster.nodes[1].base);
    eprintln!(
        "killed node {} (kill -9) after {before} acknowledged messages",
        cluster.nodes[1].name
    );
    tokio::time::sleep(Duration::from_secs(4)).await;

    let counts = settle_and_check(
        &cluster,
        0,
        Load {
            stop_load,
            publishers,
            sent: sent.clone(),
            stop_viewer,
            viewer,
            seen: seen.clone(),
        },
    )
    .await;
    println!("kill -9 of node B under load: {counts}");
    assert!(
        seen.lock().unwrap().reconnects >= 1,
        "the viewer moved nodes"
    );
    assert_eq!(
        seen.lock().unwrap().not_recovered,
        0,
        "resumed with recovery"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_down_for_10s_makes_nodes_unready_then_they_recover_with_nothing_lost() {
    let _serial = SERIAL.lock().await;
    if !services_available() {
        return;
    }
    let db = Database::create();
    let mut nats = Nats::start();
    let cluster = Cluster::start(&db.url_via(db.port), &nats.url()).await;
    let (stop_load, stop_viewer) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    // The viewer is on A; publishers write through B and C, so every message crosses
    // the bus (or, after the outage, the gap fill from the database).
    let (seen, viewer) = start_viewer(
        vec![cluster.nodes[0].ws_url()],
        cluster.viewer_token.clone(),
        stop_viewer.clone(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (sent, publishers) =
        start_publishers(&cluster, bases(&cluster, &[1, 2]), 4, stop_load.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;

    nats.kill();
    let outage = Instant::now();
    let unready_after = cluster
        .wait_ready(&[0, 1, 2], false, Duration::from_secs(10))
        .await;
    tokio::time::sleep(Duration::from_secs(10).saturating_sub(outage.elapsed())).await;
    let refused_during = sent.lock().unwrap().refused.get(&503).copied().unwrap_or(0);
    nats.resume();
    let ready_after = cluster
        .wait_ready(&[0, 1, 2], true, Duration::from_secs(30))
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let counts = settle_and_check(
        &cluster,
        0,
        Load {
            stop_load,
            publishers,
            sent: sent.clone(),
            stop_viewer,
            viewer,
            seen: seen.clone(),
        },
    )
    .await;
    println!(
        "NATS stopped 10 s under load: not ready after {unready_after:?}, ready again \
         {ready_after:?} after restart, 503s during the outage {refused_during}; {counts}"
    );
    assert!(
        refused_during > 0,
        "writes were refused while the bus was down"
    );
    assert_eq!(sent.lock().unwrap().unavailable_without_retry_after, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_unreachable_for_10s_answers_503_never_500_and_loses_nothing() {
    let _serial = SERIAL.lock().await;
    if !services_available() {
        return;
    }
    let db = Database::create();
    let nats = Nats::start();
    let proxy = FaultProxy::start(db.port).await;
    let cluster = Cluster::start(&db.url_via(proxy.port), &nats.url()).await;
    let (stop_load, stop_viewer) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let (seen, viewer) = start_viewer(
        vec![cluster.nodes[0].ws_url()],
        cluster.viewer_token.clone(),
        stop_viewer.clone(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (sent, publishers) =
        start_publishers(&cluster, bases(&cluster, &[0, 1, 2]), 4, stop_load.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;

    proxy.cut();
    let outage = Instant::now();
    let unready_after = cluster
        .wait_ready(&[0, 1, 2], false, Duration::from_secs(10))
        .await;
    tokio::time::sleep(Duration::from_secs(10).saturating_sub(outage.elapsed())).await;
    let refused_during = sent.lock().unwrap().refused.clone();
    proxy.restore();
    let ready_after = cluster
        .wait_ready(&[0, 1, 2], true, Duration::from_secs(30))
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let counts = settle_and_check(
        &cluster,
        0,
        Load {
            stop_load,
            publishers,
            sent: sent.clone(),
            stop_viewer,
            viewer,
            seen: seen.clone(),
        },
    )
    .await;
    println!(
        "PostgreSQL unreachable 10 s under load: not ready after {unready_after:?}, ready \
         again {ready_after:?} after it returned, refused during the outage {refused_during:?}; {counts}"
    );
    assert!(
        refused_during.get(&503).copied().unwrap_or(0) > 0,
        "writes were refused with 503 while the database was away: {refused_during:?}"
    );
    assert_eq!(sent.lock().unwrap().unavailable_without_retry_after, 0);
}
