//! One live room, six ways in: a message is sent through each of the five APIs
//! (ChatKitty, PRISM, kitkot, Allmine, Tencent) and the realtime gateway; every API
//! that lists chat lists all six once, in the same order, with the same authors. A
//! ban made through PRISM then stops the user in Tencent's send_text_msg and in the
//! gateway, and in every other API.

#[allow(dead_code)]
#[path = "tencent/helpers.rs"]
mod tencent;

use futures::{SinkExt, StreamExt};
use hubbub_core::engine::UserRef;
use hubbub_core::model::Dialect;
use hubbub_core::names::UserName;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// (author's user name, text) in send order.
type Chat = Vec<(String, String)>;

struct Gateway {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next: u32,
}

impl Gateway {
    async fn connect(app: &tencent::TestApp, client_id: &str, user: &str) -> Self {
        let url = format!(
            "{}/connection/websocket",
            app.base.replacen("http://", "ws://", 1)
        );
        let (ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
        let mut gateway = Self { ws, next: 0 };
        let (token, _) = app
            .engine
            .mint_realtime_token(client_id, user, Duration::from_secs(600))
            .await
            .unwrap();
        let reply = gateway
            .call(json!({"connect": {"token": token, "name": "cross-api"}}))
            .await;
        assert!(reply["connect"].is_object(), "{reply}");
        gateway
    }

    /// Sends a command and returns its reply, skipping pushes and answering pings.
    async fn call(&mut self, mut command: Value) -> Value {
        self.next += 1;
        command["id"] = json!(self.next);
        self.ws
            .send(Message::Text(command.to_string().into()))
            .await
            .unwrap();
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("a reply in time")
                .expect("the connection stays open")
                .unwrap();
            let Message::Text(text) = frame else { continue };
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let v: Value = serde_json::from_str(line).unwrap();
                if v.as_object().is_some_and(|o| o.is_empty()) {
                    self.ws.send(Message::Text("{}".into())).await.unwrap();
                } else if v["id"] == self.next {
                    return v;
                }
            }
        }
    }
}

