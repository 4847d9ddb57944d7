//! Appending messages: the appends of a batch become a few multi-row INSERTs and one
//! `UPDATE channels` per touched channel, at the head of the batch's transaction.
//!
//! For each message, in queue order, the writer checks the channel (and that it belongs
//! to the application) and the author, resolves its idempotency key — against messages
//! already stored and against earlier messages of the same batch — and assigns the next
//! message id and the channel's next seq from its in-memory counters. Only then are the
//! rows written. Per-message failures (unknown channel) are answered without touching
//! the others; if the group's SQL fails, the transaction is rolled back and begun
//! again, the counters are reloaded, and the messages are retried one by one (each in
//! a SAVEPOINT) so only the culprit fails.

mod extras;

use super::{AppendCommand, BatchCounts, Deferred, Reply, Writer, settle};
use crate::driver_error;
use crate::queries::users::user_exists;
use crate::read_cache::Effect;
use crate::rows::{KIND_FILE, KIND_TEXT, json_to_db, message_at, properties_to_db, ts_to_db};
use hubbub_core::ids::{AppId, ChannelId, MessageId, UserId};
use hubbub_core::model::{
    Appended, Message, MessageContent, MessageExtras, NewMessage, Timestamp, now,
};
use hubbub_core::{Error, Result};
use sqlx::Arguments;
use sqlx::sqlite::{Sqlite, SqliteArguments};
use std::collections::{HashMap, HashSet};

/// Rows per INSERT statement at most: [`INSERT_COLUMNS`] variables each, well under
/// SQLite's limit of 32766 variables per statement.
const MAX_ROWS_PER_INSERT: usize = 256;

/// Cached entries beyond which a cache is emptied rather than grown.
const MAX_CACHED: usize = 65_536;

const INSERT_HEAD: &str = "INSERT OR FAIL INTO messages (id, app_id, channel_id, seq, user_id, \
     sender_key, kind, body, file, group_tag, properties, created_at, parent_id, \
     nested_level, idempotency_key) VALUES ";
const INSERT_ROW: &str = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
const INSERT_COLUMNS: usize = 15;

/// Sets `last_seq` and `last_message_id` of several channels from `(id, seq, id)` rows.
const UPDATE_HEAD: &str = "UPDATE channels SET last_seq = v.column2, last_message_id = v.column3 \
     FROM (VALUES ";
const UPDATE_TAIL: &str = ") AS v WHERE channels.id = v.column1";

/// Finds stored messages by (app_id, sender_key, idempotency_key) rows; the
/// `IS NOT NULL` lets SQLite use the partial index of keyed messages.
const KEY_HEAD: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM messages m WHERE m.idempotency_key IS NOT NULL \
     AND (m.app_id, m.sender_key, m.idempotency_key) IN (VALUES "
);

/// `head`, then `rows` copies of `row` separated by commas, then `tail`.
fn repeated(head: &str, row: &str, rows: usize, tail: &str) -> String {
    let mut sql = String::with_capacity(head.len() + rows * (row.len() + 1) + tail.len());
    sql.push_str(head);
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(row);
    }
    sql.push_str(tail);
    sql
}

fn add<'q, T>(args: &mut SqliteArguments<'q>, value: T) -> Result<()>
where
    T: 'q + sqlx::Encode<'q, Sqlite> + sqlx::Type<Sqlite>,
{
    args.add(value)
        .map_err(|e| Error::Internal(format!("encoding a message column: {e}")))
}

/// The writer's view of a channel it appends to.
#[derive(Debug, Clone, Copy)]
struct ChannelSeq {
    app: AppId,
    last_seq: i64,
    last_message_id: i64,
    /// Written to since its row was last updated.
    dirty: bool,
}

/// State only the writer changes, so only the writer may cache it.
pub(super) struct AppendState {
    channels: HashMap<ChannelId, ChannelSeq>,
    known_users: HashSet<(AppId, UserId)>,
    next_message_id: Option<i64>,
    /// `insert_sql[k]` inserts `2^k` rows: few distinct statements, all cached prepared.
    insert_sql: Vec<String>,
    /// `update_sql[k]` sets the positions of `2^k` channels.
    update_sql: Vec<String>,
    /// `key_sql[k]` finds the messages holding `2^k` idempotency keys.
    key_sql: Vec<String>,
}

