//! The writer: one task owning the only read-write connection, with group commit.
//!
//! Every mutating [`Store`](hubbub_core::store::Store) method sends a typed
//! [`Command`] over a bounded channel and waits for its answer. The writer takes one
//! command, drains whatever else is already queued (up to `max_batch`), and runs them
//! all in one `BEGIN IMMEDIATE … COMMIT` — one fsync for the whole batch. Callers are
//! answered only after that COMMIT; if it fails, every caller of the batch gets the
//! error, never a false success.
//!
//! Inside the transaction each command is isolated: an ordinary write runs in its own
//! SAVEPOINT, so one that fails (a name conflict, a missing row) is rolled back alone.
//! The batch's appends run first, coalesced into multi-row INSERTs (see [`appends`]);
//! if that group fails as a whole, the transaction is restarted and its messages are
//! retried one by one, each in a SAVEPOINT.
//!
//! Being the only writer, the task may cache what only writes change: each channel's
//! `last_seq`, the next message id, which users exist. The caches are dropped whenever
//! what they describe may have been rolled back.

mod appends;
pub(crate) mod chat;
mod jobs;
pub(crate) mod moderation;

use crate::driver_error::{self, is_connection_lost};
use crate::queries::channels::Role;
use crate::read_cache::{Effect, ReadCache};
use crate::write_ops;
use appends::AppendState;
pub(crate) use chat::ChatOp;
use hubbub_core::ids::{AppId, ChannelId, MessageId, UserId};
use hubbub_core::model::{
    AppSettings, Appended, Application, Channel, ChannelChanges, MessageChanges, MessageView,
    NewApplication, NewChannel, NewMessage, NewUser, Timestamp, User, UserChanges,
};
use hubbub_core::names::SecretName;
use hubbub_core::store::StoreStats;
use hubbub_core::{Error, Result};
pub(crate) use jobs::JobOp;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{mpsc, oneshot};

/// Where a command's answer goes.
pub(crate) type Reply<T> = oneshot::Sender<Result<T>>;

/// An answer computed inside the transaction, delivered once its fate is known: with
/// `None` after a successful COMMIT, with the error when the transaction failed.
type Deferred = Box<dyn FnOnce(Option<&Error>) + Send>;

/// A message to append (coalesced with its neighbours in the queue).
pub(crate) struct AppendCommand {
    pub(crate) app: AppId,
    pub(crate) new: NewMessage,
    /// Written in the same transaction when the message is inserted.
    pub(crate) extras: Option<Box<hubbub_core::model::MessageExtras>>,
    pub(crate) reply: Reply<Appended>,
}

/// Every other write, one variant per mutating `Store` method, in trait order.
pub(crate) enum Op {
    CreateApplication {
        new: NewApplication,
        reply: Reply<Application>,
    },
    UpdateAppSettings {
        app: AppId,
        settings: AppSettings,
        reply: Reply<Application>,
    },
    InsertAccessToken {
        app: AppId,
        token_hash: String,
        expires_at: Timestamp,
        reply: Reply<()>,
    },
    PurgeExpiredTokens {
        now: Timestamp,
        reply: Reply<u64>,
    },
    CreateUser {
        app: AppId,
        new: NewUser,
        reply: Reply<User>,
    },
    UpdateUser {
        app: AppId,
        user: UserId,
        changes: UserChanges,
        reply: Reply<User>,
    },
    DeleteUser {
        app: AppId,
        user: UserId,
        reply: Reply<()>,
    },
    SetUserSecret {
        app: AppId,
        user: UserId,
        name: SecretName,
        value: serde_json::Value,
        reply: Reply<()>,
    },
    DeleteUserSecret {
        app: AppId,
        user: UserId,
        name: SecretName,
        reply: Reply<()>,
    },
    CreateChannel {
        app: AppId,
        new: NewChannel,
        reply: Reply<Channel>,
    },
    UpdateChannel {
        app: AppId,
        channel: ChannelId,
        changes: ChannelChanges,
        reply: Reply<Channel>,
    },
    DeleteChannel {
        app: AppId,
        channel: ChannelId,
        reply: Reply<()>,
    },
    AddRole {
        role: Role,
        app: AppId,
        channel: ChannelId,
        user: UserId,
        reply: Reply<()>,
    },
    RemoveRole {
        role: Role,
        app: AppId,
        channel: ChannelId,
        user: UserId,
        reply: Reply<()>,
    },
    UpdateMessage {
        app: AppId,
        message: MessageId,
        changes: MessageChanges,
        reply: Reply<MessageView>,
    },
    DeleteMessage {
        app: AppId,
        message: MessageId,
        reply: Reply<MessageView>,
    },
    DeleteAllMessages {
        app: AppId,
        reply: Reply<u64>,
    },
    MarkRead {
        app: AppId,
        channel: ChannelId,
        user: UserId,
        seq: i64,
        reply: Reply<()>,
    },
    /// Jobs and import keys (see [`jobs`]).
    Jobs(JobOp),
    /// Invites, reports and sessions (see [`chat`]).
    Chat(ChatOp),
    /// Restrictions, robots, dialect credentials and tokens, passwords (see
    /// [`moderation`]).
    Moderation(moderation::ModerationOp),
}

