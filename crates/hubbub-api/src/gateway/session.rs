//! The session brain: one per realtime connection, independent of the transport.
//!
//! A transport adapter feeds it incoming frames ([`Session::handle_frame`]) and calls
//! [`Session::tick`] every ping interval; everything the session sends goes into the
//! connection's [`Outbox`], which the adapter's writer drains. Tests drive a session
//! directly with strings and read its outbox.
//!
//! # Channels
//! A protocol channel is a hubbub channel's `name`; a DIRECT channel (which has no
//! name) is `$direct:<channel id>`. PUBLIC channels admit every connection of the
//! application (anonymous viewers included, when allowed); PRIVATE and DIRECT channels
//! admit their members only (error 103).
//!
//! # Publications
//! `data` is the event's JSON (`{"type": "message.created", "message": {...}}`, ...),
//! serialized once by the engine. `offset` is the message's channel seq for
//! `message.created`; other events carry no offset. Every subscription is recoverable
//! and positioned: the reply carries the channel `epoch` and its newest seq.
//!
//! # Client publish
//! `data` is `{"body": "text", "idempotency_key"?: "...", "properties"?: {...},
//! "group_tag"?: "..."}` (or just a JSON string: the body). It is a send through the
//! engine, exactly like REST; the reply comes after the commit.
//!
//! # Join and leave
//! Pushed to the channel's subscribers when the channel's `join_leave_events` is on
//! (the default; off for big live rooms, where `presence_stats` serves), for users
//! only: anonymous viewers count in presence but are never announced.
//!
//! # RPC methods
//! * `typing` `{"channel", "keys"?}` — a `keystrokes` event (not stored; once per
//!   200 ms per user and channel, error 111 beyond);
//! * `delete_message` `{"message_id"}` — the author or a moderator deletes a message;
//! * `report` `{"message_id", "reason"}` — stores a report (moderators list them
//!   over REST); answers `{"reported": true, "report_id"}`;
//! * `read` `{"channel", "message_id"?}` — marks the channel read up to the message
//!   (default: its newest); answers `{"last_read_seq"}`;
//! * `send_event` `{"channel", "type", "properties"?}` — a custom channel event.

use super::control::{Control, ControlGuard, SessionControl};
use super::limits::{ConnectionGuard, TokenBucket};
use super::protocol::{self as p, Command, Disconnect, ErrorCode};
use super::{FORMAT_CENTRIFUGO_JSON, FORMAT_UNI_SSE, Gateway};
use hubbub_core::engine::{
    Actor, RealtimeIdentity, SendContent, SendMessage, SessionRecorder, TokenError,
    channel_protocol_name, message_created_event,
};
use hubbub_core::fanout::FrameFormat;
use hubbub_core::fanout::{Frame, Outbox, RoomKey, SubId};
use hubbub_core::ids::{ChannelId, MessageId};
use hubbub_core::model::{Channel, ChannelKind, MessageFilter, MessageView};
use hubbub_core::paging::CursorRequest;
use hubbub_core::presence::PresenceEntry;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// The server version reported in the connect reply.
pub const VERSION: &str = concat!("hubbub ", env!("CARGO_PKG_VERSION"));

/// What the adapter does after a call into the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Close the connection with this disconnect.
    Close(Disconnect),
}

/// Why a command failed.
#[derive(Debug)]
pub(crate) enum Fail {
    Error(ErrorCode, Option<String>),
    Disconnect(Disconnect),
}

impl From<ErrorCode> for Fail {
    fn from(code: ErrorCode) -> Self {
        Fail::Error(code, None)
    }
}

impl From<hubbub_core::Error> for Fail {
    fn from(e: hubbub_core::Error) -> Self {
        use hubbub_core::Error as E;
        match e {
            E::Invalid { .. } | E::Conflict(_) => Fail::Error(p::BAD_REQUEST, Some(e.to_string())),
            E::NotFound {
                resource: "channel",
            } => Fail::Error(p::UNKNOWN_CHANNEL, None),
            E::NotFound { .. } => Fail::Error(p::BAD_REQUEST, Some(e.to_string())),
            E::Forbidden(reason) => Fail::Error(p::PERMISSION_DENIED, Some(reason)),
            E::RateLimited { .. } => Fail::Error(p::TOO_MANY_REQUESTS, None),
            E::Unavailable(_) => Fail::Error(p::INTERNAL, Some("temporarily unavailable".into())),
            E::Internal(cause) => {
                tracing::error!(%cause, "realtime command failed");
                Fail::Error(p::INTERNAL, None)
            }
        }
    }
}

struct Subscription {
    key: RoomKey,
    hub_id: SubId,
    join_leave: bool,
    members_only: bool,
}

