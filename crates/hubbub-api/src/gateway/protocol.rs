//! The Centrifugo client protocol v2, JSON encoding: the commands clients send, the
//! replies and pushes the server sends, and the error and disconnect codes.
//!
//! Source of truth: `definitions/client.proto` of the public `centrifugal/protocol`
//! repository. In the JSON encoding a WebSocket frame carries one or more
//! newline-separated JSON objects; `bytes` fields (`data`) carry raw JSON. An empty
//! object `{}` from the server is a ping, and from the client a pong.

use hubbub_core::fanout::Frame;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::sync::Arc;

/// Error codes of replies (`{"id": N, "error": {"code": C, "message": M}}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode {
    pub code: u32,
    pub message: &'static str,
    /// Whether the client should retry (temporary errors).
    pub temporary: bool,
}

const fn err(code: u32, message: &'static str, temporary: bool) -> ErrorCode {
    ErrorCode {
        code,
        message,
        temporary,
    }
}

pub const INTERNAL: ErrorCode = err(100, "internal server error", true);
pub const UNAUTHORIZED: ErrorCode = err(101, "unauthorized", false);
pub const UNKNOWN_CHANNEL: ErrorCode = err(102, "unknown channel", false);
pub const PERMISSION_DENIED: ErrorCode = err(103, "permission denied", false);
pub const METHOD_NOT_FOUND: ErrorCode = err(104, "method not found", false);
pub const ALREADY_SUBSCRIBED: ErrorCode = err(105, "already subscribed", false);
pub const LIMIT_EXCEEDED: ErrorCode = err(106, "limit exceeded", false);
pub const BAD_REQUEST: ErrorCode = err(107, "bad request", false);
pub const NOT_AVAILABLE: ErrorCode = err(108, "not available", false);
pub const TOKEN_EXPIRED: ErrorCode = err(109, "token expired", false);
pub const EXPIRED: ErrorCode = err(110, "expired", false);
pub const TOO_MANY_REQUESTS: ErrorCode = err(111, "too many requests", true);
pub const UNRECOVERABLE_POSITION: ErrorCode = err(112, "unrecoverable position", false);

/// A disconnect: sent as a WebSocket close code and reason. Codes 3000–3499 advise
/// the client to reconnect; 3500–3999 are terminal (no reconnect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnect {
    pub code: u16,
    pub reason: &'static str,
}

impl Disconnect {
    /// Whether the client should reconnect.
    pub fn reconnect(&self) -> bool {
        !(3500..4000).contains(&self.code) && !(4500..5000).contains(&self.code)
    }

    pub fn closing(self) -> hubbub_core::fanout::Closing {
        hubbub_core::fanout::Closing {
            code: self.code,
            reason: self.reason,
        }
    }
}

const fn disc(code: u16, reason: &'static str) -> Disconnect {
    Disconnect { code, reason }
}

pub const SHUTDOWN: Disconnect = disc(3001, "shutdown");
pub const SERVER_ERROR: Disconnect = disc(3004, "internal server error");
pub const CONNECTION_EXPIRED: Disconnect = disc(3005, "expired");
pub const SLOW: Disconnect = disc(3008, "slow");
pub const NO_PONG: Disconnect = disc(3012, "no pong");
pub const TOO_MANY_COMMANDS: Disconnect = disc(3013, "too many requests");
pub const INVALID_TOKEN: Disconnect = disc(3500, "invalid token");
pub const BAD_PROTOCOL: Disconnect = disc(3501, "bad request");
pub const STALE: Disconnect = disc(3502, "stale");
pub const FORCE_NO_RECONNECT: Disconnect = disc(3503, "force disconnect");
pub const CONNECTION_LIMIT: Disconnect = disc(3504, "connection limit");
pub const PERMISSION: Disconnect = disc(3507, "permission denied");

/// Unsubscribe push codes: below 2500 the client stays unsubscribed; from 2500 it
/// resubscribes (and recovers).
pub const UNSUBSCRIBE_SERVER: (u32, &str) = (2000, "server unsubscribe");
pub const UNSUBSCRIBE_INSUFFICIENT: (u32, &str) = (2500, "insufficient state");

