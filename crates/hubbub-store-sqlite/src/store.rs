//! [`SqliteStore`]: opening the database, and the [`Store`] methods — reads served by
//! the reader pool, writes sent to the writer task. Methods follow the trait's order.

use crate::driver_error;
use crate::group_commit::moderation::ModerationOp;
use crate::group_commit::{AppendCommand, ChatOp, Command, Counters, JobOp, Op, Reply, Writer};
use crate::options::{Durability, SqliteOptions};
use crate::queries::channels::Role;
use crate::queries::{
    applications, channels, invites, jobs, messages, moderation, notifications, receipts, reports,
    sessions, users,
};
use crate::read_cache::ReadCache;
use crate::reader_pool::ReaderPool;
use async_trait::async_trait;
use hubbub_core::ids::{AppId, ChannelId, ChatSessionId, JobId, MessageId, UserId, UserSessionId};
use hubbub_core::model::*;
use hubbub_core::names::{ChannelName, IdempotencyKey, SecretName, UserName};
use hubbub_core::paging::{CursorPage, CursorRequest, Page, PageRequest};
use hubbub_core::store::{Store, StoreStats};
use hubbub_core::{Error, Result};
use sqlx::ConnectOptions;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The schema, embedded at build time.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Prepared statements kept per connection (the writer's multi-row INSERTs among them).
const STATEMENT_CACHE: usize = 256;

/// hubbub's store on an SQLite file. Cheap to share behind an `Arc`; dropping the last
/// handle stops the writer after its current batch.
pub struct SqliteStore {
    readers: ReaderPool,
    writer: mpsc::Sender<Command>,
    counters: Arc<Counters>,
    cache: Arc<ReadCache>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
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

impl SqliteStore {
    /// Opens (creating if missing) the database, applies pending migrations, opens the
    /// reader pool and starts the writer task. Must be called within a tokio runtime.
    pub async fn open(options: SqliteOptions) -> Result<Self> {
        if let Some(parent) = options.path.parent()
            && !parent.as_os_str().is_empty()
        {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| Error::Unavailable(format!("creating {}: {e}", parent.display())))?;
        }
        let base = SqliteConnectOptions::new()
            .filename(&options.path)
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout)
            .pragma("cache_size", format!("-{}", options.cache_size_kib))
            .statement_cache_capacity(STATEMENT_CACHE);
        let writer_options = base
            .clone()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match options.synchronous {
                Durability::Full => SqliteSynchronous::Full,
                Durability::Normal => SqliteSynchronous::Normal,
            });
        let mut conn = writer_options.connect().await.map_err(driver_error::map)?;
        MIGRATOR.run(&mut conn).await.map_err(migrate_error)?;

        let readers = options.readers.max(1);
        let pool = ReaderPool::open(base.read_only(true), readers as usize).await?;

        let (tx, rx) = mpsc::channel(options.queue_capacity.max(1));
        let counters = Arc::new(Counters::default());
        let cache = Arc::new(ReadCache::default());
        let writer = Writer::new(
            conn,
            writer_options,
            rx,
            options.max_batch,
            Arc::clone(&counters),
            Arc::clone(&cache),
        );
        // The writer gets a thread of its own: on the shared runtime it would wait
        // behind thousands of sender tasks at every statement of its batch, and the
        // batch would hold its transaction (and every caller) that much longer.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Internal(format!("starting the writer runtime: {e}")))?;
        std::thread::Builder::new()
            .name("hubbub-sqlite-writer".into())
            .spawn(move || runtime.block_on(writer.run()))
            .map_err(|e| Error::Internal(format!("starting the writer thread: {e}")))?;
        tracing::info!(path = %options.path.display(), synchronous = ?options.synchronous,
            readers, "sqlite store open");
        Ok(Self {
            readers: pool,
            writer: tx,
            counters,
            cache,
        })
    }

    /// Opens a store from a URL: see [`SqliteOptions::from_url`].
    pub async fn open_url(url: &str) -> Result<Self> {
        Self::open(SqliteOptions::from_url(url)?).await
    }

    /// Finishes queued writes, stops the writer and closes every connection. Later
    /// calls fail with `Unavailable`.
    pub async fn close(&self) {
        let (ack, done) = oneshot::channel();
        if self.writer.send(Command::Shutdown(ack)).await.is_ok() {
            let _ = done.await;
        }
        self.readers.close();
        self.cache.clear();
    }

    async fn write<T>(&self, command: impl FnOnce(Reply<T>) -> Command) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(command(reply))
            .await
            .map_err(|_| writer_gone())?;
        answer.await.map_err(|_| writer_gone())?
    }

    async fn op<T>(&self, op: impl FnOnce(Reply<T>) -> Op) -> Result<T> {
        self.write(|reply| Command::Op(op(reply))).await
    }
}

