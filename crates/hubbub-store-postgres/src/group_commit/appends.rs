//! Appending a batch of messages in one transaction, in a fixed number of statements
//! whatever the batch size (arrays bound as parameters and expanded with `unnest`):
//!
//! 1. `SELECT … FROM channels WHERE id = ANY(…) ORDER BY id FOR UPDATE` locks the
//!    batch's channels in id order (writers of different nodes queue on a hot channel
//!    instead of deadlocking) and says which exist in which application.
//! 2. The authors are checked, and the idempotency keys looked up, in one query each.
//! 3. In queue order, each message is planned: a failure (unknown channel or author),
//!    a retry of a stored message or of an earlier message of the batch, or an insert.
//! 4. Message ids are taken from `messages_id_seq` — only now, under the channels'
//!    locks, so within a channel ids grow with seqs on every node.
//! 5. `UPDATE channels SET last_seq = last_seq + n, last_message_id = … RETURNING
//!    last_seq` assigns each channel's seqs: its `n` inserted messages get
//!    `last_seq - n + 1 ..= last_seq`, in queue order.
//! 6. One `INSERT … SELECT FROM unnest(…)` writes every message (mentions included),
//!    then the extras: one UPDATE for the parents' `replies_count`, one INSERT for the
//!    notifications.
//!
//! The channel rows stay locked until COMMIT, so a channel's seqs commit in order: no
//! duplicate, no gap, and no reader sees seq N+1 before N.

use super::{AppendCommand, Failure, Reply, copy_error};
use crate::rows::{KIND_FILE, KIND_TEXT, json_to_db, message_at, properties_to_db};
use hubbub_core::ids::{AppId, MessageId, UserId};
use hubbub_core::model::{
    Appended, Message, MessageContent, MessageExtras, NewMessage, Timestamp, now,
};
use hubbub_core::{Error, Result};
use sqlx::PgConnection;
use std::collections::{BTreeMap, HashMap, HashSet};

const LOCK_CHANNELS: &str =
    "SELECT id, app_id FROM channels WHERE id = ANY($1) ORDER BY id FOR UPDATE";

const KNOWN_USERS: &str = "SELECT u.app_id, u.id FROM users u \
     JOIN unnest($1::int8[], $2::int8[]) AS w(app_id, id) \
     ON u.app_id = w.app_id AND u.id = w.id";

const STORED_KEYS: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM unnest($1::int8[], $2::int8[], $3::text[]) AS k(app_id, sender_key, key) \
     JOIN messages m ON m.app_id = k.app_id AND m.sender_key = k.sender_key \
     AND m.idempotency_key = k.key WHERE m.idempotency_key IS NOT NULL"
);

const NEXT_IDS: &str = "SELECT nextval('messages_id_seq') FROM generate_series(1, $1)";

const ADVANCE_CHANNELS: &str = "UPDATE channels c \
     SET last_seq = c.last_seq + v.n, last_message_id = v.last_id \
     FROM unnest($1::int8[], $2::int8[], $3::int8[]) AS v(id, n, last_id) \
     WHERE c.id = v.id RETURNING c.id, c.last_seq";

const INSERT_MESSAGES: &str = "INSERT INTO messages (id, app_id, channel_id, seq, user_id, \
     sender_key, kind, body, file, group_tag, properties, created_at, parent_id, \
     nested_level, idempotency_key, mentions) \
     SELECT id, app_id, channel_id, seq, user_id, sender_key, kind, body, file::json, \
     group_tag, properties::json, created_at, parent_id, nested_level, idempotency_key, \
     mentions::json \
     FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], \
     $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::timestamptz[], \
     $13::int8[], $14::int4[], $15::text[], $16::text[]) \
     AS r(id, app_id, channel_id, seq, user_id, sender_key, kind, body, file, group_tag, \
     properties, created_at, parent_id, nested_level, idempotency_key, mentions)";

const COUNT_REPLIES: &str = "UPDATE messages m SET replies_count = m.replies_count + v.n \
     FROM unnest($1::int8[], $2::int8[], $3::int4[]) AS v(app_id, id, n) \
     WHERE m.app_id = v.app_id AND m.id = v.id";

const INSERT_NOTIFICATIONS: &str = "INSERT INTO notifications (app_id, user_id, kind, title, \
     body, channel_id, message_id, created_at) \
     SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[], $4::text[], $5::text[], \
     $6::int8[], $7::int8[], $8::timestamptz[])";

