//! Realtime gateway tests: the real server on port 0, driven over WebSocket with the
//! Centrifugo JSON protocol (and SSE), plus the session brain driven directly.

mod helpers;

mod channels;
mod connect;
mod fanout;
mod limits;
mod recovery;
mod session;
mod sse;
mod typing;
mod user_sessions;
