//! Imports: multipart JSON array files answered 202 with a job that runs in the
//! background; per-item failures, limits, retries, order and timestamps.

use crate::helpers::{TestApp, api_error, id, ok, spawn_app, spawn_app_with};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Uploads `body` as the `file` part of a multipart form.
pub(crate) async fn upload(
    app: &TestApp,
    path: &str,
    body: impl Into<Vec<u8>>,
) -> reqwest::Response {
    let part = Part::bytes(body.into())
        .file_name("import.json")
        .mime_str("application/json")
        .unwrap();
    app.request(Method::POST, path)
        .multipart(Form::new().part("file", part))
        .send()
        .await
        .unwrap()
}

/// Uploads a JSON array and asserts the 202 with a pending job of `kind`.
pub(crate) async fn submit(app: &TestApp, path: &str, items: Value, kind: &str) -> Value {
    let response = upload(app, path, items.to_string()).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 202, "expected 202, got {status}: {text}");
    let job: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(job["type"], kind, "{job}");
    assert!(job["id"].as_i64().unwrap() > 0);
    assert!(job["created_time"].is_string(), "{job}");
    assert!(
        matches!(
            job["state"].as_str(),
            Some("PENDING" | "RUNNING" | "FINISHED")
        ),
        "{job}"
    );
    assert_eq!(
        job["progress"]["total"].as_u64(),
        items.as_array().map(|a| a.len() as u64),
        "{job}"
    );
    assert!(
        job["_links"]["self"]["href"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/jobs/{}", id(&job)))
    );
    job
}