/// What the writer decided for one message.
enum Plan {
    Unplanned,
    Insert {
        id: i64,
        seq: i64,
        created_at: Timestamp,
    },
    /// A retry of an earlier message of this batch (same key, same sender).
    DuplicateOfPending(usize),
    /// A retry of a stored message.
    Duplicate(Box<Message>),
    Failed(Error),
}

/// One message of a batch and what was decided for it.
pub(super) struct Pending {
    app: AppId,
    new: NewMessage,
    extras: Option<Box<MessageExtras>>,
    reply: Reply<Appended>,
    plan: Plan,
}

/// What a committed batch did.
pub(super) struct Outcome {
    pub(super) inserted: u64,
}

impl Pending {
    pub(super) fn new(c: AppendCommand) -> Self {
        Self {
            app: c.app,
            new: c.new,
            extras: c.extras,
            reply: c.reply,
            plan: Plan::Unplanned,
        }
    }

    /// The scope of an idempotency key: the author, or 0 for the system.
    fn sender_key(&self) -> i64 {
        self.new.user_id.map_or(0, |u| u.0)
    }

    /// Forgets every decision (before an attempt: a rolled-back one decided nothing).
    pub(super) fn reset_all(pending: &mut [Pending]) {
        for p in pending {
            p.plan = Plan::Unplanned;
        }
    }

    /// Answers every caller with the error (their batch did not commit).
    pub(super) fn fail_all(pending: Vec<Pending>, e: &Error) {
        for p in pending {
            let _ = p.reply.send(Err(copy_error(e)));
        }
    }

    /// Answers every caller of a committed batch.
    pub(super) fn answer_all(pending: Vec<Pending>) {
        // Retries within the batch get copies of their originals, taken first.
        let copies: Vec<Option<Result<Appended>>> = pending
            .iter()
            .map(|p| match &p.plan {
                Plan::DuplicateOfPending(first) => Some(match pending.get(*first) {
                    Some(original) => original.inserted_message().map(|message| Appended {
                        message,
                        duplicate: true,
                    }),
                    None => Err(Error::internal(
                        "the original of a retried message is missing",
                    )),
                }),
                _ => None,
            })
            .collect();
        for (p, copy) in pending.into_iter().zip(copies) {
            let (reply, answer) = match copy {
                Some(answer) => (p.reply, answer),
                None => p.into_answer(),
            };
            // The caller may have gone away (its request was cancelled): nothing to do.
            let _ = reply.send(answer);
        }
    }

    /// The message this pending insert stored.
    fn inserted_message(&self) -> Result<Message> {
        let Plan::Insert {
            id,
            seq,
            created_at,
        } = self.plan
        else {
            return Err(Error::internal(
                "the original of a retried message was not stored",
            ));
        };
        Ok(Message {
            id: MessageId(id),
            app_id: self.app,
            channel_id: self.new.channel_id,
            seq,
            user_id: self.new.user_id,
            content: self.new.content.clone(),
            group_tag: self.new.group_tag.clone(),
            properties: self.new.properties.clone(),
            created_at,
            edited_at: None,
            parent_id: self.new.parent_id,
            nested_level: self.new.nested_level,
            idempotency_key: self.new.idempotency_key.clone(),
            mentions: self
                .extras
                .as_ref()
                .map(|e| e.mentions.clone())
                .unwrap_or_default(),
            replies_count: 0,
            report_count: 0,
        })
    }

    /// The caller's reply and its answer.
    fn into_answer(self) -> (Reply<Appended>, Result<Appended>) {
        let result = match &self.plan {
            Plan::Insert { .. } => self.inserted_message().map(|message| Appended {
                message,
                duplicate: false,
            }),
            Plan::Duplicate(message) => Ok(Appended {
                message: (**message).clone(),
                duplicate: true,
            }),
            Plan::Failed(e) => Err(copy_failure(e)),
            Plan::DuplicateOfPending(_) | Plan::Unplanned => {
                Err(Error::internal("message was never planned"))
            }
        };
        (self.reply, result)
    }
}

/// A per-message failure, handed to its caller as it is.
fn copy_failure(e: &Error) -> Error {
    match e {
        Error::NotFound { resource } => Error::not_found(resource),
        other => copy_error(other),
    }
}

