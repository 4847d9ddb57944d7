//! [`PostgresStore`]: opening the database, and the [`Store`] methods — reads on the
//! pool, appends sent to the writer task, every other write in a transaction of its
//! own on the pool. Methods follow the trait's order.

use crate::driver_error;
use crate::group_commit::{AppendCommand, Command, Counters, Writer, WriterSettings};
use crate::options::PostgresOptions;
use crate::queries::channels::Role;
use crate::queries::{
    applications, channels, invites, jobs, messages, moderation, notifications, receipts, reports,
    sessions, users,
};
use crate::write_ops::{self, chat, jobs as job_writes, moderation as moderation_writes};
use async_trait::async_trait;
use hubbub_core::ids::{AppId, ChannelId, ChatSessionId, JobId, MessageId, UserId, UserSessionId};
use hubbub_core::model::*;
use hubbub_core::names::{ChannelName, IdempotencyKey, SecretName, UserName};
use hubbub_core::paging::{CursorPage, CursorRequest, Page, PageRequest};
use hubbub_core::store::{Store, StoreStats};
use hubbub_core::{Error, Result};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, Postgres, Transaction};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The schema, embedded at build time.
pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 256;

/// A pooled connection idle longer than this is pinged before it is handed out (one
/// that fails is replaced). Busy connections are not: each was pinged when it was
/// given back, and a ping per query would double the round trips of every read.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// How a read that must see one snapshot (a page and its total) begins.
const SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/// hubbub's store on PostgreSQL. Cheap to share behind an `Arc`; dropping the last
/// handle stops the writer after its current batch.
pub struct PostgresStore {
    pool: PgPool,
    writer: mpsc::Sender<Command>,
    counters: Arc<Counters>,
    ready_timeout: Duration,
    retries: u32,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("stats", &self.counters.snapshot())
            .finish_non_exhaustive()
    }
}

fn writer_gone() -> Error {
    Error::Unavailable("the database writer has stopped".into())
}

fn migrate_error(e: MigrateError) -> Error {
    match e {
        MigrateError::Execute(e) => driver_error::map(e),
        other => Error::Internal(format!("migrating the database: {other}")),
    }
}

/// Runs `$body` (a future using `$conn: &mut PgConnection`) in a write transaction of
/// its own, again from the start after a deadlock or a serialization failure.
macro_rules! write_tx {
    ($self:ident, |$conn:ident| $body:expr) => {{
        let mut attempt = 0_u32;
        loop {
            let mut tx = $self.begin_write().await?;
            let result = {
                let $conn: &mut PgConnection = &mut tx;
                $body.await
            };
            match $self.end_write(tx, result, &mut attempt).await {
                Some(done) => break done,
                None => continue,
            }
        }
    }};
}

/// Runs `$body` (a future using `$conn: &mut PgConnection`) in a read-only
/// REPEATABLE READ transaction: all its queries see one snapshot, so a page and its
/// total agree while writers commit.
macro_rules! snapshot {
    ($self:ident, |$conn:ident| $body:expr) => {{
        let mut tx = $self
            .pool
            .begin_with(SNAPSHOT)
            .await
            .map_err(driver_error::map)?;
        let result = {
            let $conn: &mut PgConnection = &mut tx;
            $body.await
        };
        if result.is_ok() {
            tx.commit().await.map_err(driver_error::map)?;
        }
        result
    }};
}

