use hubbub::config::Config;
use hubbub::startup::Application;
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::Value;
use std::time::Duration;

/// A running server with two applications (the second for isolation tests).
pub(crate) struct TestApp {
    pub(crate) base: String,
    pub(crate) client: Client,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) token: String,
    pub(crate) other_token: String,
    pub(crate) engine: std::sync::Arc<hubbub_core::Engine>,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub(crate) async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    configure(&mut config);
    let app = Application::build(&config).await.expect("server builds");
    let base = format!("http://{}", app.local_addr());
    let first = app.engine().create_application("test").await.unwrap();
    let other = app.engine().create_application("other").await.unwrap();
    let engine = app.engine().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    let client = Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let token = fetch_token(
        &client,
        &base,
        &first.application.client_id,
        &first.client_secret.0,
    )
    .await;
    let other_token = fetch_token(
        &client,
        &base,
        &other.application.client_id,
        &other.client_secret.0,
    )
    .await;
    TestApp {
        base,
        client,
        client_id: first.application.client_id.clone(),
        client_secret: first.client_secret.0.clone(),
        token,
        other_token,
        engine,
        _dir: dir,
        _shutdown: tx,
    }
}

pub(crate) async fn fetch_token(client: &Client, base: &str, id: &str, secret: &str) -> String {
    let response = client
        .post(format!("{base}/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

impl TestApp {
    /// The server's data directory.
    pub(crate) fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    pub(crate) fn other(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.other_token)
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> Response {
        self.request(Method::POST, path)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn patch(&self, path: &str, body: Value) -> Response {
        self.request(Method::PATCH, path)
            .header("content-type", "application/json+merge-patch")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path).send().await.unwrap()
    }

    pub(crate) async fn create_user(&self, name: &str) -> Value {
        ok(self
            .post(
                "/v1/users",
                serde_json::json!({"name": name, "display_name": name, "is_guest": false}),
            )
            .await)
        .await
    }

    pub(crate) async fn create_channel(&self, name: &str) -> Value {
        ok(self
            .post(
                "/v1/channels",
                serde_json::json!({"type": "PUBLIC", "name": name}),
            )
            .await)
        .await
    }

    pub(crate) async fn send_text(&self, channel: i64, user: Option<&str>, body: &str) -> Value {
        let mut msg = serde_json::json!({"type": "TEXT", "body": body});
        if let Some(u) = user {
            msg["user"] = serde_json::json!({"username": u});
        }
        ok(self
            .post(&format!("/v1/channels/{channel}/messages"), msg)
            .await)
        .await
    }
}

/// Asserts a 200 and returns the JSON body.
pub(crate) async fn ok(response: Response) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "expected 200, got {status}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// Asserts the status and an `ApiError` body; returns the body.
pub(crate) async fn api_error(response: Response, status: u16) -> Value {
    let got = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(got.as_u16(), status, "expected {status}, got {got}: {text}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    assert!(body["error"].is_string(), "no error in {body}");
    assert!(body["message"].is_string(), "no message in {body}");
    assert!(body["timestamp"].is_string(), "no timestamp in {body}");
    body
}

pub(crate) fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

pub(crate) fn chrono_secs(s: i64) -> chrono::Duration {
    chrono::Duration::seconds(s)
}