/// Plans and writes `pending` inside the open transaction of `conn`.
pub(super) async fn plan_and_write(
    conn: &mut PgConnection,
    pending: &mut [Pending],
) -> std::result::Result<Outcome, Failure> {
    // One timestamp for the batch: its messages are committed together.
    let created_at = now();

    // 1. Lock the channels, in id order.
    let mut channel_ids: Vec<i64> = pending.iter().map(|p| p.new.channel_id.0).collect();
    channel_ids.sort_unstable();
    channel_ids.dedup();
    let owners: HashMap<i64, i64> = sqlx::query_as::<_, (i64, i64)>(LOCK_CHANNELS)
        .bind(&channel_ids)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();

    // 2. The authors, and the idempotency keys already stored.
    let mut wanted_users: Vec<(i64, i64)> = pending
        .iter()
        .filter_map(|p| p.new.user_id.map(|u| (p.app.0, u.0)))
        .collect();
    wanted_users.sort_unstable();
    wanted_users.dedup();
    let known_users: HashSet<(i64, i64)> = if wanted_users.is_empty() {
        HashSet::new()
    } else {
        let (apps, ids): (Vec<i64>, Vec<i64>) = wanted_users.into_iter().unzip();
        sqlx::query_as::<_, (i64, i64)>(KNOWN_USERS)
            .bind(&apps)
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect()
    };
    for p in pending.iter_mut() {
        if owners.get(&p.new.channel_id.0) != Some(&p.app.0) {
            p.plan = Plan::Failed(Error::not_found("channel"));
        } else if let Some(user) = p.new.user_id
            && !known_users.contains(&(p.app.0, user.0))
        {
            p.plan = Plan::Failed(Error::not_found("user"));
        }
    }
    let mut stored = stored_keys(conn, pending).await?;

    // 3. Plan in queue order; retries become duplicates of their original.
    let mut first_of_key: HashMap<(AppId, i64, String), usize> = HashMap::new();
    let mut inserts: Vec<usize> = Vec::with_capacity(pending.len());
    for (i, p) in pending.iter_mut().enumerate() {
        if !matches!(p.plan, Plan::Unplanned) {
            continue;
        }
        if let Some(key) = &p.new.idempotency_key {
            let scope = (p.app, p.sender_key(), key.as_str().to_owned());
            if let Some(original) = stored.get(&scope) {
                p.plan = Plan::Duplicate(Box::new(original.clone()));
                continue;
            }
            if let Some(&first) = first_of_key.get(&scope) {
                p.plan = Plan::DuplicateOfPending(first);
                continue;
            }
            first_of_key.insert(scope, i);
        }
        inserts.push(i);
    }
    stored.clear();
    if inserts.is_empty() {
        return Ok(Outcome { inserted: 0 });
    }

    // 4. Ids, under the channels' locks, handed out in queue order.
    let mut ids: Vec<i64> = sqlx::query_scalar(NEXT_IDS)
        .bind(inserts.len() as i64)
        .fetch_all(&mut *conn)
        .await?;
    if ids.len() != inserts.len() {
        return Err(Error::internal("the id sequence handed out too few ids").into());
    }
    ids.sort_unstable();

    // 5. Seqs: each channel's counter goes up by its number of inserts.
    let mut per_channel: BTreeMap<i64, (i64, i64)> = BTreeMap::new(); // id -> (n, last id)
    for (&i, &id) in inserts.iter().zip(&ids) {
        let entry = per_channel
            .entry(pending[i].new.channel_id.0)
            .or_insert((0, id));
        entry.0 += 1;
        entry.1 = id;
    }
    let (channels, counts, last_ids) = per_channel.iter().fold(
        (Vec::new(), Vec::new(), Vec::new()),
        |(mut c, mut n, mut l), (&channel, &(count, last))| {
            c.push(channel);
            n.push(count);
            l.push(last);
            (c, n, l)
        },
    );
    let advanced: Vec<(i64, i64)> = sqlx::query_as(ADVANCE_CHANNELS)
        .bind(&channels)
        .bind(&counts)
        .bind(&last_ids)
        .fetch_all(&mut *conn)
        .await?;
    // The next seq to hand out in each channel.
    let mut next_seq: HashMap<i64, i64> = HashMap::with_capacity(advanced.len());
    for (channel, last_seq) in advanced {
        let n = per_channel.get(&channel).map_or(0, |&(n, _)| n);
        next_seq.insert(channel, last_seq - n + 1);
    }
    for (&i, &id) in inserts.iter().zip(&ids) {
        let p = &mut pending[i];
        let Some(seq) = next_seq.get_mut(&p.new.channel_id.0) else {
            // Locked above, so it cannot have gone.
            return Err(Error::internal("a locked channel vanished while appending").into());
        };
        p.plan = Plan::Insert {
            id,
            seq: *seq,
            created_at: p.new.created_at.unwrap_or(created_at),
        };
        *seq += 1;
    }

    // 6. The rows, then the extras.
    insert_messages(conn, pending, &inserts).await?;
    write_extras(conn, pending, &inserts).await?;
    Ok(Outcome {
        inserted: inserts.len() as u64,
    })
}

