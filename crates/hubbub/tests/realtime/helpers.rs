use futures::{SinkExt, StreamExt};
use hubbub::config::Config;
use hubbub::startup::Application;
use reqwest::Client;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// A running server with one application and an admin token.
pub(crate) struct RtApp {
    pub(crate) base: String,
    pub(crate) ws_url: String,
    pub(crate) http: Client,
    pub(crate) client_id: String,
    pub(crate) token: String,
    pub(crate) engine: std::sync::Arc<hubbub_core::Engine>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    stopped: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

pub(crate) async fn spawn_app() -> RtApp {
    spawn_app_with(|_| {}).await
}

pub(crate) async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> RtApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    configure(&mut config);
    let app = Application::build(&config).await.expect("server builds");
    let addr = app.local_addr();
    let created = app.engine().create_application("rt").await.unwrap();
    let engine = app.engine().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let stopped = tokio::spawn(async move {
        let _ = app
            .run_until(async move {
                let _ = rx.await;
            })
            .await;
    });
    let http = Client::builder().timeout(WAIT).build().unwrap();
    let base = format!("http://{addr}");
    let response = http
        .post(format!("{base}/oauth/token"))
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
    RtApp {
        ws_url: format!("ws://{addr}/connection/websocket"),
        base,
        http,
        client_id: created.application.client_id.clone(),
        token,
        engine,
        shutdown: Some(tx),
        stopped: Some(stopped),
        _dir: dir,
    }
}

impl RtApp {
    pub(crate) async fn post(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "POST {path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// The node's `/metrics` (Prometheus text): `value(name)` reads one figure.
    pub(crate) async fn metrics(&self) -> Metrics {
        let text = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        Metrics(text)
    }

    pub(crate) async fn user(&self, name: &str) -> Value {
        self.post("/v1/users", json!({"name": name, "display_name": name}))
            .await
    }

    pub(crate) async fn channel(&self, kind: &str, name: &str, members: &[&str]) -> Value {
        let members: Vec<Value> = members.iter().map(|m| json!({"username": m})).collect();
        self.post(
            "/v1/channels",
            json!({"type": kind, "name": name, "members": members}),
        )
        .await
    }

    /// Posts a text message over REST (as `user`, or a system message).
    pub(crate) async fn send(&self, channel: i64, user: Option<&str>, body: &str) -> Value {
        let mut message = json!({"type": "TEXT", "body": body});
        if let Some(u) = user {
            message["user"] = json!({"username": u});
        }
        self.post(&format!("/v1/channels/{channel}/messages"), message)
            .await
    }

    /// A connection token for `user` (empty: anonymous).
    pub(crate) async fn token_for(&self, user: &str, ttl_secs: u64) -> String {
        self.engine
            .mint_realtime_token(&self.client_id, user, Duration::from_secs(ttl_secs))
            .await
            .unwrap()
            .0
    }

    /// A connected client for `user`.
    pub(crate) async fn client(&self, user: &str) -> WsClient {
        let mut client = WsClient::open(&self.ws_url).await;
        let token = self.token_for(user, 3600).await;
        let reply = client
            .call(json!({"connect": {"token": token, "name": "test"}}))
            .await;
        assert!(reply["connect"]["client"].is_string(), "connect: {reply}");
        client
    }

    /// Stops the server gracefully and waits for it.
    pub(crate) async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(stopped) = self.stopped.take() {
            tokio::time::timeout(WAIT, stopped)
                .await
                .expect("server stops")
                .unwrap();
        }
    }
}

/// A raw Centrifugo JSON protocol client.
pub(crate) struct WsClient {
    pub(crate) ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u32,
    /// Received objects not yet consumed (pushes, replies, pings).
    inbox: VecDeque<Value>,
    /// WebSocket messages received (to count coalesced frames).
    pub(crate) messages: usize,
}

/// What `next` returned.
#[derive(Debug)]
pub(crate) enum Incoming {
    Json(Value),
    Closed(Option<CloseFrame>),
}