#[async_trait]
impl Store for SqliteStore {
    // ----- health -------------------------------------------------------------------

    async fn check_ready(&self) -> Result<()> {
        if self.writer.is_closed() {
            return Err(writer_gone());
        }
        let mut reader = self.readers.acquire().await?;
        let applied: Result<Vec<i64>> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = 1")
                .fetch_all(&mut *reader)
                .await
                .map_err(driver_error::map);
        let applied = reader.check(applied)?;
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

    fn stats(&self) -> StoreStats {
        self.counters.snapshot()
    }

    // ----- applications -------------------------------------------------------------

    async fn create_application(&self, new: NewApplication) -> Result<Application> {
        self.op(|reply| Op::CreateApplication { new, reply }).await
    }

    async fn list_applications(&self) -> Result<Vec<Application>> {
        let mut reader = self.readers.acquire().await?;
        reader.begin().await?;
        let result = applications::list_applications(&mut *reader).await;
        reader.finish(result).await
    }

    async fn get_application(&self, app: AppId) -> Result<Option<Application>> {
        let mut reader = self.readers.acquire().await?;
        let result = applications::get_application(&mut *reader, app).await;
        reader.check(result)
    }

    async fn find_credentials(&self, client_id: &str) -> Result<Option<AppCredentials>> {
        let mut reader = self.readers.acquire().await?;
        let result = applications::find_credentials(&mut *reader, client_id).await;
        reader.check(result)
    }

    async fn update_app_settings(&self, app: AppId, settings: AppSettings) -> Result<Application> {
        self.op(|reply| Op::UpdateAppSettings {
            app,
            settings,
            reply,
        })
        .await
    }

    // ----- access tokens ------------------------------------------------------------

    async fn insert_access_token(
        &self,
        app: AppId,
        token_hash: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        let token_hash = token_hash.to_owned();
        self.op(|reply| Op::InsertAccessToken {
            app,
            token_hash,
            expires_at,
            reply,
        })
        .await
    }

    async fn find_access_token(&self, token_hash: &str) -> Result<Option<(AppId, Timestamp)>> {
        let mut reader = self.readers.acquire().await?;
        let result = applications::find_access_token(&mut *reader, token_hash).await;
        reader.check(result)
    }

    async fn purge_expired_tokens(&self, now: Timestamp) -> Result<u64> {
        self.op(|reply| Op::PurgeExpiredTokens { now, reply }).await
    }

    // ----- users --------------------------------------------------------------------

    async fn create_user(&self, app: AppId, new: NewUser) -> Result<User> {
        self.op(|reply| Op::CreateUser { app, new, reply }).await
    }

    async fn get_user(&self, app: AppId, user: UserId) -> Result<Option<User>> {
        let ticket = match self.cache.user(app, user) {
            Ok(hit) => return Ok(hit),
            Err(ticket) => ticket,
        };
        let mut reader = self.readers.acquire().await?;
        let found = users::get_user(&mut *reader, app, user).await;
        let found = reader.check(found)?;
        if let Some(u) = &found {
            self.cache.fill_user(ticket, u);
        }
        Ok(found)
    }

    async fn get_user_by_name(&self, app: AppId, name: &UserName) -> Result<Option<User>> {
        let ticket = match self.cache.user_by_name(app, name.as_str()) {
            Ok(hit) => return Ok(Some(hit)),
            Err(ticket) => ticket,
        };
        let mut reader = self.readers.acquire().await?;
        let found = users::get_user_by_name(&mut *reader, app, name).await;
        let found = reader.check(found)?;
        if let Some(u) = &found {
            self.cache.fill_user(ticket, u);
        }
        Ok(found)
    }

    async fn list_users(
        &self,
        app: AppId,
        filter: &UserFilter,
        page: &PageRequest,
    ) -> Result<Page<User>> {
        let mut reader = self.readers.acquire().await?;
        reader.begin().await?;
        let result = users::list_users(&mut reader, app, filter, page).await;
        reader.finish(result).await
    }

    async fn update_user(&self, app: AppId, user: UserId, changes: UserChanges) -> Result<User> {
        self.op(|reply| Op::UpdateUser {
            app,
            user,
            changes,
            reply,
        })
        .await
    }

    async fn delete_user(&self, app: AppId, user: UserId) -> Result<()> {
        self.op(|reply| Op::DeleteUser { app, user, reply }).await
    }

    // ----- user secrets -------------------------------------------------------------

    async fn get_user_secret(
        &self,
        app: AppId,
        user: UserId,
        name: &SecretName,
    ) -> Result<Option<serde_json::Value>> {
        let mut reader = self.readers.acquire().await?;
        let result = users::get_user_secret(&mut *reader, app, user, name).await;
        reader.check(result)
    }

    async fn set_user_secret(
        &self,
        app: AppId,
        user: UserId,
        name: &SecretName,
        value: serde_json::Value,
    ) -> Result<()> {
        let name = name.clone();
        self.op(|reply| Op::SetUserSecret {
            app,
            user,
            name,
            value,
            reply,
        })
        .await
    }

    async fn delete_user_secret(&self, app: AppId, user: UserId, name: &SecretName) -> Result<()> {
        let name = name.clone();
        self.op(|reply| Op::DeleteUserSecret {
            app,
            user,
            name,
            reply,
        })
        .await
    }

    // ----- channels -----------------------------------------------------------------

    async fn create_channel(&self, app: AppId, new: NewChannel) -> Result<Channel> {
        self.op(|reply| Op::CreateChannel { app, new, reply }).await
    }

    async fn get_channel(&self, app: AppId, channel: ChannelId) -> Result<Option<Channel>> {
        let ticket = match self.cache.channel(app, channel) {
            Ok(hit) => return Ok(hit),
            Err(ticket) => ticket,
        };
        let mut reader = self.readers.acquire().await?;
        let found = channels::get_channel(&mut *reader, app, channel).await;
        let found = reader.check(found)?;
        if let Some(c) = &found {
            self.cache.fill_channel(ticket, c);
        }
        Ok(found)
    }

    async fn get_channel_by_name(&self, app: AppId, name: &ChannelName) -> Result<Option<Channel>> {
        let mut reader = self.readers.acquire().await?;
        let result = channels::get_channel_by_name(&mut *reader, app, name).await;
        reader.check(result)
    }

    async fn find_direct_channel(&self, app: AppId, direct_key: &str) -> Result<Option<Channel>> {
        let mut reader = self.readers.acquire().await?;
        let result = channels::find_direct_channel(&mut *reader, app, direct_key).await;
        reader.check(result)
    }

    async fn list_channels(
        &self,
        app: AppId,
        filter: &ChannelFilter,
        page: &PageRequest,
    ) -> Result<Page<Channel>> {
        let mut reader = self.readers.acquire().await?;
        reader.begin().await?;
        let result = channels::list_channels(&mut reader, app, filter, page).await;
        reader.finish(result).await
    }

    async fn update_channel(
        &self,
        app: AppId,
        channel: ChannelId,
        changes: ChannelChanges,
    ) -> Result<Channel> {
        self.op(|reply| Op::UpdateChannel {
            app,
            channel,
            changes,
            reply,
        })
        .await
    }

    async fn delete_channel(&self, app: AppId, channel: ChannelId) -> Result<()> {
        self.op(|reply| Op::DeleteChannel {
            app,
            channel,
            reply,
        })
        .await
    }

    // ----- members ------------------------------------------------------------------

    async fn add_member(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<()> {
        self.op(|reply| Op::AddRole {
            role: Role::Member,
            app,
            channel,
            user,
            reply,
        })
        .await
    }

    async fn remove_member(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<()> {
        self.op(|reply| Op::RemoveRole {
            role: Role::Member,
            app,
            channel,
            user,
            reply,
        })
        .await
    }

    async fn is_member(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<bool> {
        let mut reader = self.readers.acquire().await?;
        let result = channels::has_role(&mut *reader, Role::Member, app, channel, user).await;
        reader.check(result)
    }

    async fn list_members(
        &self,
        app: AppId,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<User>> {
        let mut reader = self.readers.acquire().await?;
        reader.begin().await?;
        let result = channels::list_role(&mut reader, Role::Member, app, channel, page).await;
        reader.finish(result).await
    }

    async fn list_memberships(
        &self,
        app: AppId,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<Membership>> {
        let mut reader = self.readers.acquire().await?;
        reader.begin().await?;
        let result = channels::list_memberships(&mut reader, app, channel, page).await;
        reader.finish(result).await
    }

    async fn direct_members(&self, app: AppId, channel: ChannelId) -> Result<Vec<User>> {
        let mut reader = self.readers.acquire().await?;
        let result = channels::direct_members(&mut reader, app, channel).await;
        reader.check(result)
    }

    // ----- moderators ---------------------------------------------------------------

    async fn add_moderator(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<()> {
        self.op(|reply| Op::AddRole {
            role: Role::Moderator,
            app,
            channel,
            user,
            reply,
        })
        .await
    }

    async fn remove_moderator(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<()> {
        self.op(|reply| Op::RemoveRole {
            role: Role::Moderator,
            app,
            channel,
            user,
            reply,
        })
        .await
    }

    async fn is_moderator(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<bool> {
        let mut reader = self.readers.acquire().await?;
        let result = channels::has_role(&mut *reader, Role::Moderator, app, channel, user).await;
        reader.check(result)
    }

    async fn list_moderators(
        &self,
        app: AppId,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<User>> {
        let mut reader = self.readers.acquire().await?;
        reader.begin().await?;
        let result = channels::list_role(&mut reader, Role::Moderator, app, channel, page).await;
        reader.finish(result).await
    }

    // ----- messages -----------------------------------------------------------------

    async fn append_message(&self, app: AppId, new: NewMessage) -> Result<Appended> {
        self.write(|reply| {
            Command::Append(AppendCommand {
                app,
                new,
                extras: None,
                reply,
            })
        })
        .await
    }

    async fn get_message(&self, app: AppId, message: MessageId) -> Result<Option<MessageView>> {
        let mut reader = self.readers.acquire().await?;
        let result = messages::get_message_view(&mut *reader, app, message).await;
        reader.check(result)
    }

    async fn list_messages(
        &self,
        app: AppId,
        filter: &MessageFilter,
        cursor: &CursorRequest,
    ) -> Result<CursorPage<MessageView>> {
        let mut reader = self.readers.acquire().await?;
        reader.begin().await?;
        let result = messages::list_messages(&mut reader, app, filter, cursor).await;
        reader.finish(result).await
    }

    async fn messages_after_seq(
        &self,
        app: AppId,
        channel: ChannelId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<MessageView>> {
        let mut reader = self.readers.acquire().await?;
        let result =
            messages::messages_after_seq(&mut reader, app, channel, after_seq, limit).await;
        reader.check(result)
    }

    async fn update_message(
        &self,
        app: AppId,
        message: MessageId,
        changes: MessageChanges,
    ) -> Result<MessageView> {
        self.op(|reply| Op::UpdateMessage {
            app,
            message,
            changes,
            reply,
        })
        .await
    }

    async fn delete_message(&self, app: AppId, message: MessageId) -> Result<MessageView> {
        self.op(|reply| Op::DeleteMessage {
            app,
            message,
            reply,
        })
        .await
    }

    async fn delete_all_messages(&self, app: AppId) -> Result<u64> {
        self.op(|reply| Op::DeleteAllMessages { app, reply }).await
    }

    // ----- read state ---------------------------------------------------------------

    async fn mark_read(
        &self,
        app: AppId,
        channel: ChannelId,
        user: UserId,
        seq: i64,
    ) -> Result<()> {
        self.op(|reply| Op::MarkRead {
            app,
            channel,
            user,
            seq,
            reply,
        })
        .await
    }

    async fn count_unread(&self, app: AppId, user: UserId) -> Result<u64> {
        let mut reader = self.readers.acquire().await?;
        let result = messages::count_unread(&mut reader, app, user).await;
        reader.check(result)
    }

    // ----- jobs -----------------------------------------------------------------------

    async fn create_job(&self, app: AppId, new: NewJob) -> Result<Job> {
        self.op(|reply| Op::Jobs(JobOp::Create { app, new, reply }))
            .await
    }

    async fn get_job(&self, app: AppId, job: JobId) -> Result<Option<Job>> {
        let mut reader = self.readers.acquire().await?;
        let result = jobs::get_job(&mut *reader, app, job).await;
        reader.check(result)
    }

    async fn list_jobs(
        &self,
        app: AppId,
        filter: &JobFilter,
        page: &PageRequest,
    ) -> Result<Page<Job>> {
        let mut reader = self.readers.acquire().await?;
        reader.begin().await?;
        let result = jobs::list_jobs(&mut reader, app, filter, page).await;
        reader.finish(result).await
    }

    async fn update_job(&self, app: AppId, job: JobId, update: JobUpdate) -> Result<Job> {
        self.op(|reply| {
            Op::Jobs(JobOp::Update {
                app,
                job,
                update,
                reply,
            })
        })
        .await
    }

    async fn heartbeat_jobs(&self, runner: &str, now: Timestamp) -> Result<u64> {
        let runner = runner.to_owned();
        self.op(|reply| Op::Jobs(JobOp::Heartbeat { runner, now, reply }))
            .await
    }

    async fn fail_abandoned_jobs(
        &self,
        runner: Option<&str>,
        heartbeat_before: Timestamp,
        reason: &str,
        now: Timestamp,
    ) -> Result<u64> {
        let runner = runner.map(str::to_owned);
        let reason = reason.to_owned();
        self.op(|reply| {
            Op::Jobs(JobOp::FailAbandoned {
                runner,
                heartbeat_before,
                reason,
                now,
                reply,
            })
        })
        .await
    }

    /// One command for the whole batch, so nothing interleaves with its order; the
    /// writer appends it with whatever else is queued, in as few INSERTs as it can.
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
        let mut reader = self.readers.acquire().await?;
        let result = jobs::find_import_key(&mut *reader, app, scope, key).await;
        reader.check(result)
    }

    async fn put_import_key(
        &self,
        app: AppId,
        scope: &str,
        key: &IdempotencyKey,
        resource: i64,
    ) -> Result<()> {
        let scope = scope.to_owned();
        let key = key.clone();
        self.op(|reply| {
            Op::Jobs(JobOp::PutImportKey {
                app,
                scope,
                key,
                resource,
                reply,
            })
        })
        .await
    }

    async fn messages_after_id(
        &self,
        app: AppId,
        after: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<MessageView>> {
        let mut reader = self.readers.acquire().await?;
        let result = jobs::messages_after_id(&mut *reader, app, after, limit).await;
        reader.check(result)
    }

    async fn users_after_id(
        &self,
        app: AppId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<User>> {
        let mut reader = self.readers.acquire().await?;
        let result = jobs::users_after_id(&mut *reader, app, after, limit).await;
        reader.check(result)
    }

    // ----- threads, receipts, notifications, sessions, reports, invites -----

    async fn append_message_with(
        &self,
        app: AppId,
        new: NewMessage,
        extras: MessageExtras,
    ) -> Result<Appended> {
        let extras = (!extras.is_empty()).then(|| Box::new(extras));
        self.write(|reply| {
            Command::Append(AppendCommand {
                app,
                new,
                extras,
                reply,
            })
        })
        .await
    }

    async fn get_read_mark(
        &self,
        app: AppId,
        channel: ChannelId,
        user: UserId,
    ) -> Result<Option<ReadMark>> {
        let mut reader = self.readers.acquire().await?;
        let result = receipts::get_read_mark(&mut *reader, app, channel, user).await;
        reader.check(result)
    }

    async fn list_read_receipts(
        &self,
        app: AppId,
        message: MessageId,
        page: &PageRequest,
    ) -> Result<Page<ReadReceipt>> {
        let mut reader = self.readers.acquire().await?;
        reader.begin().await?;
        let result = receipts::list_read_receipts(&mut reader, app, message, page).await;
        reader.finish(result).await
    }

    async fn list_unread_summaries(
        &self,
        app: AppId,
        page: &PageRequest,
    ) -> Result<Page<UnreadSummary>> {
        let mut reader = self.readers.acquire().await?;
        reader.begin().await?;
        let result = receipts::list_unread_summaries(&mut reader, app, page).await;
        reader.finish(result).await
    }

    async fn list_notifications(
        &self,
        app: AppId,
        user: UserId,
        cursor: &NotificationCursor,
    ) -> Result<CursorPage<NotificationView>> {
        let mut reader = self.readers.acquire().await?;
        reader.begin().await?;
        let result = notifications::list_notifications(&mut reader, app, user, cursor).await;
        reader.finish(result).await
    }

    async fn create_invite(
        &self,
        app: AppId,
        channel: ChannelId,
        user: UserId,
        invited_by: Option<UserId>,
    ) -> Result<Invite> {
        self.op(|reply| {
            Op::Chat(ChatOp::CreateInvite {
                app,
                channel,
                user,
                invited_by,
                reply,
            })
        })
        .await
    }

    async fn list_invites(
        &self,
        app: AppId,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<Invite>> {
        let mut reader = self.readers.acquire().await?;
        reader.begin().await?;
        let result = invites::list_invites(&mut reader, app, channel, page).await;
        reader.finish(result).await
    }

    async fn report_message(&self, app: AppId, new: NewReport) -> Result<Report> {
        self.op(|reply| Op::Chat(ChatOp::ReportMessage { app, new, reply }))
            .await
    }

    async fn list_reported_messages(
        &self,
        app: AppId,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<MessageView>> {
        let mut reader = self.readers.acquire().await?;
        reader.begin().await?;
        let result = reports::list_reported_messages(&mut reader, app, channel, page).await;
        reader.finish(result).await
    }

    async fn start_user_session(&self, app: AppId, new: NewUserSession) -> Result<UserSession> {
        self.op(|reply| Op::Chat(ChatOp::StartUserSession { app, new, reply }))
            .await
    }

    async fn end_user_session(&self, app: AppId, session: UserSessionId) -> Result<()> {
        self.op(|reply| {
            Op::Chat(ChatOp::EndUserSession {
                app,
                session,
                reply,
            })
        })
        .await
    }

    async fn start_chat_session(
        &self,
        app: AppId,
        user_session: UserSessionId,
        channel: ChannelId,
    ) -> Result<ChatSession> {
        self.op(|reply| {
            Op::Chat(ChatOp::StartChatSession {
                app,
                user_session,
                channel,
                reply,
            })
        })
        .await
    }

    async fn end_chat_session(&self, app: AppId, session: ChatSessionId) -> Result<()> {
        self.op(|reply| {
            Op::Chat(ChatOp::EndChatSession {
                app,
                session,
                reply,
            })
        })
        .await
    }

    async fn list_user_sessions(
        &self,
        app: AppId,
        state: Option<SessionState>,
        page: &PageRequest,
    ) -> Result<Page<UserSession>> {
        let mut reader = self.readers.acquire().await?;
        reader.begin().await?;
        let result = sessions::list_user_sessions(&mut reader, app, state, page).await;
        reader.finish(result).await
    }

    async fn list_chat_sessions(
        &self,
        app: AppId,
        state: Option<SessionState>,
        page: &PageRequest,
    ) -> Result<Page<ChatSession>> {
        let mut reader = self.readers.acquire().await?;
        reader.begin().await?;
        let result = sessions::list_chat_sessions(&mut reader, app, state, page).await;
        reader.finish(result).await
    }

    async fn end_active_sessions(&self) -> Result<u64> {
        self.op(|reply| Op::Chat(ChatOp::EndActiveSessions { reply }))
            .await
    }

    // ----- moderation: restrictions and robots --------------------------------------

    async fn set_restriction(
        &self,
        app: AppId,
        channel: ChannelId,
        new: NewRestriction,
    ) -> Result<Restriction> {
        self.op(|reply| {
            Op::Moderation(ModerationOp::SetRestriction {
                app,
                channel,
                new,
                reply,
            })
        })
        .await
    }

    async fn lift_restriction(
        &self,
        app: AppId,
        channel: ChannelId,
        user: UserId,
        kind: RestrictionKind,
    ) -> Result<bool> {
        self.op(|reply| {
            Op::Moderation(ModerationOp::LiftRestriction {
                app,
                channel,
                user,
                kind,
                reply,
            })
        })
        .await
    }

    async fn active_restrictions(
        &self,
        app: AppId,
        channel: ChannelId,
        user: UserId,
        now: Timestamp,
    ) -> Result<Vec<Restriction>> {
        // Most channels never see a ban or mute: answer those without a read.
        let ticket = match self.cache.may_be_restricted(channel) {
            Ok(false) => return Ok(Vec::new()),
            Ok(true) => None,
            Err(ticket) => Some(ticket),
        };
        let mut reader = self.readers.acquire().await?;
        if let Some(ticket) = ticket {
            let loaded = moderation::restricted_channels(&mut *reader).await;
            let channels = reader.check(loaded)?;
            let restricted = channels.contains(&channel);
            self.cache.fill_restricted(ticket, channels);
            if !restricted {
                return Ok(Vec::new());
            }
        }
        let result = moderation::active_restrictions(&mut *reader, app, channel, user, now).await;
        reader.check(result)
    }

    async fn list_restrictions(
        &self,
        app: AppId,
        channel: ChannelId,
        kind: RestrictionKind,
        now: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<Restriction>> {
        let mut reader = self.readers.acquire().await?;
        reader.begin().await?;
        let result =
            moderation::list_restrictions(&mut reader, app, channel, kind, now, page).await;
        reader.finish(result).await
    }

    async fn add_robot(
        &self,
        app: AppId,
        channel: ChannelId,
        user: UserId,
        max: usize,
    ) -> Result<bool> {
        self.op(|reply| {
            Op::Moderation(ModerationOp::AddRobot {
                app,
                channel,
                user,
                max,
                reply,
            })
        })
        .await
    }

    async fn remove_robot(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<bool> {
        self.op(|reply| {
            Op::Moderation(ModerationOp::RemoveRobot {
                app,
                channel,
                user,
                reply,
            })
        })
        .await
    }

    async fn list_robots(&self, app: AppId, channel: ChannelId) -> Result<Vec<User>> {
        let mut reader = self.readers.acquire().await?;
        let result = moderation::list_robots(&mut *reader, app, channel).await;
        reader.check(result)
    }

    // ----- dialect credentials --------------------------------------------------------

    async fn put_dialect_credential(
        &self,
        app: AppId,
        credential: DialectCredential,
    ) -> Result<()> {
        self.op(|reply| {
            Op::Moderation(ModerationOp::PutDialectCredential {
                app,
                credential,
                reply,
            })
        })
        .await
    }

    async fn list_dialect_credentials(&self, app: AppId) -> Result<Vec<DialectCredential>> {
        let mut reader = self.readers.acquire().await?;
        let result = moderation::list_dialect_credentials(&mut *reader, app).await;
        reader.check(result)
    }

    async fn find_dialect_credential(
        &self,
        dialect: Dialect,
        key: &str,
    ) -> Result<Option<(AppId, DialectCredential)>> {
        let mut reader = self.readers.acquire().await?;
        let result = moderation::find_dialect_credential(&mut *reader, dialect, key).await;
        reader.check(result)
    }

    // ----- dialect tokens -------------------------------------------------------------

    async fn insert_dialect_token(&self, token: DialectToken) -> Result<()> {
        self.op(|reply| Op::Moderation(ModerationOp::InsertDialectToken { token, reply }))
            .await
    }

    async fn find_dialect_token(
        &self,
        kind: DialectTokenKind,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<DialectToken>> {
        let mut reader = self.readers.acquire().await?;
        let result = moderation::find_dialect_token(&mut *reader, kind, token_hash, now).await;
        reader.check(result)
    }

    async fn take_dialect_token(
        &self,
        kind: DialectTokenKind,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<DialectToken>> {
        let token_hash = token_hash.to_owned();
        self.op(|reply| {
            Op::Moderation(ModerationOp::TakeDialectToken {
                kind,
                token_hash,
                now,
                reply,
            })
        })
        .await
    }

    async fn revoke_dialect_tokens(
        &self,
        app: AppId,
        user: UserId,
        kinds: &[DialectTokenKind],
    ) -> Result<u64> {
        let kinds = kinds.to_vec();
        self.op(|reply| {
            Op::Moderation(ModerationOp::RevokeDialectTokens {
                app,
                user,
                kinds,
                reply,
            })
        })
        .await
    }

    // ----- user passwords ---------------------------------------------------------------

    async fn set_user_password(
        &self,
        app: AppId,
        user: UserId,
        password_hash: Option<String>,
    ) -> Result<()> {
        self.op(|reply| {
            Op::Moderation(ModerationOp::SetUserPassword {
                app,
                user,
                password_hash,
                reply,
            })
        })
        .await
    }

    async fn get_user_password(&self, app: AppId, user: UserId) -> Result<Option<String>> {
        let mut reader = self.readers.acquire().await?;
        let result = moderation::get_user_password(&mut *reader, app, user).await;
        reader.check(result)
    }
}