/// Polls the job until it has ended (or fails the test after 30 s).
pub(crate) async fn wait_job(app: &TestApp, job: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let current = ok(app.get(&format!("/v1/jobs/{job}")).await).await;
        if matches!(current["state"].as_str(), Some("FINISHED" | "FAILED")) {
            assert!(current["ended_time"].is_string(), "{current}");
            return current;
        }
        assert!(
            Instant::now() < deadline,
            "job {job} did not end in time: {current}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Submits, waits, and asserts the job finished with these counts.
pub(crate) async fn import(
    app: &TestApp,
    path: &str,
    items: Value,
    kind: &str,
    succeeded: u64,
    failed: u64,
) -> Value {
    let job = submit(app, path, items, kind).await;
    let done = wait_job(app, id(&job)).await;
    assert_eq!(done["state"], "FINISHED", "{done}");
    assert_eq!(done["progress"]["succeeded"], succeeded, "{done}");
    assert_eq!(done["progress"]["failed"], failed, "{done}");
    assert_eq!(done["progress"]["processed"], succeeded + failed, "{done}");
    done
}

async fn user_named(app: &TestApp, name: &str) -> Value {
    let page = ok(app.get(&format!("/v1/users?name={name}")).await).await;
    page["_embedded"]["users"][0].clone()
}

async fn channel_messages(app: &TestApp, channel: i64) -> Vec<Value> {
    let page = ok(app
        .get(&format!("/v1/channels/{channel}/messages?size=100"))
        .await)
    .await;
    let mut items = page["_embedded"]["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    items.reverse(); // oldest first
    items
}

#[tokio::test]
async fn users_are_imported_with_their_fields() {
    let app = spawn_app().await;
    let done = import(
        &app,
        "/v1/imports/users",
        json!([
            {"name": "ada", "display_name": "Ada L.", "guest": false, "properties": {"team": "red", "n": 1},
             "display_picture": {"url": "https://img.example/ada.png", "name": "ada.png", "content_type": "image/png", "size": 10}},
            {"name": "bob", "display_name": "Bob", "guest": true, "properties": {}},
            {"name": "cy", "displayName": "Cy", "guest": false, "properties": {}, "idempotencyKey": "cy-1"},
        ]),
        "USER_IMPORT",
        3,
        0,
    )
    .await;
    assert_eq!(done["errors"], json!([]));
    assert_eq!(done["progress"]["total"], 3);
    assert_eq!(done["progress"]["duplicates"], 0);

    let ada = user_named(&app, "ada").await;
    assert_eq!(ada["display_name"], "Ada L.");
    assert_eq!(ada["isGuest"], false);
    assert_eq!(ada["properties"], json!({"team": "red", "n": 1}));
    assert_eq!(ada["display_picture_url"], "https://img.example/ada.png");
    assert_eq!(ada["type"], "PERSON");
    assert_eq!(user_named(&app, "bob").await["isGuest"], true);
    assert_eq!(user_named(&app, "cy").await["display_name"], "Cy");
}

#[tokio::test]
async fn channels_are_imported_group_by_name_direct_by_members() {
    let app = spawn_app().await;
    for name in ["ann", "ben", "cat"] {
        app.create_user(name).await;
    }
    let done = import(
        &app,
        "/v1/imports/channels",
        json!([
            {"type": "PUBLIC", "name": "lobby", "display_name": "The Lobby", "creator": "ann",
             "members": ["ben"], "properties": {"topic": "hi"}},
            {"type": "PRIVATE", "name": "staff", "members": ["ann", "cat"]},
            {"type": "DIRECT", "members": ["ann", "ben"]},
            {"type": "DIRECT", "members": ["ben", "ann"]},
        ]),
        "CHANNEL_IMPORT",
        4,
        0,
    )
    .await;
    assert_eq!(
        done["progress"]["duplicates"], 1,
        "the same direct member set twice: {done}"
    );

    let page = ok(app.get("/v1/channels?size=10").await).await;
    let channels = page["_embedded"]["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 3, "{page}");
    let lobby = channels.iter().find(|c| c["name"] == "lobby").unwrap();
    assert_eq!(lobby["type"], "PUBLIC");
    assert_eq!(lobby["display_name"], "The Lobby");
    assert_eq!(lobby["creator"]["name"], "ann");
    assert_eq!(lobby["properties"], json!({"topic": "hi"}));
    let members = ok(app
        .get(&format!("/v1/channels/{}/members", id(lobby)))
        .await)
    .await;
    let mut names: Vec<&str> = members["_embedded"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["ann", "ben"]);
    let staff = channels.iter().find(|c| c["name"] == "staff").unwrap();
    assert_eq!(staff["type"], "PRIVATE");
    assert_eq!(
        staff["display_name"], "staff",
        "display name defaults to the name"
    );
    let direct = channels.iter().find(|c| c["type"] == "DIRECT").unwrap();
    let mut names: Vec<&str> = direct["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["ann", "ben"]);
}

#[tokio::test]
async fn members_are_imported_into_a_channel() {
    let app = spawn_app().await;
    for name in ["m1", "m2", "m3"] {
        app.create_user(name).await;
    }
    let channel = id(&app.create_channel("club").await);
    let done = import(
        &app,
        &format!("/v1/imports/channels/{channel}/members"),
        json!([{"username": "m1"}, {"username": "m2", "idempotency_key": "k"}, {"username": "nobody"}, {"username": "m1"}]),
        "CHANNEL_MEMBERS_IMPORT",
        3,
        1,
    )
    .await;
    assert_eq!(done["channel_id"], channel);
    assert_eq!(
        done["errors"],
        json!([{"index": 2, "reason": "unknown user 'nobody'"}])
    );
    assert_eq!(done["progress"]["duplicates"], 1, "m1 twice: {done}");
    let members = ok(app.get(&format!("/v1/channels/{channel}/members")).await).await;
    assert_eq!(members["page"]["total_elements"], 2, "{members}");

    // A missing channel is a 404 and a direct channel a 400, before any job exists.
    api_error(
        upload(&app, "/v1/imports/channels/999999/members", "[]").await,
        404,
    )
    .await;
    let direct = ok(app
        .post(
            "/v1/channels",
            json!({"type": "DIRECT", "members": [{"username": "m1"}, {"username": "m2"}]}),
        )
        .await)
    .await;
    api_error(
        upload(
            &app,
            &format!("/v1/imports/channels/{}/members", id(&direct)),
            r#"[{"username": "m3"}]"#,
        )
        .await,
        400,
    )
    .await;
    let jobs = ok(app.get("/v1/jobs").await).await;
    assert_eq!(jobs["page"]["total_elements"], 1, "{jobs}");
}

#[tokio::test]
async fn messages_keep_file_order_and_original_timestamps() {
    let app = spawn_app().await;
    app.create_user("sam").await;
    app.create_user("tia").await;
    let a = id(&app.create_channel("alpha").await);
    let b = id(&app.create_channel("beta").await);
    app.send_text(a, Some("sam"), "live before").await;
    // Timestamps deliberately not in order: the file order decides the seq.
    let items: Vec<Value> = (0..30)
        .map(|i| {
            let channel = if i % 3 == 0 { b } else { a };
            let minute = (i * 7) % 30;
            if i == 5 {
                json!({"type": "SYSTEM_TEXT", "channel_id": channel, "body": format!("m{i}"),
                       "created_time": format!("2021-03-04T05:{minute:02}:00.123456Z")})
            } else {
                json!({"type": "TEXT", "channel_id": channel, "user": if i % 2 == 0 { "sam" } else { "tia" },
                       "body": format!("m{i}"), "group_tag": "g", "properties": {"i": i},
                       "created_time": format!("2021-03-04T05:{minute:02}:00.123456Z")})
            }
        })
        .collect();
    import(
        &app,
        "/v1/imports/messages",
        Value::Array(items.clone()),
        "MESSAGE_IMPORT",
        30,
        0,
    )
    .await;

    for (channel, first_seq) in [(a, 2), (b, 1)] {
        let got = channel_messages(&app, channel).await;
        let got: Vec<&Value> = got.iter().filter(|m| m["body"] != "live before").collect();
        let expected: Vec<&Value> = items
            .iter()
            .filter(|m| m["channel_id"] == channel)
            .collect();
        assert_eq!(got.len(), expected.len());
        for (n, (m, want)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(m["body"], want["body"]);
            assert_eq!(
                m["seq"],
                first_seq + n as i64,
                "seq follows file order: {m}"
            );
            assert_eq!(
                chrono::DateTime::parse_from_rfc3339(m["created_time"].as_str().unwrap()).unwrap(),
                chrono::DateTime::parse_from_rfc3339(want["created_time"].as_str().unwrap())
                    .unwrap(),
            );
            if want["type"] == "SYSTEM_TEXT" {
                assert_eq!(m["type"], "SYSTEM_TEXT");
                assert!(m.get("user").is_none(), "{m}");
            } else {
                assert_eq!(m["type"], "TEXT");
                assert_eq!(m["user"]["name"], want["user"]);
                assert_eq!(m["group_tag"], "g");
                assert_eq!(m["properties"], want["properties"]);
            }
        }
    }
    // A message without created_time is stamped at import, after the others.
    import(
        &app,
        "/v1/imports/messages",
        json!([{"type": "TEXT", "channel_id": a, "user": "sam", "body": "now"}]),
        "MESSAGE_IMPORT",
        1,
        0,
    )
    .await;
    let last = channel_messages(&app, a).await.pop().unwrap();
    assert_eq!(last["body"], "now");
    let at = chrono::DateTime::parse_from_rfc3339(last["created_time"].as_str().unwrap()).unwrap();
    assert!(chrono::Utc::now().signed_duration_since(at) < chrono::Duration::minutes(1));
}

#[tokio::test]
async fn failing_items_are_recorded_while_the_others_import() {
    let app = spawn_app_with(|c| c.limits.max_message_bytes = 64).await;
    app.create_user("taken").await;
    let users = import(
        &app,
        "/v1/imports/users",
        json!([
            {"name": "fresh", "display_name": "F", "guest": false, "properties": {}},
            {"name": "taken", "display_name": "T", "guest": false, "properties": {}},
            {"name": "dup", "display_name": "D1", "guest": false, "properties": {}},
            {"name": "dup", "display_name": "D2", "guest": false, "properties": {}},
            {"display_name": "no name"},
            "not an object",
            {"name": "props", "display_name": "P", "guest": false, "properties": [1, 2]},
        ]),
        "USER_IMPORT",
        2,
        5,
    )
    .await;
    let errors = users["errors"].as_array().unwrap();
    let reasons: Vec<(u64, &str)> = errors
        .iter()
        .map(|e| (e["index"].as_u64().unwrap(), e["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(reasons[0], (1, "user name 'taken' is already taken"));
    assert_eq!(
        reasons[1],
        (3, "user name 'dup' is already taken"),
        "the first in the file wins"
    );
    assert_eq!(reasons[2].0, 4);
    assert!(reasons[2].1.contains("missing field `name`"), "{reasons:?}");
    assert_eq!(reasons[3].0, 5);
    assert!(reasons[3].1.contains("invalid type"), "{reasons:?}");
    assert_eq!(reasons[4].0, 6);
    assert!(reasons[4].1.contains("properties"), "{reasons:?}");
    assert_eq!(user_named(&app, "dup").await["display_name"], "D1");
    assert_eq!(
        user_named(&app, "taken").await["display_name"],
        "taken",
        "unchanged"
    );
    assert!(
        user_named(&app, "props").await.is_null(),
        "nothing half-imported"
    );

    let channel = id(&app.create_channel("room").await);
    let messages = import(
        &app,
        "/v1/imports/messages",
        json!([
            {"type": "TEXT", "channel_id": channel, "user": "fresh", "body": "ok 1"},
            {"type": "TEXT", "channel_id": channel, "user": "ghost", "body": "unknown user"},
            {"type": "TEXT", "channel_id": channel, "user": "fresh", "body": "x".repeat(65)},
            {"type": "VIDEO", "channel_id": channel, "body": "bad type"},
            {"type": "TEXT", "channel_id": 987654, "user": "fresh", "body": "unknown channel"},
            {"type": "TEXT", "channel_id": channel, "body": "no user"},
            {"type": "SYSTEM_TEXT", "channel_id": channel, "body": "ok 2"},
        ]),
        "MESSAGE_IMPORT",
        2,
        5,
    )
    .await;
    let reasons: Vec<String> = messages["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}: {}", e["index"], e["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(reasons[0], "1: unknown user 'ghost'");
    assert!(reasons[1].starts_with("2: invalid body"), "{reasons:?}");
    assert!(
        reasons[2].starts_with("3: unknown message type 'VIDEO'"),
        "{reasons:?}"
    );
    assert_eq!(reasons[3], "4: unknown channel 987654");
    assert_eq!(reasons[4], "5: a TEXT message needs a user");
    let bodies: Vec<Value> = channel_messages(&app, channel)
        .await
        .iter()
        .map(|m| m["body"].clone())
        .collect();
    assert_eq!(bodies, [json!("ok 1"), json!("ok 2")]);
    let seqs: Vec<Value> = channel_messages(&app, channel)
        .await
        .iter()
        .map(|m| m["seq"].clone())
        .collect();
    assert_eq!(seqs, [json!(1), json!(2)], "failed items leave no gap");

    let channels = import(
        &app,
        "/v1/imports/channels",
        json!([
            {"type": "PUBLIC", "name": "room", "members": []},
            {"type": "PUBLIC", "name": "new-room", "members": ["ghost"]},
            {"type": "PUBLIC", "name": "newer-room", "creator": "ghost", "members": []},
            {"members": []},
            {"type": "PUBLIC", "name": "fine", "members": ["fresh"]},
        ]),
        "CHANNEL_IMPORT",
        1,
        4,
    )
    .await;
    let reasons: Vec<String> = channels["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}: {}", e["index"], e["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(reasons[0], "0: channel name 'room' is already taken");
    assert!(
        reasons[1].starts_with("1: ") && reasons[1].contains("ghost"),
        "{reasons:?}"
    );
    assert_eq!(reasons[2], "2: unknown creator 'ghost'");
    assert!(reasons[3].starts_with("3: type is required"), "{reasons:?}");
    let all = ok(app.get("/v1/channels").await).await;
    assert_eq!(
        all["page"]["total_elements"], 2,
        "room and fine only: {all}"
    );
}

#[tokio::test]
async fn a_retried_import_does_not_duplicate() {
    let app = spawn_app().await;
    let users = json!([
        {"name": "k1", "display_name": "K1", "guest": false, "properties": {}, "idempotency_key": "user-k1"},
        {"name": "k2", "display_name": "K2", "guest": false, "properties": {}, "idempotency_key": "user-k2"},
    ]);
    import(
        &app,
        "/v1/imports/users",
        users.clone(),
        "USER_IMPORT",
        2,
        0,
    )
    .await;
    let again = import(&app, "/v1/imports/users", users, "USER_IMPORT", 2, 0).await;
    assert_eq!(again["progress"]["duplicates"], 2, "{again}");
    assert_eq!(
        ok(app.get("/v1/users").await).await["page"]["total_elements"],
        2
    );

    let channels = json!([
        {"type": "PUBLIC", "members": ["k1"], "idempotency_key": "unnamed-1"},
        {"type": "PUBLIC", "name": "named", "members": ["k1"], "idempotency_key": "named-1"},
        {"type": "DIRECT", "members": ["k1", "k2"]},
    ]);
    import(
        &app,
        "/v1/imports/channels",
        channels.clone(),
        "CHANNEL_IMPORT",
        3,
        0,
    )
    .await;
    let again = import(
        &app,
        "/v1/imports/channels",
        channels,
        "CHANNEL_IMPORT",
        3,
        0,
    )
    .await;
    assert_eq!(again["progress"]["duplicates"], 3, "{again}");
    let all = ok(app.get("/v1/channels").await).await;
    assert_eq!(all["page"]["total_elements"], 3, "{all}");
    let named = all["_embedded"]["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "named")
        .cloned()
        .unwrap();

    let messages = json!([
        {"type": "TEXT", "channel_id": id(&named), "user": "k1", "body": "one", "idempotency_key": "m1"},
        {"type": "TEXT", "channel_id": id(&named), "user": "k2", "body": "two", "idempotency_key": "m1"},
        {"type": "SYSTEM_TEXT", "channel_id": id(&named), "body": "three", "idempotency_key": "m3"},
    ]);
    import(
        &app,
        "/v1/imports/messages",
        messages.clone(),
        "MESSAGE_IMPORT",
        3,
        0,
    )
    .await;
    let again = import(
        &app,
        "/v1/imports/messages",
        messages,
        "MESSAGE_IMPORT",
        3,
        0,
    )
    .await;
    assert_eq!(again["progress"]["duplicates"], 3, "{again}");
    let bodies: Vec<Value> = channel_messages(&app, id(&named))
        .await
        .iter()
        .map(|m| m["body"].clone())
        .collect();
    assert_eq!(bodies, [json!("one"), json!("two"), json!("three")]);
}

#[tokio::test]
async fn a_malformed_file_is_a_400_and_imports_nothing() {
    let app = spawn_app().await;
    for body in [
        r#"[{"name": "a", "display_name": "A", "guest": false, "properties": {}}, {"name": "b""#,
        r#"{"name": "a"}"#,
        "",
        r#"[{"name": "a", "display_name": "A", "guest": false, "properties": {}}] trailing"#,
    ] {
        let e = api_error(upload(&app, "/v1/imports/users", body).await, 400).await;
        assert!(
            e["message"].as_str().unwrap().contains("JSON array"),
            "{body:?}: {e}"
        );
    }
    let users = ok(app.get("/v1/users").await).await;
    assert_eq!(users["page"]["total_elements"], 0, "{users}");
    let jobs = ok(app.get("/v1/jobs").await).await;
    assert_eq!(
        jobs["page"]["total_elements"], 0,
        "no job was created: {jobs}"
    );
    let spooled: Vec<_> = std::fs::read_dir(app.data_dir().join("jobs/uploads"))
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(
        spooled.is_empty(),
        "refused uploads are removed: {spooled:?}"
    );
}

#[tokio::test]
async fn bad_requests_get_api_errors() {
    let app = spawn_app_with(|c| c.imports.max_items = 3).await;
    // Not multipart at all, and multipart without a file part.
    api_error(app.post("/v1/imports/users", json!([])).await, 400).await;
    let form = Form::new().text("other", "[]");
    let e = api_error(
        app.request(Method::POST, "/v1/imports/users")
            .multipart(form)
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert!(e["message"].as_str().unwrap().contains("'file'"), "{e}");
    // Too many items.
    let e = api_error(upload(&app, "/v1/imports/users", "[1, 2, 3, 4]").await, 400).await;
    assert!(
        e["message"].as_str().unwrap().contains("more than 3 items"),
        "{e}"
    );
    // No token.
    let response = app
        .client
        .post(format!("{}/v1/imports/users", app.base))
        .multipart(Form::new().text("file", "[]"))
        .send()
        .await
        .unwrap();
    api_error(response, 401).await;
    assert_eq!(
        ok(app.get("/v1/jobs").await).await["page"]["total_elements"],
        0
    );
}

#[tokio::test]
async fn an_oversized_file_is_a_413_and_imports_nothing() {
    let app = spawn_app_with(|c| c.imports.max_file_bytes = 2048).await;
    let items: Vec<Value> = (0..100)
        .map(|i| json!({"name": format!("user-{i}"), "display_name": "U", "guest": false, "properties": {}}))
        .collect();
    let body = Value::Array(items).to_string();
    assert!(body.len() > 2048);
    let e = api_error(upload(&app, "/v1/imports/users", body).await, 413).await;
    assert_eq!(e["error"], "PayloadTooLargeError");
    assert!(e["message"].as_str().unwrap().contains("2048"), "{e}");
    // A huge declared length is refused before the body is read.
    let response = app
        .request(Method::POST, "/v1/imports/users")
        .header("content-type", "multipart/form-data; boundary=x")
        .header("content-length", (10u64 << 20).to_string())
        .body(vec![b'x'; 16])
        .send()
        .await;
    if let Ok(response) = response {
        assert_eq!(response.status(), 413);
    }
    assert_eq!(
        ok(app.get("/v1/users").await).await["page"]["total_elements"],
        0
    );
    assert_eq!(
        ok(app.get("/v1/jobs").await).await["page"]["total_elements"],
        0
    );
    // A file under the limit still works.
    import(
        &app,
        "/v1/imports/users",
        json!([{"name": "small", "display_name": "S", "guest": false, "properties": {}}]),
        "USER_IMPORT",
        1,
        0,
    )
    .await;
}

#[tokio::test]
async fn the_unprefixed_paths_work_too() {
    let app = spawn_app().await;
    let job = submit(&app, "/imports/users", json!([]), "USER_IMPORT").await;
    let done = wait_job(&app, id(&job)).await;
    assert_eq!(done["state"], "FINISHED");
    assert_eq!(done["progress"]["total"], 0);
}

#[tokio::test]
async fn imported_messages_carry_their_mentions() {
    let app = spawn_app().await;
    app.create_user("sam").await;
    app.create_user("tia").await;
    let room = id(&app.create_channel("room").await);
    import(
        &app,
        "/v1/imports/messages",
        json!([{"type": "TEXT", "channel_id": room, "user": "sam", "body": "hi @tia and @nobody"}]),
        "MESSAGE_IMPORT",
        1,
        0,
    )
    .await;
    let m = channel_messages(&app, room).await.pop().unwrap();
    let mentions = m["mentions"].as_array().expect("mentions");
    assert_eq!(mentions.len(), 1, "{m}");
    assert_eq!(mentions[0]["tag"], "@tia");
    assert_eq!(mentions[0]["start_position"], 3);
    // History does not notify: tia has no notification.
    let tia = user_named(&app, "tia").await;
    let notes = ok(app
        .get(&format!("/v1/users/{}/notifications", id(&tia)))
        .await)
    .await;
    assert!(
        notes["_embedded"]["notifications"]
            .as_array()
            .is_none_or(|n| n.is_empty()),
        "{notes}"
    );
}

#[tokio::test]
async fn a_job_keeps_the_first_failures_and_counts_them_all() {
    let app = spawn_app_with(|c| c.imports.max_errors = 2).await;
    let items: Vec<Value> = (0..300)
        .map(|i| {
            if i % 50 == 7 {
                json!({"name": "", "display_name": "bad"})
            } else {
                json!({"name": format!("n{i}"), "display_name": "ok", "guest": false, "properties": {}})
            }
        })
        .collect();
    let done = import(
        &app,
        "/v1/imports/users",
        Value::Array(items),
        "USER_IMPORT",
        294,
        6,
    )
    .await;
    let indexes: Vec<u64> = done["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, [7, 57], "the first failures by index: {done}");
}