impl Op {
    /// Answers the caller with (a copy of) `e` without running the operation.
    fn fail(self, e: &Error) {
        match self {
            Op::CreateApplication { reply, .. } => fail(reply, e),
            Op::UpdateAppSettings { reply, .. } => fail(reply, e),
            Op::InsertAccessToken { reply, .. } => fail(reply, e),
            Op::PurgeExpiredTokens { reply, .. } => fail(reply, e),
            Op::CreateUser { reply, .. } => fail(reply, e),
            Op::UpdateUser { reply, .. } => fail(reply, e),
            Op::DeleteUser { reply, .. } => fail(reply, e),
            Op::SetUserSecret { reply, .. } => fail(reply, e),
            Op::DeleteUserSecret { reply, .. } => fail(reply, e),
            Op::CreateChannel { reply, .. } => fail(reply, e),
            Op::UpdateChannel { reply, .. } => fail(reply, e),
            Op::DeleteChannel { reply, .. } => fail(reply, e),
            Op::AddRole { reply, .. } => fail(reply, e),
            Op::RemoveRole { reply, .. } => fail(reply, e),
            Op::UpdateMessage { reply, .. } => fail(reply, e),
            Op::DeleteMessage { reply, .. } => fail(reply, e),
            Op::DeleteAllMessages { reply, .. } => fail(reply, e),
            Op::MarkRead { reply, .. } => fail(reply, e),
            Op::Jobs(op) => op.fail(e),
            Op::Chat(op) => op.fail(e),
            Op::Moderation(op) => op.fail(e),
        }
    }
}

/// What travels to the writer.
pub(crate) enum Command {
    Append(AppendCommand),
    /// Messages to append in this order (a batched append): they join the batch's
    /// appends as if queued one after the other.
    AppendBatch(Vec<AppendCommand>),
    Op(Op),
    /// Finish the current batch, close the connection, then acknowledge.
    Shutdown(oneshot::Sender<()>),
}

impl Command {
    fn fail(self, e: &Error) {
        match self {
            Command::Append(a) => fail(a.reply, e),
            Command::AppendBatch(all) => all.into_iter().for_each(|a| fail(a.reply, e)),
            Command::Op(op) => op.fail(e),
            Command::Shutdown(_) => {}
        }
    }
}

/// A copy of an error for another caller of the same failed batch.
fn copy_error(e: &Error) -> Error {
    match e {
        Error::Unavailable(m) => Error::Unavailable(m.clone()),
        other => Error::Internal(format!(
            "the transaction holding this write failed: {other}"
        )),
    }
}

fn fail<T>(reply: Reply<T>, e: &Error) {
    // The caller may have gone away (its request was cancelled): nothing to do.
    let _ = reply.send(Err(copy_error(e)));
}

