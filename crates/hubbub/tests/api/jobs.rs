//! Jobs (list, retrieve, the `running` filter, interrupted jobs) and analytics exports
//! with their downloadable files.

use crate::helpers::{api_error, id, ok, spawn_app, spawn_app_with};
use crate::imports::{import, wait_job};
use hubbub_core::ids::AppId;
use hubbub_core::model::{JobKind, JobState, NewJob};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn my_app(app: &crate::helpers::TestApp) -> AppId {
    app.engine
        .store()
        .find_credentials(&app.client_id)
        .await
        .unwrap()
        .unwrap()
        .app
        .id
}

#[tokio::test]
async fn jobs_are_listed_with_the_running_filter_and_retrieved() {
    let app = spawn_app().await;
    let done = import(&app, "/v1/imports/users", json!([]), "USER_IMPORT", 0, 0).await;
    // A job that stays pending: created through the engine's store for another runner
    // that keeps it alive.
    let me = my_app(&app).await;
    let pending = app
        .engine
        .store()
        .create_job(
            me,
            NewJob {
                kind: JobKind::MessageImport,
                channel_id: None,
                total: Some(10),
                runner: "elsewhere".into(),
            },
        )
        .await
        .unwrap();

    let all = ok(app.get("/v1/jobs").await).await;
    assert_eq!(all["page"]["total_elements"], 2, "{all}");
    let jobs = all["_embedded"]["jobs"].as_array().unwrap();
    assert_eq!(jobs[0]["id"], done["id"]);
    assert_eq!(jobs[1]["id"], pending.id.0);
    assert!(all["_links"]["self"]["href"].is_string());

    let running = ok(app.get("/v1/jobs?running=true").await).await;
    let ids: Vec<&Value> = running["_embedded"]["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| &j["id"])
        .collect();
    assert_eq!(ids, [&json!(pending.id.0)]);
    let one = &running["_embedded"]["jobs"][0];
    assert_eq!(one["state"], "PENDING");
    assert_eq!(one["type"], "MESSAGE_IMPORT");
    assert!(one["ended_time"].is_null(), "{one}");
    assert!(one["file"].is_null(), "{one}");
    assert_eq!(one["progress"]["total"], 10);

    let ended = ok(app.get("/v1/jobs?running=false").await).await;
    assert_eq!(ended["page"]["total_elements"], 1);
    assert_eq!(ended["_embedded"]["jobs"][0]["id"], done["id"]);

    let newest_first = ok(app.get("/v1/jobs?sort=id,desc&size=1").await).await;
    assert_eq!(newest_first["_embedded"]["jobs"][0]["id"], pending.id.0);
    assert_eq!(newest_first["page"]["total_pages"], 2);

    let got = ok(app.get(&format!("/v1/jobs/{}", id(&done))).await).await;
    assert_eq!(got, done);
    api_error(app.get("/v1/jobs/424242").await, 404).await;
    api_error(app.get("/v1/jobs?running=maybe").await, 400).await;
    // Another application sees none of them.
    api_error(
        app.other(Method::GET, &format!("/v1/jobs/{}", id(&done)))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    let theirs = ok(app.other(Method::GET, "/v1/jobs").send().await.unwrap()).await;
    assert_eq!(theirs["page"]["total_elements"], 0);
}

#[tokio::test]
async fn a_job_whose_process_went_away_is_marked_interrupted() {
    let app = spawn_app_with(|c| c.imports.stale_after_secs = 1).await;
    let me = my_app(&app).await;
    let orphan = app
        .engine
        .store()
        .create_job(
            me,
            NewJob {
                kind: JobKind::UserImport,
                channel_id: None,
                total: None,
                runner: "a-process-that-crashed".into(),
            },
        )
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let job = loop {
        let job = ok(app.get(&format!("/v1/jobs/{}", orphan.id.0)).await).await;
        if job["state"] != "PENDING" {
            break job;
        }
        assert!(Instant::now() < deadline, "never given up: {job}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(job["state"], "FAILED");
    assert_eq!(job["failure"], "interrupted");
    assert!(job["ended_time"].is_string());
    // This process's own jobs stay alive meanwhile (their heartbeat is kept).
    let mine = app
        .engine
        .store()
        .create_job(
            me,
            NewJob {
                kind: JobKind::UserImport,
                channel_id: None,
                total: None,
                runner: app.engine.runner_id().to_owned(),
            },
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let still = app
        .engine
        .store()
        .get_job(me, mine.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.state, JobState::Pending);
    // A process shutting down gives up its own jobs at once.
    app.engine.stop_jobs().await;
    let stopped = ok(app.get(&format!("/v1/jobs/{}", mine.id.0)).await).await;
    assert_eq!(stopped["state"], "FAILED");
    assert_eq!(stopped["failure"], "interrupted");
}

async fn download(app: &crate::helpers::TestApp, href: &str) -> reqwest::Response {
    app.client
        .get(href)
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn messages_are_exported_to_a_downloadable_json_lines_file() {
    let app = spawn_app().await;
    app.create_user("eve").await;
    let room = id(&app.create_channel("room").await);
    app.send_text(room, Some("eve"), "hello").await;
    app.send_text(room, None, "system says").await;
    let job = app
        .request(Method::POST, "/v1/analytics/messages")
        .send()
        .await
        .unwrap();
    assert_eq!(job.status(), 202);
    let job: Value = job.json().await.unwrap();
    assert_eq!(job["type"], "MESSAGE_ANALYTICS_EXPORT");
    let done = wait_job(&app, id(&job)).await;
    assert_eq!(done["state"], "FINISHED", "{done}");
    assert_eq!(done["progress"]["succeeded"], 2);
    assert_eq!(done["progress"]["total"], 2);
    let href = done["file"].as_str().expect("a file URL").to_owned();
    assert!(
        href.ends_with(&format!("/v1/jobs/{}/file", id(&job))),
        "{href}"
    );
    assert_eq!(done["_links"]["file"]["href"], href);

    let response = download(&app, &href).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/x-ndjson"
    );
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains(".jsonl"),
        "{disposition}"
    );
    let text = response.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["body"], "hello");
    assert_eq!(lines[0]["type"], "TEXT");
    assert_eq!(lines[0]["username"], "eve");
    assert_eq!(lines[0]["channel_id"], room);
    assert_eq!(lines[0]["channel_name"], "room");
    assert_eq!(lines[0]["seq"], 1);
    assert!(lines[0]["created_time"].is_string());
    assert_eq!(lines[1]["type"], "SYSTEM_TEXT");
    assert!(lines[1]["username"].is_null());

    // Same application only, and a token is needed.
    let theirs = app
        .client
        .get(&href)
        .bearer_auth(&app.other_token)
        .send()
        .await
        .unwrap();
    api_error(theirs, 404).await;
    api_error(app.client.get(&href).send().await.unwrap(), 401).await;
    // An import job has no file.
    let imported = import(&app, "/v1/imports/users", json!([]), "USER_IMPORT", 0, 0).await;
    assert!(imported["file"].is_null());
    api_error(
        download(
            &app,
            &format!("{}/v1/jobs/{}/file", app.base, id(&imported)),
        )
        .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn users_are_exported_too() {
    let app = spawn_app().await;
    for name in ["u1", "u2", "u3"] {
        app.create_user(name).await;
    }
    let job = app
        .request(Method::POST, "/analytics/users")
        .send()
        .await
        .unwrap();
    assert_eq!(job.status(), 202);
    let job: Value = job.json().await.unwrap();
    assert_eq!(job["type"], "USER_ANALYTICS_EXPORT");
    let done = wait_job(&app, id(&job)).await;
    assert_eq!(done["state"], "FINISHED");
    let text = download(&app, done["file"].as_str().unwrap())
        .await
        .text()
        .await
        .unwrap();
    let names: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(names, ["u1", "u2", "u3"]);
    let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    for key in [
        "id",
        "display_name",
        "type",
        "is_guest",
        "properties",
        "created_time",
    ] {
        assert!(first.get(key).is_some(), "{key} in {first}");
    }
}

#[tokio::test]
async fn openapi_describes_imports_jobs_and_analytics() {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (path, method, operation) in [
        ("/imports/users", "post", "importUsers"),
        ("/imports/channels", "post", "importChannels"),
        (
            "/imports/channels/{id}/members",
            "post",
            "importChannelMembers",
        ),
        ("/imports/messages", "post", "importMessages"),
        ("/jobs", "get", "listJobs"),
        ("/jobs/{id}", "get", "retrieveJob"),
        ("/jobs/{id}/file", "get", "downloadJobFile"),
        ("/analytics/messages", "post", "exportMessageAnalytics"),
        ("/analytics/users", "post", "exportUserAnalytics"),
    ] {
        let op = &paths[path][method];
        assert_eq!(op["operationId"], operation, "{method} {path}: {op}");
    }
    let upload = &paths["/imports/users"]["post"]["requestBody"]["content"];
    assert!(upload.get("multipart/form-data").is_some(), "{upload}");
    assert!(
        paths["/imports/users"]["post"]["responses"]
            .get("202")
            .is_some()
    );
}
