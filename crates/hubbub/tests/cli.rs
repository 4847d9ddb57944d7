//! The binary as operators and scripts use it.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn hubbub() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hubbub"));
    cmd.env_remove("HUBBUB_LISTEN")
        .env_remove("HUBBUB_DATA_DIR")
        .env_remove("HUBBUB_DATABASE_URL")
        .env("RUST_LOG", "warn");
    cmd
}

fn run_ok(args: &[&str]) -> String {
    let out = hubbub().args(args).output().expect("runs");
    assert!(
        out.status.success(),
        "hubbub {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Starts `hubbub serve` and returns it with its base URL once it listens.
// The child is handed to the caller, which stops it and reaps it with `wait_exit`.
#[allow(clippy::zombie_processes)]
fn serve(data_dir: &str) -> (Child, String, Vec<String>) {
    let mut child = hubbub()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        lines.push(line.clone());
        if let Some(url) = line.split("listening on ").nth(1) {
            let url = url.split_whitespace().next().unwrap().to_owned();
            return (child, url, lines);
        }
    }
    panic!("server did not report its address: {lines:?}");
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "server did not stop within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn app_create_and_list_work_with_and_without_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let created: Value = serde_json::from_str(&run_ok(&[
        "app",
        "create",
        "--name",
        "first",
        "--json",
        "--data-dir",
        data,
    ]))
    .unwrap();
    for key in [
        "id",
        "name",
        "client_id",
        "client_secret",
        "realtime_signing_secret",
    ] {
        assert!(!created[key].is_null(), "{key} missing in {created}");
    }
    assert_eq!(created["name"], "first");

    // With a server running on the same database.
    let (mut child, base, banner) = serve(data);
    assert!(
        !banner.iter().any(|l| l.contains("First start")),
        "an existing application means no default one"
    );
    let second: Value = serde_json::from_str(&run_ok(&[
        "app",
        "create",
        "--name",
        "second",
        "--json",
        "--data-dir",
        data,
    ]))
    .unwrap();
    assert_ne!(second["client_id"], created["client_id"]);
    let listed: Value =
        serde_json::from_str(&run_ok(&["app", "list", "--json", "--data-dir", data])).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["first", "second"]);
    assert!(
        !listed.to_string().contains("secret"),
        "app list shows no secrets"
    );
    let text = run_ok(&["app", "list", "--data-dir", data]);
    assert!(text.contains("second"));

    // The new application can get a token from the running server at once.
    let status = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-u"])
        .arg(format!(
            "{}:{}",
            second["client_id"].as_str().unwrap(),
            second["client_secret"].as_str().unwrap()
        ))
        .args([
            "-d",
            "grant_type=client_credentials",
            &format!("{base}/oauth/token"),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&status.stdout), "200");

    sigterm(&child);
    assert!(
        wait_exit(&mut child, Duration::from_secs(10)).success(),
        "SIGTERM is a clean stop"
    );
}

#[test]
fn first_start_creates_a_default_application_and_prints_how_to_use_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, banner) = serve(dir.path().to_str().unwrap());
    let text = banner.join("\n");
    assert!(text.contains("client_id:"), "{text}");
    assert!(text.contains("client_secret:"), "{text}");
    assert!(
        text.contains(&format!("{base}/oauth/token")),
        "a ready-to-paste curl line: {text}"
    );
    sigterm(&child);
    assert!(wait_exit(&mut child, Duration::from_secs(10)).success());
    // Second start: no new default application.
    let (mut child, _, banner) = serve(dir.path().to_str().unwrap());
    assert!(!banner.join("\n").contains("client_secret"));
    sigterm(&child);
    wait_exit(&mut child, Duration::from_secs(10));
}

#[test]
fn config_example_and_check() {
    let example = run_ok(&["config", "example"]);
    assert!(example.contains("max_message_bytes = 4096"));
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, &example).unwrap();
    let checked = run_ok(&["config", "check", "--config", good.to_str().unwrap()]);
    assert!(checked.contains("valid"));
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[limits]\nmax_message_bytes = 0\n").unwrap();
    let out = hubbub()
        .args(["config", "check", "--config", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_message_bytes"));
    let out = hubbub()
        .args(["config", "check"])
        .env("HUBBUB_LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HUBBUB_LISTEN"));
}

