//! # hubbub-store-sqlite
//!
//! hubbub's [`Store`](hubbub_core::store::Store) on an SQLite file, through sqlx: the
//! default storage of a single node.
//!
//! * **Reads** go to a small pool of read-only connections (`reader_pool`). In WAL
//!   mode they never wait for the writer and always see the last committed state.
//!   Channels and users — read on every message send — are also cached
//!   (`read_cache`), kept exact by the writer after each commit.
//! * **Writes** — every mutating method — go as typed commands to one writer task that
//!   owns the only read-write connection and commits them in groups
//!   (`group_commit`): one fsync per batch, callers answered after the commit.
//! * The schema lives in `migrations/`, applied on [`SqliteStore::open`].
//! * Timestamps are INTEGER microseconds (UTC); properties, settings, live-room
//!   attributes and file refs are JSON TEXT. Every table carries `app_id` and every
//!   query filters by it.
//! * A deleted user's messages keep their `user_id`, which no longer resolves
//!   ([`MessageView::user`](hubbub_core::model::MessageView) is `None`), so they still
//!   read as user messages, not system messages. Deleting a message deletes its row,
//!   idempotency key included.
//!
//! This crate may depend on `hubbub-core`, sqlx (SQLite), tokio, serde and tracing —
//! never on the HTTP edge or another backend. It is tested by the shared contract suite
//! in `hubbub-store-tests` (`tests/contract.rs`).

#[macro_use]
mod columns;

mod driver_error;
mod group_commit;
mod options;
mod queries;
mod read_cache;
mod reader_pool;
mod rows;
mod store;
mod write_ops;

pub use options::{Durability, SqliteOptions};
pub use store::SqliteStore;
