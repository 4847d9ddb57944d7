//! `GET /connection/autobahn-echo`: echoes every message back, for the Autobahn
//! WebSocket conformance cases (`scripts/autobahn.sh`). Served only when
//! `realtime.autobahn_echo` is on; it uses the same small buffers as real sessions.

use crate::AppState;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;

/// Upgrades and echoes.
pub async fn echo(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    let buffer = state.gateway.config.ws_buffer_bytes;
    ws.read_buffer_size(buffer)
        .write_buffer_size(buffer)
        .max_message_size(64 << 20)
        .max_frame_size(16 << 20)
        .on_upgrade(echo_loop)
}

async fn echo_loop(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        let reply = match message {
            Message::Text(_) | Message::Binary(_) => message,
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        if socket.send(reply).await.is_err() {
            break;
        }
    }
    // tungstenite answers the peer's close frame itself; wait for the peer to hang up.
    while let Some(Ok(_)) = socket.recv().await {}
}
