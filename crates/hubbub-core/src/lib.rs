//! # hubbub-core
//!
//! The chat engine of hubbub, independent of any transport or database.
//!
//! * [`model`] — the domain: applications, users, channels (with their live-room
//!   attributes), messages.
//! * [`names`] — validated newtypes for everything a client can send (names, bodies,
//!   property maps). Invalid values never get past the edge.
//! * [`store`] — the [`Store`](store::Store) trait every storage backend implements.
//! * [`bus`] — the [`Bus`](bus::Bus) trait that carries committed events between nodes,
//!   and the in-process implementation used by a single node.
//! * [`engine`] — the [`Engine`](engine::Engine): the **only** write path. It validates,
//!   authorises, persists through the store and publishes through the bus after commit.
//! * [`fanout`] — the [`Hub`](fanout::Hub) that routes committed events to local
//!   subscribers (one encoded frame shared by all) through bounded per-connection
//!   [`Outbox`](fanout::Outbox)es.
//! * [`presence`] — who is in a channel ([`Presence`](presence::Presence) trait, in-memory
//!   implementation).
//! * [`error`] — the one error enum every dialect maps into its own error format.
//!
//! This crate may depend on serde, tokio, chrono and small pure-Rust helpers. It must
//! never depend on axum, sqlx or a broker client: the crate graph enforces that.

pub mod bus;
pub mod credentials;
pub mod engine;
pub mod error;
pub mod events;
pub mod fanout;
pub mod ids;
pub mod limits;
pub mod merge_patch;
pub mod model;
pub mod names;
pub mod paging;
pub mod presence;
pub mod store;

pub use engine::Engine;
pub use error::{Error, Result};
