//! `GET /connection/sse?channel=NAME&token=JWT`: a read-only Server-Sent-Events feed
//! of one channel, for overlays and dashboards.
//!
//! The token is a connection token (query `token`, or `Authorization: Bearer`); the
//! channel is named as in the WebSocket protocol. Every event is one `data:` line
//! holding the event JSON (the same objects as WebSocket publications). Events that
//! occupy a position in the channel (`message.created`) carry `id: <seq>:<epoch>`, so
//! a reconnecting `EventSource` sends `Last-Event-ID` and receives exactly what it
//! missed (at most `realtime.recovery_max_publications`; beyond that, or when the
//! epoch is not the channel's — a channel deleted and created again under the same
//! name — the stream starts with a `{"type":"reset"}` event and continues live). A bare
//! `<seq>` is taken to be of the current epoch. `last_event_id` in the query works like
//! the header. A comment line (`: ping`) keeps idle streams open.

use super::session::{Fail, read_position, readable_channel};
use super::{FORMAT_SSE, Gateway};
use crate::AppState;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hubbub_core::engine::{TokenError, message_created_event};
use hubbub_core::events::ChannelEvent;
use hubbub_core::fanout::{Frame, Outbox, RoomKey, SubId};
use serde::Deserialize;
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
pub struct SseQuery {
    channel: String,
    token: Option<String>,
    last_event_id: Option<String>,
}

/// A client's resume position: `<seq>:<epoch>`, or a bare `<seq>` of the current epoch.
fn parse_event_id(raw: &str) -> Option<(i64, Option<&str>)> {
    let raw = raw.trim();
    match raw.split_once(':') {
        Some((seq, epoch)) if !epoch.is_empty() => Some((seq.parse().ok()?, Some(epoch))),
        Some(_) => None,
        None => Some((raw.parse().ok()?, None)),
    }
}

/// One SSE event frame: `id: <seq>:<epoch>` (when the event has a seq) and one
/// `data:` line.
pub fn event_frame(event: &ChannelEvent) -> Frame {
    let mut out = Vec::with_capacity(event.data.len() + 64);
    if let Some(seq) = event.seq {
        out.extend_from_slice(format!("id: {seq}:{}\n", event.epoch).as_bytes());
    }
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(&event.data);
    out.extend_from_slice(b"\n\n");
    Arc::from(out)
}

fn error(status: StatusCode, error: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": error, "message": message})),
    )
        .into_response()
}

/// A text/event-stream of one channel's events; `id:` is `<seq>:<epoch>`, and a
/// reconnect with `Last-Event-ID` (header or `last_event_id`) resumes after it.
#[utoipa::path(get, path = "/connection/sse", tag = "Realtime", operation_id = "channelEventStream",
    params(
        ("channel" = String, Query, description = "channel name (`$direct:<id>` for direct channels)"),
        ("token" = Option<String>, Query, description = "connection JWT (absent: anonymous viewer of a public channel, if allowed)"),
        ("last_event_id" = Option<String>, Query, description = "resume after this event id (`<seq>:<epoch>`, or a bare seq)"),
        ("Last-Event-ID" = Option<String>, Header, description = "resume after this event id (`<seq>:<epoch>`, or a bare seq)"),
    ),
    responses(
        (status = 200, description = "event stream", content_type = "text/event-stream", body = String),
        (status = 401, description = "bad or expired token"),
        (status = 403, description = "not allowed in this channel"),
        (status = 404, description = "no such channel"),
    ))]