/// Stored messages by (application, sender key), then idempotency key.
type StoredKeys = HashMap<(AppId, i64), HashMap<String, Message>>;

impl AppendState {
    pub(super) fn new() -> Self {
        let insert_sql = (0..=MAX_ROWS_PER_INSERT.trailing_zeros())
            .map(|k| repeated(INSERT_HEAD, INSERT_ROW, 1 << k, ""))
            .collect();
        let update_sql = (0..=MAX_ROWS_PER_INSERT.trailing_zeros())
            .map(|k| repeated(UPDATE_HEAD, "(?,?,?)", 1 << k, UPDATE_TAIL))
            .collect();
        let key_sql = (0..=MAX_ROWS_PER_INSERT.trailing_zeros())
            .map(|k| repeated(KEY_HEAD, "(?,?,?)", 1 << k, ")"))
            .collect();
        Self {
            channels: HashMap::new(),
            known_users: HashSet::new(),
            next_message_id: None,
            insert_sql,
            update_sql,
            key_sql,
        }
    }

    /// Drops every cached fact (after a rollback or a reconnect).
    pub(super) fn forget(&mut self) {
        self.channels.clear();
        self.known_users.clear();
        self.next_message_id = None;
    }

    pub(super) fn forget_channel(&mut self, channel: ChannelId) {
        self.channels.remove(&channel);
    }

    pub(super) fn forget_user(&mut self, app: AppId, user: UserId) {
        self.known_users.remove(&(app, user));
    }
}

/// What the writer decided for one message.
enum Plan {
    Unplanned,
    Insert {
        id: i64,
        seq: i64,
        created_at: Timestamp,
    },
    /// A retry of an earlier message of this group (same key, same sender).
    DuplicateOfPending(usize),
    /// A retry of a stored message.
    Duplicate(Box<Message>),
    Failed(Error),
}

struct Pending {
    app: AppId,
    new: NewMessage,
    /// Mentions and notifications to write with the message (see [`extras`]).
    extras: Option<Box<MessageExtras>>,
    reply: Reply<Appended>,
    plan: Plan,
}

impl Pending {
    fn sender_key(&self) -> i64 {
        self.new.user_id.map_or(0, |u| u.0)
    }
}

/// The largest power of two not above `remaining` or [`MAX_ROWS_PER_INSERT`].
fn chunk_len(remaining: usize) -> usize {
    let cap = remaining.min(MAX_ROWS_PER_INSERT);
    if cap == 0 {
        0
    } else {
        1 << (usize::BITS - 1 - cap.leading_zeros())
    }
}

fn into_message(
    p: Pending,
    id: i64,
    seq: i64,
    created_at: Timestamp,
) -> (Message, Reply<Appended>) {
    let Pending {
        app,
        new,
        reply,
        extras,
        ..
    } = p;
    let message = Message {
        id: MessageId(id),
        app_id: app,
        channel_id: new.channel_id,
        seq,
        user_id: new.user_id,
        content: new.content,
        group_tag: new.group_tag,
        properties: new.properties,
        created_at,
        edited_at: None,
        parent_id: new.parent_id,
        nested_level: new.nested_level,
        idempotency_key: new.idempotency_key,
        mentions: extras.map(|e| e.mentions).unwrap_or_default(),
        replies_count: 0,
        report_count: 0,
    };
    (message, reply)
}

/// Answers every message of a failed group with the error (the first gets it as is).
fn spread_error(e: Error, pending: Vec<Pending>, answers: &mut Vec<Deferred>) {
    let mut original = Some(e);
    let mut copy = None;
    for p in pending {
        let error = match original.take() {
            Some(e) => {
                copy = Some(super::copy_error(&e));
                e
            }
            None => copy
                .as_ref()
                .map_or_else(|| Error::internal("append failed"), super::copy_error),
        };
        answers.push(settle(p.reply, Err(error)).0);
    }
}