/// How a session's frames reach its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// The bidirectional protocol: replies, and pushes wrapped as `{"push": ...}`.
    Bidirectional,
    /// Centrifugo's unidirectional SSE: bare pushes, each as a `data:` event; no
    /// commands after connect, so pings need no pong.
    UniSse,
}

impl Wire {
    fn format(self) -> FrameFormat {
        match self {
            Wire::Bidirectional => FORMAT_CENTRIFUGO_JSON,
            Wire::UniSse => FORMAT_UNI_SSE,
        }
    }

    /// A push of `kind` on `channel` in this wire's framing.
    pub fn push(self, channel: Option<&str>, kind: &str, body: &Value) -> Frame {
        match self {
            Wire::Bidirectional => p::push(channel.unwrap_or_default(), kind, body),
            Wire::UniSse => {
                let mut push = serde_json::Map::new();
                if let Some(channel) = channel {
                    push.insert("channel".into(), Value::from(channel));
                }
                push.insert(kind.into(), body.clone());
                Arc::from(format!("data: {}\n\n", Value::Object(push)).into_bytes())
            }
        }
    }

    fn ping(self) -> Frame {
        match self {
            Wire::Bidirectional => p::ping(),
            Wire::UniSse => Arc::from(&b"data: {}\n\n"[..]),
        }
    }
}

/// A subscription registered in the hub (buffering) with its position read, not yet
/// active.
pub(crate) struct Prepared {
    channel: Channel,
    name: String,
    hub_id: SubId,
    top: i64,
    /// The `SubscribeResult` JSON.
    result: Vec<u8>,
}

