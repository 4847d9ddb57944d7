//! Typing, read and report through the realtime gateway: keystrokes reach connected
//! clients (from REST and from the `typing` rpc), and the `read` and `report` rpcs
//! move read marks and store reports.

use crate::helpers::{id, spawn_app};
use serde_json::json;

#[tokio::test]
async fn keystrokes_reach_connected_clients_and_are_not_history() {
    let mut app = spawn_app().await;
    app.user("jane").await;
    app.user("bob").await;
    let cid = id(&app.channel("PUBLIC", "lobby", &[]).await);
    let mut bob = app.client("bob").await;
    bob.subscribe("lobby").await;

    // Over REST, on behalf of jane.
    app.post(
        &format!("/v1/channels/{cid}/keystrokes"),
        json!({"keys": "hel", "user": {"username": "jane"}}),
    )
    .await;
    let publication = bob.publication("lobby").await;
    assert_eq!(publication["data"]["type"], "keystrokes");
    assert_eq!(publication["data"]["keys"], "hel");
    assert_eq!(publication["data"]["user"]["name"], "jane");
    assert!(publication.get("offset").is_none(), "{publication}");

    // Over the realtime rpc, from another client.
    let mut jane = app.client("jane").await;
    tokio::time::sleep(hubbub_core::engine::KEYSTROKES_INTERVAL).await;
    let reply = jane
        .call(json!({"rpc": {"method": "typing", "data": {"channel": "lobby", "keys": "hello"}}}))
        .await;
    assert!(reply["rpc"].is_object(), "{reply}");
    let publication = bob.publication("lobby").await;
    assert_eq!(publication["data"]["keys"], "hello");
    // Too fast: error 111.
    let reply = jane
        .call(json!({"rpc": {"method": "typing", "data": {"channel": "lobby", "keys": "hello!"}}}))
        .await;
    assert_eq!(reply["error"]["code"], 111, "{reply}");

    let history = bob
        .call(json!({"history": {"channel": "lobby", "limit": 10}}))
        .await;
    assert_eq!(history["history"]["publications"], json!([]));
    app.stop().await;
}

#[tokio::test]
async fn read_and_report_rpcs_store_marks_and_reports() {
    let mut app = spawn_app().await;
    app.user("jane").await;
    app.user("bob").await;
    let channel = app.channel("PRIVATE", "team", &["jane", "bob"]).await;
    let cid = id(&channel);
    let first = app.send(cid, Some("bob"), "one").await;
    app.send(cid, Some("bob"), "two").await;
    let mut jane = app.client("jane").await;

    let reply = jane
        .call(json!({"rpc": {"method": "read", "data": {"channel": "team", "message_id": id(&first)}}}))
        .await;
    assert_eq!(
        reply["rpc"]["data"]["last_read_seq"], first["seq"],
        "{reply}"
    );
    let reply = jane
        .call(json!({"rpc": {"method": "read", "data": {"channel": "team"}}}))
        .await;
    assert_eq!(reply["rpc"]["data"]["last_read_seq"], 2, "{reply}");
    let reply = jane
        .call(json!({"rpc": {"method": "read", "data": {"channel": "team", "message_id": "x"}}}))
        .await;
    assert_eq!(reply["error"]["code"], 107, "{reply}");
    let receipts = app
        .http
        .get(format!(
            "{}/v1/messages/{}/read-receipts",
            app.base,
            id(&first)
        ))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(receipts["_embedded"]["receipts"][0]["user"]["name"], "jane");

    let reply = jane
        .call(json!({"rpc": {"method": "report", "data": {"message_id": id(&first), "reason": "spam"}}}))
        .await;
    assert_eq!(reply["rpc"]["data"]["reported"], true, "{reply}");
    let reply = jane
        .call(json!({"rpc": {"method": "report", "data": {"message_id": id(&first)}}}))
        .await;
    assert_eq!(reply["error"]["code"], 107, "{reply}");
    let reported = app
        .http
        .get(format!("{}/v1/channels/{cid}/reported-messages", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(reported["_embedded"]["messages"][0]["id"], first["id"]);
    assert_eq!(reported["_embedded"]["messages"][0]["report_count"], 1);
    app.stop().await;
}
