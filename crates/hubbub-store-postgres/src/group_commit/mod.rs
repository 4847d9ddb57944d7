//! The writer: one task per node that appends messages with group commit.
//!
//! `append_message`, `append_message_with` and `append_messages` send an
//! [`AppendCommand`] over a bounded channel and wait for the answer. The writer takes
//! one command, drains whatever else is already queued (up to `max_batch` messages),
//! and appends them all in one transaction — a few statements over arrays, one commit,
//! one WAL flush for the whole batch (see [`appends`]). Callers are answered only after
//! that COMMIT; if it fails, every caller of the batch gets the error, never a false
//! success.
//!
//! The writer owns one connection of its own, on a thread of its own (on the shared
//! runtime it would wait behind thousands of sender tasks at every statement of its
//! batch, holding its transaction and the channels' row locks that much longer). A lost
//! connection is replaced at the next batch; a batch whose connection broke before its
//! COMMIT was sent is run again on a new connection, one that broke during its COMMIT
//! is answered `Unavailable` (whether it committed cannot be known; a retry with the
//! same idempotency key is safe). The writer never stops on an error: only when the
//! store is closed or dropped.

mod appends;

use crate::driver_error;
use appends::{Outcome, Pending};
use hubbub_core::ids::AppId;
use hubbub_core::model::{Appended, MessageExtras, NewMessage};
use hubbub_core::store::StoreStats;
use hubbub_core::{Error, Result};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Where a command's answer goes.
pub(crate) type Reply<T> = oneshot::Sender<Result<T>>;

/// A message to append (coalesced with its neighbours in the queue).
pub(crate) struct AppendCommand {
    pub(crate) app: AppId,
    pub(crate) new: NewMessage,
    /// Written in the same transaction when the message is inserted.
    pub(crate) extras: Option<Box<MessageExtras>>,
    pub(crate) reply: Reply<Appended>,
}

/// What travels to the writer.
// `Append` is nearly every command; boxing it would cost an allocation per message.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Command {
    Append(AppendCommand),
    /// Messages to append in this order (a batched append): they join the batch as if
    /// queued one after the other.
    AppendBatch(Vec<AppendCommand>),
    /// Finish the current batch, close the connection, then acknowledge.
    Shutdown(oneshot::Sender<()>),
}

/// A copy of an error for another caller of the same failed batch.
pub(crate) fn copy_error(e: &Error) -> Error {
    match e {
        Error::Unavailable(m) => Error::Unavailable(m.clone()),
        other => Error::Internal(format!(
            "the transaction holding this write failed: {other}"
        )),
    }
}

/// Cumulative counters, shared with the store for [`StoreStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    commits: AtomicU64,
    messages_appended: AtomicU64,
    writes: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> StoreStats {
        StoreStats {
            commits: self.commits.load(Ordering::Relaxed),
            messages_appended: self.messages_appended.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
        }
    }

    /// One committed transaction that applied `writes` writes, `messages` of them
    /// appended messages.
    pub(crate) fn committed(&self, writes: u64, messages: u64) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.writes.fetch_add(writes, Ordering::Relaxed);
        self.messages_appended
            .fetch_add(messages, Ordering::Relaxed);
    }
}

/// How the writer is tuned.
#[derive(Debug, Clone)]
pub(crate) struct WriterSettings {
    pub(crate) max_batch: usize,
    /// Longest a batch may take, from BEGIN to the end of COMMIT.
    pub(crate) batch_timeout: Duration,
    /// Times a batch is run again after a deadlock, a serialization failure or an
    /// idempotency key that another node stored first.
    pub(crate) retries: u32,
}

pub(crate) struct Writer {
    conn: Option<PgConnection>,
    connect_options: PgConnectOptions,
    rx: mpsc::Receiver<Command>,
    settings: WriterSettings,
    counters: Arc<Counters>,
}

/// Why a transaction of the writer failed.
pub(crate) enum Failure {
    /// A driver error, kept raw so it can be classified.
    Db(sqlx::Error),
    /// Anything else (a broken invariant).
    Other(Error),
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Failure::Db(e)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Other(e)
    }
}

impl Failure {
    fn into_error(self) -> Error {
        match self {
            Failure::Db(e) => driver_error::map(e),
            Failure::Other(e) => e,
        }
    }

    fn connection_lost(&self) -> bool {
        matches!(self, Failure::Db(e) if driver_error::is_connection_lost(e))
    }

    /// Running the batch again may succeed: another transaction (of another node) won
    /// a lock or stored one of the batch's idempotency keys first.
    fn retryable(&self) -> bool {
        match self {
            Failure::Db(e) => {
                driver_error::is_retryable(e)
                    || matches!(e, sqlx::Error::Database(db)
                        if db.constraint() == Some("messages_idempotency"))
            }
            Failure::Other(_) => false,
        }
    }
}

impl Writer {
    /// A writer that connects on its first batch (on its own runtime).
    pub(crate) fn new(
        connect_options: PgConnectOptions,
        rx: mpsc::Receiver<Command>,
        settings: WriterSettings,
        counters: Arc<Counters>,
    ) -> Self {
        Self {
            conn: None,
            connect_options,
            rx,
            settings: WriterSettings {
                max_batch: settings.max_batch.max(1),
                ..settings
            },
            counters,
        }
    }