/// One connection's protocol state.
pub struct Session {
    wire: Wire,
    gw: Arc<Gateway>,
    outbox: Arc<Outbox>,
    guard: ConnectionGuard,
    client: Arc<str>,
    identity: Option<RealtimeIdentity>,
    subs: HashMap<String, Subscription>,
    bucket: TokenBucket,
    awaiting_pong: bool,
    opened: Instant,
    control: Option<ControlGuard>,
    /// The user's session and chat sessions (none for anonymous viewers).
    sessions: Option<SessionRecorder>,
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Session {
    pub fn new(gw: Arc<Gateway>, outbox: Arc<Outbox>, guard: ConnectionGuard) -> Self {
        let bucket = TokenBucket::new(gw.config.commands_per_second, gw.config.command_burst);
        Self {
            wire: Wire::Bidirectional,
            gw,
            outbox,
            guard,
            client: Arc::from(uuid::Uuid::new_v4().to_string()),
            identity: None,
            subs: HashMap::new(),
            bucket,
            awaiting_pong: false,
            opened: Instant::now(),
            control: None,
            sessions: None,
        }
    }

    /// A session of another wire (see [`Wire`]).
    pub fn with_wire(mut self, wire: Wire) -> Self {
        self.wire = wire;
        self
    }

    /// The gateway the session belongs to.
    pub(crate) fn gateway(&self) -> &Gateway {
        &self.gw
    }

    /// The connection's client id.
    pub fn client_id(&self) -> &str {
        &self.client
    }

    pub fn is_connected(&self) -> bool {
        self.identity.is_some()
    }

    fn send(&self, frame: Frame) {
        self.outbox.push(frame);
    }

    /// Handles one incoming frame: one or more newline-separated commands, in order.
    pub async fn handle_frame(&mut self, frame: &str) -> Flow {
        for line in p::split_commands(frame) {
            let command: Command = match serde_json::from_str(line) {
                Ok(c) => c,
                Err(e) => {
                    tracing::debug!(error = %e, "malformed realtime command");
                    return Flow::Close(p::BAD_PROTOCOL);
                }
            };
            if let Flow::Close(d) = self.handle_command(command).await {
                return Flow::Close(d);
            }
            if self.outbox.closing().is_some() {
                break;
            }
        }
        Flow::Continue
    }

    /// Called every ping interval: pings, and closes connections that did not answer
    /// the last ping, never connected, or whose token expired.
    pub fn tick(&mut self) -> Flow {
        let Some(identity) = &self.identity else {
            return if self.opened.elapsed() >= self.gw.config.connect_timeout {
                Flow::Close(p::STALE)
            } else {
                Flow::Continue
            };
        };
        if self.awaiting_pong {
            return Flow::Close(p::NO_PONG);
        }
        if identity.expires_at <= unix_now() {
            return Flow::Close(p::CONNECTION_EXPIRED);
        }
        self.awaiting_pong = self.wire == Wire::Bidirectional;
        self.send(self.wire.ping());
        Flow::Continue
    }

    /// Whether the connect timeout has passed without a connect.
    pub fn connect_overdue(&self) -> bool {
        self.identity.is_none() && self.opened.elapsed() >= self.gw.config.connect_timeout
    }

    async fn handle_command(&mut self, cmd: Command<'_>) -> Flow {
        let id = cmd.id;
        let is_pong = cmd.connect.is_none()
            && cmd.subscribe.is_none()
            && cmd.unsubscribe.is_none()
            && cmd.publish.is_none()
            && cmd.presence.is_none()
            && cmd.presence_stats.is_none()
            && cmd.history.is_none()
            && cmd.ping.is_none()
            && cmd.send.is_none()
            && cmd.rpc.is_none()
            && cmd.refresh.is_none()
            && cmd.sub_refresh.is_none();
        if is_pong {
            if id != 0 {
                self.send(p::error_reply(id, p::METHOD_NOT_FOUND, None));
            }
            self.awaiting_pong = false;
            return Flow::Continue;
        }
        if self.identity.is_none() {
            return match cmd.connect {
                Some(req) => self.connect(id, req).await,
                None => Flow::Close(p::BAD_PROTOCOL),
            };
        }
        if cmd.connect.is_some() {
            return Flow::Close(p::BAD_PROTOCOL);
        }
        if !self.bucket.take(Instant::now()) {
            if id != 0 {
                self.send(p::error_reply(id, p::TOO_MANY_REQUESTS, None));
            }
            return Flow::Continue;
        }
        let result = if let Some(req) = cmd.subscribe {
            self.subscribe(id, req).await
        } else if let Some(req) = cmd.unsubscribe {
            self.unsubscribe(&req.channel);
            Ok(Some(p::reply(id, "unsubscribe", &json!({}))))
        } else if let Some(req) = cmd.publish {
            self.publish(id, req).await
        } else if let Some(req) = cmd.history {
            self.history(id, req).await
        } else if let Some(req) = cmd.presence {
            self.presence(id, &req.channel).await
        } else if let Some(req) = cmd.presence_stats {
            self.presence_stats(id, &req.channel).await
        } else if let Some(req) = cmd.rpc {
            self.rpc(id, req).await
        } else if let Some(req) = cmd.refresh {
            self.refresh(id, &req.token).await
        } else if let Some(req) = cmd.sub_refresh {
            if self.subs.contains_key(&req.channel) {
                Ok(Some(p::reply(id, "sub_refresh", &json!({}))))
            } else {
                Err(Fail::from(p::BAD_REQUEST))
            }
        } else if cmd.ping.is_some() {
            Ok(Some(p::reply(id, "ping", &json!({}))))
        } else {
            // `send`: asynchronous messages to the server are not used by hubbub.
            Ok(None)
        };
        match result {
            Ok(Some(frame)) if id != 0 => self.send(frame),
            Ok(_) => {}
            Err(Fail::Error(code, detail)) => {
                if id != 0 {
                    self.send(p::error_reply(id, code, detail.as_deref()));
                }
            }
            Err(Fail::Disconnect(d)) => return Flow::Close(d),
        }
        Flow::Continue
    }

    async fn connect(&mut self, id: u32, req: p::ConnectRequest<'_>) -> Flow {
        let identity = match self.gw.engine.authenticate_realtime(&req.token).await {
            Ok(identity) => identity,
            Err(e) => return self.refuse_connect(id, e),
        };
        if let Some(user) = &identity.user
            && !self.guard.claim_user(
                identity.app.id,
                user.id,
                self.gw.config.max_connections_per_user,
            )
        {
            return Flow::Close(p::CONNECTION_LIMIT);
        }
        let ttl = (identity.expires_at - unix_now()).max(1);
        self.control = Some(
            self.gw
                .controls
                .register(identity.app.id, identity.user.as_ref().map(|u| u.id)),
        );
        self.identity = Some(identity);
        let agent = match (req.name.as_str(), req.version.as_str()) {
            ("", _) => None,
            (name, "") => Some(name.to_owned()),
            (name, version) => Some(format!("{name}/{version}")),
        };
        self.record_sessions(agent.as_deref());
        self.send(p::reply(
            id,
            "connect",
            &json!({
                "client": &*self.client,
                "version": VERSION,
                "expires": true,
                "ttl": ttl,
                "ping": self.gw.config.ping_interval.as_secs().max(1),
                "pong": true,
            }),
        ));
        Flow::Continue
    }

    fn refuse_connect(&self, id: u32, e: TokenError) -> Flow {
        let error = match e {
            TokenError::Expired => p::TOKEN_EXPIRED,
            TokenError::Invalid(why) => {
                tracing::debug!(why, "realtime connect refused");
                return Flow::Close(p::INVALID_TOKEN);
            }
            TokenError::UnknownUser => {
                self.send(p::error_reply(
                    id,
                    p::UNAUTHORIZED,
                    Some("unknown user (this application does not create guests)"),
                ));
                return Flow::Continue;
            }
            TokenError::AnonymousNotAllowed => {
                self.send(p::error_reply(
                    id,
                    p::PERMISSION_DENIED,
                    Some("anonymous viewers are not allowed"),
                ));
                return Flow::Continue;
            }
            TokenError::Store(e) => {
                tracing::warn!(error = %e, "realtime connect: store failed");
                p::INTERNAL
            }
        };
        self.send(p::error_reply(id, error, None));
        Flow::Continue
    }

    fn identity(&self) -> &RealtimeIdentity {
        self.identity
            .as_ref()
            .expect("connected sessions have an identity")
    }

    fn actor(&self) -> Result<Actor, Fail> {
        self.identity().actor().ok_or(Fail::Error(
            p::PERMISSION_DENIED,
            Some("anonymous viewers are read-only".into()),
        ))
    }

    /// The channel a client names, if it may read it. Only the canonical name finds
    /// a channel.
    async fn readable_channel(&self, name: &str) -> Result<Channel, Fail> {
        readable_channel(&self.gw, self.identity(), name).await
    }

    async fn subscribe(
        &mut self,
        id: u32,
        req: p::SubscribeRequest<'_>,
    ) -> Result<Option<Frame>, Fail> {
        let recover = req
            .recover
            .then_some((req.epoch.as_str(), req.offset as i64));
        let prepared = self
            .prepare_subscription(&req.channel, recover, req.flag)
            .await?;
        let reply = p::reply_raw(id, "subscribe", &prepared.result);
        self.finish_subscription(prepared, Some(reply));
        Ok(None)
    }

    /// Registers a subscriber in the hub (buffering) and reads its position and any
    /// recovery: the first half of a subscribe.
    pub(crate) async fn prepare_subscription(
        &mut self,
        name: &str,
        recover: Option<(&str, i64)>,
        flag: i64,
    ) -> Result<Prepared, Fail> {
        if self.subs.contains_key(name) {
            return Err(p::ALREADY_SUBSCRIBED.into());
        }
        if self.subs.len() >= self.gw.config.max_subscriptions {
            return Err(Fail::Error(
                p::LIMIT_EXCEEDED,
                Some(format!(
                    "at most {} subscriptions per connection",
                    self.gw.config.max_subscriptions
                )),
            ));
        }
        let channel = self.readable_channel(name).await?;
        let key = (channel.app_id, channel.id);
        let hub_id = self.gw.hub.subscribe(
            key,
            name,
            channel.last_seq,
            self.outbox.clone(),
            self.wire.format(),
        );
        self.gw.hub.until_live(key).await;
        let position = match read_position(&self.gw, &channel, recover).await {
            Ok(position) => position,
            Err(e) => {
                self.gw.hub.unsubscribe(key, hub_id);
                return Err(e);
            }
        };
        if recover.is_some() && !position.recovered && flag & p::FLAG_REJECT_UNRECOVERED != 0 {
            self.gw.hub.unsubscribe(key, hub_id);
            return Err(p::UNRECOVERABLE_POSITION.into());
        }
        let mut out = Vec::with_capacity(128 + position.views.len() * 256);
        out.extend_from_slice(b"{\"recoverable\":true,\"positioned\":true,\"epoch\":");
        p::push_json_str(&mut out, &position.epoch);
        out.extend_from_slice(format!(",\"offset\":{}", position.top).as_bytes());
        if recover.is_some() {
            out.extend_from_slice(
                format!(
                    ",\"was_recovering\":true,\"recovered\":{}",
                    position.recovered
                )
                .as_bytes(),
            );
        }
        if !position.views.is_empty() {
            out.extend_from_slice(b",\"publications\":[");
            for (i, view) in position.views.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let event = message_created_event(&position.epoch, view);
                p::push_publication(&mut out, &event.data, Some(view.message.seq));
            }
            out.push(b']');
        }
        out.push(b'}');
        Ok(Prepared {
            channel,
            name: name.to_owned(),
            hub_id,
            top: position.top,
            result: out,
        })
    }

