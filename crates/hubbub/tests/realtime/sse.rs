use crate::helpers::*;
use futures::StreamExt;

/// Reads SSE events (id, data) until `count` data events arrived.
async fn read_events(
    response: reqwest::Response,
    count: usize,
) -> Vec<(Option<i64>, serde_json::Value)> {
    let mut stream = response.bytes_stream();
    let mut buffer = String::new();
    let mut events = Vec::new();
    while events.len() < count {
        let chunk = tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("an SSE chunk in time")
            .expect("stream open")
            .unwrap();
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut id = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    // `<seq>:<epoch>`: the seq is what the tests compare.
                    let (seq, epoch) = v.split_once(':').expect("id is <seq>:<epoch>");
                    assert!(!epoch.is_empty(), "the id carries the epoch: {v}");
                    id = Some(seq.parse().unwrap());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str(v).unwrap());
                }
            }
            if let Some(data) = data {
                events.push((id, data));
            }
        }
    }
    events
}

#[tokio::test]
async fn sse_streams_events_and_resumes_with_last_event_id() {
    let app = spawn_app().await;
    app.user("jane").await;
    let channel = app.channel("PUBLIC", "lobby", &[]).await;
    let token = app.token_for("", 600).await;
    let url = format!("{}/connection/sse?channel=lobby&token={token}", app.base);
    let response = app.http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    for i in 1..=3 {
        app.send(id(&channel), Some("jane"), &format!("m{i}")).await;
    }
    let events = read_events(response, 3).await;
    assert_eq!(
        events.iter().map(|e| e.0).collect::<Vec<_>>(),
        [Some(1), Some(2), Some(3)]
    );
    assert_eq!(events[0].1["message"]["body"], "m1");

    for i in 4..=6 {
        app.send(id(&channel), Some("jane"), &format!("m{i}")).await;
    }
    let response = app
        .http
        .get(&url)
        .header("Last-Event-ID", "3")
        .send()
        .await
        .unwrap();
    app.send(id(&channel), Some("jane"), "m7").await;
    let events = read_events(response, 4).await;
    let ids: Vec<_> = events.iter().map(|e| e.0.unwrap()).collect();
    assert_eq!(ids, [4, 5, 6, 7], "missed ones, then live, each once");

    // The full id (with the epoch) resumes the same way; an id of another epoch (a
    // channel of the same name deleted and created again) resets instead.
    let current: serde_json::Value = app
        .http
        .get(format!("{}/v1/channels/{}", app.base, id(&channel)))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let channel_epoch = current["epoch"].as_str().unwrap().to_owned();
    let resumed = app
        .http
        .get(&url)
        .header("Last-Event-ID", format!("6:{channel_epoch}"))
        .send()
        .await
        .unwrap();
    let events = read_events(resumed, 1).await;
    assert_eq!(events[0].0, Some(7), "{:?}", events[0]);
    let reset = app
        .http
        .get(&url)
        .header("Last-Event-ID", "6:some-other-epoch")
        .send()
        .await
        .unwrap();
    app.send(id(&channel), Some("jane"), "m8").await;
    let events = read_events(reset, 2).await;
    assert_eq!(events[0].1["type"], "reset", "{:?}", events[0]);
    assert_eq!(events[0].1["offset"], 7);
    assert_eq!(events[1].0, Some(8), "then live");
}

#[tokio::test]
async fn sse_refuses_bad_tokens_and_private_channels() {
    let app = spawn_app().await;
    app.user("eve").await;
    app.channel("PRIVATE", "secret", &[]).await;
    let bad = app
        .http
        .get(format!(
            "{}/connection/sse?channel=secret&token=nope",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let token = app.token_for("eve", 600).await;
    let refused = app
        .http
        .get(format!(
            "{}/connection/sse?channel=secret&token={token}",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let missing = app
        .http
        .get(format!(
            "{}/connection/sse?channel=none&token={token}",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn uni_sse_connects_with_subscriptions_recovers_and_streams_pushes() {
    let app = spawn_app().await;
    app.user("jane").await;
    let channel = app.channel("PUBLIC", "lobby", &[]).await;
    app.channel("PRIVATE", "secret", &[]).await;
    app.send(id(&channel), Some("jane"), "m1").await;
    let token = app.token_for("jane", 600).await;
    let url = format!("{}/connection/uni_sse", app.base);
    let connect = serde_json::json!({"token": token, "subs": {"lobby": {}}});
    let response = app
        .http
        .get(&url)
        .query(&[("cf_connect", connect.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // The connect push comes first; the next message arrives as a bare push.
    let sender = async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        app.send(id(&channel), Some("jane"), "m2").await;
    };
    let (events, _) = tokio::join!(read_events(response, 2), sender);
    let connect = &events[0].1["connect"];
    assert!(connect["client"].is_string(), "{connect}");
    assert_eq!(connect["subs"]["lobby"]["offset"], 1);
    assert_eq!(connect["subs"]["lobby"]["epoch"], channel["epoch"]);
    assert_eq!(events[1].1["channel"], "lobby");
    assert_eq!(events[1].1["pub"]["offset"], 2);
    assert_eq!(events[1].1["pub"]["data"]["message"]["body"], "m2");

    // POST works too, and recovers from a position.
    let recover = serde_json::json!({
        "token": token,
        "subs": {"lobby": {"recover": true, "offset": 1, "epoch": channel["epoch"]}}
    });
    let response = app.http.post(&url).json(&recover).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let events = read_events(response, 1).await;
    let lobby = &events[0].1["connect"]["subs"]["lobby"];
    assert_eq!(lobby["recovered"], true, "{lobby}");
    assert_eq!(lobby["publications"][0]["offset"], 2);

    let refused = app
        .http
        .get(&url)
        .query(&[(
            "cf_connect",
            serde_json::json!({"token": token, "subs": {"secret": {}}}).to_string(),
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], 103);
    let bad = app
        .http
        .get(&url)
        .query(&[(
            "cf_connect",
            serde_json::json!({"token": "nope"}).to_string(),
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
}