/// The stored messages holding the idempotency keys of the appendable messages, by
/// (application, sender key, key).
async fn stored_keys(
    conn: &mut PgConnection,
    pending: &[Pending],
) -> std::result::Result<HashMap<(AppId, i64, String), Message>, Failure> {
    let mut wanted: Vec<(i64, i64, &str)> = pending
        .iter()
        .filter(|p| matches!(p.plan, Plan::Unplanned))
        .filter_map(|p| {
            let key = p.new.idempotency_key.as_ref()?;
            Some((p.app.0, p.sender_key(), key.as_str()))
        })
        .collect();
    let mut found = HashMap::new();
    if wanted.is_empty() {
        return Ok(found);
    }
    wanted.sort_unstable();
    wanted.dedup();
    let mut apps = Vec::with_capacity(wanted.len());
    let mut senders = Vec::with_capacity(wanted.len());
    let mut keys = Vec::with_capacity(wanted.len());
    for (app, sender, key) in wanted {
        apps.push(app);
        senders.push(sender);
        keys.push(key);
    }
    let rows = sqlx::query(STORED_KEYS)
        .bind(&apps)
        .bind(&senders)
        .bind(&keys)
        .fetch_all(&mut *conn)
        .await?;
    for row in &rows {
        let message = message_at(row, 0)?;
        let Some(key) = &message.idempotency_key else {
            continue;
        };
        let scope = (
            message.app_id,
            message.user_id.map_or(0, |u: UserId| u.0),
            key.as_str().to_owned(),
        );
        found.insert(scope, message);
    }
    Ok(found)
}

/// Column arrays of the inserted messages, in the order of `INSERT_MESSAGES`.
#[derive(Default)]
struct MessageColumns {
    id: Vec<i64>,
    app_id: Vec<i64>,
    channel_id: Vec<i64>,
    seq: Vec<i64>,
    user_id: Vec<Option<i64>>,
    sender_key: Vec<i64>,
    kind: Vec<&'static str>,
    body: Vec<Option<String>>,
    file: Vec<Option<String>>,
    group_tag: Vec<Option<String>>,
    properties: Vec<String>,
    created_at: Vec<Timestamp>,
    parent_id: Vec<Option<i64>>,
    nested_level: Vec<i32>,
    idempotency_key: Vec<Option<String>>,
    mentions: Vec<Option<String>>,
}