    /// Activates a prepared subscription: queues `first` (its reply, if any), then the
    /// events that arrived meanwhile; joins presence. The second half of a subscribe.
    pub(crate) fn finish_subscription(&mut self, prepared: Prepared, first: Option<Frame>) {
        let Prepared {
            channel,
            name,
            hub_id,
            top,
            ..
        } = prepared;
        let key = (channel.app_id, channel.id);
        if !self.gw.hub.activate(key, hub_id, first, top) {
            return;
        }
        let join_leave = channel.live.join_leave_events;
        self.subs.insert(
            name.clone(),
            Subscription {
                key,
                hub_id,
                join_leave,
                members_only: channel.kind != ChannelKind::Public,
            },
        );
        let entry = PresenceEntry {
            client: self.client.clone(),
            user: Arc::from(self.identity().user_name()),
        };
        // Anonymous viewers count in presence but are not announced: a big live room
        // would otherwise push every viewer's arrival to every other viewer.
        let announce = join_leave && !entry.user.is_empty();
        if self.gw.presence.join(key.0, key.1, entry) && announce {
            self.announce(key, &name, "join", Some(hub_id));
        }
        if let Some(sessions) = &self.sessions {
            sessions.subscribed(key.1);
        }
    }

    /// Starts recording the user's session (the engine writes it in the background).
    fn record_sessions(&mut self, user_agent: Option<&str>) {
        let identity = self.identity();
        if let Some(user) = &identity.user {
            self.sessions = Some(self.gw.engine.record_user_session(
                identity.app.id,
                user.id,
                user_agent,
            ));
        }
    }

