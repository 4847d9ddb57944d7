//! # hubbub-bus-nats
//!
//! What lets several stateless hubbub nodes serve one cluster: the [`Bus`] on NATS
//! core subjects ([`NatsBus`]) and presence and online users on a NATS KV bucket
//! ([`ClusterPresence`]). It depends on `hubbub-core` and `async-nats` only; the
//! binary picks it when given a NATS URL, otherwise a node runs on the in-process bus.
//!
//! ## Subjects
//! Every committed event of a channel is published **once**, by the node whose engine
//! committed it, on
//!
//! ```text
//! <prefix>.<app id>.<channel id>          e.g. hubbub.3.1187
//! ```
//!
//! as a small binary header and the event's JSON exactly as the engine serialized it
//! ([`codec`]). A node subscribes to a channel's subject only while its fan-out hub
//! has subscribers of that channel (the hub calls [`Bus::interest`] when a room
//! appears and when it goes away), and to nothing else. NATS delivers one copy per
//! subscribed connection, and each node has one connection and at most one
//! subscription per subject, so **an event crosses the cluster as one message to
//! NATS plus one message to each node that watches the channel**, never one per
//! subscriber, and nothing reaches nodes that do not care. The node's hub then
//! encodes it once per wire format for all its local subscribers.
//!
//! The connection is made with `no_echo`: the publishing node hands its own events to
//! its consumers directly ([`Bus::publish`] delivers locally first), and the broker
//! does not send them back, so nothing is delivered twice.
//!
//! Join and leave pushes travel on the same subjects ([`Bus::announce`]: to the other
//! nodes only, since the announcing node pushes to its own subscribers but the one
//! who joined). They are not stored, like typing.
//!
//! A node's first subscriber of a channel waits ([`Bus::until_live`], at most two
//! seconds) until the node's subscription is live at the server before it reads its
//! position, so it misses nothing from other nodes, not even what the store cannot
//! replay (typing, joins, edits). "Live" means the server has processed the `SUB`:
//! the client's `flush` only empties the socket, so the bus makes a round trip (a
//! request nobody answers, which the server itself answers "no responders").
//!
//! ## Which local consumer needs which events
//! * The fan-out hub (WebSocket, SSE, uni-SSE subscribers) needs a channel's events
//!   while it has subscribers there: exactly the interest set.
//! * The gateway's control dispatcher (server-side unsubscribe on `member.removed` and
//!   `channel.deleted`) only acts on sessions subscribed to that channel here, so
//!   the same interest set is enough.
//! * Nothing else consumes events today. A future consumer that needs every event of
//!   the cluster once (webhooks, an indexer) should not make every node receive
//!   everything: it should subscribe to `<prefix>.>` with a NATS queue group, so one
//!   node handles each event.
//!
//! Per-channel subjects keep the interest exact. The cost is one subscription per
//! watched channel per node, which the NATS server indexes cheaply (hundreds of
//! thousands are routine); a deployment with far more channels than that could
//! shard (`<prefix>.<app>.<channel mod N>`) at the price of nodes receiving
//! neighbours' events.
//!
//! ## Losses and order
//! The bus is a notification path; the store is the truth. Events of one channel may
//! arrive out of order (several nodes commit into it) or not at all (a full queue, a
//! disconnection): the hub delivers `message.created` in seq order and fills gaps
//! from the store. When a new subscription becomes live, and after every reconnect,
//! the bus sends the room an [`EventType::Resync`](hubbub_core::events::EventType)
//! and the room re-reads the store, so a message committed elsewhere while this node
//! was not listening still arrives, in order, exactly once. Events without a seq
//! (edits, typing, custom events, joins) lost in an outage are not replayed.
//!
//! ## Outages
//! [`Bus::is_ready`] is false while the connection is down, `/readyz` says so, and
//! the engine refuses writes that announce an event (503 + `Retry-After` on the
//! Platform API) rather than commit what other nodes would not hear of. The client
//! reconnects by itself (no limit) and re-subscribes; presence re-publishes.
//!
//! [`Bus`]: hubbub_core::bus::Bus
//! [`Bus::interest`]: hubbub_core::bus::Bus::interest
//! [`Bus::publish`]: hubbub_core::bus::Bus::publish
//! [`Bus::is_ready`]: hubbub_core::bus::Bus::is_ready
//! [`Bus::announce`]: hubbub_core::bus::Bus::announce
//! [`Bus::until_live`]: hubbub_core::bus::Bus::until_live

mod bus;
pub mod codec;
mod presence;

pub use bus::{BusCounters, ConnectError, NatsBus, NatsConfig, channel_subject};
pub use presence::{ClusterPresence, MAX_ENTRIES_PER_VALUE, MAX_ONLINE_PER_VALUE, PresenceConfig};