/// Wraps an answer for delivery after the transaction's outcome is known. A failed
/// operation keeps its own error; a successful one turns into the commit's error if
/// the commit fails.
fn settle<T: Send + 'static>(reply: Reply<T>, result: Result<T>) -> (Deferred, bool) {
    let ok = result.is_ok();
    let deferred: Deferred = Box::new(move |commit_error: Option<&Error>| {
        let answer = match (commit_error, result) {
            (Some(e), Ok(_)) => Err(copy_error(e)),
            (_, result) => result,
        };
        let _ = reply.send(answer);
    });
    (deferred, ok)
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
}

/// What one batch applied, added to the counters when it commits.
#[derive(Debug, Default)]
struct BatchCounts {
    messages_appended: u64,
    writes: u64,
}

pub(crate) struct Writer {
    conn: SqliteConnection,
    connect_options: SqliteConnectOptions,
    rx: mpsc::Receiver<Command>,
    max_batch: usize,
    appends: AppendState,
    counters: Arc<Counters>,
    /// Rows cached for readers, brought up to date after each commit.
    cache: Arc<ReadCache>,
    /// What the current batch changed in cached rows (applied only if it commits).
    effects: Vec<Effect>,
    /// Set when the transaction can no longer be trusted (a SAVEPOINT could not be
    /// released or rolled back): the rest of the batch fails and it is rolled back.
    poisoned: Option<Error>,
    /// `PRAGMA data_version` at the last batch: it changes only when another
    /// connection — another process, such as `hubbub import` — committed.
    data_version: Option<i64>,
}

impl Writer {
    pub(crate) fn new(
        conn: SqliteConnection,
        connect_options: SqliteConnectOptions,
        rx: mpsc::Receiver<Command>,
        max_batch: usize,
        counters: Arc<Counters>,
        cache: Arc<ReadCache>,
    ) -> Self {
        Self {
            conn,
            connect_options,
            rx,
            max_batch: max_batch.max(1),
            appends: AppendState::new(),
            counters,
            cache,
            effects: Vec::new(),
            poisoned: None,
            data_version: None,
        }
    }

    /// Runs until every sender is gone or a `Shutdown` arrives.
    pub(crate) async fn run(mut self) {
        let mut batch = Vec::with_capacity(self.max_batch);
        loop {
            // Waits for one command, then takes whatever else is queued: that is the
            // whole of group commit. Commands arriving during a commit form the next batch.
            if self.rx.recv_many(&mut batch, self.max_batch).await == 0 {
                break;
            }
            if let Some(ack) = self.run_batch(std::mem::take(&mut batch)).await {
                self.rx.close();
                let closing = Error::Unavailable("the store is closing".into());
                while let Ok(cmd) = self.rx.try_recv() {
                    cmd.fail(&closing);
                }
                let _ = self.conn.close().await;
                let _ = ack.send(());
                return;
            }
        }
        let _ = self.conn.close().await;
    }

    async fn exec(&mut self, sql: &'static str) -> Result<()> {
        self.exec_raw(sql).await.map_err(driver_error::map)
    }

    async fn exec_raw(&mut self, sql: &'static str) -> std::result::Result<(), sqlx::Error> {
        sqlx::query(sql).execute(&mut self.conn).await.map(|_| ())
    }

    async fn reconnect(&mut self) -> Result<()> {
        self.appends.forget();
        self.cache.clear();
        self.data_version = None;
        self.conn = self
            .connect_options
            .connect()
            .await
            .map_err(driver_error::map)?;
        Ok(())
    }

    /// Opens the batch's transaction, reopening a lost connection once. If another
    /// process wrote since the last batch, what the writer cached is dropped first.
    async fn begin(&mut self) -> Result<()> {
        self.begin_transaction().await?;
        let version: std::result::Result<i64, sqlx::Error> =
            sqlx::query_scalar("PRAGMA data_version")
                .fetch_one(&mut self.conn)
                .await;
        match version {
            Ok(v) => {
                if self.data_version.is_some_and(|seen| seen != v) {
                    tracing::debug!("another process wrote to the database; dropping caches");
                    self.appends.forget();
                    self.cache.clear();
                }
                self.data_version = Some(v);
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read data_version; dropping caches");
                self.appends.forget();
                self.cache.clear();
                self.data_version = None;
            }
        }
        Ok(())
    }

