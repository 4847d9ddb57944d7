//! Several hubbub nodes serving one cluster: one PostgreSQL database (each node with
//! its own store on it) or, for the outage test, one SQLite store shared in this
//! process; one NATS. Needs NATS (`HUBBUB_TEST_NATS_URL`, default
//! `nats://127.0.0.1:4222`) and `/usr/sbin/nats-server` for the outage test; without
//! them the tests are skipped, except under `CI=true`, where they fail.

#[allow(dead_code, unreachable_pub)]
#[path = "realtime/helpers.rs"]
mod helpers;

use helpers::{WAIT, WsClient, id};
use hubbub::config::Config;
use hubbub::startup::Application;
use hubbub_core::Engine;
use hubbub_core::store::Store;
use hubbub_store_postgres::test_database::TestDatabase;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

fn unavailable<T>(what: String) -> Option<T> {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true: {what}"
    );
    eprintln!("skipped: {what}");
    None
}

fn shared_nats() -> Option<String> {
    let url =
        std::env::var("HUBBUB_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let reachable = url
        .trim_start_matches("nats://")
        .parse::<SocketAddr>()
        .ok()
        .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok());
    if reachable {
        Some(url)
    } else {
        unavailable(format!("NATS is not reachable at {url}"))
    }
}

/// The configuration of every node of a test's cluster: its own subjects and bucket.
fn cluster_config(dir: &std::path::Path, nats_url: &str) -> Config {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    let run = uuid::Uuid::new_v4().simple().to_string();
    config.cluster.nats_url = nats_url.into();
    config.cluster.subject_prefix = format!("test{run}");
    config.cluster.presence_bucket = format!("test{run}");
    config
}

/// One running node.
struct Node {
    base: String,
    ws_url: String,
    engine: Arc<Engine>,
    http: Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    stopped: Option<tokio::task::JoinHandle<()>>,
}

impl Node {
    async fn start(config: &Config, store: Arc<dyn Store>) -> Self {
        let app = Application::build_with_store(config, store)
            .await
            .expect("node builds");
        let addr = app.local_addr();
        let engine = app.engine().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let stopped = tokio::spawn(async move {
            let _ = app
                .run_until(async move {
                    let _ = rx.await;
                })
                .await;
        });
        Self {
            base: format!("http://{addr}"),
            ws_url: format!("ws://{addr}/connection/websocket"),
            engine,
            http: Client::builder().timeout(WAIT).build().unwrap(),
            shutdown: Some(tx),
            stopped: Some(stopped),
        }
    }

    async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(stopped) = self.stopped.take() {
            tokio::time::timeout(WAIT, stopped)
                .await
                .expect("node stops")
                .unwrap();
        }
    }

    async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let text = response.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Value {
        let (status, _, body) = self
            .request(reqwest::Method::POST, path, token, Some(body))
            .await;
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    async fn get(&self, path: &str, token: &str) -> Value {
        let (status, _, body) = self.request(reqwest::Method::GET, path, token, None).await;
        assert!(status.is_success(), "GET {path}: {status} {body}");
        body
    }

    async fn readyz(&self) -> StatusCode {
        self.http
            .get(format!("{}/readyz", self.base))
            .send()
            .await
            .unwrap()
            .status()
    }

    /// A realtime client of `user`, connected.
    async fn client(&self, client_id: &str, user: &str) -> WsClient {
        let token = self
            .engine
            .mint_realtime_token(client_id, user, Duration::from_secs(3600))
            .await
            .unwrap()
            .0;
        let mut ws = WsClient::open(&self.ws_url).await;
        let reply = ws
            .call(json!({"connect": {"token": token, "name": "cluster-test"}}))
            .await;
        assert!(reply["connect"]["client"].is_string(), "connect: {reply}");
        ws
    }
}