fn run_with_stdin(args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = hubbub()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn dialect_credentials_passwords_and_tokens_of_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let created: Value = serde_json::from_str(&run_ok(&[
        "app",
        "create",
        "--name",
        "live",
        "--json",
        "--data-dir",
        data,
    ]))
    .unwrap();
    let client_id = created["client_id"].as_str().unwrap();
    let dialects = &created["dialects"];
    assert!(
        dialects["prism"]["client_id"]
            .as_str()
            .unwrap()
            .starts_with("prism_")
    );
    assert_eq!(
        dialects["prism"]["client_secret"].as_str().unwrap().len(),
        64
    );
    assert!(
        dialects["kitkot"]["api_key"]
            .as_str()
            .unwrap()
            .starts_with("kk_")
    );
    assert!(
        !dialects["allmine"]["jwt_secret"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    assert!(dialects["tencent"]["sdkappid"].as_u64().unwrap() >= 1_400_000_000);
    assert_eq!(
        dialects["tencent"]["admins"],
        serde_json::json!(["administrator"])
    );

    // The same credentials are shown again; set values replace generated ones.
    let shown: Value = serde_json::from_str(&run_ok(&[
        "app",
        "credentials",
        "--app",
        client_id,
        "--json",
        "--data-dir",
        data,
    ]))
    .unwrap();
    assert_eq!(&shown, dialects);
    let set: Value = serde_json::from_str(&run_ok(&[
        "app",
        "credentials",
        "--app",
        client_id,
        "--tencent-sdkappid",
        "1400000000",
        "--tencent-key",
        "hubbub-test-key",
        "--tencent-admins",
        "administrator,ops",
        "--rotate",
        "kitkot",
        "--json",
        "--data-dir",
        data,
    ]))
    .unwrap();
    assert_eq!(
        set["tencent"],
        serde_json::json!({"sdkappid": 1400000000u64, "key": "hubbub-test-key", "admins": ["administrator", "ops"]})
    );
    assert_ne!(set["kitkot"]["api_key"], dialects["kitkot"]["api_key"]);
    assert_eq!(set["prism"], dialects["prism"], "untouched dialects stay");
    // Bad values are refused and change nothing.
    let bad = hubbub()
        .args([
            "app",
            "credentials",
            "--app",
            client_id,
            "--tencent-sdkappid",
            "0",
            "--data-dir",
            data,
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("SDKAppID"));

    // Passwords: read from stdin; too short is refused; --create makes the user.
    let short = run_with_stdin(
        &[
            "user",
            "password",
            "--app",
            client_id,
            "--user",
            "jane",
            "--create",
            "--data-dir",
            data,
        ],
        "short\n",
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("password"));
    let ok = run_with_stdin(
        &[
            "user",
            "password",
            "--app",
            client_id,
            "--user",
            "jane",
            "--create",
            "--data-dir",
            data,
        ],
        "correct horse battery\n",
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let missing = run_with_stdin(
        &[
            "user",
            "password",
            "--app",
            client_id,
            "--user",
            "nobody",
            "--data-dir",
            data,
        ],
        "correct horse battery\n",
    );
    assert!(!missing.status.success());

    // Tokens of every kind for jane.
    let realtime = run_ok(&[
        "token",
        "--app",
        client_id,
        "--user",
        "jane",
        "--data-dir",
        data,
    ]);
    assert_eq!(realtime.trim().split('.').count(), 3, "a JWT: {realtime}");
    let allmine = run_ok(&[
        "token",
        "--app",
        client_id,
        "--user",
        "jane",
        "--for",
        "allmine",
        "--data-dir",
        data,
    ]);
    assert_eq!(allmine.trim().split('.').count(), 3, "a JWT: {allmine}");
    assert_ne!(allmine.trim(), realtime.trim());
    for kind in ["prism", "kitkot"] {
        let token = run_ok(&[
            "token",
            "--app",
            client_id,
            "--user",
            "jane",
            "--for",
            kind,
            "--data-dir",
            data,
        ]);
        assert_eq!(token.trim().len(), 64, "{kind}: {token}");
    }
    let unknown = hubbub()
        .args([
            "token",
            "--app",
            client_id,
            "--user",
            "ghost",
            "--for",
            "kitkot",
            "--data-dir",
            data,
        ])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
}