    async fn begin_transaction(&mut self) -> Result<()> {
        match self.exec_raw("BEGIN IMMEDIATE").await {
            Ok(()) => Ok(()),
            Err(e) if is_connection_lost(&e) => {
                tracing::warn!(error = %e, "sqlite writer connection lost; reopening");
                self.reconnect().await?;
                self.exec("BEGIN IMMEDIATE").await
            }
            Err(e) => {
                // A transaction left open by a failed ROLLBACK would make every BEGIN
                // fail: close it and try once more.
                tracing::warn!(error = %e, "BEGIN failed; rolling back and retrying");
                let _ = self.exec_raw("ROLLBACK").await;
                self.appends.forget();
                self.exec("BEGIN IMMEDIATE").await
            }
        }
    }

    /// Runs one batch in one transaction; returns the shutdown acknowledgement if the
    /// batch asked the writer to stop.
    async fn run_batch(&mut self, batch: Vec<Command>) -> Option<oneshot::Sender<()>> {
        let mut shutdown = None;
        if let Err(e) = self.begin().await {
            tracing::error!(error = %e, "cannot open a write transaction");
            for cmd in batch {
                match cmd {
                    Command::Shutdown(ack) => shutdown = Some(ack),
                    other => other.fail(&e),
                }
            }
            return shutdown;
        }

        // Commands of one batch are concurrent — none of their callers has been
        // answered — so any order among them is a valid serial order. Appends go
        // first: at the head of the transaction they need no SAVEPOINT (whose
        // sub-journal copies every page a savepoint touches), because a failed group
        // can roll back the transaction itself and be retried message by message.
        let mut answers: Vec<Deferred> = Vec::with_capacity(batch.len());
        let mut counts = BatchCounts::default();
        let mut appends: Vec<AppendCommand> = Vec::new();
        let mut ops: Vec<Op> = Vec::new();
        for cmd in batch {
            match cmd {
                Command::Append(a) => appends.push(a),
                Command::AppendBatch(all) => appends.extend(all),
                Command::Op(op) => ops.push(op),
                Command::Shutdown(ack) => shutdown = Some(ack),
            }
        }
        if !appends.is_empty() {
            self.apply_appends(appends, &mut answers, &mut counts).await;
        }
        for op in ops {
            self.apply_op(op, &mut answers, &mut counts).await;
        }

        let outcome = match self.poisoned.take() {
            Some(e) => Err(e),
            None => self.exec("COMMIT").await,
        };
        match outcome {
            Ok(()) => {
                // Cached rows first, so a caller reading after its answer sees its write.
                self.cache.apply(&self.effects);
                self.effects.clear();
                self.counters.commits.fetch_add(1, Ordering::Relaxed);
                self.counters
                    .messages_appended
                    .fetch_add(counts.messages_appended, Ordering::Relaxed);
                self.counters
                    .writes
                    .fetch_add(counts.writes, Ordering::Relaxed);
                for answer in answers {
                    answer(None);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "write transaction failed; rolling back its batch");
                let _ = self.exec_raw("ROLLBACK").await;
                self.appends.forget();
                self.effects.clear();
                for answer in answers {
                    answer(Some(&e));
                }
            }
        }
        shutdown
    }

