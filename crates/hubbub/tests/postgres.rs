//! The real server on PostgreSQL (`--database-url postgres://…`): a fresh database on
//! the test server (`HUBBUB_TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`), driven over the Platform API. An
//! unreachable server fails the test with a message saying so.

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use helpers::{id, ok, spawn_app_with};
use hubbub_store_postgres::test_database::TestDatabase;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_sent_over_the_platform_api_are_stored_in_postgres() {
    // Arrange: the server on a fresh PostgreSQL database.
    let database = TestDatabase::create().await;
    let url = database.url();
    let app = spawn_app_with(|config| config.database_url = url).await;
    assert!(
        !app.data_dir().join("hubbub.db").exists(),
        "no SQLite file is opened"
    );
    app.create_user("alice").await;
    let channel = id(&app.create_channel("lobby").await);

    // Act: three sends, one of them retried with its idempotency key.
    let first = app.send_text(channel, Some("alice"), "hello").await;
    app.send_text(channel, None, "welcome, alice").await;
    let keyed = json!({"type": "TEXT", "body": "once", "idempotency_key": "k-1",
        "user": {"username": "alice"}});
    let once = ok(app
        .post(&format!("/v1/channels/{channel}/messages"), keyed.clone())
        .await)
    .await;
    let again = ok(app
        .post(&format!("/v1/channels/{channel}/messages"), keyed)
        .await)
    .await;

    // Assert: the list shows them newest first, the retry as the original.
    assert_eq!(id(&again), id(&once));
    let page = ok(app.get(&format!("/v1/channels/{channel}/messages")).await).await;
    assert_eq!(page["page"]["total"], 3, "{page}");
    let bodies: Vec<&str> = page["_embedded"]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["body"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(bodies, ["once", "welcome, alice", "hello"]);
    assert_eq!(page["_embedded"]["messages"][2]["id"], first["id"]);

    // And the store behind the engine is PostgreSQL's, ready and counting.
    let stats = app.engine.store().stats();
    assert_eq!(stats.messages_appended, 3, "{stats:?}");
    assert!(stats.commits >= 3, "{stats:?}");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    drop(app);
    drop(database);
}