    /// Connects a unidirectional session: checks the token, subscribes to the
    /// channels of `subs` (a recover position each, optional) and queues the connect
    /// push `{"connect": {..., "subs": {channel: SubscribeResult}}}` before anything
    /// of those channels.
    pub(crate) async fn connect_uni(
        &mut self,
        token: &str,
        subs: &[(String, Option<(String, i64)>)],
    ) -> Result<(), Fail> {
        let identity = match self.gw.engine.authenticate_realtime(token).await {
            Ok(identity) => identity,
            Err(TokenError::Expired) => return Err(p::TOKEN_EXPIRED.into()),
            Err(TokenError::Store(e)) => return Err(e.into()),
            Err(TokenError::UnknownUser) => return Err(p::UNAUTHORIZED.into()),
            Err(TokenError::AnonymousNotAllowed) => return Err(p::PERMISSION_DENIED.into()),
            Err(TokenError::Invalid(_)) => return Err(Fail::Disconnect(p::INVALID_TOKEN)),
        };
        if let Some(user) = &identity.user
            && !self.guard.claim_user(
                identity.app.id,
                user.id,
                self.gw.config.max_connections_per_user,
            )
        {
            return Err(Fail::Disconnect(p::CONNECTION_LIMIT));
        }
        let ttl = (identity.expires_at - unix_now()).max(1);
        self.control = Some(
            self.gw
                .controls
                .register(identity.app.id, identity.user.as_ref().map(|u| u.id)),
        );
        self.identity = Some(identity);
        self.record_sessions(Some("uni_sse"));
        let mut prepared = Vec::with_capacity(subs.len());
        for (name, recover) in subs {
            let recover = recover.as_ref().map(|(e, o)| (e.as_str(), *o));
            match self.prepare_subscription(name, recover, 0).await {
                Ok(p) => prepared.push(p),
                Err(e) => {
                    for p in prepared {
                        self.gw
                            .hub
                            .unsubscribe((p.channel.app_id, p.channel.id), p.hub_id);
                    }
                    return Err(e);
                }
            }
        }
        let mut results = serde_json::Map::new();
        for p in &prepared {
            let result: Value = serde_json::from_slice(&p.result).unwrap_or_default();
            results.insert(p.name.clone(), result);
        }
        self.send(self.wire.push(
            None,
            "connect",
            &json!({
                "client": &*self.client,
                "version": VERSION,
                "expires": true,
                "ttl": ttl,
                "ping": self.gw.config.ping_interval.as_secs().max(1),
                "subs": results,
            }),
        ));
        for p in prepared {
            self.finish_subscription(p, None);
        }
        Ok(())
    }

    /// Queues a join or leave push for the room's subscribers here (but `except`),
    /// and has the other nodes of a cluster push it to theirs.
    fn announce(&self, key: RoomKey, channel: &str, kind: &str, except: Option<SubId>) {
        let user = self.identity().user_name();
        self.gw
            .engine
            .announce_presence(key.0, key.1, kind == "join", user, &self.client);
        let body = json!({"info": {"user": user, "client": &*self.client}});
        let bidirectional = Wire::Bidirectional.push(Some(channel), kind, &body);
        let uni = Wire::UniSse.push(Some(channel), kind, &body);
        self.gw.hub.broadcast(key, except, |format| match format {
            FORMAT_CENTRIFUGO_JSON => Some(bidirectional.clone()),
            FORMAT_UNI_SSE => Some(uni.clone()),
            _ => None,
        });
    }