pub async fn stream(
    State(state): State<AppState>,
    Query(query): Query<SseQuery>,
    headers: HeaderMap,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    let gw = state.gateway.clone();
    if gw.is_shutting_down() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "shutting down",
        );
    }
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    if !gw.origin_allowed(origin) {
        return error(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "origin not allowed",
        );
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::to_owned);
    let Some(token) = query.token.clone().or(bearer) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a connection token is required (token=...)",
        );
    };
    let identity = match gw.engine.authenticate_realtime(&token).await {
        Ok(identity) => identity,
        Err(TokenError::Expired) => {
            return error(
                StatusCode::UNAUTHORIZED,
                "token_expired",
                "the token has expired",
            );
        }
        Err(TokenError::Store(e)) => {
            tracing::warn!(error = %e, "sse: store failed");
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "try again shortly",
            );
        }
        Err(e) => return error(StatusCode::UNAUTHORIZED, "unauthorized", &e.to_string()),
    };
    let channel = match readable_channel(&gw, &identity, &query.channel).await {
        Ok(channel) => channel,
        Err(Fail::Error(code, detail)) if code.code == 102 => {
            return error(
                StatusCode::NOT_FOUND,
                "unknown_channel",
                detail.as_deref().unwrap_or("unknown channel"),
            );
        }
        Err(Fail::Error(code, detail)) if code.code == 103 => {
            return error(
                StatusCode::FORBIDDEN,
                "permission_denied",
                detail.as_deref().unwrap_or("permission denied"),
            );
        }
        Err(_) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "try again shortly",
            );
        }
    };
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or(query.last_event_id.clone());
    // An unreadable id resumes nothing: the stream starts with a reset, then live.
    let resume = last_event_id.as_deref().map(parse_event_id);
    let ip = info
        .map(|Extension(ConnectInfo(addr))| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let outbox = gw.new_outbox();
    let Some(guard) = gw
        .connections
        .open(ip, outbox.clone(), gw.config.max_connections_per_ip)
    else {
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            "connection_limit",
            "too many connections from this address",
        );
    };
    let key = (channel.app_id, channel.id);
    let hub_id = gw.hub.subscribe(
        key,
        &query.channel,
        channel.last_seq,
        outbox.clone(),
        FORMAT_SSE,
    );
    let subscription = SseSubscription {
        gw: gw.clone(),
        key,
        hub_id,
        _guard: guard,
    };
    gw.hub.until_live(key).await;
    let position = match read_position(
        &gw,
        &channel,
        match resume {
            Some(Some((seq, None))) => Some((channel.epoch.as_str(), seq)),
            Some(Some((seq, Some(epoch)))) => Some((epoch, seq)),
            // A position no stream ever handed out: recover nothing.
            Some(None) => Some(("", 0)),
            None => None,
        },
    )
    .await
    {
        Ok(position) => position,
        Err(_) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "try again shortly",
            );
        }
    };
    let mut first = b"retry: 3000\n\n".to_vec();
    if last_event_id.is_some() && !position.recovered {
        first.extend_from_slice(
            format!(
                "data: {}\n\n",
                json!({"type": "reset", "epoch": position.epoch, "offset": position.top})
            )
            .as_bytes(),
        );
    }
    for view in &position.views {
        first.extend_from_slice(&event_frame(&message_created_event(&position.epoch, view)));
    }
    gw.hub
        .activate(key, hub_id, Some(Arc::from(first)), position.top);

    let keepalive = gw.config.sse_keepalive;
    let body = futures::stream::unfold(
        (subscription, outbox, Vec::new(), false),
        move |(subscription, outbox, mut batch, ended): (
            SseSubscription,
            Arc<Outbox>,
            Vec<Frame>,
            bool,
        )| async move {
            if ended {
                return None;
            }
            tokio::select! {
                _ = outbox.ready() => {}
                _ = tokio::time::sleep(keepalive) => {
                    return Some((Ok::<_, std::convert::Infallible>(Bytes::from_static(b": ping\n\n")), (subscription, outbox, batch, false)));
                }
            };
            subscription.gw.write_slot(&outbox).await;
            let closing = outbox.next_batch(&mut batch).await;
            let mut chunk = Vec::with_capacity(batch.iter().map(|f| f.len()).sum());
            for frame in batch.drain(..) {
                chunk.extend_from_slice(&frame);
            }
            Some((
                Ok(Bytes::from(chunk)),
                (subscription, outbox, batch, closing.is_some()),
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

/// Leaves the room and frees the connection slot when the stream is dropped.
struct SseSubscription {
    gw: Arc<Gateway>,
    key: RoomKey,
    hub_id: SubId,
    _guard: super::limits::ConnectionGuard,
}

impl Drop for SseSubscription {
    fn drop(&mut self) {
        self.gw.hub.unsubscribe(self.key, self.hub_id);
    }
}