/// One command. Exactly one method member is expected; none at all is a pong.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Command<'a> {
    pub id: u32,
    #[serde(borrow)]
    pub connect: Option<ConnectRequest<'a>>,
    #[serde(borrow)]
    pub subscribe: Option<SubscribeRequest<'a>>,
    pub unsubscribe: Option<ChannelRequest>,
    #[serde(borrow)]
    pub publish: Option<PublishRequest<'a>>,
    pub presence: Option<ChannelRequest>,
    pub presence_stats: Option<ChannelRequest>,
    pub history: Option<HistoryRequest>,
    pub ping: Option<serde::de::IgnoredAny>,
    pub send: Option<serde::de::IgnoredAny>,
    #[serde(borrow)]
    pub rpc: Option<RpcRequest<'a>>,
    pub refresh: Option<TokenRequest>,
    pub sub_refresh: Option<SubRefreshRequest>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConnectRequest<'a> {
    pub token: String,
    #[serde(borrow)]
    pub data: Option<&'a RawValue>,
    pub name: String,
    pub version: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SubscribeRequest<'a> {
    pub channel: String,
    pub token: String,
    pub recover: bool,
    pub epoch: String,
    pub offset: u64,
    #[serde(borrow)]
    pub data: Option<&'a RawValue>,
    pub positioned: bool,
    pub recoverable: bool,
    pub join_leave: bool,
    pub flag: i64,
}