    fn unsubscribe(&mut self, channel: &str) {
        if let Some(sub) = self.subs.remove(channel) {
            self.gw.hub.unsubscribe(sub.key, sub.hub_id);
            if let Some(sessions) = &self.sessions {
                sessions.unsubscribed(sub.key.1);
            }
            if self
                .gw
                .presence
                .leave(sub.key.0, sub.key.1, &self.client)
                .is_some_and(|entry| !entry.user.is_empty())
                && sub.join_leave
            {
                self.announce(sub.key, channel, "leave", None);
            }
        }
    }

    /// Server-side unsubscribe: removes the subscription and tells the client with an
    /// unsubscribe push (code 2000: stay unsubscribed; 2500: resubscribe).
    pub fn server_unsubscribe(&mut self, channel: &str, resubscribe: bool) {
        if !self.subs.contains_key(channel) {
            return;
        }
        self.unsubscribe(channel);
        let (code, reason) = if resubscribe {
            p::UNSUBSCRIBE_INSUFFICIENT
        } else {
            p::UNSUBSCRIBE_SERVER
        };
        self.send(self.wire.push(
            Some(channel),
            "unsubscribe",
            &json!({"code": code, "reason": reason}),
        ));
    }

    /// The mailbox the adapter watches for server-side controls (once connected).
    pub fn control(&self) -> Option<Arc<SessionControl>> {
        self.control.as_ref().map(|g| g.control.clone())
    }

    /// Applies the controls posted since the last call: leaves channels the user was
    /// removed from (members-only channels), banned from, or that were deleted.
    pub fn apply_controls(&mut self) {
        let Some(control) = self.control() else {
            return;
        };
        for control in control.take() {
            let (channel, members_only) = match control {
                Control::MemberRemoved(c) => (c, true),
                Control::ChannelDeleted(c) | Control::Banned(c) => (c, false),
            };
            let names: Vec<String> = self
                .subs
                .iter()
                .filter(|(_, s)| s.key.1 == channel && (s.members_only || !members_only))
                .map(|(n, _)| n.clone())
                .collect();
            for name in names {
                self.server_unsubscribe(&name, false);
            }
        }
    }

    /// Channels subscribed now.
    pub fn subscriptions(&self) -> impl Iterator<Item = &str> {
        self.subs.keys().map(String::as_str)
    }