/// A new application; returns its client id and a Platform API token (minted
/// through `node`, valid on every node).
async fn application(node: &Node) -> (String, String) {
    let created = node.engine.create_application("cluster").await.unwrap();
    let response = node
        .http
        .post(format!("{}/oauth/token", node.base))
        .basic_auth(
            &created.application.client_id,
            Some(&created.client_secret.0),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let token = response.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    (created.application.client_id.clone(), token)
}

/// Polls a realtime command on `ws` until `check` holds.
async fn until_reply(ws: &mut WsClient, command: Value, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let reply = ws.call(command.clone()).await;
        if check(&reply) {
            return reply;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out; last reply {reply}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_on_one_node_gets_every_message_of_the_cluster_in_order_once() {
    let Some(nats) = shared_nats() else { return };
    // One PostgreSQL database; each node opens its own store on it (its own pool and
    // group-commit writer), as separate processes would.
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = cluster_config(dir.path(), &nats);
    config.database_url = database.url();
    let mut nodes = Vec::new();
    for _ in 0..3 {
        let store = hubbub::startup::open_store(&config).await.unwrap();
        nodes.push(Node::start(&config, store).await);
    }
    let [mut a, mut b, mut c]: [Node; 3] = nodes.try_into().ok().unwrap();
    for node in [&a, &b, &c] {
        assert_eq!(node.readyz().await, StatusCode::OK);
    }
    let (client_id, token) = application(&b).await;
    let mut users = std::collections::HashMap::new();
    for name in ["vic", "jane", "joe"] {
        let user = a
            .post(
                "/v1/users",
                &token,
                json!({"name": name, "display_name": name}),
            )
            .await;
        users.insert(name, id(&user));
    }
    let channel = a
        .post(
            "/v1/channels",
            &token,
            json!({"type": "PUBLIC", "name": "stage"}),
        )
        .await;
    let cid = id(&channel);

    // Arrange: a viewer on A; people on B and C in the same channel.
    let mut viewer = a.client(&client_id, "vic").await;
    viewer.subscribe("stage").await;
    let mut jane = b.client(&client_id, "jane").await;
    jane.subscribe("stage").await;
    let mut joe = c.client(&client_id, "joe").await;
    joe.subscribe("stage").await;
    // The viewer hears of the others joining, though they joined elsewhere.
    let mut joined = Vec::new();
    for _ in 0..2 {
        let push = viewer.push().await;
        assert_eq!(push["channel"], "stage", "{push}");
        joined.push(push["join"]["info"]["user"].as_str().unwrap().to_owned());
    }
    joined.sort();
    assert_eq!(joined, ["jane", "joe"]);

    // Act: messages through REST on B and WebSocket on C, alternately.
    let mut sent = Vec::new();
    for i in 0..10 {
        let body = format!("rest {i}");
        b.post(
            &format!("/v1/channels/{cid}/messages"),
            &token,
            json!({"type": "TEXT", "body": body, "user": {"username": "jane"}}),
        )
        .await;
        sent.push(body);
        let body = format!("ws {i}");
        let reply = joe
            .call(json!({"publish": {"channel": "stage", "data": {"body": body}}}))
            .await;
        assert!(reply["publish"].is_object(), "publish on C: {reply}");
        sent.push(body);
    }
    // A last message from A itself: whatever a duplicate would be, it comes before.
    a.post(
        &format!("/v1/channels/{cid}/messages"),
        &token,
        json!({"type": "TEXT", "body": "the end", "user": {"username": "vic"}}),
    )
    .await;
    sent.push("the end".into());

    // Assert: the viewer on A got them all, in commit order, each once.
    let mut got = Vec::new();
    for expected_offset in 1..=sent.len() as u64 {
        let publication = viewer.publication("stage").await;
        assert_eq!(
            publication["offset"].as_u64(),
            Some(expected_offset),
            "in order, no gap, no duplicate: {publication}"
        );
        got.push(
            publication["data"]["message"]["body"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(got, sent);

    // Presence on A is the union of the nodes'.
    let stats = until_reply(
        &mut viewer,
        json!({"presence_stats": {"channel": "stage"}}),
        |r| r["presence_stats"]["num_clients"] == 3,
    )
    .await;
    assert_eq!(stats["presence_stats"]["num_users"], 3, "{stats}");
    let presence = viewer.call(json!({"presence": {"channel": "stage"}})).await;
    let mut present: Vec<&str> = presence["presence"]["presence"]
        .as_object()
        .unwrap()
        .values()
        .map(|info| info["user"].as_str().unwrap())
        .collect();
    present.sort();
    assert_eq!(present, ["jane", "joe", "vic"]);
    let participants = a
        .get(&format!("/v1/channels/{cid}/participants"), &token)
        .await;
    let mut names: Vec<&str> = participants["_embedded"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["jane", "joe", "vic"],
        "participants are the cluster's"
    );
    // Online users too: joe is connected to C only.
    let joe_seen_on_a = a.get(&format!("/v1/users/{}", users["joe"]), &token).await;
    assert_eq!(joe_seen_on_a["presence"]["online"], true, "{joe_seen_on_a}");

    // A node that leaves takes its presence with it.
    drop(joe);
    c.stop().await;
    until_reply(
        &mut viewer,
        json!({"presence_stats": {"channel": "stage"}}),
        |r| r["presence_stats"]["num_clients"] == 2,
    )
    .await;
    let left = loop {
        let push = viewer.push().await;
        if push["leave"].is_object() {
            break push;
        }
    };
    assert_eq!(left["leave"]["info"]["user"], "joe", "{left}");
    a.stop().await;
    b.stop().await;
}

/// A `nats-server` of the test's own, on a free port.
struct PrivateNats {
    port: u16,
    child: Option<std::process::Child>,
}

impl PrivateNats {
    const BINARY: &str = "/usr/sbin/nats-server";

    fn start() -> Option<Self> {
        if !std::path::Path::new(Self::BINARY).exists() {
            return unavailable(format!("{} is not installed", Self::BINARY));
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = Self { port, child: None };
        server.resume();
        Some(server)
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn resume(&mut self) {
        let child = std::process::Command::new(Self::BINARY)
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string(), "-js"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
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

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_loses_nats_is_not_ready_refuses_writes_with_503_and_recovers() {
    let Some(mut nats) = PrivateNats::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = cluster_config(dir.path(), &nats.url());
    let store = hubbub::startup::open_store(&config).await.unwrap();
    let mut a = Node::start(&config, store.clone()).await;
    let mut b = Node::start(&config, store).await;
    let (client_id, token) = application(&a).await;
    a.post(
        "/v1/users",
        &token,
        json!({"name": "jane", "display_name": "J"}),
    )
    .await;
    let channel = a
        .post(
            "/v1/channels",
            &token,
            json!({"type": "PUBLIC", "name": "stage"}),
        )
        .await;
    let messages = format!("/v1/channels/{}/messages", id(&channel));
    let send = |body: &str| json!({"type": "TEXT", "body": body, "user": {"username": "jane"}});
    let mut viewer = b.client(&client_id, "").await;
    viewer.subscribe("stage").await;
    a.post(&messages, &token, send("before")).await;
    assert_eq!(viewer.publication("stage").await["offset"], 1);

    nats.kill();
    let deadline = tokio::time::Instant::now() + WAIT;
    while a.readyz().await != StatusCode::SERVICE_UNAVAILABLE {
        assert!(
            tokio::time::Instant::now() < deadline,
            "A reports not ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, headers, body) = a
        .request(
            reqwest::Method::POST,
            &messages,
            &token,
            Some(send("during")),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(headers.contains_key(reqwest::header::RETRY_AFTER));
    assert_eq!(body["error"], "ServiceUnavailableError");
    // Reads go on: the database alone serves them.
    a.get(&messages, &token).await;

    nats.resume();
    let deadline = tokio::time::Instant::now() + WAIT;
    while a.readyz().await != StatusCode::OK || b.readyz().await != StatusCode::OK {
        assert!(
            tokio::time::Instant::now() < deadline,
            "ready again by itself"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.post(&messages, &token, send("after")).await;
    let publication = viewer.publication("stage").await;
    assert_eq!(publication["offset"], 2, "the refused write left no trace");
    assert_eq!(publication["data"]["message"]["body"], "after");
    a.stop().await;
    b.stop().await;
}
