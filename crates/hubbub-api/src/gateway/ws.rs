//! `GET /connection/websocket`: the WebSocket adapter of the session.
//!
//! Two tasks per connection. The reader feeds frames to the [`Session`] and runs its
//! ping timer. The writer drains the connection's outbox: everything queued since its
//! last write goes out as **one** WebSocket text frame (newline-joined replies and
//! pushes), so a busy connection costs one socket write per wake-up, not one per
//! message; with `realtime.write_coalesce_ms` a busy connection writes at most once per
//! that window. Buffers are small (`realtime.ws_buffer_bytes`, a few KiB, instead of
//! tungstenite's 128 KiB). When the outbox closes (slow consumer 3008, shutdown 3001,
//! protocol errors) the writer sends the close frame with that code and reason.

use super::Gateway;
use super::protocol as p;
use super::session::{Flow, Session};
use crate::AppState;
use axum::Extension;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use hubbub_core::fanout::{Closing, Frame, Outbox};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Close code for an oversized message (RFC 6455).
const MESSAGE_TOO_BIG: Closing = Closing {
    code: 1009,
    reason: "message too big",
};
/// Close code for a normal end of the connection.
const NORMAL: Closing = Closing {
    code: 1000,
    reason: "",
};

/// The realtime WebSocket: the Centrifugo client protocol v2, JSON encoding.
#[utoipa::path(get, path = "/connection/websocket", tag = "Realtime", operation_id = "realtimeWebSocket",
    responses(
        (status = 101, description = "switching to the WebSocket protocol"),
        (status = 503, description = "shutting down"),
    ))]
pub async fn upgrade(
    State(state): State<AppState>,
    ws: WebSocketUpgrade,
    headers: axum::http::HeaderMap,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    let gw = state.gateway.clone();
    if gw.is_shutting_down() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    let origin = headers
        .get(axum::http::header::ORIGIN)
        .and_then(|o| o.to_str().ok());
    if !gw.origin_allowed(origin) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let ip = info
        .map(|Extension(ConnectInfo(addr))| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let config = &gw.config;
    // Frames a little above the limit still reach us, so the limit is enforced with
    // a clear 1009 close rather than a transport error.
    let max = config.max_frame_bytes + 1;
    ws.read_buffer_size(config.ws_buffer_bytes)
        .write_buffer_size(config.ws_buffer_bytes)
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| serve(gw, socket, ip))
}

/// Runs one connection to its end.
pub async fn serve(gw: Arc<Gateway>, socket: WebSocket, ip: IpAddr) {
    let outbox = gw.new_outbox();
    let (sink, stream) = socket.split();
    let guard = gw
        .connections
        .open(ip, outbox.clone(), gw.config.max_connections_per_ip);
    let writer_done = Arc::new(Notify::new());
    let writer = tokio::spawn(write_loop(
        gw.clone(),
        sink,
        outbox.clone(),
        gw.config.write_coalesce,
        writer_done.clone(),
    ));
    match guard {
        None => outbox.close(p::CONNECTION_LIMIT.closing()),
        Some(guard) => {
            let mut session = Session::new(gw.clone(), outbox.clone(), guard);
            let stream = read_loop(&gw, &mut session, stream, &outbox, &writer_done).await;
            session.close();
            drop(session);
            outbox.close(NORMAL);
            // Let the peer answer our close frame, briefly, for a clean close.
            if let Some(mut stream) = stream {
                let _ = tokio::time::timeout(Duration::from_secs(1), async {
                    while let Some(Ok(_)) = stream.next().await {}
                })
                .await;
            }
        }
    }
    let _ = writer.await;
}

async fn read_loop(
    gw: &Gateway,
    session: &mut Session,
    mut stream: SplitStream<WebSocket>,
    outbox: &Outbox,
    writer_done: &Notify,
) -> Option<SplitStream<WebSocket>> {
    let interval = gw.config.ping_interval;
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    let connect_deadline = tokio::time::sleep(gw.config.connect_timeout);
    tokio::pin!(connect_deadline);
    let max = gw.config.max_frame_bytes;
    loop {
        let control = session.control();
        let text = tokio::select! {
            received = stream.next() => match received {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Binary(bytes))) => match String::from_utf8(bytes.to_vec()) {
                    Ok(text) => text.into(),
                    Err(_) => {
                        outbox.close(p::BAD_PROTOCOL.closing());
                        return Some(stream);
                    }
                },
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(_))) | None => return None,
                Some(Err(e)) => {
                    let e = e.to_string();
                    if e.contains("too long") || e.contains("Space limit") {
                        outbox.close(MESSAGE_TOO_BIG);
                        return Some(stream);
                    }
                    return None;
                }
            },
            _ = ping.tick() => {
                if let Flow::Close(d) = session.tick() {
                    outbox.close(d.closing());
                    return Some(stream);
                }
                continue;
            }
            _ = &mut connect_deadline, if !session.is_connected() => {
                outbox.close(p::STALE.closing());
                return Some(stream);
            }
            _ = writer_done.notified() => return Some(stream),
            _ = async {
                match &control {
                    Some(c) => c.notify.notified().await,
                    None => std::future::pending().await,
                }
            } => {
                session.apply_controls();
                continue;
            }
        };
        if text.len() > max {
            outbox.close(MESSAGE_TOO_BIG);
            return Some(stream);
        }
        // Boxed: command handling has large futures (store calls); kept on the heap
        // only while a command runs, an idle connection's task stays small.
        if let Flow::Close(d) = Box::pin(session.handle_frame(text.as_str())).await {
            outbox.close(d.closing());
            return Some(stream);
        }
        if outbox.closing().is_some() {
            return Some(stream);
        }
    }
}

/// Joins frames into one newline-separated text.
pub fn join_frames(frames: &[Frame]) -> String {
    let len = frames.iter().map(|f| f.len() + 1).sum();
    let mut out = Vec::with_capacity(len);
    for frame in frames {
        if !out.is_empty() {
            out.push(b'\n');
        }
        out.extend_from_slice(frame);
    }
    // Frames are JSON text built from valid UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

async fn write_loop(
    gw: Arc<Gateway>,
    mut sink: SplitSink<WebSocket, Message>,
    outbox: Arc<Outbox>,
    coalesce: Duration,
    done: Arc<Notify>,
) {
    let mut batch: Vec<Frame> = Vec::new();
    loop {
        // Wait for something to send, then for this write's slot in the node's
        // budget; whatever is queued by then goes out in the one write.
        outbox.ready().await;
        gw.write_slot(&outbox).await;
        let closing = outbox.next_batch(&mut batch).await;
        if !batch.is_empty() {
            let text = join_frames(&batch);
            gw.ws_writes
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            gw.ws_frames
                .fetch_add(batch.len() as u64, std::sync::atomic::Ordering::Relaxed);
            batch.clear();
            if sink.send(Message::Text(text.into())).await.is_err() {
                break;
            }
            // At most one write per `coalesce` window: the first message after a quiet
            // spell goes out at once, a busy stream is batched into fewer writes.
            if !coalesce.is_zero() && closing.is_none() {
                tokio::time::sleep(coalesce).await;
            }
        }
        if let Some(closing) = closing {
            if closing != NORMAL {
                let frame = CloseFrame {
                    code: closing.code,
                    reason: closing.reason.into(),
                };
                let _ = sink.send(Message::Close(Some(frame))).await;
            } else {
                let _ = sink.send(Message::Close(None)).await;
            }
            break;
        }
    }
    done.notify_one();
}
