use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn resubscribing_with_recover_gets_exactly_the_missed_messages() {
    let app = spawn_app().await;
    app.user("jane").await;
    let channel = app.channel("PUBLIC", "lobby", &[]).await;
    app.send(id(&channel), Some("jane"), "before").await;
    let mut ws = app.client("jane").await;
    let sub = ws.subscribe("lobby").await;
    let (epoch, offset) = (sub["epoch"].clone(), sub["offset"].as_u64().unwrap());
    assert_eq!(offset, 1);
    drop(ws);

    for i in 1..=5 {
        app.send(id(&channel), Some("jane"), &format!("missed {i}"))
            .await;
    }
    let mut ws = app.client("jane").await;
    let reply = ws
        .call(json!({"subscribe": {"channel": "lobby", "recover": true, "epoch": epoch, "offset": offset}}))
        .await;
    let sub = &reply["subscribe"];
    assert_eq!(sub["recovered"], true, "{reply}");
    assert_eq!(sub["was_recovering"], true);
    assert_eq!(sub["offset"], 6);
    let publications = sub["publications"].as_array().unwrap();
    let offsets: Vec<u64> = publications
        .iter()
        .map(|p| p["offset"].as_u64().unwrap())
        .collect();
    assert_eq!(offsets, [2, 3, 4, 5, 6]);
    assert_eq!(publications[0]["data"]["message"]["body"], "missed 1");

    // Live again, nothing repeated.
    app.send(id(&channel), Some("jane"), "live").await;
    let live = ws.publication("lobby").await;
    assert_eq!(live["offset"], 7);
    assert_eq!(live["data"]["message"]["body"], "live");
}

#[tokio::test]
async fn a_recovered_publication_is_byte_for_byte_the_live_one() {
    let app = spawn_app().await;
    app.user("jane").await;
    let channel = app.channel("PUBLIC", "lobby", &[]).await;
    let mut live = app.client("jane").await;
    let sub = live.subscribe("lobby").await;
    app.send(id(&channel), Some("jane"), "same bytes").await;
    let received = live.publication("lobby").await;
    let mut late = app.client("jane").await;
    let reply = late
        .call(json!({"subscribe": {"channel": "lobby", "recover": true, "epoch": sub["epoch"], "offset": 0}}))
        .await;
    assert_eq!(reply["subscribe"]["publications"][0], received);
}

#[tokio::test]
async fn a_wrong_epoch_or_too_old_offset_is_not_recovered() {
    let app = spawn_app_with(|c| c.realtime.recovery_max_publications = 3).await;
    app.user("jane").await;
    let channel = app.channel("PUBLIC", "lobby", &[]).await;
    for i in 0..5 {
        app.send(id(&channel), Some("jane"), &format!("m{i}")).await;
    }
    let mut ws = app.client("jane").await;
    let reply = ws
        .call(json!({"subscribe": {"channel": "lobby", "recover": true, "epoch": "other", "offset": 1}}))
        .await;
    assert_eq!(reply["subscribe"]["recovered"], false, "{reply}");
    assert_eq!(reply["subscribe"]["offset"], 5);
    assert!(reply["subscribe"].get("publications").is_none());
    ws.call(json!({"unsubscribe": {"channel": "lobby"}})).await;
    let reply = ws
        .call(json!({"subscribe": {"channel": "lobby", "recover": true, "epoch": channel["epoch"], "offset": 1}}))
        .await;
    assert_eq!(
        reply["subscribe"]["recovered"], false,
        "4 missed > 3: {reply}"
    );
    ws.call(json!({"unsubscribe": {"channel": "lobby"}})).await;
    // With the reject flag the client is told 112 instead.
    let reply = ws
        .call(json!({"subscribe": {"channel": "lobby", "recover": true, "epoch": "other", "offset": 1, "flag": 2}}))
        .await;
    assert_eq!(reply["error"]["code"], 112, "{reply}");
}

#[tokio::test]
async fn recovery_under_concurrent_sends_has_no_gap_and_no_duplicate() {
    let app = spawn_app().await;
    app.user("jane").await;
    let channel = app.channel("PUBLIC", "lobby", &[]).await;
    let channel_id = id(&channel);
    let mut ws = app.client("jane").await;
    let sub = ws.subscribe("lobby").await;
    drop(ws);
    let app = std::sync::Arc::new(app);
    let sender = {
        let app = app.clone();
        tokio::spawn(async move {
            for i in 0..60 {
                app.send(channel_id, Some("jane"), &format!("m{i}")).await;
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let mut ws = app.client("jane").await;
    let reply = ws
        .call(json!({"subscribe": {"channel": "lobby", "recover": true, "epoch": sub["epoch"], "offset": 0}}))
        .await;
    assert_eq!(reply["subscribe"]["recovered"], true, "{reply}");
    let mut seen: Vec<u64> = reply["subscribe"]["publications"]
        .as_array()
        .map(|a| a.iter().map(|p| p["offset"].as_u64().unwrap()).collect())
        .unwrap_or_default();
    sender.await.unwrap();
    while seen.last().copied().unwrap_or(0) < 60 {
        seen.push(ws.publication("lobby").await["offset"].as_u64().unwrap());
    }
    assert_eq!(seen, (1..=60).collect::<Vec<u64>>());
}