impl Writer {
    /// Appends the batch's messages. Must be the first work of the transaction: the
    /// group runs without a SAVEPOINT, and if it fails the whole transaction is rolled
    /// back and begun again before the messages are retried one by one.
    pub(super) async fn apply_appends(
        &mut self,
        commands: Vec<AppendCommand>,
        answers: &mut Vec<Deferred>,
        counts: &mut BatchCounts,
    ) {
        let mut pending: Vec<Pending> = commands
            .into_iter()
            .map(|c| Pending {
                app: c.app,
                new: c.new,
                extras: c.extras,
                reply: c.reply,
                plan: Plan::Unplanned,
            })
            .collect();
        let error = match self.plan_and_write(&mut pending).await {
            Ok(effects) => {
                self.effects.extend(effects);
                self.answer(pending, answers, counts);
                return;
            }
            Err(e) => e,
        };
        // Nothing of the group may remain: restart the transaction. Seqs and ids
        // handed out in memory are void too.
        self.forget_positions();
        let restarted = match self.exec("ROLLBACK").await {
            Ok(()) => self.exec("BEGIN IMMEDIATE").await,
            Err(e) => Err(e),
        };
        if let Err(e) = restarted {
            self.poisoned = Some(super::copy_error(&e));
            spread_error(e, pending, answers);
            return;
        }
        if pending.len() == 1 {
            spread_error(error, pending, answers);
            return;
        }
        tracing::warn!(error = %error, messages = pending.len(),
            "group append failed; retrying its messages one by one");
        for mut p in pending {
            p.plan = Plan::Unplanned;
            let mut one = vec![p];
            match self.try_isolated(&mut one).await {
                Ok(()) => self.answer(one, answers, counts),
                Err(e) => spread_error(e, one, answers),
            }
        }
    }

    fn forget_positions(&mut self) {
        self.appends.channels.clear();
        self.appends.next_message_id = None;
    }

    /// Plans and writes `pending` inside a SAVEPOINT; on error nothing of it remains.
    async fn try_isolated(&mut self, pending: &mut [Pending]) -> Result<()> {
        if let Some(e) = &self.poisoned {
            return Err(super::copy_error(e));
        }
        if let Err(e) = self.exec("SAVEPOINT appends").await {
            self.poisoned = Some(super::copy_error(&e));
            return Err(e);
        }
        match self.plan_and_write(pending).await {
            Ok(effects) => {
                if let Err(e) = self.exec("RELEASE appends").await {
                    self.poisoned = Some(super::copy_error(&e));
                    return Err(e);
                }
                self.effects.extend(effects);
                Ok(())
            }
            Err(e) => {
                self.forget_positions();
                let undone = match self.exec("ROLLBACK TO appends").await {
                    Ok(()) => self.exec("RELEASE appends").await,
                    Err(e) => Err(e),
                };
                if let Err(undo) = undone {
                    self.poisoned = Some(undo);
                }
                Err(e)
            }
        }
    }