    /// Runs until every sender is gone or a `Shutdown` arrives.
    pub(crate) async fn run(mut self) {
        let mut commands = Vec::with_capacity(self.settings.max_batch);
        loop {
            // Waits for one command, then takes whatever else is queued: that is the
            // whole of group commit. Commands arriving during a commit form the next
            // batch.
            if self
                .rx
                .recv_many(&mut commands, self.settings.max_batch)
                .await
                == 0
            {
                break;
            }
            let mut shutdown = None;
            let mut batch = Vec::with_capacity(commands.len());
            for command in commands.drain(..) {
                match command {
                    Command::Append(a) => batch.push(a),
                    Command::AppendBatch(all) => batch.extend(all),
                    Command::Shutdown(ack) => shutdown = Some(ack),
                }
            }
            if !batch.is_empty() {
                self.append(batch).await;
            }
            if let Some(ack) = shutdown {
                self.rx.close();
                let closing = Error::Unavailable("the store is closing".into());
                while let Ok(command) = self.rx.try_recv() {
                    fail_command(command, &closing);
                }
                self.close().await;
                let _ = ack.send(());
                return;
            }
        }
        self.close().await;
    }

    async fn close(&mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = conn.close().await;
        }
    }

    /// The writer's connection, opened anew if the last one was lost.
    async fn connection(&mut self) -> Result<&mut PgConnection> {
        if self.conn.is_none() {
            let conn = self
                .connect_options
                .connect()
                .await
                .map_err(driver_error::map)?;
            tracing::info!("postgres writer connected");
            self.conn = Some(conn);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| Error::internal("the writer's connection vanished"))
    }

    /// Appends one batch: in one transaction, or — if that fails for another reason
    /// than a lost connection or a lost race — one message per transaction, so only
    /// the culprit fails.
    async fn append(&mut self, batch: Vec<AppendCommand>) {
        let mut pending: Vec<Pending> = batch.into_iter().map(Pending::new).collect();
        let error = match self.append_group(&mut pending).await {
            Ok(()) => return Pending::answer_all(pending),
            Err(e) => e,
        };
        if pending.len() == 1 || matches!(error, Error::Unavailable(_)) {
            return Pending::fail_all(pending, &error);
        }
        tracing::warn!(error = %error, messages = pending.len(),
            "group append failed; retrying its messages one by one");
        for p in pending {
            let mut one = vec![p];
            match self.append_group(&mut one).await {
                Ok(()) => Pending::answer_all(one),
                Err(e) => Pending::fail_all(one, &e),
            }
        }
    }

    /// Runs `pending` in one transaction, again after a lost race (up to
    /// `retries` times) or a connection that broke before its COMMIT was sent (once).
    async fn append_group(&mut self, pending: &mut [Pending]) -> Result<()> {
        let mut races = 0;
        let mut reconnected = false;
        loop {
            Pending::reset_all(pending);
            let attempt =
                tokio::time::timeout(self.settings.batch_timeout, self.try_group(pending)).await;
            let (failure, committing) = match attempt {
                Ok(Ok(outcome)) => {
                    self.counters.committed(outcome.inserted, outcome.inserted);
                    return Ok(());
                }
                Ok(Err(failed)) => failed,
                Err(_elapsed) => {
                    // The connection is in an unknown state: never reuse it.
                    self.conn = None;
                    return Err(Error::Unavailable(format!(
                        "database: an append batch took longer than {:?}",
                        self.settings.batch_timeout
                    )));
                }
            };
            if failure.connection_lost() {
                self.conn = None;
                if !committing && !reconnected {
                    tracing::warn!("postgres writer connection lost; reconnecting");
                    reconnected = true;
                    continue;
                }
            } else if let Some(conn) = self.conn.as_mut()
                && sqlx::query("ROLLBACK").execute(&mut *conn).await.is_err()
            {
                self.conn = None;
            }
            if failure.retryable() && races < self.settings.retries {
                races += 1;
                continue;
            }
            return Err(failure.into_error());
        }
    }

    /// One attempt: BEGIN, the appends, COMMIT. On failure, says whether COMMIT had
    /// been sent (then the outcome is unknown).
    async fn try_group(
        &mut self,
        pending: &mut [Pending],
    ) -> std::result::Result<Outcome, (Failure, bool)> {
        let conn = self
            .connection()
            .await
            .map_err(|e| (Failure::Other(e), false))?;
        sqlx::query("BEGIN")
            .execute(&mut *conn)
            .await
            .map_err(|e| (Failure::Db(e), false))?;
        let outcome = appends::plan_and_write(conn, pending)
            .await
            .map_err(|e| (e, false))?;
        sqlx::query("COMMIT")
            .execute(&mut *conn)
            .await
            .map_err(|e| (Failure::Db(e), true))?;
        Ok(outcome)
    }
}

fn fail_command(command: Command, e: &Error) {
    match command {
        Command::Append(a) => {
            let _ = a.reply.send(Err(copy_error(e)));
        }
        Command::AppendBatch(all) => {
            for a in all {
                let _ = a.reply.send(Err(copy_error(e)));
            }
        }
        Command::Shutdown(ack) => {
            let _ = ack.send(());
        }
    }
}