/// `SubscribeRequest.flag` bit: refuse to subscribe when recovery fails (error 112).
pub const FLAG_REJECT_UNRECOVERED: i64 = 2;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChannelRequest {
    pub channel: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PublishRequest<'a> {
    pub channel: String,
    #[serde(borrow)]
    pub data: Option<&'a RawValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HistoryRequest {
    pub channel: String,
    pub limit: i32,
    pub since: Option<StreamPosition>,
    pub reverse: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StreamPosition {
    pub offset: u64,
    pub epoch: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RpcRequest<'a> {
    pub method: String,
    #[serde(borrow)]
    pub data: Option<&'a RawValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenRequest {
    pub token: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SubRefreshRequest {
    pub channel: String,
    pub token: String,
}

/// Writes `s` as a JSON string.
pub fn push_json_str(out: &mut Vec<u8>, s: &str) {
    // Serializing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Writes one publication object: `{"data":D,"offset":N}` (offset omitted when `None`).
pub fn push_publication(out: &mut Vec<u8>, data: &[u8], offset: Option<i64>) {
    out.extend_from_slice(b"{\"data\":");
    out.extend_from_slice(data);
    if let Some(offset) = offset {
        out.extend_from_slice(b",\"offset\":");
        out.extend_from_slice(offset.to_string().as_bytes());
    }
    out.push(b'}');
}

/// `{"push":{"channel":C,"pub":{...}}}` — the frame every subscriber of a room shares.
pub fn publication_push(channel: &str, data: &[u8], offset: Option<i64>) -> Frame {
    let mut out = Vec::with_capacity(data.len() + channel.len() + 48);
    out.extend_from_slice(b"{\"push\":{\"channel\":");
    push_json_str(&mut out, channel);
    out.extend_from_slice(b",\"pub\":");
    push_publication(&mut out, data, offset);
    out.extend_from_slice(b"}}");
    Arc::from(out)
}

/// `{"id":N,"<method>":<result>}` with an already serialized result.
pub fn reply_raw(id: u32, method: &str, result: &[u8]) -> Frame {
    let mut out = Vec::with_capacity(result.len() + method.len() + 24);
    out.extend_from_slice(b"{\"id\":");
    out.extend_from_slice(id.to_string().as_bytes());
    out.extend_from_slice(b",\"");
    out.extend_from_slice(method.as_bytes());
    out.extend_from_slice(b"\":");
    out.extend_from_slice(result);
    out.push(b'}');
    Arc::from(out)
}

/// `{"id":N,"<method>":<result>}`.
pub fn reply(id: u32, method: &str, result: &serde_json::Value) -> Frame {
    reply_raw(id, method, result.to_string().as_bytes())
}

/// `{"id":N,"error":{"code":C,"message":M[,"temporary":true]}}`. `detail`, when
/// given, replaces the generic message.
pub fn error_reply(id: u32, code: ErrorCode, detail: Option<&str>) -> Frame {
    let mut error =
        serde_json::json!({"code": code.code, "message": detail.unwrap_or(code.message)});
    if code.temporary {
        error["temporary"] = serde_json::Value::Bool(true);
    }
    let body = serde_json::json!({"id": id, "error": error});
    Arc::from(body.to_string().into_bytes())
}

/// `{"push":{"channel":C,"<kind>":<body>}}`.
pub fn push(channel: &str, kind: &str, body: &serde_json::Value) -> Frame {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(b"{\"push\":{\"channel\":");
    push_json_str(&mut out, channel);
    out.extend_from_slice(b",\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\":");
    out.extend_from_slice(body.to_string().as_bytes());
    out.extend_from_slice(b"}}");
    Arc::from(out)
}

/// The server ping: an empty object.
pub fn ping() -> Frame {
    Arc::from(&b"{}"[..])
}

/// Splits a frame into its JSON objects (newline-delimited; blank lines skipped).
pub fn split_commands(frame: &str) -> impl Iterator<Item = &str> {
    frame.split('\n').map(str::trim).filter(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_commands_per_frame_parse() {
        let frame = "{\"id\":1,\"connect\":{\"token\":\"t\",\"name\":\"js\"}}\n{\"id\":2,\"subscribe\":{\"channel\":\"lobby\",\"recover\":true,\"offset\":5,\"epoch\":\"e\",\"flag\":1}}\n{}";
        let cmds: Vec<Command> = split_commands(frame)
            .map(|c| serde_json::from_str(c).unwrap())
            .collect();
        assert_eq!(cmds.len(), 3);
        assert_eq!(cmds[0].connect.as_ref().unwrap().token, "t");
        let sub = cmds[1].subscribe.as_ref().unwrap();
        assert_eq!(
            (sub.offset, sub.epoch.as_str(), sub.recover),
            (5, "e", true)
        );
        assert!(
            cmds[2].connect.is_none() && cmds[2].id == 0,
            "{{}} is a pong"
        );
    }

    #[test]
    fn raw_data_stays_raw() {
        let cmd: Command =
            serde_json::from_str(r#"{"id":3,"publish":{"channel":"c","data":{"body":"hi"}}}"#)
                .unwrap();
        assert_eq!(cmd.publish.unwrap().data.unwrap().get(), r#"{"body":"hi"}"#);
    }

    #[test]
    fn frames_are_valid_json() {
        let f = publication_push("lo\"bby", br#"{"type":"x"}"#, Some(7));
        let v: serde_json::Value = serde_json::from_slice(&f).unwrap();
        assert_eq!(v["push"]["channel"], "lo\"bby");
        assert_eq!(v["push"]["pub"]["offset"], 7);
        assert_eq!(v["push"]["pub"]["data"]["type"], "x");
        let e: serde_json::Value =
            serde_json::from_slice(&error_reply(4, TOO_MANY_REQUESTS, None)).unwrap();
        assert_eq!(e["error"]["code"], 111);
        assert_eq!(e["error"]["temporary"], true);
        let r: serde_json::Value =
            serde_json::from_slice(&reply(9, "publish", &serde_json::json!({}))).unwrap();
        assert_eq!(r["id"], 9);
        assert!(r["publish"].is_object());
    }

    #[test]
    fn reconnect_advice_follows_the_code() {
        assert!(SHUTDOWN.reconnect());
        assert!(SLOW.reconnect());
        assert!(!INVALID_TOKEN.reconnect());
        assert!(!FORCE_NO_RECONNECT.reconnect());
    }
}
