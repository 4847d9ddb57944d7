use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use hubbub::config::Config;
use hubbub::startup::Application;
use hubbub_core::Engine;
use hubbub_core::engine::Actor;
use hubbub_core::ids::{AppId, ChannelId};
use hubbub_core::model::{Dialect, DialectCredential};
use reqwest::{Client, Method};
use serde_json::Value;
use sha2::Sha256;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

pub(crate) const SDKAPPID: u64 = 1_400_000_000;
pub(crate) const KEY: &str = "hubbub-test-key";
pub(crate) const ADMIN: &str = "administrator";
pub(crate) const OTHER_SDKAPPID: u64 = 1_400_000_001;
pub(crate) const OTHER_KEY: &str = "the-other-apps-key";

/// A running server with two applications whose Tencent credentials are known: the
/// first (SDKAppID 1400000000, admins `administrator` and `ops`) and another
/// (1400000001) for isolation tests.
pub(crate) struct TestApp {
    pub(crate) base: String,
    pub(crate) client: Client,
    pub(crate) engine: Arc<Engine>,
    pub(crate) app: AppId,
    /// A Platform API (ChatKitty) bearer token of the first application.
    pub(crate) token: String,
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
    let first = engine.create_application("tencent").await.unwrap();
    let other = engine.create_application("other").await.unwrap();
    for (app, sdkappid, key) in [
        (first.application.id, SDKAPPID, KEY),
        (other.application.id, OTHER_SDKAPPID, OTHER_KEY),
    ] {
        engine
            .set_dialect_credential(
                app,
                DialectCredential {
                    dialect: Dialect::Tencent,
                    key: sdkappid.to_string(),
                    secret: key.into(),
                    admins: vec![ADMIN.into(), "ops".into()],
                },
            )
            .await
            .unwrap();
    }
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run_until(async move {
        let _ = rx.await;
    }));
    let client = Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let token: Value = client
        .post(format!("{base}/oauth/token"))
        .basic_auth(&first.application.client_id, Some(&first.client_secret.0))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    TestApp {
        base,
        client,
        engine,
        app: first.application.id,
        token: token["access_token"].as_str().unwrap().to_owned(),
        _dir: dir,
        _shutdown: tx,
    }
}

pub(crate) fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A UserSig v2 written from the spec (seed-surfaces 4.4), in the Node layout
/// (compact JSON, `time` before `expire`).
pub(crate) fn usersig(
    sdkappid: u64,
    key: &str,
    identifier: &str,
    time: i64,
    expire: i64,
) -> String {
    let sig = hmac_sig(sdkappid, key, identifier, time, expire);
    pack(&format!(
        r#"{{"TLS.ver":"2.0","TLS.identifier":"{identifier}","TLS.sdkappid":{sdkappid},"TLS.time":{time},"TLS.expire":{expire},"TLS.sig":"{sig}"}}"#
    ))
}

/// The same in the PyPI package's layout (`", "`/`": "` separators, `expire` before
/// `time`).
pub(crate) fn usersig_python_layout(
    sdkappid: u64,
    key: &str,
    identifier: &str,
    time: i64,
    expire: i64,
) -> String {
    let sig = hmac_sig(sdkappid, key, identifier, time, expire);
    pack(&format!(
        r#"{{"TLS.ver": "2.0", "TLS.identifier": "{identifier}", "TLS.sdkappid": {sdkappid}, "TLS.expire": {expire}, "TLS.time": {time}, "TLS.sig": "{sig}"}}"#
    ))
}

