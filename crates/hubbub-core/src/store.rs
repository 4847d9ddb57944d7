//! The storage contract. One crate per backend implements [`Store`]
//! (`hubbub-store-sqlite`, later `hubbub-store-postgres`), and one contract suite
//! (`hubbub-store-tests`) runs against each, so the backends cannot drift.
//!
//! Rules every implementation follows:
//! * Every method that touches tenant data takes the [`AppId`] and only ever sees
//!   rows of that application. A row of another application is "not found".
//! * A method returns only after its change is durably committed.
//! * Driver errors are mapped at the boundary: a unique violation becomes
//!   [`Error::Conflict`], a lost connection [`Error::Unavailable`], and a missing row
//!   [`Error::NotFound`] (or `Ok(None)` for `get_*`/`find_*` methods).
//! * Methods appear below, and in every backend, in this order: health, applications,
//!   access tokens, users, user secrets, channels, members, moderators, messages,
//!   read state, jobs, then threads, receipts, notifications, sessions, reports and
//!   invites, then moderation (restrictions, robots), dialect credentials, dialect
//!   tokens and user passwords.
//!
//! [`Error::Conflict`]: crate::Error::Conflict
//! [`Error::Unavailable`]: crate::Error::Unavailable
//! [`Error::NotFound`]: crate::Error::NotFound

use crate::error::Result;
use crate::ids::{AppId, ChannelId, ChatSessionId, JobId, MessageId, UserId, UserSessionId};
use crate::model::*;
use crate::names::{ChannelName, IdempotencyKey, SecretName, UserName};
use crate::paging::{CursorPage, CursorRequest, Page, PageRequest};
use async_trait::async_trait;

