use hubbub::config::Config;
use hubbub::startup::Application;
use hubbub_core::Engine;
use hubbub_core::engine::{Actor, CreateChannel, CreateUser, LivePatch, UserRef};
use hubbub_core::ids::{AppId, ChannelId, UserId};
use hubbub_core::model::{ChannelKind, Dialect, LiveRoom, LiveStatus, User, UserKind};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// A running server. `app` is the application under test; `other` a second one, for
/// isolation (absent when spawned with a single application).
pub(crate) struct TestApp {
    pub(crate) base: String,
    pub(crate) client: Client,
    pub(crate) engine: Arc<Engine>,
    pub(crate) app: AppId,
    /// The application's Allmine credential key (JWT issuer, `x-allmine-app`).
    pub(crate) key: String,
    /// Its HS256 signing secret.
    pub(crate) secret: String,
    pub(crate) other: Option<(AppId, String)>,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// A server with two applications.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(2, |_| {}).await
}

pub(crate) async fn spawn_app_with(apps: usize, configure: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    configure(&mut config);
    let server = Application::build(&config).await.expect("server builds");
    let base = format!("http://{}", server.local_addr());
    let engine = server.engine().clone();
    let mut created = Vec::new();
    for i in 0..apps {
        let new = engine.create_application(&format!("app{i}")).await.unwrap();
        let allmine = new
            .dialects
            .iter()
            .find(|c| c.dialect == Dialect::Allmine)
            .expect("an Allmine credential is generated with the application")
            .clone();
        created.push((new.application.id, allmine));
    }
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run_until(async move {
        let _ = rx.await;
    }));
    let client = Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let (app, credential) = created[0].clone();
    // The credential listed by the engine is the one generated at creation.
    let listed = engine.dialect_credentials(app).await.unwrap();
    assert!(listed.contains(&credential));
    TestApp {
        base,
        client,
        engine,
        app,
        key: credential.key,
        secret: credential.secret,
        other: created.get(1).map(|(id, c)| (*id, c.key.clone())),
        _dir: dir,
        _shutdown: tx,
    }
}

/// A response's status and JSON body.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Value,
}

impl Answer {
    /// The envelope of a success: checks it and returns `data`.
    pub(crate) fn data(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        check_envelope(&self.body, true, status);
        assert!(
            self.body.get("errors").is_none(),
            "a success has no errors: {}",
            self.body
        );
        &self.body["data"]
    }

    /// Asserts the exact error envelope of `status` with its one message.
    pub(crate) fn error(&self, status: u16, message: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        check_envelope(&self.body, false, status);
        let mut expected = json!({
            "isSuccess": false,
            "statusCode": status,
            "data": null,
            "errors": [message],
        });
        expected["timestamp"] = self.body["timestamp"].clone();
        assert_eq!(self.body, expected);
    }
}

/// The seed's envelope: exactly these members, and `timestamp` like
/// `2026-01-15T10:30:00.000Z`.
pub(crate) fn check_envelope(body: &Value, success: bool, status: u16) {
    let obj = body.as_object().expect("an object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let expected: &[&str] = if success {
        &["data", "isSuccess", "statusCode", "timestamp"]
    } else {
        &["data", "errors", "isSuccess", "statusCode", "timestamp"]
    };
    assert_eq!(keys, expected, "{body}");
    assert_eq!(body["isSuccess"], success);
    assert_eq!(body["statusCode"], status);
    assert_iso_millis(&body["timestamp"]);
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, a valid date.
pub(crate) fn assert_iso_millis(value: &Value) {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"));
    assert_eq!(s.len(), 24, "{s}");
    let bytes = s.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        let ok = match i {
            4 | 7 => *b == b'-',
            10 => *b == b'T',
            13 | 16 => *b == b':',
            19 => *b == b'.',
            23 => *b == b'Z',
            _ => b.is_ascii_digit(),
        };
        assert!(ok, "{s} at {i}");
    }
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"));
}

/// The 24-hex form of an engine id.
pub(crate) fn hex(id: i64) -> String {
    format!("{id:024x}")
}

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    pub(crate) async fn send(&self, request: RequestBuilder) -> Answer {
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"));
        Answer {
            status,
            headers,
            body,
        }
    }

    pub(crate) fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> RequestBuilder {
        let request = self.client.request(method, self.url(path));
        match token {
            Some(t) => request.bearer_auth(t),
            None => request,
        }
    }

    pub(crate) async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.send(self.request(Method::POST, path, token).json(&body))
            .await
    }

    pub(crate) async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(self.request(Method::GET, path, token)).await
    }

    pub(crate) async fn delete(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(self.request(Method::DELETE, path, token)).await
    }

    /// An unauthenticated auth call for this application (`x-allmine-app`).
    pub(crate) async fn auth(&self, path: &str, body: Value) -> Answer {
        self.send(
            self.request(Method::POST, path, None)
                .header("x-allmine-app", &self.key)
                .json(&body),
        )
        .await
    }

    /// A user of the application with an Allmine access token.
    pub(crate) async fn user(&self, name: &str) -> (User, String) {
        let user = self
            .engine
            .create_user(
                &Actor::App(self.app),
                CreateUser {
                    name: name.to_owned(),
                    display_name: Some(format!("{name} display")),
                    is_guest: false,
                    kind: UserKind::Person,
                    properties: Value::Null,
                },
            )
            .await
            .unwrap();
        let token = self.token_for(user.id).await;
        (user, token)
    }

    pub(crate) async fn token_for(&self, user: UserId) -> String {
        self.engine
            .issue_allmine_tokens(self.app, user)
            .await
            .unwrap()
            .access_token
    }

    /// A live room (status LIVE) owned by `owner`; returns its id and `streamId`.
    pub(crate) async fn stream(&self, name: &str, owner: UserId) -> (ChannelId, String) {
        let (view, _) = self
            .engine
            .create_channel(
                &Actor::App(self.app),
                CreateChannel {
                    kind: ChannelKind::Public,
                    name: Some(name.to_owned()),
                    display_name: None,
                    creator: Some(UserRef::Id(owner)),
                    members: vec![],
                    properties: Value::Null,
                    live: Some(LiveRoom {
                        status: LiveStatus::Live,
                        ..LiveRoom::default()
                    }),
                },
            )
            .await
            .unwrap();
        (view.channel.id, hex(view.channel.id.0))
    }

    pub(crate) async fn set_status(&self, channel: ChannelId, status: LiveStatus) {
        self.engine
            .update_live(
                &Actor::App(self.app),
                channel,
                LivePatch {
                    status: Some(status),
                    ..LivePatch::default()
                },
            )
            .await
            .unwrap();
    }

    /// Sends `content` to a stream over the dialect; returns the message.
    pub(crate) async fn say(&self, stream: &str, token: &str, content: &str) -> Value {
        self.post(
            &format!("/live-stream/{stream}/chat/messages"),
            Some(token),
            json!({ "content": content }),
        )
        .await
        .data(201)
        .clone()
    }

    pub(crate) async fn list(&self, stream: &str, token: &str, query: &str) -> Answer {
        self.get(
            &format!("/live-stream/{stream}/chat/messages{query}"),
            Some(token),
        )
        .await
    }
}