impl WsClient {
    pub(crate) async fn open(url: &str) -> Self {
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .expect("ws connect in time")
            .expect("ws connects");
        Self {
            ws,
            next_id: 0,
            inbox: VecDeque::new(),
            messages: 0,
        }
    }

    pub(crate) async fn send_raw(&mut self, text: String) {
        self.ws.send(Message::Text(text.into())).await.unwrap();
    }

    /// Sends a command with a fresh id; returns the id.
    pub(crate) async fn send(&mut self, mut command: Value) -> u32 {
        self.next_id += 1;
        command["id"] = json!(self.next_id);
        self.send_raw(command.to_string()).await;
        self.next_id
    }

    /// The next JSON object (or the close), answering server pings.
    pub(crate) async fn next(&mut self) -> Incoming {
        loop {
            if let Some(v) = self.inbox.pop_front() {
                return Incoming::Json(v);
            }
            let message = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a message in time");
            match message {
                Some(Ok(Message::Text(text))) => {
                    self.messages += 1;
                    for line in text.split('\n').filter(|l| !l.trim().is_empty()) {
                        let v: Value = serde_json::from_str(line).unwrap();
                        if v.as_object().is_some_and(|o| o.is_empty()) {
                            self.send_raw("{}".into()).await;
                            continue;
                        }
                        self.inbox.push_back(v);
                    }
                }
                Some(Ok(Message::Close(frame))) => return Incoming::Closed(frame),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Incoming::Closed(None),
            }
        }
    }

    /// The next JSON object; panics on close.
    pub(crate) async fn next_json(&mut self) -> Value {
        match self.next().await {
            Incoming::Json(v) => v,
            Incoming::Closed(f) => panic!("connection closed: {f:?}"),
        }
    }

    /// Sends a command and waits for its reply (pushes meanwhile are kept).
    pub(crate) async fn call(&mut self, command: Value) -> Value {
        let id = self.send(command).await;
        self.reply(id).await
    }

    pub(crate) async fn reply(&mut self, id: u32) -> Value {
        let mut kept = VecDeque::new();
        let reply = loop {
            let v = self.next_json().await;
            if v["id"].as_u64() == Some(u64::from(id)) {
                break v;
            }
            kept.push_back(v);
        };
        kept.append(&mut self.inbox);
        self.inbox = kept;
        reply
    }

    /// The next push (skipping nothing: replies here are a test failure).
    pub(crate) async fn push(&mut self) -> Value {
        let v = self.next_json().await;
        assert!(v["push"].is_object(), "expected a push, got {v}");
        v["push"].clone()
    }

    /// The next publication push of `channel`, skipping other pushes.
    pub(crate) async fn publication(&mut self, channel: &str) -> Value {
        loop {
            let push = self.push().await;
            if push["channel"] == channel && push["pub"].is_object() {
                return push["pub"].clone();
            }
        }
    }

    /// Waits for the close frame.
    pub(crate) async fn closed(&mut self) -> Option<CloseFrame> {
        loop {
            if let Incoming::Closed(frame) = self.next().await {
                return frame;
            }
        }
    }

    pub(crate) async fn subscribe(&mut self, channel: &str) -> Value {
        let reply = self.call(json!({"subscribe": {"channel": channel}})).await;
        assert!(
            reply["subscribe"].is_object(),
            "subscribe {channel}: {reply}"
        );
        reply["subscribe"].clone()
    }
}

pub(crate) fn close_code(frame: &Option<CloseFrame>) -> u16 {
    frame.as_ref().map(|f| u16::from(f.code)).unwrap_or(0)
}

pub(crate) fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

/// A `/metrics` page.
pub(crate) struct Metrics(pub(crate) String);

impl Metrics {
    /// The value of an unlabelled figure; panics (failing the test) if it is missing.
    pub(crate) fn value(&self, name: &str) -> u64 {
        self.0
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing in {}", self.0))
            .parse()
            .unwrap()
    }
}