#[tokio::test]
async fn a_room_reads_the_same_through_every_api_and_a_prism_ban_holds_everywhere() {
    let app = tencent::spawn_app().await;
    let http = &app.client;
    let application = app.engine.list_applications().await.unwrap()[0].clone();
    assert_eq!(application.id, app.app);
    let credentials: HashMap<Dialect, _> = app
        .engine
        .dialect_credentials(app.app)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.dialect, c))
        .collect();

    // The accounts and the room, made through Tencent.
    let names = ["streamer", "ck", "kk", "am", "tc", "gw"];
    let imported = app
        .call(
            "im_open_login_svc/multiaccount_import",
            json!({"AccountList": names.map(|n| json!({"UserID": n, "Nick": format!("Nick {n}")}))}),
        )
        .await;
    assert_eq!(imported["ActionStatus"], "OK", "{imported}");
    let created = app
        .call(
            "live_engine_http_srv/create_room",
            json!({"RoomInfo": {"RoomId": "cross-room", "RoomType": "Live", "Owner_Account": "streamer"}}),
        )
        .await;
    assert_eq!(created["ActionStatus"], "OK", "{created}");
    let mut ids = HashMap::new();
    for name in names {
        let user = app
            .engine
            .resolve_user(app.app, &UserRef::Name(UserName::parse(name).unwrap()))
            .await
            .unwrap();
        ids.insert(name, user.id);
    }
    let name_of: HashMap<i64, String> = ids.iter().map(|(n, id)| (id.0, n.to_string())).collect();
    let rooms = app.platform_get("/v1/channels?size=100").await;
    let room = rooms["_embedded"]["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "cross-room")
        .expect("the Tencent room is a ChatKitty channel")["id"]
        .as_i64()
        .unwrap();
    let stream = format!("{room:024x}");

    // Everyone's credentials, as `hubbub token --for …` hands them out.
    let prism = app
        .engine
        .issue_prism_tokens(app.app, ids["streamer"])
        .await
        .unwrap()
        .access_token;
    let kitkot_key = credentials[&Dialect::Kitkot].key.clone();
    let kitkot_session = app
        .engine
        .issue_kitkot_session(app.app, ids["kk"])
        .await
        .unwrap();
    let allmine = app
        .engine
        .issue_allmine_tokens(app.app, ids["am"])
        .await
        .unwrap()
        .access_token;

    // One message through each API, in this order.
    let mut expected: Chat = Vec::new();
    let r = http
        .post(format!("{}/v1/channels/{room}/messages", app.base))
        .bearer_auth(&app.token)
        .json(&json!({"type": "TEXT", "body": "from chatkitty", "user": {"username": "ck"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    expected.push(("ck".into(), "from chatkitty".into()));

    let r = http
        .put(format!("{}/prism/v1/service/live/{room}/chat", app.base))
        .header("x-prism-access-token", &prism)
        .json(&json!({"message": "from prism"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    expected.push(("streamer".into(), "from prism".into()));

    let r = http
        .get(format!("{}/kitkot/api/live/chat/send_message", app.base))
        .query(&[
            ("api_key", kitkot_key.as_str()),
            ("session_key", kitkot_session.as_str()),
            ("room_id", &room.to_string()),
            ("content", "from kitkot"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    expected.push(("kk".into(), "from kitkot".into()));

    let r = http
        .post(format!(
            "{}/api/v1/live-stream/{stream}/chat/messages",
            app.base
        ))
        .bearer_auth(&allmine)
        .json(&json!({"content": "from allmine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    expected.push(("am".into(), "from allmine".into()));

    let sent = app
        .call(
            "live_engine_http_srv/send_text_msg",
            json!({"RoomId": "cross-room", "Sender_Account": "tc", "TextContent": "from tencent"}),
        )
        .await;
    assert_eq!(sent["ActionStatus"], "OK", "{sent}");
    expected.push(("tc".into(), "from tencent".into()));

    let mut gw = Gateway::connect(&app, &application.client_id, "gw").await;
    let reply = gw
        .call(json!({"subscribe": {"channel": "cross-room"}}))
        .await;
    assert!(reply["subscribe"].is_object(), "{reply}");
    let reply = gw
        .call(json!({"publish": {"channel": "cross-room", "data": {"body": "from the gateway"}}}))
        .await;
    assert!(reply["publish"].is_object(), "{reply}");
    expected.push(("gw".into(), "from the gateway".into()));

    // Every API lists the same chat.
    let listed = lists(
        &app,
        room,
        &stream,
        &prism,
        &kitkot_key,
        &kitkot_session,
        &allmine,
        &mut gw,
        &name_of,
    )
    .await;
    for (api, chat) in &listed {
        assert_eq!(chat, &expected, "{api} lists the room differently");
    }

    // A ban through PRISM holds in Tencent, in the gateway and everywhere else.
    let r = http
        .put(format!(
            "{}/prism/v1/service/live/{room}/ban/{}",
            app.base, ids["tc"].0
        ))
        .header("x-prism-access-token", &prism)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let refused = app
        .call(
            "live_engine_http_srv/send_text_msg",
            json!({"RoomId": "cross-room", "Sender_Account": "tc", "TextContent": "banned?"}),
        )
        .await;
    assert_eq!(refused["ActionStatus"], "FAIL", "{refused}");
    assert_ne!(refused["ErrorCode"], 0);
    let mut banned = Gateway::connect(&app, &application.client_id, "tc").await;
    let reply = banned
        .call(json!({"subscribe": {"channel": "cross-room"}}))
        .await;
    assert_eq!(reply["error"]["code"], 103, "{reply}");
    let reply = banned
        .call(json!({"publish": {"channel": "cross-room", "data": {"body": "banned?"}}}))
        .await;
    assert!(reply["error"].is_object(), "{reply}");
    let r = http
        .post(format!("{}/v1/channels/{room}/messages", app.base))
        .bearer_auth(&app.token)
        .json(&json!({"type": "TEXT", "body": "banned?", "user": {"username": "tc"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Nothing of the refused sends was stored: the lists are unchanged.
    let again = lists(
        &app,
        room,
        &stream,
        &prism,
        &kitkot_key,
        &kitkot_session,
        &allmine,
        &mut gw,
        &name_of,
    )
    .await;
    for (api, chat) in &again {
        assert_eq!(chat, &expected, "{api} after the ban");
    }
    // Tencent lists the ban PRISM made.
    let bans = app
        .call(
            "live_engine_http_srv/get_banned_member_list",
            json!({"RoomId": "cross-room"}),
        )
        .await;
    assert_eq!(
        bans["Response"]["BannedAccountList"][0]["Member_Account"], "tc",
        "{bans}"
    );
}

/// The room's chat as each API lists it, oldest first.
#[allow(clippy::too_many_arguments)]
async fn lists(
    app: &tencent::TestApp,
    room: i64,
    stream: &str,
    prism: &str,
    kitkot_key: &str,
    kitkot_session: &str,
    allmine: &str,
    gw: &mut Gateway,
    name_of: &HashMap<i64, String>,
) -> Vec<(&'static str, Chat)> {
    let http = &app.client;
    let mut out = Vec::new();

    let chatkitty = app
        .platform_get(&format!("/v1/channels/{room}/messages?size=100"))
        .await;
    let mut chat: Chat = chatkitty["_embedded"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (text(&m["user"]["name"]), text(&m["body"])))
        .collect();
    chat.reverse(); // newest first
    out.push(("ChatKitty", chat));

    let view: Value = http
        .post(format!("{}/prism/v1/service/live/{room}/chat", app.base))
        .header("x-prism-access-token", prism)
        .json(&json!({"maxResults": 100}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let chat = view["data"]["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("PRISM view: {view}"))
        .iter()
        .map(|m| {
            let author: i64 = text(&m["authorId"]).parse().unwrap();
            (name_of[&author].clone(), text(&m["message"]))
        })
        .collect();
    out.push(("PRISM", chat));

    let kitkot: Value = http
        .get(format!("{}/kitkot/api/live/chat", app.base))
        .query(&[
            ("api_key", kitkot_key),
            ("session_key", kitkot_session),
            ("room_id", &room.to_string()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let chat = kitkot["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("kitkot chat: {kitkot}"))
        .iter()
        .map(|m| (text(&m["user"]["display_id"]), text(&m["content"])))
        .collect();
    out.push(("kitkot", chat));

    let allmine: Value = http
        .get(format!(
            "{}/api/v1/live-stream/{stream}/chat/messages?limit=100",
            app.base
        ))
        .bearer_auth(allmine)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut chat: Chat = allmine["data"]["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("Allmine list: {allmine}"))
        .iter()
        .map(|m| (text(&m["sender"]["username"]), text(&m["content"])))
        .collect();
    chat.reverse(); // page 1 is the newest
    out.push(("Allmine", chat));

    let history = gw
        .call(json!({"history": {"channel": "cross-room", "limit": 100}}))
        .await;
    let chat = history["history"]["publications"]
        .as_array()
        .unwrap_or_else(|| panic!("gateway history: {history}"))
        .iter()
        .map(|p| {
            (
                text(&p["data"]["message"]["user"]["name"]),
                text(&p["data"]["message"]["body"]),
            )
        })
        .collect();
    out.push(("gateway", chat));
    out
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