    /// Returns the channels' new positions, for the read cache.
    async fn plan_and_write(&mut self, pending: &mut [Pending]) -> Result<Vec<Effect>> {
        if self.appends.channels.len() > MAX_CACHED {
            self.appends.channels.clear();
        }
        if self.appends.known_users.len() > MAX_CACHED {
            self.appends.known_users.clear();
        }
        // One timestamp for the group: its messages are committed together.
        let created_at = now();

        // 1. Which messages may be appended at all.
        for p in pending.iter_mut() {
            if !self.channel_of_app(p.app, p.new.channel_id).await? {
                p.plan = Plan::Failed(Error::not_found("channel"));
            } else if let Some(user) = p.new.user_id
                && !self.user_of_app(p.app, user).await?
            {
                p.plan = Plan::Failed(Error::not_found("user"));
            }
        }

        // 2. Their idempotency keys already stored, looked up together.
        let stored = self.stored_keys(pending).await?;

        // 3. Ids and seqs, in queue order; retries become duplicates of the original.
        let mut first_of_key: HashMap<(AppId, i64), HashMap<String, usize>> = HashMap::new();
        let mut touched: Vec<ChannelId> = Vec::new();
        let mut rows: Vec<usize> = Vec::with_capacity(pending.len());
        for (i, p) in pending.iter_mut().enumerate() {
            if !matches!(p.plan, Plan::Unplanned) {
                continue;
            }
            if let Some(key) = &p.new.idempotency_key {
                let scope = (p.app, p.sender_key());
                let earlier = first_of_key
                    .get(&scope)
                    .and_then(|keys| keys.get(key.as_str()));
                if let Some(&first) = earlier {
                    p.plan = Plan::DuplicateOfPending(first);
                    continue;
                }
                let original = stored.get(&scope).and_then(|keys| keys.get(key.as_str()));
                if let Some(original) = original {
                    p.plan = Plan::Duplicate(Box::new(original.clone()));
                    continue;
                }
                first_of_key
                    .entry(scope)
                    .or_default()
                    .insert(key.as_str().to_owned(), i);
            }
            let id = self.next_message_id().await?;
            let channel = p.new.channel_id;
            let Some(state) = self.appends.channels.get_mut(&channel) else {
                return Err(Error::internal("channel state vanished while appending"));
            };
            state.last_seq += 1;
            state.last_message_id = id;
            if !state.dirty {
                state.dirty = true;
                touched.push(channel);
            }
            p.plan = Plan::Insert {
                id,
                seq: state.last_seq,
                created_at: p.new.created_at.unwrap_or(created_at),
            };
            rows.push(i);
        }

        let mut start = 0;
        while start < rows.len() {
            let n = chunk_len(rows.len() - start);
            let sql = &self.appends.insert_sql[n.trailing_zeros() as usize];
            // Arguments sized up front: growing a vector of 3840 of them doubling by
            // doubling showed up as a tenth of the writer's time.
            let mut args = SqliteArguments::default();
            args.reserve(n * INSERT_COLUMNS, 0);
            for &i in &rows[start..start + n] {
                let p = &pending[i];
                let Plan::Insert {
                    id,
                    seq,
                    created_at,
                } = p.plan
                else {
                    return Err(Error::internal("unplanned message in an insert"));
                };
                let (kind, body, file) = match &p.new.content {
                    MessageContent::Text { body } => (KIND_TEXT, Some(body.as_str()), None),
                    MessageContent::File { file } => (KIND_FILE, None, Some(json_to_db(file)?)),
                };
                add(&mut args, id)?;
                add(&mut args, p.app.0)?;
                add(&mut args, p.new.channel_id.0)?;
                add(&mut args, seq)?;
                add(&mut args, p.new.user_id.map(|u| u.0))?;
                add(&mut args, p.sender_key())?;
                add(&mut args, kind)?;
                add(&mut args, body)?;
                add(&mut args, file)?;
                add(&mut args, p.new.group_tag.as_deref())?;
                add(&mut args, properties_to_db(&p.new.properties)?)?;
                add(&mut args, ts_to_db(created_at))?;
                add(&mut args, p.new.parent_id.map(|m| m.0))?;
                add(&mut args, p.new.nested_level)?;
                add(
                    &mut args,
                    p.new.idempotency_key.as_ref().map(|k| k.as_str()),
                )?;
            }
            sqlx::query_with(sql, args)
                .execute(&mut self.conn)
                .await
                .map_err(driver_error::map)?;
            start += n;
        }
        self.write_extras(pending, &rows).await?;

        let mut effects = Vec::with_capacity(touched.len());
        for channel in touched {
            let Some(state) = self.appends.channels.get_mut(&channel) else {
                return Err(Error::internal("channel state vanished while appending"));
            };
            state.dirty = false;
            effects.push(Effect::Appended {
                channel,
                last_seq: state.last_seq,
                last_message_id: MessageId(state.last_message_id),
            });
        }
        // One statement per chunk of channels, not one per channel: with many busy
        // channels, per-channel round trips to the connection's thread dominated.
        let mut start = 0;
        while start < effects.len() {
            let n = chunk_len(effects.len() - start);
            let sql = &self.appends.update_sql[n.trailing_zeros() as usize];
            let mut args = SqliteArguments::default();
            args.reserve(n * 3, 0);
            for effect in &effects[start..start + n] {
                if let Effect::Appended {
                    channel,
                    last_seq,
                    last_message_id,
                } = *effect
                {
                    add(&mut args, channel.0)?;
                    add(&mut args, last_seq)?;
                    add(&mut args, last_message_id.0)?;
                }
            }
            sqlx::query_with(sql, args)
                .execute(&mut self.conn)
                .await
                .map_err(driver_error::map)?;
            start += n;
        }
        Ok(effects)
    }