async fn insert_messages(
    conn: &mut PgConnection,
    pending: &[Pending],
    inserts: &[usize],
) -> std::result::Result<(), Failure> {
    let mut c = MessageColumns::default();
    for &i in inserts {
        let p = &pending[i];
        let Plan::Insert {
            id,
            seq,
            created_at,
        } = p.plan
        else {
            return Err(Error::internal("unplanned message in an insert").into());
        };
        let (kind, body, file) = match &p.new.content {
            MessageContent::Text { body } => (KIND_TEXT, Some(body.as_str().to_owned()), None),
            MessageContent::File { file } => (KIND_FILE, None, Some(json_to_db(file)?)),
        };
        let mentions = match &p.extras {
            Some(extras) if !extras.mentions.is_empty() => Some(json_to_db(&extras.mentions)?),
            _ => None,
        };
        c.id.push(id);
        c.app_id.push(p.app.0);
        c.channel_id.push(p.new.channel_id.0);
        c.seq.push(seq);
        c.user_id.push(p.new.user_id.map(|u| u.0));
        c.sender_key.push(p.sender_key());
        c.kind.push(kind);
        c.body.push(body);
        c.file.push(file);
        c.group_tag.push(p.new.group_tag.clone());
        c.properties.push(properties_to_db(&p.new.properties)?);
        c.created_at.push(created_at);
        c.parent_id.push(p.new.parent_id.map(|m| m.0));
        c.nested_level.push(p.new.nested_level);
        c.idempotency_key.push(
            p.new
                .idempotency_key
                .as_ref()
                .map(|k| k.as_str().to_owned()),
        );
        c.mentions.push(mentions);
    }
    sqlx::query(INSERT_MESSAGES)
        .bind(&c.id)
        .bind(&c.app_id)
        .bind(&c.channel_id)
        .bind(&c.seq)
        .bind(&c.user_id)
        .bind(&c.sender_key)
        .bind(&c.kind)
        .bind(&c.body)
        .bind(&c.file)
        .bind(&c.group_tag)
        .bind(&c.properties)
        .bind(&c.created_at)
        .bind(&c.parent_id)
        .bind(&c.nested_level)
        .bind(&c.idempotency_key)
        .bind(&c.mentions)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// What an append writes besides its row, only for the messages that need it, so a
/// plain message costs nothing more: a reply adds one to its parent's `replies_count`;
/// a message sent with extras inserts the notifications it causes (its mentions went
/// in with its row). Retries of stored messages are never planned as inserts, so they
/// write nothing here.
async fn write_extras(
    conn: &mut PgConnection,
    pending: &[Pending],
    inserts: &[usize],
) -> std::result::Result<(), Failure> {
    let mut replies: BTreeMap<(i64, i64), i32> = BTreeMap::new();
    let mut n_app = Vec::new();
    let mut n_user = Vec::new();
    let mut n_kind = Vec::new();
    let mut n_title = Vec::new();
    let mut n_body = Vec::new();
    let mut n_channel = Vec::new();
    let mut n_message = Vec::new();
    let mut n_created = Vec::new();
    for &i in inserts {
        let p = &pending[i];
        let Plan::Insert { id, created_at, .. } = p.plan else {
            continue;
        };
        if let Some(parent) = p.new.parent_id {
            *replies.entry((p.app.0, parent.0)).or_insert(0) += 1;
        }
        let Some(extras) = &p.extras else {
            continue;
        };
        for n in &extras.notifications {
            n_app.push(p.app.0);
            n_user.push(n.user_id.0);
            n_kind.push(n.kind.as_str());
            n_title.push(n.title.as_str());
            n_body.push(n.body.as_str());
            n_channel.push(p.new.channel_id.0);
            n_message.push(id);
            n_created.push(created_at);
        }
    }
    if !replies.is_empty() {
        let mut apps = Vec::with_capacity(replies.len());
        let mut parents = Vec::with_capacity(replies.len());
        let mut counts = Vec::with_capacity(replies.len());
        for ((app, parent), n) in replies {
            apps.push(app);
            parents.push(parent);
            counts.push(n);
        }
        sqlx::query(COUNT_REPLIES)
            .bind(&apps)
            .bind(&parents)
            .bind(&counts)
            .execute(&mut *conn)
            .await?;
    }
    if !n_app.is_empty() {
        sqlx::query(INSERT_NOTIFICATIONS)
            .bind(&n_app)
            .bind(&n_user)
            .bind(&n_kind)
            .bind(&n_title)
            .bind(&n_body)
            .bind(&n_channel)
            .bind(&n_message)
            .bind(&n_created)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_binds_one_array_per_column() {
        let columns = INSERT_MESSAGES
            .split_once('(')
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(list, _)| list.split(',').count());
        assert_eq!(columns, Some(16));
        assert!(INSERT_MESSAGES.contains("$16::text[]"));
        assert!(!INSERT_MESSAGES.contains("$17"));
    }

    #[test]
    fn channels_are_locked_in_id_order() {
        assert!(LOCK_CHANNELS.contains("ORDER BY id FOR UPDATE"));
        assert!(ADVANCE_CHANNELS.contains("RETURNING c.id, c.last_seq"));
    }

    #[test]
    fn keys_lookups_are_scoped_by_app_and_sender() {
        assert!(STORED_KEYS.contains("m.app_id = k.app_id AND m.sender_key = k.sender_key"));
    }
}