/// Cumulative write counters of a store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Transactions committed by the writer.
    pub commits: u64,
    /// Messages appended (duplicates excluded).
    pub messages_appended: u64,
    /// Write operations of any kind applied.
    pub writes: u64,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    // ----- health -------------------------------------------------------------------

    /// Succeeds when the database answers and its migrations are all applied.
    async fn check_ready(&self) -> Result<()>;

    /// Counters for `/metrics` and benchmarks (cumulative since start).
    fn stats(&self) -> StoreStats {
        StoreStats::default()
    }

    // ----- applications -------------------------------------------------------------

    /// Creates an application. `client_id` must be unique (else `Conflict`).
    async fn create_application(&self, new: NewApplication) -> Result<Application>;

    /// Every application, oldest first (operators only; never exposed to tenants).
    async fn list_applications(&self) -> Result<Vec<Application>>;

    async fn get_application(&self, app: AppId) -> Result<Option<Application>>;

    /// The application and its stored credentials, by public client id.
    async fn find_credentials(&self, client_id: &str) -> Result<Option<AppCredentials>>;

    /// Replaces the application's settings; `NotFound` if it does not exist.
    async fn update_app_settings(&self, app: AppId, settings: AppSettings) -> Result<Application>;

    // ----- access tokens ------------------------------------------------------------

    /// Stores an OAuth access token by its hash.
    async fn insert_access_token(
        &self,
        app: AppId,
        token_hash: &str,
        expires_at: Timestamp,
    ) -> Result<()>;

    /// The application and expiry of a stored token hash (expired tokens may still be
    /// returned; the caller checks the expiry).
    async fn find_access_token(&self, token_hash: &str) -> Result<Option<(AppId, Timestamp)>>;

    /// Deletes tokens that expired before `now`; returns how many.
    async fn purge_expired_tokens(&self, now: Timestamp) -> Result<u64>;

    // ----- users --------------------------------------------------------------------

    /// Creates a user; `Conflict` if the name is taken in this application.
    async fn create_user(&self, app: AppId, new: NewUser) -> Result<User>;

    async fn get_user(&self, app: AppId, user: UserId) -> Result<Option<User>>;

    async fn get_user_by_name(&self, app: AppId, name: &UserName) -> Result<Option<User>>;

    /// Users matching `filter`, paged. Default order: id ascending.
    async fn list_users(
        &self,
        app: AppId,
        filter: &UserFilter,
        page: &PageRequest,
    ) -> Result<Page<User>>;

    /// Applies `changes`; `NotFound` if the user does not exist.
    async fn update_user(&self, app: AppId, user: UserId, changes: UserChanges) -> Result<User>;

    /// Deletes a user with their memberships, moderator roles and secrets. Their
    /// messages stay, authorless. `NotFound` if the user does not exist.
    async fn delete_user(&self, app: AppId, user: UserId) -> Result<()>;

    // ----- user secrets -------------------------------------------------------------

    async fn get_user_secret(
        &self,
        app: AppId,
        user: UserId,
        name: &SecretName,
    ) -> Result<Option<serde_json::Value>>;

    /// Creates or replaces a secret.
    async fn set_user_secret(
        &self,
        app: AppId,
        user: UserId,
        name: &SecretName,
        value: serde_json::Value,
    ) -> Result<()>;

    /// Removes a secret; `NotFound` if there was none.
    async fn delete_user_secret(&self, app: AppId, user: UserId, name: &SecretName) -> Result<()>;

    // ----- channels -----------------------------------------------------------------

    /// Creates a channel with its initial members, a fresh epoch and `last_seq` 0.
    /// `Conflict` if the name is taken, or if `direct_key` already names a channel.
    async fn create_channel(&self, app: AppId, new: NewChannel) -> Result<Channel>;

    async fn get_channel(&self, app: AppId, channel: ChannelId) -> Result<Option<Channel>>;

    async fn get_channel_by_name(&self, app: AppId, name: &ChannelName) -> Result<Option<Channel>>;

    /// The direct channel whose member set has this canonical key.
    async fn find_direct_channel(&self, app: AppId, direct_key: &str) -> Result<Option<Channel>>;

    /// Channels matching `filter`, paged. Default order: id ascending.
    async fn list_channels(
        &self,
        app: AppId,
        filter: &ChannelFilter,
        page: &PageRequest,
    ) -> Result<Page<Channel>>;

    /// Applies `changes`; `NotFound` if the channel does not exist.
    async fn update_channel(
        &self,
        app: AppId,
        channel: ChannelId,
        changes: ChannelChanges,
    ) -> Result<Channel>;

    /// Deletes a channel with its members, moderators and messages.
    async fn delete_channel(&self, app: AppId, channel: ChannelId) -> Result<()>;

    // ----- members ------------------------------------------------------------------

    /// Adds a member (no-op if already one).
    async fn add_member(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<()>;

    /// Removes a member; `NotFound` if the user was not a member.
    async fn remove_member(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<()>;

    async fn is_member(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<bool>;

    /// Members as users, paged (default order: membership creation).
    async fn list_members(
        &self,
        app: AppId,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<User>>;

    /// Memberships with their creation time, paged.
    async fn list_memberships(
        &self,
        app: AppId,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<Membership>>;

    /// Every member of a direct channel, in id order (for the DIRECT resource shape).
    async fn direct_members(&self, app: AppId, channel: ChannelId) -> Result<Vec<User>>;

    // ----- moderators ---------------------------------------------------------------

    /// Adds a moderator (no-op if already one).
    async fn add_moderator(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<()>;

    /// Removes a moderator; `NotFound` if the user was not one.
    async fn remove_moderator(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<()>;

    async fn is_moderator(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<bool>;

    async fn list_moderators(
        &self,
        app: AppId,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<User>>;

    // ----- messages -----------------------------------------------------------------

    /// Appends a message to its channel: assigns the next seq of the channel (seqs are
    /// 1, 2, 3, ... with no gap), a message id and (unless given) `created_at`, and
    /// updates the channel's `last_seq`/`last_message_id`, all in one commit.
    ///
    /// If the message carries an idempotency key that this application already stored
    /// for the same sender (`user_id`, or the system for `None`), nothing is written
    /// and the original message is returned with `duplicate: true` — forever, not for
    /// a time window. `NotFound` if the channel does not exist.
    ///
    /// Backends batch concurrent appends into shared transactions (group commit);
    /// each caller is answered after the commit that holds its message.
    async fn append_message(&self, app: AppId, new: NewMessage) -> Result<Appended>;

    async fn get_message(&self, app: AppId, message: MessageId) -> Result<Option<MessageView>>;

    /// Messages matching `filter`, newest first, from the cursor in its direction.
    async fn list_messages(
        &self,
        app: AppId,
        filter: &MessageFilter,
        cursor: &CursorRequest,
    ) -> Result<CursorPage<MessageView>>;

    /// Messages of a channel with `seq > after_seq`, oldest first, at most `limit`
    /// (realtime recovery and SSE resume).
    async fn messages_after_seq(
        &self,
        app: AppId,
        channel: ChannelId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<MessageView>>;

    /// Applies `changes` and sets `edited_at` when the body changed.
    async fn update_message(
        &self,
        app: AppId,
        message: MessageId,
        changes: MessageChanges,
    ) -> Result<MessageView>;

    /// Deletes one message; returns it as it was. Its seq is not reused.
    async fn delete_message(&self, app: AppId, message: MessageId) -> Result<MessageView>;

    /// Deletes every message of the application; returns how many.
    async fn delete_all_messages(&self, app: AppId) -> Result<u64>;

    // ----- read state ---------------------------------------------------------------

    /// Records that `user` has read `channel` up to and including `seq` (never moves
    /// backwards).
    async fn mark_read(&self, app: AppId, channel: ChannelId, user: UserId, seq: i64)
    -> Result<()>;

    /// Messages in the user's member channels that the user has not read and did not
    /// send (see [`MessageFilter::unread_for`]).
    async fn count_unread(&self, app: AppId, user: UserId) -> Result<u64>;

    // ----- jobs -----------------------------------------------------------------------
    // Imports and analytics exports: the jobs themselves, the batched append and the
    // import keys imports need, and the keyset reads exports stream from.

    /// Creates a job in state `PENDING`, created and heart-beating now.
    async fn create_job(&self, app: AppId, new: NewJob) -> Result<Job>;

    async fn get_job(&self, app: AppId, job: JobId) -> Result<Option<Job>>;

    /// Jobs matching `filter`, paged. Default order: id ascending.
    async fn list_jobs(
        &self,
        app: AppId,
        filter: &JobFilter,
        page: &PageRequest,
    ) -> Result<Page<Job>>;

    /// Applies `update` and refreshes the heartbeat. `NotFound` if the job does not
    /// exist; `Conflict` if it has already ended (`FINISHED` or `FAILED`), so a runner
    /// whose job was given up never overwrites the verdict.
    async fn update_job(&self, app: AppId, job: JobId, update: JobUpdate) -> Result<Job>;

    /// Refreshes the heartbeat of every active job of `runner`; returns how many.
    async fn heartbeat_jobs(&self, runner: &str, now: Timestamp) -> Result<u64>;

    /// Marks `FAILED` (with `reason`, ended `now`) every active job of any application
    /// whose heartbeat is older than `heartbeat_before` — only those of `runner` when
    /// given. Returns how many.
    async fn fail_abandoned_jobs(
        &self,
        runner: Option<&str>,
        heartbeat_before: Timestamp,
        reason: &str,
        now: Timestamp,
    ) -> Result<u64>;

    /// Appends messages in the given order, as [`Store::append_message_with`] would
    /// one after the other: within a channel their seqs follow the order of `batch`.
    /// Each message gets its own result (an unknown channel fails that message only),
    /// and its extras are written with it. The default appends them one by one;
    /// backends override it to write big batches in few transactions.
    async fn append_messages(
        &self,
        app: AppId,
        batch: Vec<(NewMessage, MessageExtras)>,
    ) -> Result<Vec<Result<Appended>>> {
        let mut results = Vec::with_capacity(batch.len());
        for (new, extras) in batch {
            let appended = if extras.is_empty() {
                self.append_message(app, new).await
            } else {
                self.append_message_with(app, new, extras).await
            };
            match appended {
                Err(e @ (crate::Error::Unavailable(_) | crate::Error::Internal(_))) => {
                    return Err(e);
                }
                other => results.push(other),
            }
        }
        Ok(results)
    }

    /// The resource an import created for an item's idempotency key, within `scope`
    /// (`"user"`, `"channel"`, ...).
    async fn find_import_key(
        &self,
        app: AppId,
        scope: &str,
        key: &IdempotencyKey,
    ) -> Result<Option<i64>>;

    /// Records (or replaces) the resource an import created for an idempotency key.
    async fn put_import_key(
        &self,
        app: AppId,
        scope: &str,
        key: &IdempotencyKey,
        resource: i64,
    ) -> Result<()>;

    /// Messages of the application with an id above `after`, oldest first, at most
    /// `limit` (exports walk every message with it).
    async fn messages_after_id(
        &self,
        app: AppId,
        after: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<MessageView>>;

    /// Users of the application with an id above `after`, in id order, at most `limit`.
    async fn users_after_id(
        &self,
        app: AppId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<User>>;

    // ----- threads, receipts, notifications, sessions, reports, invites -----
    // Reply threads need no storage of their own (see `model::threads`): they are read
    // with `MessageFilter::thread`, and `replies_count` is kept by the appends.

    /// Appends a message exactly like [`Store::append_message`] and, in the same
    /// commit, stores its `extras`: its mentions (returned on the message from then
    /// on) and the notifications it causes. A retry of a stored message (same
    /// idempotency key) writes no extras, so notifications are never lost nor doubled.
    /// Every append of a reply (`parent_id` set) also adds one to the parent's
    /// `replies_count`; deleting the reply takes it back.
    async fn append_message_with(
        &self,
        app: AppId,
        new: NewMessage,
        extras: MessageExtras,
    ) -> Result<Appended>;

    /// How far `user` has read `channel`, if they ever marked it read.
    async fn get_read_mark(
        &self,
        app: AppId,
        channel: ChannelId,
        user: UserId,
    ) -> Result<Option<ReadMark>>;

    /// The users whose read mark covers `message` (reached its seq), each with the
    /// time their mark first did, earliest first. [`Store::mark_read`] keeps the history
    /// this needs. `NotFound` if the message does not exist.
    async fn list_read_receipts(
        &self,
        app: AppId,
        message: MessageId,
        page: &PageRequest,
    ) -> Result<Page<ReadReceipt>>;

    /// Every (channel, member) with unread messages (as [`Store::count_unread`] counts
    /// them), in channel then user order.
    async fn list_unread_summaries(
        &self,
        app: AppId,
        page: &PageRequest,
    ) -> Result<Page<UnreadSummary>>;

    /// The user's notifications, newest first, from the cursor in its direction; each
    /// with the message that caused it (notifications of deleted messages are gone).
    async fn list_notifications(
        &self,
        app: AppId,
        user: UserId,
        cursor: &NotificationCursor,
    ) -> Result<CursorPage<NotificationView>>;

    /// Invites `user` to `channel`; inviting again returns the pending invite
    /// unchanged. `NotFound` if the channel or user does not exist.
    async fn create_invite(
        &self,
        app: AppId,
        channel: ChannelId,
        user: UserId,
        invited_by: Option<UserId>,
    ) -> Result<Invite>;

    /// The channel's pending invites (of users who are not members), oldest first.
    async fn list_invites(
        &self,
        app: AppId,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<Invite>>;

    /// Reports a message and adds one to its `report_count`, in one commit. A user's
    /// second report of the same message returns the first and counts nothing.
    /// `NotFound` if the message does not exist.
    async fn report_message(&self, app: AppId, new: NewReport) -> Result<Report>;

    /// The channel's messages with at least one report, most recently reported first.
    async fn list_reported_messages(
        &self,
        app: AppId,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<MessageView>>;

    /// Starts an ACTIVE user session. `NotFound` if the user does not exist.
    async fn start_user_session(&self, app: AppId, new: NewUserSession) -> Result<UserSession>;

    /// Ends a user session and its chat sessions (no-op if already ended).
    /// `NotFound` if there is no such session.
    async fn end_user_session(&self, app: AppId, session: UserSessionId) -> Result<()>;

    /// Starts an ACTIVE chat session of a user session in a channel. `NotFound` if
    /// either does not exist.
    async fn start_chat_session(
        &self,
        app: AppId,
        user_session: UserSessionId,
        channel: ChannelId,
    ) -> Result<ChatSession>;

    /// Ends a chat session (no-op if already ended). `NotFound` if there is none.
    async fn end_chat_session(&self, app: AppId, session: ChatSessionId) -> Result<()>;

    /// User sessions, in the given state or all, paged. Default order: id ascending.
    async fn list_user_sessions(
        &self,
        app: AppId,
        state: Option<SessionState>,
        page: &PageRequest,
    ) -> Result<Page<UserSession>>;

    /// Chat sessions, in the given state or all, paged. Default order: id ascending.
    async fn list_chat_sessions(
        &self,
        app: AppId,
        state: Option<SessionState>,
        page: &PageRequest,
    ) -> Result<Page<ChatSession>>;

    /// Ends every ACTIVE user and chat session of every application (operators: at
    /// start, since no connection survives a restart). Returns the user sessions ended.
    async fn end_active_sessions(&self) -> Result<u64>;

    // ----- moderation: restrictions and robots --------------------------------------
    // Bans and mutes are rows with an optional end; a lapsed one is ignored by every
    // read (and replaced by the next `set_restriction`), so no sweeper is needed.

    /// Bans or mutes a user in a channel, replacing any restriction of that kind the
    /// user already has there. `NotFound` if the channel or user does not exist.
    async fn set_restriction(
        &self,
        app: AppId,
        channel: ChannelId,
        new: NewRestriction,
    ) -> Result<Restriction>;

    /// Lifts a restriction. Returns whether one (in force or lapsed) was removed.
    /// `NotFound` if the channel does not exist.
    async fn lift_restriction(
        &self,
        app: AppId,
        channel: ChannelId,
        user: UserId,
        kind: RestrictionKind,
    ) -> Result<bool>;

    /// The user's restrictions in the channel that are in force at `now`.
    async fn active_restrictions(
        &self,
        app: AppId,
        channel: ChannelId,
        user: UserId,
        now: Timestamp,
    ) -> Result<Vec<Restriction>>;

    /// The channel's restrictions of `kind` in force at `now`, oldest first, paged.
    async fn list_restrictions(
        &self,
        app: AppId,
        channel: ChannelId,
        kind: RestrictionKind,
        now: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<Restriction>>;

    /// Makes a user a robot of the channel, unless the channel already has `max`
    /// robots (`Conflict`). A no-op returning `false` if the user is one already.
    /// `NotFound` if the channel or user does not exist.
    async fn add_robot(
        &self,
        app: AppId,
        channel: ChannelId,
        user: UserId,
        max: usize,
    ) -> Result<bool>;

    /// Returns whether the user was a robot of the channel.
    async fn remove_robot(&self, app: AppId, channel: ChannelId, user: UserId) -> Result<bool>;

    /// The channel's robots in the order they were added.
    async fn list_robots(&self, app: AppId, channel: ChannelId) -> Result<Vec<User>>;

    // ----- dialect credentials --------------------------------------------------------

    /// Sets the application's credential for `credential.dialect`, replacing the old
    /// one. `Conflict` if another application holds the same key for that dialect.
    async fn put_dialect_credential(&self, app: AppId, credential: DialectCredential)
    -> Result<()>;

    /// Every dialect credential of the application.
    async fn list_dialect_credentials(&self, app: AppId) -> Result<Vec<DialectCredential>>;

    /// The application holding `key` for `dialect`, with that credential.
    async fn find_dialect_credential(
        &self,
        dialect: Dialect,
        key: &str,
    ) -> Result<Option<(AppId, DialectCredential)>>;

    // ----- dialect tokens -------------------------------------------------------------

    /// Stores a token. `Conflict` if its hash is already stored.
    async fn insert_dialect_token(&self, token: DialectToken) -> Result<()>;

    /// The unexpired token of `kind` with this hash.
    async fn find_dialect_token(
        &self,
        kind: DialectTokenKind,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<DialectToken>>;

    /// Removes and returns the unexpired token of `kind` with this hash, atomically:
    /// of two concurrent takes of one token, exactly one gets it (single-use codes,
    /// rotated refresh tokens).
    async fn take_dialect_token(
        &self,
        kind: DialectTokenKind,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<DialectToken>>;

    /// Removes every token of the given kinds held by a user (logout). Returns how many.
    async fn revoke_dialect_tokens(
        &self,
        app: AppId,
        user: UserId,
        kinds: &[DialectTokenKind],
    ) -> Result<u64>;

    // ----- user passwords ---------------------------------------------------------------

    /// Sets (or with `None` clears) the user's password hash. `NotFound` if the user
    /// does not exist.
    async fn set_user_password(
        &self,
        app: AppId,
        user: UserId,
        password_hash: Option<String>,
    ) -> Result<()>;

    /// The user's password hash, if any.
    async fn get_user_password(&self, app: AppId, user: UserId) -> Result<Option<String>>;
}
