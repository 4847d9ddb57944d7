//! `hubbub import ...` and `hubbub export ...` as operators run them: on the data
//! directory directly, with or without a server running on it.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn hubbub() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hubbub"));
    cmd.env_remove("HUBBUB_LISTEN")
        .env_remove("HUBBUB_DATA_DIR")
        .env_remove("HUBBUB_DATABASE_URL")
        .env("RUST_LOG", "warn");
    cmd
}

fn run(dir: &Path, args: &[&str]) -> Output {
    hubbub()
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("runs")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path.to_string_lossy().into_owned()
}

fn new_app(dir: &Path, name: &str) -> Value {
    let out = run(dir, &["app", "create", "--name", name, "--json"]);
    assert!(out.status.success(), "{:?}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn import_and_export_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    new_app(d, "only");

    let users = write(
        d,
        "users.json",
        &json!([
            {"name": "ann", "display_name": "Ann", "guest": false, "properties": {}, "idempotency_key": "a"},
            {"name": "ben", "display_name": "Ben", "guest": false, "properties": {}, "idempotency_key": "b"},
        ]),
    );
    let out = run(d, &["import", "users", &users]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("FINISHED: 2 of 2 users imported") && stdout.contains("2 new"),
        "{stdout}"
    );
    // Again: recognised by the idempotency keys.
    let out = run(d, &["import", "users", &users]);
    let (stdout, _) = text(&out);
    assert!(out.status.success());
    assert!(
        stdout.contains("0 new, 2 already imported, 0 failed"),
        "{stdout}"
    );

    let channels = write(
        d,
        "channels.json",
        &json!([{"type": "PUBLIC", "name": "hall", "members": ["ann"]}]),
    );
    let out = run(d, &["import", "channels", &channels, "--json"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let job: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(job["kind"], "CHANNEL_IMPORT");
    assert_eq!(job["state"], "FINISHED");
    assert_eq!(job["progress"]["succeeded"], 1);

    let members = write(
        d,
        "members.json",
        &json!([{"username": "ben"}, {"username": "zed"}]),
    );
    let out = run(d, &["import", "members", &members, "--channel", "1"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an item failed: {stdout}\n{stderr}"
    );
    assert!(stdout.contains("item 1: unknown user 'zed'"), "{stdout}");
    assert!(
        stderr.contains("1 of 2 members could not be imported"),
        "{stderr}"
    );

    let messages: Vec<Value> = (0..500)
        .map(|i| json!({"type": "TEXT", "channel_id": 1, "user": if i % 2 == 0 { "ann" } else { "ben" },
                        "body": format!("message {i}"), "created_time": format!("2022-01-01T00:{:02}:{:02}Z", i / 60, i % 60)}))
        .collect();
    let file = write(d, "messages.json", &Value::Array(messages));
    let out = run(d, &["import", "messages", &file]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("500 of 500 messages imported"), "{stdout}");

    // Export to a file, then to standard output.
    let target = d.join("messages.jsonl");
    let out = run(
        d,
        &["export", "messages", "--out", target.to_str().unwrap()],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("exported 500 messages"), "{stdout}");
    let lines: Vec<Value> = std::fs::read_to_string(&target)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 500);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["body"], format!("message {i}"));
        assert_eq!(line["seq"], i as i64 + 1);
    }
    assert_eq!(lines[61]["created_time"], "2022-01-01T00:01:01.000000Z");
    let out = run(d, &["export", "users"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let mut names: Vec<String> = stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["ann", "ben"]);
    assert!(stderr.contains("exported 2 users"), "{stderr}");
}

#[test]
fn bad_imports_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    new_app(d, "one");
    let bad = d.join("bad.json");
    std::fs::write(&bad, r#"[{"name": "a", "display_name": "A"}, {"name": "#).unwrap();
    let out = run(d, &["import", "users", bad.to_str().unwrap()]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("not a valid JSON array"), "{stderr}");
    let out = run(d, &["export", "users"]);
    assert!(out.stdout.is_empty(), "nothing was imported");

    let out = run(d, &["import", "members", bad.to_str().unwrap()]);
    assert!(text(&out).1.contains("--channel"), "{:?}", text(&out));
    let out = run(
        d,
        &["import", "users", d.join("missing.json").to_str().unwrap()],
    );
    assert!(
        text(&out).1.contains("not a readable file"),
        "{:?}",
        text(&out)
    );

    new_app(d, "two");
    let ok = d.join("ok.json");
    std::fs::write(&ok, "[]").unwrap();
    let out = run(d, &["import", "users", ok.to_str().unwrap()]);
    assert!(text(&out).1.contains("--app"), "{:?}", text(&out));
    let out = run(
        d,
        &["import", "users", ok.to_str().unwrap(), "--app", "two"],
    );
    assert!(out.status.success(), "{:?}", text(&out));
}

/// Starts `hubbub serve` on the data directory; returns it with its base URL.
#[allow(clippy::zombie_processes)]
fn serve(dir: &Path) -> (Child, String) {
    let mut child = hubbub()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(url) = line.split("listening on ").nth(1) {
            return (child, url.split_whitespace().next().unwrap().to_owned());
        }
    }
    panic!("the server did not report its address");
}

#[test]
fn the_cli_imports_into_the_database_of_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let app = new_app(d, "live");
    let (mut server, base) = serve(d);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = reqwest::Client::new();
    let token: String = rt.block_on(async {
        let body: Value = client
            .post(format!("{base}/oauth/token"))
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
        body["access_token"].as_str().unwrap().to_owned()
    });
    let call = |method: reqwest::Method, path: &str, body: Option<Value>| -> Value {
        rt.block_on(async {
            let mut req = client
                .request(method, format!("{base}{path}"))
                .bearer_auth(&token);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let res = req.send().await.unwrap();
            assert!(res.status().is_success(), "{path}: {}", res.status());
            res.json().await.unwrap()
        })
    };
    call(
        reqwest::Method::POST,
        "/v1/users",
        Some(json!({"name": "host", "display_name": "Host"})),
    );
    let channel = call(
        reqwest::Method::POST,
        "/v1/channels",
        Some(json!({"type": "PUBLIC", "name": "stream"})),
    );
    let channel_id = channel["id"].as_i64().unwrap();
    // The server appends first, so its writer has the channel's position cached.
    call(
        reqwest::Method::POST,
        &format!("/v1/channels/{channel_id}/messages"),
        Some(json!({"type": "TEXT", "body": "live 1", "user": {"username": "host"}})),
    );

    let items: Vec<Value> = (0..300)
        .map(|i| json!({"type": "TEXT", "channel_id": channel_id, "user": "host", "body": format!("old {i}")}))
        .collect();
    let file = write(d, "history.json", &Value::Array(items));
    let out = run(d, &["import", "messages", &file]);
    assert!(out.status.success(), "{:?}", text(&out));

    // The server sees the import's job and messages, and its next append continues
    // after them (it noticed another process wrote).
    let jobs = call(reqwest::Method::GET, "/v1/jobs", None);
    assert_eq!(jobs["_embedded"]["jobs"][0]["type"], "MESSAGE_IMPORT");
    assert_eq!(jobs["_embedded"]["jobs"][0]["state"], "FINISHED");
    let sent = call(
        reqwest::Method::POST,
        &format!("/v1/channels/{channel_id}/messages"),
        Some(json!({"type": "TEXT", "body": "live 2", "user": {"username": "host"}})),
    );
    assert_eq!(sent["seq"], 302, "{sent}");
    let page = call(
        reqwest::Method::GET,
        &format!("/v1/channels/{channel_id}/messages?size=3"),
        None,
    );
    let bodies: Vec<&str> = page["_embedded"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["live 2", "old 299", "old 298"]);

    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = server.kill();
    let _ = server.wait();
}
