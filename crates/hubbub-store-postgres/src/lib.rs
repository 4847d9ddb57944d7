//! # hubbub-store-postgres
//!
//! hubbub's [`Store`](hubbub_core::store::Store) on PostgreSQL, through sqlx: the
//! storage of a scale-out deployment, where several stateless nodes share one
//! database. It passes the same contract suite (`hubbub-store-tests`) as the SQLite
//! store and keeps the same semantics: int64 ids, per-channel `seq` and `epoch`,
//! idempotency keys per application and sender forever, error mapping, paging.
//!
//! * **Reads** run on a pool of connections (`PgPool`). A page and its total are read
//!   in one `REPEATABLE READ, READ ONLY` transaction, so they agree while writers
//!   commit.
//! * **Appends** (`append_message`, `append_message_with`, `append_messages`) go to one
//!   writer task per node (`group_commit`), with group commit: the appends queued
//!   while a transaction runs share the next one — a fixed handful of statements over
//!   arrays (`unnest`), mentions and notifications included, one COMMIT — and every
//!   caller is answered after that COMMIT.
//! * **Other writes** run each in a transaction of their own on the pool
//!   (`write_ops`), run again after a deadlock or a serialization failure.
//! * The schema lives in `migrations/`, applied on [`PostgresStore::open`] under
//!   sqlx's advisory lock (nodes starting together take turns).
//!
//! ## Seqs with several nodes writing one channel
//!
//! A channel's `seq` is assigned inside the appending transaction, under the channel
//! row's lock:
//!
//! 1. `SELECT … FROM channels WHERE id = ANY($1) ORDER BY id FOR UPDATE` locks the
//!    batch's channels in id order, so two nodes' batches queue on a shared channel
//!    instead of deadlocking;
//! 2. message ids are taken from the sequence only then, under those locks, so within
//!    a channel ids grow with seqs on every node (history is paged by id cursors);
//! 3. `UPDATE channels SET last_seq = last_seq + n … RETURNING last_seq` hands the
//!    batch's `n` messages of that channel `last_seq - n + 1 ..= last_seq`.
//!
//! The row lock is held until COMMIT, so the next writer of the channel — on any node
//! — reads the committed `last_seq`: seqs have no duplicate and no gap, they commit in
//! order, and no reader sees seq N+1 before N. An idempotency key stored by another
//! node meanwhile shows up as a unique violation; the batch is then run again and finds
//! the original.
//!
//! ## Failures
//!
//! Driver errors are mapped at the boundary (`driver_error`): a unique violation is
//! `Conflict`, a missing row `NotFound`, and a server that cannot be reached or cannot
//! serve now (connection errors, shutdown, too many connections, a read-only standby)
//! is `Unavailable`, never `Internal`. Nothing needs restarting when PostgreSQL comes
//! back: the pool tests connections before handing them out and opens new ones, and
//! the writer replaces its connection at its next batch (it only stops when the store
//! is closed or dropped).
//!
//! Timestamps are TIMESTAMPTZ; properties, settings, live-room attributes and file
//! refs are JSON kept as written. Every table carries `app_id` and every query filters
//! by it.
//!
//! This crate may depend on `hubbub-core`, sqlx (PostgreSQL), tokio, serde and tracing
//! — never on the HTTP edge or another backend. It is tested by the shared contract
//! suite in `tests/contract.rs`.

#[macro_use]
mod columns;

mod driver_error;
mod group_commit;
mod options;
mod queries;
mod rows;
mod store;
mod write_ops;

#[doc(hidden)]
pub mod test_database;

pub use options::{PostgresOptions, is_postgres_url};
pub use store::PostgresStore;