    /// The stored messages holding the idempotency keys of the appendable messages of
    /// `pending`, by (application, sender key) and key: one query per chunk of keys.
    async fn stored_keys(&mut self, pending: &[Pending]) -> Result<StoredKeys> {
        let mut wanted: Vec<(AppId, i64, &str)> = pending
            .iter()
            .filter(|p| matches!(p.plan, Plan::Unplanned))
            .filter_map(|p| {
                let key = p.new.idempotency_key.as_ref()?;
                Some((p.app, p.sender_key(), key.as_str()))
            })
            .collect();
        let mut found = StoredKeys::new();
        if wanted.is_empty() {
            return Ok(found);
        }
        wanted.sort_unstable();
        wanted.dedup();
        let mut start = 0;
        while start < wanted.len() {
            let n = chunk_len(wanted.len() - start);
            let sql = &self.appends.key_sql[n.trailing_zeros() as usize];
            let mut args = SqliteArguments::default();
            args.reserve(n * 3, 0);
            for &(app, sender_key, key) in &wanted[start..start + n] {
                add(&mut args, app.0)?;
                add(&mut args, sender_key)?;
                add(&mut args, key)?;
            }
            let rows = sqlx::query_with(sql, args)
                .fetch_all(&mut self.conn)
                .await
                .map_err(driver_error::map)?;
            for row in &rows {
                let message = message_at(row, 0)?;
                let Some(key) = message.idempotency_key.clone() else {
                    continue;
                };
                let scope = (message.app_id, message.user_id.map_or(0, |u| u.0));
                found
                    .entry(scope)
                    .or_default()
                    .insert(key.as_str().to_owned(), message);
            }
            start += n;
        }
        Ok(found)
    }

    /// Whether `channel` exists and belongs to `app`, loading its seq on first use.
    async fn channel_of_app(&mut self, app: AppId, channel: ChannelId) -> Result<bool> {
        if let Some(state) = self.appends.channels.get(&channel) {
            return Ok(state.app == app);
        }
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT app_id, last_seq FROM channels WHERE id = ?")
                .bind(channel.0)
                .fetch_optional(&mut self.conn)
                .await
                .map_err(driver_error::map)?;
        let Some((owner, last_seq)) = row else {
            return Ok(false);
        };
        self.appends.channels.insert(
            channel,
            ChannelSeq {
                app: AppId(owner),
                last_seq,
                last_message_id: 0,
                dirty: false,
            },
        );
        Ok(owner == app.0)
    }

    async fn user_of_app(&mut self, app: AppId, user: UserId) -> Result<bool> {
        if self.appends.known_users.contains(&(app, user)) {
            return Ok(true);
        }
        let exists = user_exists(&mut self.conn, app, user).await?;
        if exists {
            self.appends.known_users.insert((app, user));
        }
        Ok(exists)
    }

