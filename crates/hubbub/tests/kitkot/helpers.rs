//! A running hubbub with two applications, and one method per kitkot call.

use hubbub::config::Config;
use hubbub::startup::Application;
use hubbub_core::Engine;
use hubbub_core::engine::{Actor, CreateChannel, CreateUser, LivePatch, UserRef};
use hubbub_core::ids::{AppId, ChannelId, UserId};
use hubbub_core::model::{ChannelKind, Dialect, LiveRoom, LiveStatus, UserKind};
use hubbub_core::names::UserName;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

pub(crate) const PASSWORD: &str = "correct horse battery";

pub(crate) struct TestApp {
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
    pub(crate) engine: Arc<Engine>,
    pub(crate) app: AppId,
    pub(crate) api_key: String,
    pub(crate) other_app: AppId,
    pub(crate) other_api_key: String,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// A kitkot answer: the HTTP status and the body, parsed as strict JSON.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

pub(crate) async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let server = Application::build(&config).await.expect("server builds");
    let base = format!("http://{}/kitkot/api", server.local_addr());
    let engine = server.engine().clone();
    let first = engine.create_application("kitkot-test").await.unwrap();
    let other = engine.create_application("other").await.unwrap();
    let key = |creds: &[hubbub_core::model::DialectCredential]| {
        creds
            .iter()
            .find(|c| c.dialect == Dialect::Kitkot)
            .expect("every application has a kitkot credential")
            .key
            .clone()
    };
    let api_key = key(&engine
        .dialect_credentials(first.application.id)
        .await
        .unwrap());
    let other_api_key = key(&other.dialects);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run_until(async move {
        let _ = rx.await;
    }));
    TestApp {
        base,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
        engine,
        app: first.application.id,
        api_key,
        other_app: other.application.id,
        other_api_key,
        _dir: dir,
        _shutdown: tx,
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl TestApp {
    /// `GET {base}{path}?k=v&…` with the values percent-encoded.
    pub(crate) async fn get(&self, path: &str, params: &[(&str, &str)]) -> Answer {
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        self.get_raw(&format!("{path}?{}", query.join("&"))).await
    }

    /// `GET {base}{path_and_query}` exactly as given.
    pub(crate) async fn get_raw(&self, path_and_query: &str) -> Answer {
        self.call(reqwest::Method::GET, path_and_query).await
    }

    pub(crate) async fn call(&self, method: reqwest::Method, path_and_query: &str) -> Answer {
        let response = self
            .client
            .request(method, format!("{}{path_and_query}", self.base))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not strict JSON ({e}): {text}"));
        // kitkot: the HTTP status is the body's code, always.
        assert_eq!(
            body["code"].as_u64(),
            Some(u64::from(status)),
            "status {status} vs body {body}"
        );
        Answer { status, body }
    }

    /// Creates a user with [`PASSWORD`].
    pub(crate) async fn user(&self, name: &str) -> UserId {
        self.user_in(self.app, name).await
    }

    pub(crate) async fn user_in(&self, app: AppId, name: &str) -> UserId {
        let actor = Actor::App(app);
        let user = self
            .engine
            .create_user(
                &actor,
                CreateUser {
                    name: name.into(),
                    display_name: Some(format!("{name} (display)")),
                    is_guest: false,
                    kind: UserKind::Person,
                    properties: Value::Null,
                },
            )
            .await
            .unwrap();
        self.engine
            .set_user_password(&actor, &UserRef::Id(user.id), Some(PASSWORD))
            .await
            .unwrap();
        user.id
    }

    /// A public room owned by `owner`, with a title, broadcasting when `live`.
    pub(crate) async fn room(&self, owner: &str, title: &str, live: bool) -> ChannelId {
        self.room_in(self.app, owner, title, live).await
    }

    pub(crate) async fn room_in(
        &self,
        app: AppId,
        owner: &str,
        title: &str,
        live: bool,
    ) -> ChannelId {
        let actor = Actor::App(app);
        let (view, _) = self
            .engine
            .create_channel(
                &actor,
                CreateChannel {
                    kind: ChannelKind::Public,
                    name: None,
                    display_name: Some(format!("{title} channel")),
                    creator: Some(UserRef::Name(UserName::parse(owner).unwrap())),
                    members: vec![],
                    properties: Value::Null,
                    live: Some(LiveRoom {
                        title: Some(title.into()),
                        ..LiveRoom::default()
                    }),
                },
            )
            .await
            .unwrap();
        if live {
            self.engine
                .update_live(
                    &actor,
                    view.channel.id,
                    LivePatch {
                        status: Some(LiveStatus::Live),
                        ..LivePatch::default()
                    },
                )
                .await
                .unwrap();
        }
        view.channel.id
    }

    /// A session_key for the user, through `/login`.
    pub(crate) async fn login(&self, name: &str) -> String {
        let a = self
            .get(
                "/login",
                &[
                    ("api_key", &self.api_key),
                    ("username", name),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        a.body["session_key"].as_str().unwrap().to_owned()
    }

    /// A session's call with room_id and more.
    pub(crate) async fn room_call(
        &self,
        path: &str,
        session: &str,
        room: ChannelId,
        more: &[(&str, &str)],
    ) -> Answer {
        let room = room.0.to_string();
        let mut params = vec![
            ("api_key", self.api_key.as_str()),
            ("session_key", session),
            ("room_id", room.as_str()),
        ];
        params.extend_from_slice(more);
        self.get(path, &params).await
    }

    pub(crate) async fn send(&self, session: &str, room: ChannelId, content: &str) -> Answer {
        self.room_call(
            "/live/chat/send_message",
            session,
            room,
            &[("content", content)],
        )
        .await
    }

    pub(crate) async fn join(&self, session: &str, room: ChannelId) -> Answer {
        self.room_call("/live/join", session, room, &[]).await
    }

    /// `/live/chat`, with a `(cursor, internalExt)` pair when given.
    pub(crate) async fn chat(
        &self,
        session: &str,
        room: ChannelId,
        pair: Option<&(String, String)>,
    ) -> Answer {
        match pair {
            None => self.room_call("/live/chat", session, room, &[]).await,
            Some((cursor, ext)) => {
                self.room_call(
                    "/live/chat",
                    session,
                    room,
                    &[("cursor", cursor), ("internalExt", ext)],
                )
                .await
            }
        }
    }
}

/// The pair of a `/live/chat` answer.
pub(crate) fn pair(a: &Answer) -> (String, String) {
    (
        a.body["cursor"].as_str().unwrap().to_owned(),
        a.body["internalExt"].as_str().unwrap().to_owned(),
    )
}

/// The contents of a `/live/chat` answer's messages, in order.
pub(crate) fn contents(a: &Answer) -> Vec<String> {
    a.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect()
}

pub(crate) fn assert_body(a: &Answer, status: u16, msg: &str) {
    assert_eq!(
        (a.status, &a.body),
        (status, &serde_json::json!({"code": status, "msg": msg})),
    );
}
