//! A running server with two applications, and the calls PRISM Live Studio makes.

use hubbub::config::Config;
use hubbub::startup::Application;
use hubbub_core::Engine;
use hubbub_core::engine::{Actor, CreateChannel, CreateUser, SendContent, SendMessage, UserRef};
use hubbub_core::ids::{AppId, ChannelId, MessageId};
use hubbub_core::model::{ChannelKind, Dialect, LiveRoom, LiveStatus, User, UserKind};
use hubbub_core::names::UserName;
use reqwest::{Client, Method, Response};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

pub(crate) struct TestApp {
    pub(crate) base: String,
    /// Does not follow redirects, so the OAuth flow's 302s can be read.
    pub(crate) client: Client,
    pub(crate) engine: Arc<Engine>,
    pub(crate) app: AppId,
    pub(crate) other_app: AppId,
    /// The application's PRISM client id and secret.
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    /// A Platform API bearer token of the application.
    pub(crate) platform_token: String,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

pub(crate) async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let server = Application::build(&config).await.expect("server builds");
    let base = format!("http://{}", server.local_addr());
    let engine = server.engine().clone();
    let first = engine.create_application("test").await.unwrap();
    let other = engine.create_application("other").await.unwrap();
    let prism = first
        .dialects
        .iter()
        .find(|c| c.dialect == Dialect::Prism)
        .expect("a PRISM credential is generated with the application")
        .clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run_until(async move {
        let _ = rx.await;
    }));
    let client = Client::builder()
        .timeout(Duration::from_secs(20))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .post(format!("{base}/oauth/token"))
        .basic_auth(&first.application.client_id, Some(&first.client_secret.0))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let platform_token = response.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    TestApp {
        base,
        client,
        engine,
        app: first.application.id,
        other_app: other.application.id,
        client_id: prism.key,
        client_secret: prism.secret,
        platform_token,
        _dir: dir,
        _shutdown: tx,
    }
}

impl TestApp {
    pub(crate) fn backend(&self) -> Actor {
        Actor::App(self.app)
    }

    /// A user of the application (display name = name in upper case).
    pub(crate) async fn user(&self, name: &str) -> User {
        self.user_in(self.app, name).await
    }

    pub(crate) async fn user_in(&self, app: AppId, name: &str) -> User {
        self.engine
            .create_user(
                &Actor::App(app),
                CreateUser {
                    name: name.into(),
                    display_name: Some(name.to_uppercase()),
                    is_guest: false,
                    kind: UserKind::Person,
                    properties: Value::Null,
                },
            )
            .await
            .unwrap()
    }

    /// A PRISM access token of a user, as the OAuth flow would end.
    pub(crate) async fn token_of(&self, user: &User) -> String {
        self.engine
            .issue_prism_tokens(user.app_id, user.id)
            .await
            .unwrap()
            .access_token
    }

    /// A live room owned by `owner`, on air.
    pub(crate) async fn live_of(&self, owner: &User, title: &str) -> ChannelId {
        self.live_with(owner, title, LiveStatus::Live).await
    }

    pub(crate) async fn live_with(
        &self,
        owner: &User,
        title: &str,
        status: LiveStatus,
    ) -> ChannelId {
        let (view, _) = self
            .engine
            .create_channel(
                &Actor::App(owner.app_id),
                CreateChannel {
                    kind: ChannelKind::Public,
                    name: None,
                    display_name: Some(title.into()),
                    creator: Some(UserRef::Id(owner.id)),
                    members: vec![],
                    properties: Value::Null,
                    live: Some(LiveRoom {
                        title: Some(title.into()),
                        status,
                        ..LiveRoom::default()
                    }),
                },
            )
            .await
            .unwrap();
        view.channel.id
    }

    /// A message sent by the backend on behalf of `author`.
    pub(crate) async fn say(&self, live: ChannelId, author: &User, text: &str) -> MessageId {
        let (appended, _) = self
            .engine
            .send_message(
                &Actor::App(author.app_id),
                live,
                SendMessage {
                    on_behalf_of: Some(UserRef::Name(
                        UserName::parse(author.name.as_str()).unwrap(),
                    )),
                    content: SendContent::Text(text.into()),
                    group_tag: None,
                    properties: Value::Null,
                    idempotency_key: None,
                },
            )
            .await
            .unwrap();
        appended.message.id
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A PRISM service call with an access token (`None`: no header).
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.header("x-prism-access-token", token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// View chat; asserts success and returns `data`.
    pub(crate) async fn view(&self, token: &str, live: ChannelId, body: Value) -> Value {
        let response = self
            .call(
                Method::POST,
                &format!("/prism/v1/service/live/{live}/chat"),
                Some(token),
                Some(body),
            )
            .await;
        ok(response).await
    }

    /// The token endpoint with the application's client headers.
    pub(crate) async fn token_endpoint(&self, query: &[(&str, &str)], secret: &str) -> Response {
        self.client
            .get(self.url("/prism/v1/service/oauth2/token"))
            .header("x-prism-client-id", &self.client_id)
            .header("x-prism-client-secret", secret)
            .query(query)
            .send()
            .await
            .unwrap()
    }
}

/// Asserts a 200 with `success: true` and returns `data`.
pub(crate) async fn ok(response: Response) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "expected 200, got {status}: {text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["success"], true, "{body}");
    assert_eq!(body["errorCode"], 0, "{body}");
    assert_eq!(body["errorName"], Value::Null, "{body}");
    assert_eq!(body["message"], Value::Null, "{body}");
    body["data"].clone()
}

/// Asserts PRISM's "Response: N/A" success: the whole envelope with `data: null`.
pub(crate) async fn ok_empty(response: Response) {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "expected 200, got {status}: {text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"success": true, "errorCode": 0, "errorName": null, "message": null, "data": null})
    );
}

/// Asserts a PRISM error envelope of `status` and `name`; returns its message.
pub(crate) async fn fails(response: Response, status: u16, name: &str) -> String {
    let got = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(got.as_u16(), status, "expected {status}, got {got}: {text}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    let message = body["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message in {body}"))
        .to_owned();
    assert_eq!(
        body,
        json!({
            "success": false,
            "errorCode": status,
            "errorName": name,
            "message": message,
            "data": null,
        })
    );
    message
}

/// Asserts an RFC 6749 error body.
pub(crate) async fn oauth_fails(response: Response, status: u16, error: &str) {
    let got = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(got.as_u16(), status, "expected {status}, got {got}: {text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string(), "{body}");
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
}