    async fn publish(
        &mut self,
        id: u32,
        req: p::PublishRequest<'_>,
    ) -> Result<Option<Frame>, Fail> {
        let actor = self.actor()?;
        let channel = self
            .gw
            .engine
            .realtime_channel(self.identity(), &req.channel)
            .await?;
        let data: Value = req
            .data
            .map(|d| serde_json::from_str(d.get()))
            .transpose()
            .map_err(|_| p::BAD_REQUEST)?
            .unwrap_or(Value::Null);
        let input = match data {
            Value::String(body) => SendMessage {
                on_behalf_of: None,
                content: SendContent::Text(body),
                group_tag: None,
                properties: Value::Null,
                idempotency_key: None,
            },
            Value::Object(mut map) => {
                let Some(Value::String(body)) = map.remove("body") else {
                    return Err(Fail::Error(
                        p::BAD_REQUEST,
                        Some("publish data needs a string \"body\"".into()),
                    ));
                };
                let text = |v: Option<Value>, field: &str| match v {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s)),
                    Some(_) => Err(Fail::Error(
                        p::BAD_REQUEST,
                        Some(format!("{field} must be a string")),
                    )),
                };
                SendMessage {
                    on_behalf_of: None,
                    content: SendContent::Text(body),
                    idempotency_key: text(map.remove("idempotency_key"), "idempotency_key")?,
                    group_tag: text(map.remove("group_tag"), "group_tag")?,
                    properties: map.remove("properties").unwrap_or(Value::Null),
                }
            }
            _ => {
                return Err(Fail::Error(
                    p::BAD_REQUEST,
                    Some("publish data must be {\"body\": \"...\"} or a string".into()),
                ));
            }
        };
        self.gw
            .engine
            .send_message(&actor, channel.id, input)
            .await?;
        Ok(Some(p::reply(id, "publish", &json!({}))))
    }

    async fn history(&mut self, id: u32, req: p::HistoryRequest) -> Result<Option<Frame>, Fail> {
        let channel = self.readable_channel(&req.channel).await?;
        let max = self.gw.config.history_max_limit;
        let limit = if req.limit < 0 {
            max
        } else {
            (req.limit as u32).min(max)
        };
        if let Some(since) = &req.since
            && !since.epoch.is_empty()
            && since.epoch != channel.epoch
        {
            return Err(p::UNRECOVERABLE_POSITION.into());
        }
        let views = read_history(
            &self.gw,
            &channel,
            limit,
            req.since.map(|s| s.offset as i64),
            req.reverse,
        )
        .await?;
        let mut out = Vec::with_capacity(64 + views.len() * 256);
        out.extend_from_slice(b"{\"publications\":[");
        for (i, view) in views.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let event = message_created_event(&channel.epoch, view);
            p::push_publication(&mut out, &event.data, Some(view.message.seq));
        }
        out.extend_from_slice(b"],\"epoch\":");
        p::push_json_str(&mut out, &channel.epoch);
        out.extend_from_slice(format!(",\"offset\":{}}}", channel.last_seq).as_bytes());
        Ok(Some(p::reply_raw(id, "history", &out)))
    }

    async fn presence(&mut self, id: u32, name: &str) -> Result<Option<Frame>, Fail> {
        let channel = self.readable_channel(name).await?;
        let mut presence = serde_json::Map::new();
        for entry in self.gw.presence.list(channel.app_id, channel.id) {
            presence.insert(
                entry.client.to_string(),
                json!({"user": &*entry.user, "client": &*entry.client}),
            );
        }
        Ok(Some(p::reply(
            id,
            "presence",
            &json!({"presence": presence}),
        )))
    }

    async fn presence_stats(&mut self, id: u32, name: &str) -> Result<Option<Frame>, Fail> {
        let channel = self.readable_channel(name).await?;
        let stats = self.gw.presence.stats(channel.app_id, channel.id);
        Ok(Some(p::reply(
            id,
            "presence_stats",
            &json!({"num_clients": stats.num_clients, "num_users": stats.num_users}),
        )))
    }

    async fn rpc(&mut self, id: u32, req: p::RpcRequest<'_>) -> Result<Option<Frame>, Fail> {
        let actor = self.actor()?;
        let data: Value = req
            .data
            .map(|d| serde_json::from_str(d.get()))
            .transpose()
            .map_err(|_| p::BAD_REQUEST)?
            .unwrap_or(Value::Null);
        let str_field = |name: &str| data.get(name).and_then(Value::as_str).map(str::to_owned);
        let missing =
            |name: &str| Fail::Error(p::BAD_REQUEST, Some(format!("rpc data needs \"{name}\"")));
        let engine = &self.gw.engine;
        let result = match req.method.as_str() {
            "typing" => {
                let name = str_field("channel").ok_or_else(|| missing("channel"))?;
                let channel = self.readable_channel(&name).await?;
                engine
                    .send_keystrokes(&actor, channel.id, str_field("keys"))
                    .await?;
                json!({})
            }
            "delete_message" => {
                let message = data
                    .get("message_id")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| missing("message_id"))?;
                let deleted = engine.delete_message(&actor, MessageId(message)).await?;
                json!({"deleted": deleted.message.id})
            }
            "report" => {
                let message = data
                    .get("message_id")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| missing("message_id"))?;
                let reason = str_field("reason").ok_or_else(|| missing("reason"))?;
                let (report, _) = engine
                    .report_message(&actor, MessageId(message), None, &reason)
                    .await?;
                json!({"reported": true, "report_id": report.id})
            }
            "read" => {
                let name = str_field("channel").ok_or_else(|| missing("channel"))?;
                let channel = self.readable_channel(&name).await?;
                let message = match data.get("message_id") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(MessageId(v.as_i64().ok_or_else(|| {
                        Fail::Error(p::BAD_REQUEST, Some("message_id must be an integer".into()))
                    })?)),
                };
                let mark = engine.mark_read(&actor, channel.id, None, message).await?;
                json!({"last_read_seq": mark.last_read_seq})
            }
            "send_event" => {
                let name = str_field("channel").ok_or_else(|| missing("channel"))?;
                let kind = str_field("type").ok_or_else(|| missing("type"))?;
                let channel = self.readable_channel(&name).await?;
                let properties = data.get("properties").cloned().unwrap_or(Value::Null);
                engine
                    .send_channel_event(&actor, channel.id, &kind, properties)
                    .await?;
                json!({})
            }
            _ => return Err(p::METHOD_NOT_FOUND.into()),
        };
        Ok(Some(p::reply(id, "rpc", &json!({"data": result}))))
    }

    async fn refresh(&mut self, id: u32, token: &str) -> Result<Option<Frame>, Fail> {
        let fresh = match self.gw.engine.authenticate_realtime(token).await {
            Ok(fresh) => fresh,
            Err(TokenError::Expired) => return Err(p::EXPIRED.into()),
            Err(TokenError::Store(e)) => return Err(e.into()),
            Err(_) => return Err(Fail::Disconnect(p::INVALID_TOKEN)),
        };
        let current = self.identity();
        if fresh.app.id != current.app.id || fresh.user_name() != current.user_name() {
            return Err(Fail::Disconnect(p::INVALID_TOKEN));
        }
        let ttl = (fresh.expires_at - unix_now()).max(1);
        if let Some(identity) = self.identity.as_mut() {
            identity.expires_at = fresh.expires_at;
        }
        Ok(Some(p::reply(
            id,
            "refresh",
            &json!({"client": &*self.client, "version": VERSION, "expires": true, "ttl": ttl}),
        )))
    }

    /// Leaves every channel. Call once when the connection ends.
    pub fn close(&mut self) {
        let channels: Vec<String> = self.subs.keys().cloned().collect();
        for channel in channels {
            self.unsubscribe(&channel);
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.close();
    }
}