    /// Runs one operation in its own SAVEPOINT.
    async fn apply_op(&mut self, op: Op, answers: &mut Vec<Deferred>, counts: &mut BatchCounts) {
        if let Some(e) = &self.poisoned {
            op.fail(e);
            return;
        }
        if let Err(e) = self.exec("SAVEPOINT op").await {
            op.fail(&e);
            self.poisoned = Some(e);
            return;
        }
        let conn = &mut self.conn;
        let (answer, ok) = match op {
            Op::CreateApplication { new, reply } => {
                settle(reply, write_ops::create_application(conn, new).await)
            }
            Op::UpdateAppSettings {
                app,
                settings,
                reply,
            } => settle(
                reply,
                write_ops::update_app_settings(conn, app, settings).await,
            ),
            Op::InsertAccessToken {
                app,
                token_hash,
                expires_at,
                reply,
            } => settle(
                reply,
                write_ops::insert_access_token(conn, app, &token_hash, expires_at).await,
            ),
            Op::PurgeExpiredTokens { now, reply } => {
                settle(reply, write_ops::purge_expired_tokens(conn, now).await)
            }
            Op::CreateUser { app, new, reply } => {
                settle(reply, write_ops::create_user(conn, app, new).await)
            }
            Op::UpdateUser {
                app,
                user,
                changes,
                reply,
            } => {
                self.effects.push(Effect::UserChanged(user));
                settle(
                    reply,
                    write_ops::update_user(conn, app, user, changes).await,
                )
            }
            Op::DeleteUser { app, user, reply } => {
                let result = write_ops::delete_user(conn, app, user).await;
                self.appends.forget_user(app, user);
                self.effects.push(Effect::UserChanged(user));
                settle(reply, result)
            }
            Op::SetUserSecret {
                app,
                user,
                name,
                value,
                reply,
            } => settle(
                reply,
                write_ops::set_user_secret(conn, app, user, &name, &value).await,
            ),
            Op::DeleteUserSecret {
                app,
                user,
                name,
                reply,
            } => settle(
                reply,
                write_ops::delete_user_secret(conn, app, user, &name).await,
            ),
            Op::CreateChannel { app, new, reply } => {
                settle(reply, write_ops::create_channel(conn, app, new).await)
            }
            Op::UpdateChannel {
                app,
                channel,
                changes,
                reply,
            } => {
                self.effects.push(Effect::ChannelChanged(channel));
                settle(
                    reply,
                    write_ops::update_channel(conn, app, channel, changes).await,
                )
            }
            Op::DeleteChannel {
                app,
                channel,
                reply,
            } => {
                let result = write_ops::delete_channel(conn, app, channel).await;
                self.appends.forget_channel(channel);
                self.effects.push(Effect::ChannelChanged(channel));
                settle(reply, result)
            }
            Op::AddRole {
                role,
                app,
                channel,
                user,
                reply,
            } => settle(
                reply,
                write_ops::add_role(conn, role, app, channel, user).await,
            ),
            Op::RemoveRole {
                role,
                app,
                channel,
                user,
                reply,
            } => settle(
                reply,
                write_ops::remove_role(conn, role, app, channel, user).await,
            ),
            Op::UpdateMessage {
                app,
                message,
                changes,
                reply,
            } => settle(
                reply,
                write_ops::update_message(conn, app, message, changes).await,
            ),
            Op::DeleteMessage {
                app,
                message,
                reply,
            } => {
                let result = write_ops::delete_message(conn, app, message).await;
                if let Ok(deleted) = &result {
                    self.effects
                        .push(Effect::ChannelChanged(deleted.message.channel_id));
                }
                settle(reply, result)
            }
            Op::DeleteAllMessages { app, reply } => {
                self.effects.push(Effect::AppChannelsChanged(app));
                settle(reply, write_ops::delete_all_messages(conn, app).await)
            }
            Op::MarkRead {
                app,
                channel,
                user,
                seq,
                reply,
            } => settle(
                reply,
                write_ops::mark_read(conn, app, channel, user, seq).await,
            ),
            Op::Jobs(op) => op.apply(conn).await,
            Op::Chat(op) => op.apply(conn).await,
            Op::Moderation(op) => {
                if let moderation::ModerationOp::SetRestriction { channel, .. } = &op {
                    self.effects.push(Effect::Restricted(*channel));
                }
                op.apply(conn).await
            }
        };
        answers.push(answer);
        let end = if ok {
            self.exec("RELEASE op").await
        } else {
            match self.exec("ROLLBACK TO op").await {
                Ok(()) => self.exec("RELEASE op").await,
                Err(e) => Err(e),
            }
        };
        match end {
            Ok(()) if ok => counts.writes += 1,
            Ok(()) => {}
            Err(e) => self.poisoned = Some(e),
        }
    }
}