impl PostgresStore {
    /// Connects, applies pending migrations (under PostgreSQL's advisory lock, so nodes
    /// starting together take turns), opens the pool and starts the writer. Must be
    /// called within a tokio runtime.
    pub async fn open(options: PostgresOptions) -> Result<Self> {
        let connect = options
            .connect
            .clone()
            .statement_cache_capacity(STATEMENT_CACHE);
        let mut conn = connect.connect().await.map_err(driver_error::map)?;
        MIGRATOR.run(&mut conn).await.map_err(migrate_error)?;
        let _ = conn.close().await;

        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for < PING_WHEN_IDLE_FOR {
                        return Ok(true);
                    }
                    // A connection the server dropped meanwhile is replaced.
                    Ok(conn.ping().await.is_ok())
                })
            })
            .connect_with(connect.clone())
            .await
            .map_err(driver_error::map)?;

        let (tx, rx) = mpsc::channel(options.queue_capacity.max(1));
        let counters = Arc::new(Counters::default());
        let writer = Writer::new(
            connect.application_name("hubbub-writer"),
            rx,
            WriterSettings {
                max_batch: options.max_batch,
                batch_timeout: options.batch_timeout,
                retries: options.retries,
            },
            Arc::clone(&counters),
        );
        // The writer gets a thread and a runtime of its own (see `group_commit`); it
        // opens its connection there.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Internal(format!("starting the writer runtime: {e}")))?;
        std::thread::Builder::new()
            .name("hubbub-postgres-writer".into())
            .spawn(move || runtime.block_on(writer.run()))
            .map_err(|e| Error::Internal(format!("starting the writer thread: {e}")))?;
        tracing::info!(host = options.connect.get_host(), database = ?options.connect.get_database(),
            max_connections = options.max_connections, "postgres store open");
        Ok(Self {
            pool,
            writer: tx,
            counters,
            ready_timeout: options.ready_timeout,
            retries: options.retries,
        })
    }

    /// Opens a store from a URL: see [`PostgresOptions::from_url`].
    pub async fn open_url(url: &str) -> Result<Self> {
        Self::open(PostgresOptions::from_url(url)?).await
    }

    /// Finishes queued appends, stops the writer and closes every connection. Later
    /// calls fail with `Unavailable`.
    pub async fn close(&self) {
        let (ack, done) = oneshot::channel();
        if self.writer.send(Command::Shutdown(ack)).await.is_ok() {
            let _ = done.await;
        }
        self.pool.close().await;
    }

    async fn append(
        &self,
        app: AppId,
        new: NewMessage,
        extras: Option<Box<MessageExtras>>,
    ) -> Result<Appended> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Command::Append(AppendCommand {
                app,
                new,
                extras,
                reply,
            }))
            .await
            .map_err(|_| writer_gone())?;
        answer.await.map_err(|_| writer_gone())?
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(driver_error::map)
    }

    /// Commits a successful write (`Some` with the result), or rolls back a failed one;
    /// `None` asks for the transaction to be run again (a deadlock or a serialization
    /// failure, at most `retries` times).
    async fn end_write<T>(
        &self,
        tx: Transaction<'static, Postgres>,
        result: Result<T>,
        attempt: &mut u32,
    ) -> Option<Result<T>> {
        let outcome = match result {
            Ok(value) => match tx.commit().await {
                Ok(()) => {
                    self.counters.committed(1, 0);
                    return Some(Ok(value));
                }
                Err(e) => driver_error::map(e),
            },
            Err(e) => {
                // A broken connection cannot roll back; the pool drops it.
                let _ = tx.rollback().await;
                e
            }
        };
        if driver_error::is_retry(&outcome) && *attempt < self.retries {
            *attempt += 1;
            tracing::debug!(error = %outcome, attempt = *attempt, "write transaction conflicted; running it again");
            return None;
        }
        Some(Err(outcome))
    }

    async fn check_ready_now(&self) -> Result<()> {
        if self.writer.is_closed() {
            return Err(writer_gone());
        }
        let mut conn = self.pool.acquire().await.map_err(driver_error::map)?;
        sqlx::query("SELECT 1")
            .execute(&mut *conn)
            .await
            .map_err(driver_error::map)?;
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&mut *conn)
                .await
                .map_err(driver_error::map)?;
        for migration in MIGRATOR.iter() {
            if !applied.contains(&migration.version) {
                return Err(Error::Unavailable(format!(
                    "database migration {} ({}) is not applied",
                    migration.version, migration.description
                )));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Store for PostgresStore {
    // ----- health -------------------------------------------------------------------

    /// A real round trip (`SELECT 1`) and the migrations' check, within the ready
    /// timeout: a server that does not answer in time is `Unavailable`.
    async fn check_ready(&self) -> Result<()> {
        match tokio::time::timeout(self.ready_timeout, self.check_ready_now()).await {
            Ok(result) => result,
            Err(_) => Err(Error::Unavailable(format!(
                "database: no answer within {:?}",
                self.ready_timeout
            ))),
        }
    }

    fn stats(&self) -> StoreStats {
        self.counters.snapshot()
    }

    // ----- applications -------------------------------------------------------------

    async fn create_application(&self, new: NewApplication) -> Result<Application> {
        write_tx!(self, |conn| write_ops::create_application(conn, &new))
    }

    async fn list_applications(&self) -> Result<Vec<Application>> {
        applications::list_applications(&self.pool).await
    }

    async fn get_application(&self, app: AppId) -> Result<Option<Application>> {
        applications::get_application(&self.pool, app).await
    }

    async fn find_credentials(&self, client_id: &str) -> Result<Option<AppCredentials>> {
        applications::find_credentials(&self.pool, client_id).await
    }

    async fn update_app_settings(&self, app: AppId, settings: AppSettings) -> Result<Application> {
        write_tx!(self, |conn| write_ops::update_app_settings(
            conn, app, settings
        ))
    }

    // ----- access tokens ------------------------------------------------------------

    async fn insert_access_token(
        &self,
        app: AppId,
        token_hash: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        write_tx!(self, |conn| write_ops::insert_access_token(
            conn, app, token_hash, expires_at
        ))
    }

    async fn find_access_token(&self, token_hash: &str) -> Result<Option<(AppId, Timestamp)>> {
        applications::find_access_token(&self.pool, token_hash).await
    }

    async fn purge_expired_tokens(&self, now: Timestamp) -> Result<u64> {
        write_tx!(self, |conn| write_ops::purge_expired_tokens(conn, now))
    }

    // ----- users --------------------------------------------------------------------

    async fn create_user(&self, app: AppId, new: NewUser) -> Result<User> {
        write_tx!(self, |conn| write_ops::create_user(conn, app, &new))
    }

    async fn get_user(&self, app: AppId, user: UserId) -> Result<Option<User>> {
        users::get_user(&self.pool, app, user).await
    }

    async fn get_user_by_name(&self, app: AppId, name: &UserName) -> Result<Option<User>> {
        users::get_user_by_name(&self.pool, app, name).await
    }

    async fn list_users(
        &self,
        app: AppId,
        filter: &UserFilter,
        page: &PageRequest,
    ) -> Result<Page<User>> {
        snapshot!(self, |conn| users::list_users(conn, app, filter, page))
    }

    async fn update_user(&self, app: AppId, user: UserId, changes: UserChanges) -> Result<User> {
        write_tx!(self, |conn| write_ops::update_user(
            conn, app, user, &changes
        ))
    }

    async fn delete_user(&self, app: AppId, user: UserId) -> Result<()> {
        write_tx!(self, |conn| write_ops::delete_user(conn, app, user))
    }

    // ----- user secrets -------------------------------------------------------------

    async fn get_user_secret(
        &self,
        app: AppId,
        user: UserId,
        name: &SecretName,
    ) -> Result<Option<serde_json::Value>> {
        users::get_user_secret(&self.pool, app, user, name).await
    }

    async fn set_user_secret(
        &self,
        app: AppId,
        user: UserId,
        name: &SecretName,
        value: serde_json::Value,
    ) -> Result<()> {
        write_tx!(self, |conn| write_ops::set_user_secret(
            conn, app, user, name, &value
        ))
    }

    async fn delete_user_secret(&self, app: AppId, user: UserId, name: &SecretName) -> Result<()> {
        write_tx!(self, |conn| write_ops::delete_user_secret(
            conn, app, user, name
        ))
    }

    // ----- channels -----------------------------------------------------------------

    async fn create_channel(&self, app: AppId, new: NewChannel) -> Result<Channel> {
        write_tx!(self, |conn| write_ops::create_channel(conn, app, &new))
    }

    async fn get_channel(&self, app: AppId, channel: ChannelId) -> Result<Option<Channel>> {
        channels::get_channel(&self.pool, app, channel).await
    }

    async fn get_channel_by_name(&self, app: AppId, name: &ChannelName) -> Result<Option<Channel>> {
        channels::get_channel_by_name(&self.pool, app, name).await
    }

    async fn find_direct_channel(&self, app: AppId, direct_key: &str) -> Result<Option<Channel>> {
        channels::find_direct_channel(&self.pool, app, direct_key).await
    }

    async fn list_channels(
        &self,
        app: AppId,
        filter: &ChannelFilter,
        page: &PageRequest,
    ) -> Result<Page<Channel>> {
        snapshot!(self, |conn| channels::list_channels(
            conn, app, filter, page
        ))
    }

    async fn update_channel(
        &self,
        app: AppId,
        channel: ChannelId,
        changes: ChannelChanges,
    ) -> Result<Channel> {
        write_tx!(self, |conn| write_ops::update_channel(
            conn, app, channel, &changes
        ))
    }

    async fn delete_channel(&self, app: AppId, channel: ChannelId) -> Result<()> {
        write_tx!(self, |conn| write_ops::delete_channel(conn, app, channel))
    }

    // ----- members ------------------------------------------------------------------

    async fn add_member(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<()> {
        write_tx!(self, |conn| write_ops::add_role(
            conn,
            Role::Member,
            app,
            channel,
            user
        ))
    }

    async fn remove_member(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<()> {
        write_tx!(self, |conn| write_ops::remove_role(
            conn,
            Role::Member,
            app,
            channel,
            user
        ))
    }

    async fn is_member(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<bool> {
        channels::has_role(&self.pool, Role::Member, app, channel, user).await
    }

    async fn list_members(
        &self,
        app: AppId,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<User>> {
        snapshot!(self, |conn| channels::list_role(
            conn,
            Role::Member,
            app,
            channel,
            page
        ))
    }

    async fn list_memberships(
        &self,
        app: AppId,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<Membership>> {
        snapshot!(self, |conn| channels::list_memberships(
            conn, app, channel, page
        ))
    }

    async fn direct_members(&self, app: AppId, channel: ChannelId) -> Result<Vec<User>> {
        snapshot!(self, |conn| channels::direct_members(conn, app, channel))
    }

    // ----- moderators ---------------------------------------------------------------

    async fn add_moderator(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<()> {
        write_tx!(self, |conn| write_ops::add_role(
            conn,
            Role::Moderator,
            app,
            channel,
            user
        ))
    }

    async fn remove_moderator(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<()> {
        write_tx!(self, |conn| write_ops::remove_role(
            conn,
            Role::Moderator,
            app,
            channel,
            user
        ))
    }

    async fn is_moderator(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<bool> {
        channels::has_role(&self.pool, Role::Moderator, app, channel, user).await
    }

    async fn list_moderators(
        &self,
        app: AppId,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<User>> {
        snapshot!(self, |conn| channels::list_role(
            conn,
            Role::Moderator,
            app,
            channel,
            page
        ))
    }

    // ----- messages -----------------------------------------------------------------

    async fn append_message(&self, app: AppId, new: NewMessage) -> Result<Appended> {
        self.append(app, new, None).await
    }

    async fn get_message(&self, app: AppId, message: MessageId) -> Result<Option<MessageView>> {
        messages::get_message_view(&self.pool, app, message).await
    }

    async fn list_messages(
        &self,
        app: AppId,
        filter: &MessageFilter,
        cursor: &CursorRequest,
    ) -> Result<CursorPage<MessageView>> {
        snapshot!(self, |conn| messages::list_messages(
            conn, app, filter, cursor
        ))
    }

    async fn messages_after_seq(
        &self,
        app: AppId,
        channel: ChannelId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<MessageView>> {
        messages::messages_after_seq(&self.pool, app, channel, after_seq, limit).await
    }

    async fn update_message(
        &self,
        app: AppId,
        message: MessageId,
        changes: MessageChanges,
    ) -> Result<MessageView> {
        write_tx!(self, |conn| write_ops::update_message(
            conn, app, message, &changes
        ))
    }

    async fn delete_message(&self, app: AppId, message: MessageId) -> Result<MessageView> {
        write_tx!(self, |conn| write_ops::delete_message(conn, app, message))
    }

    async fn delete_all_messages(&self, app: AppId) -> Result<u64> {
        write_tx!(self, |conn| write_ops::delete_all_messages(conn, app))
    }

    // ----- read state ---------------------------------------------------------------

    async fn mark_read(
        &self,
        app: AppId,
        channel: ChannelId,
        user: UserId,
        seq: i64,
    ) -> Result<()> {
        write_tx!(self, |conn| write_ops::mark_read(
            conn, app, channel, user, seq
        ))
    }

    async fn count_unread(&self, app: AppId, user: UserId) -> Result<u64> {
        messages::count_unread(&self.pool, app, user).await
    }

    // ----- jobs -----------------------------------------------------------------------

    async fn create_job(&self, app: AppId, new: NewJob) -> Result<Job> {
        write_tx!(self, |conn| job_writes::create_job(conn, app, &new))
    }

    async fn get_job(&self, app: AppId, job: JobId) -> Result<Option<Job>> {
        jobs::get_job(&self.pool, app, job).await
    }

    async fn list_jobs(
        &self,
        app: AppId,
        filter: &JobFilter,
        page: &PageRequest,
    ) -> Result<Page<Job>> {
        snapshot!(self, |conn| jobs::list_jobs(conn, app, filter, page))
    }

    async fn update_job(&self, app: AppId, job: JobId, update: JobUpdate) -> Result<Job> {
        write_tx!(self, |conn| job_writes::update_job(conn, app, job, &update))
    }

    async fn heartbeat_jobs(&self, runner: &str, now: Timestamp) -> Result<u64> {
        write_tx!(self, |conn| job_writes::heartbeat(conn, runner, now))
    }

    async fn fail_abandoned_jobs(
        &self,
        runner: Option<&str>,
        heartbeat_before: Timestamp,
        reason: &str,
        now: Timestamp,
    ) -> Result<u64> {
        write_tx!(self, |conn| job_writes::fail_abandoned(
            conn,
            runner,
            heartbeat_before,
            reason,
            now
        ))
    }

    /// One command for the whole batch, so nothing interleaves with its order; the
    /// writer appends it with whatever else is queued, in as few statements as it can.
    async fn append_messages(
        &self,
        app: AppId,
        batch: Vec<(NewMessage, MessageExtras)>,
    ) -> Result<Vec<Result<Appended>>> {
        let mut commands = Vec::with_capacity(batch.len());
        let mut answers = Vec::with_capacity(batch.len());
        for (new, extras) in batch {
            let (reply, answer) = oneshot::channel();
            commands.push(AppendCommand {
                app,
                new,
                extras: (!extras.is_empty()).then(|| Box::new(extras)),
                reply,
            });
            answers.push(answer);
        }
        self.writer
            .send(Command::AppendBatch(commands))
            .await
            .map_err(|_| writer_gone())?;
        let mut results = Vec::with_capacity(answers.len());
        for answer in answers {
            match answer.await.map_err(|_| writer_gone())? {
                Err(e @ (Error::Unavailable(_) | Error::Internal(_))) => return Err(e),
                other => results.push(other),
            }
        }
        Ok(results)
    }

    async fn find_import_key(
        &self,
        app: AppId,
        scope: &str,
        key: &IdempotencyKey,
    ) -> Result<Option<i64>> {
        jobs::find_import_key(&self.pool, app, scope, key).await
    }

    async fn put_import_key(
        &self,
        app: AppId,
        scope: &str,
        key: &IdempotencyKey,
        resource: i64,
    ) -> Result<()> {
        write_tx!(self, |conn| job_writes::put_import_key(
            conn, app, scope, key, resource
        ))
    }

    async fn messages_after_id(
        &self,
        app: AppId,
        after: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<MessageView>> {
        jobs::messages_after_id(&self.pool, app, after, limit).await
    }

    async fn users_after_id(
        &self,
        app: AppId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<User>> {
        jobs::users_after_id(&self.pool, app, after, limit).await
    }

    // ----- threads, receipts, notifications, sessions, reports, invites -----

    async fn append_message_with(
        &self,
        app: AppId,
        new: NewMessage,
        extras: MessageExtras,
    ) -> Result<Appended> {
        let extras = (!extras.is_empty()).then(|| Box::new(extras));
        self.append(app, new, extras).await
    }

    async fn get_read_mark(
        &self,
        app: AppId,
        channel: ChannelId,
        user: UserId,
    ) -> Result<Option<ReadMark>> {
        receipts::get_read_mark(&self.pool, app, channel, user).await
    }

    async fn list_read_receipts(
        &self,
        app: AppId,
        message: MessageId,
        page: &PageRequest,
    ) -> Result<Page<ReadReceipt>> {
        snapshot!(self, |conn| receipts::list_read_receipts(
            conn, app, message, page
        ))
    }

    async fn list_unread_summaries(
        &self,
        app: AppId,
        page: &PageRequest,
    ) -> Result<Page<UnreadSummary>> {
        snapshot!(self, |conn| receipts::list_unread_summaries(
            conn, app, page
        ))
    }

    async fn list_notifications(
        &self,
        app: AppId,
        user: UserId,
        cursor: &NotificationCursor,
    ) -> Result<CursorPage<NotificationView>> {
        snapshot!(self, |conn| notifications::list_notifications(
            conn, app, user, cursor
        ))
    }

    async fn create_invite(
        &self,
        app: AppId,
        channel: ChannelId,
        user: UserId,
        invited_by: Option<UserId>,
    ) -> Result<Invite> {
        write_tx!(self, |conn| chat::create_invite(
            conn, app, channel, user, invited_by
        ))
    }

    async fn list_invites(
        &self,
        app: AppId,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<Invite>> {
        snapshot!(self, |conn| invites::list_invites(conn, app, channel, page))
    }

    async fn report_message(&self, app: AppId, new: NewReport) -> Result<Report> {
        write_tx!(self, |conn| chat::report_message(conn, app, &new))
    }

    async fn list_reported_messages(
        &self,
        app: AppId,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<MessageView>> {
        snapshot!(self, |conn| reports::list_reported_messages(
            conn, app, channel, page
        ))
    }

    async fn start_user_session(&self, app: AppId, new: NewUserSession) -> Result<UserSession> {
        write_tx!(self, |conn| chat::start_user_session(conn, app, &new))
    }

    async fn end_user_session(&self, app: AppId, session: UserSessionId) -> Result<()> {
        write_tx!(self, |conn| chat::end_user_session(conn, app, session))
    }

    async fn start_chat_session(
        &self,
        app: AppId,
        user_session: UserSessionId,
        channel: ChannelId,
    ) -> Result<ChatSession> {
        write_tx!(self, |conn| chat::start_chat_session(
            conn,
            app,
            user_session,
            channel
        ))
    }

    async fn end_chat_session(&self, app: AppId, session: ChatSessionId) -> Result<()> {
        write_tx!(self, |conn| chat::end_chat_session(conn, app, session))
    }

    async fn list_user_sessions(
        &self,
        app: AppId,
        state: Option<SessionState>,
        page: &PageRequest,
    ) -> Result<Page<UserSession>> {
        snapshot!(self, |conn| sessions::list_user_sessions(
            conn, app, state, page
        ))
    }

    async fn list_chat_sessions(
        &self,
        app: AppId,
        state: Option<SessionState>,
        page: &PageRequest,
    ) -> Result<Page<ChatSession>> {
        snapshot!(self, |conn| sessions::list_chat_sessions(
            conn, app, state, page
        ))
    }

    async fn end_active_sessions(&self) -> Result<u64> {
        write_tx!(self, |conn| chat::end_active_sessions(conn))
    }

    // ----- moderation: restrictions and robots --------------------------------------

    async fn set_restriction(
        &self,
        app: AppId,
        channel: ChannelId,
        new: NewRestriction,
    ) -> Result<Restriction> {
        write_tx!(self, |conn| moderation_writes::set_restriction(
            conn, app, channel, &new
        ))
    }

    async fn lift_restriction(
        &self,
        app: AppId,
        channel: ChannelId,
        user: UserId,
        kind: RestrictionKind,
    ) -> Result<bool> {
        write_tx!(self, |conn| moderation_writes::lift_restriction(
            conn, app, channel, user, kind
        ))
    }

    async fn active_restrictions(
        &self,
        app: AppId,
        channel: ChannelId,
        user: UserId,
        now: Timestamp,
    ) -> Result<Vec<Restriction>> {
        moderation::active_restrictions(&self.pool, app, channel, user, now).await
    }

    async fn list_restrictions(
        &self,
        app: AppId,
        channel: ChannelId,
        kind: RestrictionKind,
        now: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<Restriction>> {
        snapshot!(self, |conn| moderation::list_restrictions(
            conn, app, channel, kind, now, page
        ))
    }

    async fn add_robot(
        &self,
        app: AppId,
        channel: ChannelId,
        user: UserId,
        max: usize,
    ) -> Result<bool> {
        write_tx!(self, |conn| moderation_writes::add_robot(
            conn, app, channel, user, max
        ))
    }

    async fn remove_robot(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<bool> {
        write_tx!(self, |conn| moderation_writes::remove_robot(
            conn, app, channel, user
        ))
    }

    async fn list_robots(&self, app: AppId, channel: ChannelId) -> Result<Vec<User>> {
        moderation::list_robots(&self.pool, app, channel).await
    }

    // ----- dialect credentials --------------------------------------------------------

    async fn put_dialect_credential(
        &self,
        app: AppId,
        credential: DialectCredential,
    ) -> Result<()> {
        write_tx!(self, |conn| moderation_writes::put_dialect_credential(
            conn,
            app,
            &credential
        ))
    }

    async fn list_dialect_credentials(&self, app: AppId) -> Result<Vec<DialectCredential>> {
        moderation::list_dialect_credentials(&self.pool, app).await
    }

    async fn find_dialect_credential(
        &self,
        dialect: Dialect,
        key: &str,
    ) -> Result<Option<(AppId, DialectCredential)>> {
        moderation::find_dialect_credential(&self.pool, dialect, key).await
    }

    // ----- dialect tokens -------------------------------------------------------------

    async fn insert_dialect_token(&self, token: DialectToken) -> Result<()> {
        write_tx!(self, |conn| moderation_writes::insert_dialect_token(
            conn, &token
        ))
    }

    async fn find_dialect_token(
        &self,
        kind: DialectTokenKind,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<DialectToken>> {
        moderation::find_dialect_token(&self.pool, kind, token_hash, now).await
    }

    async fn take_dialect_token(
        &self,
        kind: DialectTokenKind,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<DialectToken>> {
        write_tx!(self, |conn| moderation_writes::take_dialect_token(
            conn, kind, token_hash, now
        ))
    }

    async fn revoke_dialect_tokens(
        &self,
        app: AppId,
        user: UserId,
        kinds: &[DialectTokenKind],
    ) -> Result<u64> {
        write_tx!(self, |conn| moderation_writes::revoke_dialect_tokens(
            conn, app, user, kinds
        ))
    }

    // ----- user passwords ---------------------------------------------------------------

    async fn set_user_password(
        &self,
        app: AppId,
        user: UserId,
        password_hash: Option<String>,
    ) -> Result<()> {
        write_tx!(self, |conn| moderation_writes::set_user_password(
            conn,
            app,
            user,
            password_hash.as_deref()
        ))
    }

    async fn get_user_password(&self, app: AppId, user: UserId) -> Result<Option<String>> {
        moderation::get_user_password(&self.pool, app, user).await
    }
}