/// The channel a client names, if the connection may read it.
pub(crate) async fn readable_channel(
    gw: &Gateway,
    identity: &RealtimeIdentity,
    name: &str,
) -> Result<Channel, Fail> {
    let channel = gw.engine.realtime_channel(identity, name).await?;
    if channel_protocol_name(&channel) != name {
        return Err(p::UNKNOWN_CHANNEL.into());
    }
    gw.engine.require_can_read(identity, &channel).await?;
    Ok(channel)
}

/// Where a new subscriber starts, and what it recovers.
pub(crate) struct Position {
    pub epoch: String,
    /// The newest seq the subscriber has (live events at or below are skipped).
    pub top: i64,
    pub recovered: bool,
    pub views: Vec<MessageView>,
}

/// Reads a subscriber's starting position after it registered in the hub. With
/// `after = Some((epoch, offset))` it also recovers the messages after `offset`, if
/// the epoch matches and there are at most `recovery_max_publications` of them.
pub(crate) async fn read_position(
    gw: &Gateway,
    channel: &Channel,
    after: Option<(&str, i64)>,
) -> Result<Position, Fail> {
    let store = gw.engine.store();
    let fresh = store
        .get_channel(channel.app_id, channel.id)
        .await?
        .ok_or(Fail::Error(p::UNKNOWN_CHANNEL, None))?;
    let mut position = Position {
        top: fresh.last_seq,
        epoch: fresh.epoch,
        recovered: false,
        views: Vec::new(),
    };
    let Some((epoch, offset)) = after else {
        return Ok(position);
    };
    if epoch != position.epoch || offset < 0 {
        return Ok(position);
    }
    let max = gw.config.recovery_max_publications;
    if offset >= position.top {
        position.recovered = true;
        return Ok(position);
    }
    if position.top - offset > i64::from(max) {
        return Ok(position);
    }
    let views = store
        .messages_after_seq(channel.app_id, channel.id, offset, max + 1)
        .await?;
    if views.len() > max as usize {
        return Ok(position);
    }
    if let Some(last) = views.last() {
        position.top = position.top.max(last.message.seq);
    }
    position.recovered = true;
    position.views = views;
    Ok(position)
}

/// History: oldest first from the start (or after `since`), or newest first with
/// `reverse` (before `since` when given). At most `limit` messages.
pub(crate) async fn read_history(
    gw: &Gateway,
    channel: &Channel,
    limit: u32,
    since: Option<i64>,
    reverse: bool,
) -> Result<Vec<MessageView>, Fail> {
    let store = gw.engine.store();
    let (app, id): (_, ChannelId) = (channel.app_id, channel.id);
    if limit == 0 {
        return Ok(Vec::new());
    }
    Ok(match (since, reverse) {
        (None, false) => store.messages_after_seq(app, id, 0, limit).await?,
        (Some(offset), false) => {
            store
                .messages_after_seq(app, id, offset.max(0), limit)
                .await?
        }
        (None, true) => {
            let filter = MessageFilter {
                channel_id: Some(id),
                ..Default::default()
            };
            let cursor = CursorRequest {
                size: limit,
                ..Default::default()
            };
            store.list_messages(app, &filter, &cursor).await?.items
        }
        (Some(offset), true) => {
            // Newest first below `offset`: read windows of seqs backwards (deleted
            // messages leave holes, so a window may come back short).
            let mut newest_first = Vec::new();
            let mut below = offset;
            for _ in 0..16 {
                if below <= 1 || newest_first.len() >= limit as usize {
                    break;
                }
                let want = limit as i64 - newest_first.len() as i64;
                let from = (below - 1 - want).max(0);
                let window = store
                    .messages_after_seq(app, id, from, (below - 1 - from) as u32)
                    .await?;
                newest_first.extend(window.into_iter().filter(|v| v.message.seq < below).rev());
                below = from + 1;
            }
            newest_first.truncate(limit as usize);
            newest_first
        }
    })
}
