//! `GET /connection/uni_sse?cf_connect=<JSON>` (or `POST /connection/uni_sse` with the
//! JSON as body): Centrifugo's unidirectional SSE transport, for clients without a
//! Centrifugo SDK (a plain `EventSource`).
//!
//! The connect object is `{"token": JWT, "subs": {"<channel>": {"recover"?, "offset"?,
//! "epoch"?}}}`: the channels to subscribe to (with the same permission rules as the
//! WebSocket protocol) and, per channel, an optional position to recover from. Every
//! event is `data: <Push JSON>`: first `{"connect": {client, version, expires, ttl,
//! ping, subs: {channel: SubscribeResult}}}`, then `{"channel", "pub"|"join"|"leave"|
//! "unsubscribe": ...}`; `{}` is a ping; `{"disconnect": {code, reason, reconnect}}`
//! ends the stream. A refused connect is an HTTP error before the stream starts:
//! `{"error": {"code", "message"}}` with the protocol's error code.
//!
//! It is the same session brain as the WebSocket, with another [`Wire`].

use super::session::{Fail, Flow, Session, Wire};
use crate::AppState;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hubbub_core::fanout::{Frame, Outbox};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UniConnect {
    token: String,
    subs: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UniSub {
    recover: bool,
    offset: u64,
    epoch: String,
}

/// `data: {"channel":C,"pub":{...}}` — the frame every uni-SSE subscriber of a room
/// shares.
pub fn publication_event(channel: &str, data: &[u8], offset: Option<i64>) -> Frame {
    let mut out = Vec::with_capacity(data.len() + channel.len() + 48);
    out.extend_from_slice(b"data: {\"channel\":");
    super::protocol::push_json_str(&mut out, channel);
    out.extend_from_slice(b",\"pub\":");
    super::protocol::push_publication(&mut out, data, offset);
    out.extend_from_slice(b"}\n\n");
    Arc::from(out)
}

fn refused(status: StatusCode, code: u32, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// Centrifugo unidirectional SSE; the connect object in the `cf_connect` query parameter.
#[utoipa::path(get, path = "/connection/uni_sse", tag = "Realtime", operation_id = "uniSseGet",
    params(("cf_connect" = String, Query, description = "the JSON connect command")),
    responses((status = 200, description = "event stream", content_type = "text/event-stream", body = String),
        (status = 400, description = "bad connect object")))]
pub async fn get(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    let Some(raw) = query.get("cf_connect") else {
        return refused(StatusCode::BAD_REQUEST, 107, "cf_connect is required");
    };
    serve(state, raw.as_bytes(), headers, info).await
}

/// Centrifugo unidirectional SSE; the connect object as the JSON body.
#[utoipa::path(post, path = "/connection/uni_sse", tag = "Realtime", operation_id = "uniSsePost",
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "event stream", content_type = "text/event-stream", body = String),
        (status = 400, description = "bad connect object")))]
pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Bytes,
) -> Response {
    serve(state, &body, headers, info).await
}

async fn serve(
    state: AppState,
    raw: &[u8],
    headers: HeaderMap,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    let gw = state.gateway.clone();
    if gw.is_shutting_down() {
        return refused(StatusCode::SERVICE_UNAVAILABLE, 108, "shutting down");
    }
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    if !gw.origin_allowed(origin) {
        return refused(StatusCode::FORBIDDEN, 103, "origin not allowed");
    }
    if raw.len() > gw.config.max_frame_bytes {
        return refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            107,
            "connect object too large",
        );
    }
    let Ok(connect) = serde_json::from_slice::<UniConnect>(raw) else {
        return refused(StatusCode::BAD_REQUEST, 107, "malformed connect object");
    };
    let mut subs = Vec::with_capacity(connect.subs.len());
    for (channel, sub) in connect.subs {
        let Ok(sub) = serde_json::from_value::<UniSub>(sub) else {
            return refused(StatusCode::BAD_REQUEST, 107, "malformed subscription");
        };
        let recover = sub.recover.then_some((sub.epoch, sub.offset as i64));
        subs.push((channel, recover));
    }
    let ip = info
        .map(|Extension(ConnectInfo(addr))| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let outbox = gw.new_outbox();
    let Some(guard) = gw
        .connections
        .open(ip, outbox.clone(), gw.config.max_connections_per_ip)
    else {
        return refused(
            StatusCode::TOO_MANY_REQUESTS,
            106,
            "too many connections from this address",
        );
    };
    let mut session = Session::new(gw.clone(), outbox.clone(), guard).with_wire(Wire::UniSse);
    match session.connect_uni(&connect.token, &subs).await {
        Ok(()) => {}
        Err(Fail::Error(code, detail)) => {
            let status = match code.code {
                101 | 109 => StatusCode::UNAUTHORIZED,
                102 => StatusCode::NOT_FOUND,
                103 => StatusCode::FORBIDDEN,
                100 | 108 => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            return refused(status, code.code, detail.as_deref().unwrap_or(code.message));
        }
        Err(Fail::Disconnect(d)) => {
            return refused(StatusCode::UNAUTHORIZED, u32::from(d.code), d.reason);
        }
    }

    let interval = gw.config.ping_interval;
    let ping = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    let body = futures::stream::unfold(
        (session, outbox, ping, false),
        |(mut session, outbox, mut ping, ended): (
            Session,
            Arc<Outbox>,
            tokio::time::Interval,
            bool,
        )| async move {
            if ended {
                return None;
            }
            let mut batch: Vec<Frame> = Vec::new();
            let closing = loop {
                let control = session.control();
                tokio::select! {
                    _ = outbox.ready() => {
                        session.gateway().write_slot(&outbox).await;
                        break outbox.next_batch(&mut batch).await;
                    }
                    _ = ping.tick() => {
                        if let Flow::Close(d) = session.tick() {
                            outbox.close(d.closing());
                        }
                    }
                    _ = async {
                        match &control {
                            Some(c) => c.notify.notified().await,
                            None => std::future::pending().await,
                        }
                    } => session.apply_controls(),
                }
            };
            let mut chunk = Vec::with_capacity(batch.iter().map(|f| f.len()).sum::<usize>() + 64);
            for frame in &batch {
                chunk.extend_from_slice(frame);
            }
            if let Some(c) = closing {
                let reconnect = !(3500..4000).contains(&c.code) && !(4500..5000).contains(&c.code);
                let disconnect = json!({"disconnect": {"code": c.code, "reason": c.reason, "reconnect": reconnect}});
                chunk.extend_from_slice(format!("data: {disconnect}\n\n").as_bytes());
            }
            Some((
                Ok::<_, std::convert::Infallible>(Bytes::from(chunk)),
                (session, outbox, ping, closing.is_some()),
            ))
        },
    );
    let mut response = Body::from_stream(body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}