    /// The next message id: above every id ever handed out (AUTOINCREMENT's
    /// `sqlite_sequence` remembers ids of deleted messages), so ids grow with time.
    async fn next_message_id(&mut self) -> Result<i64> {
        let next = match self.appends.next_message_id {
            Some(next) => next,
            None => {
                let max: i64 = sqlx::query_scalar(
                    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0), \
                     coalesce((SELECT max(id) FROM messages), 0))",
                )
                .fetch_one(&mut self.conn)
                .await
                .map_err(driver_error::map)?;
                max + 1
            }
        };
        self.appends.next_message_id = Some(next + 1);
        Ok(next)
    }

    /// Turns a written group into answers, delivered after the commit.
    fn answer(
        &mut self,
        pending: Vec<Pending>,
        answers: &mut Vec<Deferred>,
        counts: &mut BatchCounts,
    ) {
        /// One caller's answer: known already, or the message stored at `stored[i]`
        /// (its own, or the original it retries).
        struct Answer {
            reply: Reply<Appended>,
            result: Option<Result<Appended>>,
            original: Option<usize>,
        }
        let n = pending.len();
        let mut stored: Vec<Option<Message>> = Vec::with_capacity(n);
        let mut replies: Vec<Answer> = Vec::with_capacity(n);
        for mut p in pending {
            let (message, result, original) = match std::mem::replace(&mut p.plan, Plan::Unplanned)
            {
                Plan::Insert {
                    id,
                    seq,
                    created_at,
                } => {
                    counts.messages_appended += 1;
                    counts.writes += 1;
                    let (message, reply) = into_message(p, id, seq, created_at);
                    stored.push(Some(message));
                    replies.push(Answer {
                        reply,
                        result: None,
                        original: None,
                    });
                    continue;
                }
                Plan::DuplicateOfPending(first) => (None, None, Some(first)),
                Plan::Duplicate(message) => (
                    None,
                    Some(Ok(Appended {
                        message: *message,
                        duplicate: true,
                    })),
                    None,
                ),
                Plan::Failed(e) => (None, Some(Err(e)), None),
                Plan::Unplanned => (
                    None,
                    Some(Err(Error::internal("message was never planned"))),
                    None,
                ),
            };
            stored.push(message);
            replies.push(Answer {
                reply: p.reply,
                result,
                original,
            });
        }
        // Retries within the group get copies of their originals first...
        for answer in replies.iter_mut() {
            if let Some(first) = answer.original {
                answer.result = Some(match stored.get(first).and_then(|m| m.as_ref()) {
                    Some(original) => Ok(Appended {
                        message: original.clone(),
                        duplicate: true,
                    }),
                    None => Err(Error::internal(
                        "the original of a retried message is missing",
                    )),
                });
            }
        }
        // ...then the originals are moved out.
        for (i, answer) in replies.into_iter().enumerate() {
            let result = match answer.result {
                Some(result) => result,
                None => match stored.get_mut(i).and_then(Option::take) {
                    Some(message) => Ok(Appended {
                        message,
                        duplicate: false,
                    }),
                    None => Err(Error::internal("appended message is missing")),
                },
            };
            answers.push(settle(answer.reply, result).0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_powers_of_two_up_to_the_cap() {
        assert_eq!(chunk_len(0), 0);
        assert_eq!(chunk_len(1), 1);
        assert_eq!(chunk_len(3), 2);
        assert_eq!(chunk_len(255), 128);
        assert_eq!(chunk_len(256), 256);
        assert_eq!(chunk_len(5000), MAX_ROWS_PER_INSERT);
    }

    #[test]
    fn insert_statements_have_one_row_of_markers_per_row() {
        let state = AppendState::new();
        for (k, sql) in state.insert_sql.iter().enumerate() {
            assert_eq!(sql.matches('?').count(), INSERT_COLUMNS << k);
        }
        assert_eq!(state.insert_sql.len(), 9);
        for (k, sql) in state.update_sql.iter().enumerate() {
            assert_eq!(sql.matches('?').count(), 3 << k);
        }
    }

    #[tokio::test]
    async fn key_lookups_use_the_idempotency_index() {
        use sqlx::ConnectOptions;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys.db");
        let store = crate::SqliteStore::open(crate::SqliteOptions::new(&path))
            .await
            .expect("open");
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .connect()
            .await
            .expect("connection");
        let state = AppendState::new();
        for sql in [&state.key_sql[0], &state.key_sql[4]] {
            let plan: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .fetch_all(&mut conn)
                    .await
                    .expect("explain");
            let plan: Vec<String> = plan.into_iter().map(|r| r.3).collect();
            assert!(
                plan.iter()
                    .any(|p| p.contains("USING INDEX messages_idempotency")),
                "{plan:?}"
            );
            assert!(!plan.iter().any(|p| p.starts_with("SCAN m")), "{plan:?}");
        }
        store.close().await;
    }
}