fn hmac_sig(sdkappid: u64, key: &str, identifier: &str, time: i64, expire: i64) -> String {
    let content = format!(
        "TLS.identifier:{identifier}\nTLS.sdkappid:{sdkappid}\nTLS.time:{time}\nTLS.expire:{expire}\n"
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(content.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

fn pack(json: &str) -> String {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(json.as_bytes()).unwrap();
    STANDARD
        .encode(z.finish().unwrap())
        .replace('+', "*")
        .replace('/', "-")
        .replace('=', "_")
}

/// The query string of a call by `identifier` with a fresh day-long sig.
pub(crate) fn query_for(sdkappid: u64, key: &str, identifier: &str) -> String {
    let sig = usersig(sdkappid, key, identifier, unix_now(), 86_400);
    format!(
        "sdkappid={sdkappid}&identifier={identifier}&usersig={sig}&random={}&contenttype=json",
        rand_u32()
    )
}

fn rand_u32() -> u32 {
    (unix_now() as u32).wrapping_mul(2_654_435_761)
}

impl TestApp {
    /// A call as `administrator` of the first application.
    pub(crate) async fn call(&self, command: &str, body: Value) -> Value {
        self.call_raw(command, &query_for(SDKAPPID, KEY, ADMIN), &body.to_string())
            .await
    }

    /// A call with this exact query string and body; asserts the HTTP 200 and JSON
    /// that every answer has.
    pub(crate) async fn call_raw(&self, command: &str, query: &str, body: &str) -> Value {
        self.request(Method::POST, command, query, body).await
    }

    pub(crate) async fn request(
        &self,
        method: Method,
        command: &str,
        query: &str,
        body: &str,
    ) -> Value {
        let response = self
            .client
            .request(method, format!("{}/v4/{command}?{query}", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "Tencent answers HTTP 200 always");
        let value: Value = response.json().await.expect("a JSON body");
        assert_envelope(&value);
        value
    }

    /// A Platform API GET with the first application's token.
    pub(crate) async fn platform_get(&self, path: &str) -> Value {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    pub(crate) async fn import(&self, user: &str) {
        ok(&self
            .call(
                "im_open_login_svc/account_import",
                serde_json::json!({"UserID": user}),
            )
            .await);
    }

    pub(crate) async fn create_room(&self, room: &str) {
        ok(&self
            .call(
                "live_engine_http_srv/create_room",
                serde_json::json!({"RoomInfo": {"RoomId": room, "RoomType": "Live"}}),
            )
            .await);
    }

    pub(crate) async fn channel_id(&self, room: &str) -> ChannelId {
        self.engine
            .get_channel_by_name(&Actor::App(self.app), room)
            .await
            .unwrap()
            .id
    }
}

/// Every answer: `ActionStatus`, `ErrorInfo`, `ErrorCode`, a `RequestId` of Tencent's
/// shape; `OK` with code 0 and no info, or `FAIL` with a code and an info.
pub(crate) fn assert_envelope(v: &Value) {
    let request_id = v["RequestId"].as_str().expect("RequestId is a string");
    let (hex, seq) = request_id
        .strip_prefix("Id-")
        .and_then(|r| r.split_once("-O-Seq-"))
        .unwrap_or_else(|| panic!("RequestId {request_id} is Id-<hex>-O-Seq-<n>"));
    assert!(!hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(seq.parse::<u64>().is_ok());
    match v["ActionStatus"].as_str() {
        Some("OK") => {
            assert_eq!(v["ErrorCode"], 0, "{v}");
            assert_eq!(v["ErrorInfo"], "", "{v}");
        }
        Some("FAIL") => {
            assert!(v["ErrorCode"].as_u64().is_some_and(|c| c > 0), "{v}");
            assert!(
                v["ErrorInfo"].as_str().is_some_and(|i| !i.is_empty()),
                "{v}"
            );
        }
        _ => panic!("ActionStatus is OK or FAIL: {v}"),
    }
}

/// Asserts `OK` and returns the `Response` (null when there is none).
pub(crate) fn ok(v: &Value) -> Value {
    assert_eq!(v["ActionStatus"], "OK", "{v}");
    v.get("Response").cloned().unwrap_or(Value::Null)
}

/// Asserts `FAIL` with this code; returns the `ErrorInfo`.
pub(crate) fn fail(v: &Value, code: u64) -> String {
    assert_eq!(v["ActionStatus"], "FAIL", "{v}");
    assert_eq!(v["ErrorCode"], code, "{v}");
    assert!(
        v.get("Response").is_none(),
        "a failure has no Response: {v}"
    );
    v["ErrorInfo"].as_str().unwrap().to_owned()
}

/// The envelope without its `RequestId`, for whole-body comparisons.
pub(crate) fn without_request_id(v: &Value) -> Value {
    let mut v = v.clone();
    v.as_object_mut().unwrap().remove("RequestId");
    v
}
