//! Imports of users, channels, channel members and messages from JSON array files
//! (ChatKitty's `ChatUserImport`, `ChannelImport`, `ChannelMembershipImport` and
//! `MessageImport` models).
//!
//! A file is never held whole in memory. It is read twice, each time as a stream:
//! first to check that it is one JSON array (a malformed file is refused before any
//! item is imported) and to count its items; then, as a job, item by item: a blocking
//! thread parses chunks of items while the job imports the previous chunk through the
//! engine's ordinary rules. An item that fails (unknown user, duplicate name, body too
//! long, bad type) is recorded on the job; the others proceed.
//!
//! Retries: an item's `idempotency_key` makes a re-import recognise what it already
//! did — users and group channels by the key (recorded per application), messages
//! by the key per sender (as sends are), and direct channels by their member set
//! (always). Adding a member twice changes nothing.
//!
//! Messages keep their file order: each chunk goes to the store as one ordered batch,
//! so seqs grow in file order within each channel. A message keeps its `created_time`
//! when the item has one (a hubbub extension: ChatKitty's model has none); otherwise
//! it is stamped at import.

use super::jobs::{RemoveOnDrop, Tracker, is_fatal};
use super::messages::MAX_GROUP_TAG_BYTES;
use super::{Actor, Engine, SendContent, UserRef, require_app};
use super::{CreateChannel, CreateUser};
use crate::error::{Error, Result};
use crate::ids::{AppId, ChannelId, JobId};
use crate::model::{
    Channel, ChannelKind, Job, JobItemError, JobKind, JobProgress, Message, MessageContent,
    MessageExtras, NewMessage, Timestamp, User, UserKind,
};
use crate::names::{ExternalUrl, IdempotencyKey, Properties, UserName};
use chrono::SubsecRound;
use futures::StreamExt;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::fmt;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    Users,
    Channels,
    /// Members of this channel.
    Members(ChannelId),
    Messages,
}

impl ImportKind {
    pub fn job_kind(self) -> JobKind {
        match self {
            ImportKind::Users => JobKind::UserImport,
            ImportKind::Channels => JobKind::ChannelImport,
            ImportKind::Members(_) => JobKind::ChannelMembersImport,
            ImportKind::Messages => JobKind::MessageImport,
        }
    }
    fn channel(self) -> Option<ChannelId> {
        match self {
            ImportKind::Members(c) => Some(c),
            _ => None,
        }
    }
}

/// Items imported at once (users, channels, members), and how many of them run
/// concurrently.
const SMALL_CHUNK: usize = 256;
const CONCURRENCY: usize = 16;
/// Names or channels remembered by a running import before the cache starts over.
const MAX_CACHED: usize = 65_536;
/// Buffer of the file reader.
const READ_BUFFER: usize = 256 * 1024;

/// Scopes of import keys.
const USER_SCOPE: &str = "user";
const CHANNEL_SCOPE: &str = "channel";

// ----- item models (snake_case, camelCase accepted; unknown members ignored) ----------

#[derive(Debug, Deserialize)]
struct FileItem {
    #[serde(default, alias = "contentType")]
    content_type: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    size: Option<i64>,
    url: String,
}

#[derive(Debug, Deserialize)]
struct UserItem {
    name: String,
    #[serde(default, alias = "displayName")]
    display_name: Option<String>,
    #[serde(default, alias = "displayPicture")]
    display_picture: Option<FileItem>,
    #[serde(default, alias = "isGuest", alias = "is_guest")]
    guest: Option<bool>,
    #[serde(default, alias = "idempotencyKey")]
    idempotency_key: Option<String>,
    #[serde(default)]
    properties: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct ChannelItem {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    creator: Option<String>,
    #[serde(default, alias = "idempotencyKey")]
    idempotency_key: Option<String>,
    #[serde(default)]
    members: Option<Vec<String>>,
    #[serde(default)]
    properties: Option<Value>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, alias = "displayName")]
    display_name: Option<String>,
}

impl ChannelItem {
    /// Items that may compete for one channel: the same name, or (direct channels) the
    /// same member set.
    fn conflict_key(&self) -> Option<String> {
        match &self.name {
            Some(name) => Some(format!("name:{name}")),
            None => {
                let mut members = self.members.clone().unwrap_or_default();
                members.extend(self.creator.clone());
                members.sort();
                members.dedup();
                Some(format!("members:{}", members.join("\u{0}")))
            }
        }
    }
}

#[derive(Debug, Deserialize)]
struct MemberItem {
    #[serde(alias = "name", alias = "user")]
    username: String,
    #[serde(default, alias = "idempotencyKey")]
    #[allow(dead_code)]
    idempotency_key: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MessageItem {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(alias = "channelId")]
    channel_id: i64,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    file: Option<FileItem>,
    #[serde(default, alias = "groupTag")]
    group_tag: Option<String>,
    #[serde(default, alias = "idempotencyKey")]
    idempotency_key: Option<String>,
    #[serde(default)]
    properties: Option<Value>,
    #[serde(default, alias = "createdTime", alias = "created_at")]
    created_time: Option<Timestamp>,
}

/// Why an item failed, or why the whole import must stop.
enum ItemError {
    Item(String),
    Fatal(Error),
}

impl From<Error> for ItemError {
    fn from(e: Error) -> Self {
        if is_fatal(&e) {
            ItemError::Fatal(e)
        } else {
            ItemError::Item(e.to_string())
        }
    }
}

fn rejected(reason: impl Into<String>) -> ItemError {
    ItemError::Item(reason.into())
}

type Chunk<T> = Vec<(u64, std::result::Result<T, String>)>;

/// A chunk of messages ready to append, with what each needs afterwards (its item
/// index, channel and author), and the items that already failed.
struct Prepared {
    news: Vec<(NewMessage, MessageExtras)>,
    meta: Vec<(u64, ChannelId, Option<User>)>,
    failures: Vec<JobItemError>,
}

// ----- streaming the file -------------------------------------------------------------

/// Calls `each` with every element of the top-level array, as it is parsed.
struct ArrayVisitor<T, F> {
    each: F,
    _item: std::marker::PhantomData<T>,
}

impl<'de, T, F> Visitor<'de> for ArrayVisitor<T, F>
where
    T: Deserialize<'de>,
    F: FnMut(u64, T) -> std::result::Result<(), String>,
{
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of items")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> std::result::Result<u64, A::Error> {
        let mut n = 0u64;
        while let Some(element) = seq.next_element::<T>()? {
            (self.each)(n, element).map_err(serde::de::Error::custom)?;
            n += 1;
        }
        Ok(n)
    }
}

/// Parses the file's top-level array, calling `each` per element; returns the count.
fn walk_array<T, F>(path: &Path, each: F) -> std::result::Result<u64, String>
where
    T: DeserializeOwned,
    F: FnMut(u64, T) -> std::result::Result<(), String>,
{
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open the file: {e}"))?;
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(READ_BUFFER, file));
    let visitor = ArrayVisitor {
        each,
        _item: std::marker::PhantomData,
    };
    let n = serde::Deserializer::deserialize_seq(&mut de, visitor).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(n)
}

/// Checks that the file is one JSON array of at most `max_items` elements, reading it
/// as a stream; returns the number of elements.
pub fn check_import_file(path: &Path, max_items: u64) -> Result<u64> {
    walk_array::<IgnoredAny, _>(path, |n, _| {
        if n >= max_items {
            Err(format!("the file has more than {max_items} items"))
        } else {
            Ok(())
        }
    })
    .map_err(|e| Error::invalid("file", format!("not a valid JSON array of items: {e}")))
}

/// The message of a serde error without its position inside the item.
fn item_error(e: serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Parses the file on a blocking thread, sending chunks of decoded items.
fn spawn_reader<T>(
    path: PathBuf,
    chunk: usize,
) -> (
    mpsc::Receiver<Chunk<T>>,
    tokio::task::JoinHandle<std::result::Result<u64, String>>,
)
where
    T: DeserializeOwned + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<Chunk<T>>(2);
    let handle = tokio::task::spawn_blocking(move || {
        let mut pending: Chunk<T> = Vec::with_capacity(chunk);
        let count = walk_array::<Box<RawValue>, _>(&path, |index, raw| {
            let decoded = serde_json::from_str::<T>(raw.get()).map_err(item_error);
            pending.push((index, decoded));
            if pending.len() >= chunk {
                let full = std::mem::replace(&mut pending, Vec::with_capacity(chunk));
                tx.blocking_send(full)
                    .map_err(|_| "the import stopped".to_owned())?;
            }
            Ok(())
        })?;
        if !pending.is_empty() {
            tx.blocking_send(pending)
                .map_err(|_| "the import stopped".to_owned())?;
        }
        Ok(count)
    });
    (rx, handle)
}

fn parse_key(raw: Option<&str>) -> std::result::Result<Option<IdempotencyKey>, ItemError> {
    raw.map(IdempotencyKey::parse)
        .transpose()
        .map_err(ItemError::from)
}

fn properties(raw: Option<Value>) -> Value {
    raw.unwrap_or_else(|| Value::Object(Default::default()))
}

impl Engine {
    /// Checks an uploaded file, creates its job and runs it in the background; the
    /// answer is the job, `PENDING`. The file is removed when the job ends (or now,
    /// if it is refused). A malformed file, or one with too many items, is
    /// `Invalid`; a members import into a missing channel is `NotFound`.
    pub async fn submit_import(
        self: &Arc<Self>,
        actor: &Actor,
        kind: ImportKind,
        file: PathBuf,
    ) -> Result<Job> {
        let spool = RemoveOnDrop(file);
        require_app(actor)?;
        self.check_import_target(actor, kind).await?;
        let total = self.check_file(spool.path()).await?;
        let job = self
            .create_job(actor, kind.job_kind(), kind.channel(), Some(total))
            .await?;
        // Renamed after its job, so a leftover of a crash can be told apart.
        let claimed = self.job_spool_path(actor.app(), job.id);
        let spool = match tokio::fs::rename(spool.path(), &claimed).await {
            Ok(()) => {
                std::mem::forget(spool);
                RemoveOnDrop(claimed)
            }
            Err(_) => spool,
        };
        let engine = Arc::clone(self);
        let actor = *actor;
        let job_id = job.id;
        tokio::spawn(async move {
            let Ok(_permit) = engine.jobs.permits.clone().acquire_owned().await else {
                return;
            };
            if let Err(e) = engine
                .run_import(&actor, job_id, kind, spool.path(), total, None)
                .await
            {
                tracing::error!(error = %e, job = job_id.0, "import job could not be recorded");
            }
            drop(spool);
        });
        Ok(job)
    }

    /// Imports a local file in the foreground (the CLI): checks it, creates the job
    /// and runs it to its end, reporting progress to `watch`.
    pub async fn import_file(
        &self,
        actor: &Actor,
        kind: ImportKind,
        path: &Path,
        watch: Option<watch::Sender<JobProgress>>,
    ) -> Result<Job> {
        require_app(actor)?;
        self.check_import_target(actor, kind).await?;
        let total = self.check_file(path).await?;
        let job = self
            .create_job(actor, kind.job_kind(), kind.channel(), Some(total))
            .await?;
        self.run_import(actor, job.id, kind, path, total, watch)
            .await
    }

    async fn check_import_target(&self, actor: &Actor, kind: ImportKind) -> Result<()> {
        if let ImportKind::Members(channel) = kind {
            let channel = self.get_channel(actor, channel).await?;
            if channel.kind == ChannelKind::Direct {
                return Err(Error::invalid(
                    "channel",
                    "members of a direct channel cannot change",
                ));
            }
        }
        Ok(())
    }

    async fn check_file(&self, path: &Path) -> Result<u64> {
        let path = path.to_owned();
        let max = self.jobs.config.max_items;
        tokio::task::spawn_blocking(move || check_import_file(&path, max))
            .await
            .map_err(Error::internal)?
    }

    /// Runs an import job to its end: `FINISHED` (whatever items failed) or `FAILED`
    /// when the store or the file gave out. Returns the job as it ended; `Err` only
    /// when even that could not be recorded.
    pub(crate) async fn run_import(
        &self,
        actor: &Actor,
        job: JobId,
        kind: ImportKind,
        path: &Path,
        total: u64,
        watch: Option<watch::Sender<JobProgress>>,
    ) -> Result<Job> {
        let mut tracker = Tracker::new(self, Some((actor.app(), job)), Some(total), watch);
        let outcome = match tracker.start().await {
            Ok(()) => match kind {
                ImportKind::Users => self.import_users(actor, path, &mut tracker).await,
                ImportKind::Channels => self.import_channels(actor, path, &mut tracker).await,
                ImportKind::Members(c) => self.import_members(actor, c, path, &mut tracker).await,
                ImportKind::Messages => self.import_messages(actor, path, &mut tracker).await,
            },
            Err(e) => Err(e),
        };
        let ended = match outcome {
            Ok(()) => tracker.finish(None).await,
            Err(e) => {
                tracing::warn!(error = %e, job = job.0, "import job failed");
                tracker.fail(e.to_string()).await
            }
        };
        match ended {
            Ok(Some(job)) => Ok(job),
            Ok(None) => Err(Error::internal("an import job has no record")),
            // Given up by another process meanwhile: its verdict stands.
            Err(Error::Conflict(_)) => self.get_job(actor, job).await,
            Err(e) => Err(e),
        }
    }

    /// Feeds the file's chunks to `each`, then checks the reader ended cleanly.
    async fn drain<T, F, Fut>(
        &self,
        path: &Path,
        chunk: usize,
        tracker: &mut Tracker<'_>,
        mut each: F,
    ) -> Result<()>
    where
        T: DeserializeOwned + Send + 'static,
        F: FnMut(Chunk<T>) -> Fut,
        Fut: std::future::Future<Output = Result<(Vec<bool>, Vec<JobItemError>)>>,
    {
        let (mut rx, reader) = spawn_reader::<T>(path.to_owned(), chunk);
        while let Some(items) = rx.recv().await {
            let (succeeded, failures) = each(items).await?;
            for duplicate in succeeded {
                tracker.succeeded(duplicate);
            }
            tracker.failed(failures);
            tracker.step().await?;
        }
        match reader.await {
            Ok(Ok(count)) => {
                tracker.set_total(count);
                Ok(())
            }
            Ok(Err(e)) => Err(Error::invalid("file", e)),
            Err(e) => Err(Error::internal(e)),
        }
    }

    /// Runs `one` over a chunk, [`CONCURRENCY`] items at a time — except items with
    /// the same `key` (the same user or channel name), which run one after the other
    /// in file order, so the first of them in the file is the one that wins.
    async fn run_chunk<T, K, F, Fut>(
        items: Chunk<T>,
        key: K,
        one: F,
    ) -> Result<(Vec<bool>, Vec<JobItemError>)>
    where
        K: Fn(&T) -> Option<String>,
        F: Fn(T) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<bool, ItemError>>,
    {
        let mut groups: Vec<Chunk<T>> = Vec::new();
        let mut by_key: HashMap<String, usize> = HashMap::new();
        for (index, decoded) in items {
            match decoded.as_ref().ok().and_then(&key) {
                Some(k) => match by_key.get(&k) {
                    Some(&g) => groups[g].push((index, decoded)),
                    None => {
                        by_key.insert(k, groups.len());
                        groups.push(vec![(index, decoded)]);
                    }
                },
                None => groups.push(vec![(index, decoded)]),
            }
        }
        let one = &one;
        let outcomes: Vec<Vec<(u64, std::result::Result<bool, ItemError>)>> =
            futures::stream::iter(groups)
                .map(|group| async move {
                    let mut done = Vec::with_capacity(group.len());
                    for (index, decoded) in group {
                        let outcome = match decoded {
                            Ok(item) => one(item).await,
                            Err(reason) => Err(ItemError::Item(reason)),
                        };
                        done.push((index, outcome));
                    }
                    done
                })
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
        let outcomes = outcomes.into_iter().flatten();
        let mut succeeded = Vec::new();
        let mut failures = Vec::new();
        for (index, outcome) in outcomes {
            match outcome {
                Ok(duplicate) => succeeded.push(duplicate),
                Err(ItemError::Item(reason)) => failures.push(JobItemError { index, reason }),
                Err(ItemError::Fatal(e)) => return Err(e),
            }
        }
        Ok((succeeded, failures))
    }

    // ----- users --------------------------------------------------------------------

    async fn import_users(
        &self,
        actor: &Actor,
        path: &Path,
        tracker: &mut Tracker<'_>,
    ) -> Result<()> {
        self.drain::<UserItem, _, _>(path, SMALL_CHUNK, tracker, |items| {
            Self::run_chunk(
                items,
                |u: &UserItem| Some(u.name.clone()),
                |item| self.import_user(actor, item),
            )
        })
        .await
    }

    /// Imports one user; `Ok(true)` when the item is a retry of an earlier import.
    async fn import_user(
        &self,
        actor: &Actor,
        item: UserItem,
    ) -> std::result::Result<bool, ItemError> {
        let app = actor.app();
        let key = parse_key(item.idempotency_key.as_deref())?;
        if let Some(key) = &key
            && let Some(id) = self.store.find_import_key(app, USER_SCOPE, key).await?
            && self
                .store
                .get_user(app, crate::ids::UserId(id))
                .await?
                .is_some()
        {
            return Ok(true);
        }
        let picture = item
            .display_picture
            .as_ref()
            .map(|p| ExternalUrl::parse("display_picture.url", &p.url))
            .transpose()?;
        let user = match self
            .create_user(
                actor,
                CreateUser {
                    name: item.name.clone(),
                    display_name: item.display_name,
                    is_guest: item.guest.unwrap_or(false),
                    kind: UserKind::Person,
                    properties: properties(item.properties),
                },
            )
            .await
        {
            Ok(user) => user,
            Err(Error::Conflict(_)) => {
                return Err(rejected(format!(
                    "user name '{}' is already taken",
                    item.name
                )));
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(picture) = picture {
            self.set_display_picture(actor, user.id, Some(picture.as_str()))
                .await?;
        }
        if let Some(key) = &key {
            self.store
                .put_import_key(app, USER_SCOPE, key, user.id.0)
                .await?;
        }
        Ok(false)
    }

    // ----- channels -----------------------------------------------------------------

    async fn import_channels(
        &self,
        actor: &Actor,
        path: &Path,
        tracker: &mut Tracker<'_>,
    ) -> Result<()> {
        self.drain::<ChannelItem, _, _>(path, SMALL_CHUNK, tracker, |items| {
            Self::run_chunk(items, ChannelItem::conflict_key, |item| {
                self.import_channel(actor, item)
            })
        })
        .await
    }

    async fn import_channel(
        &self,
        actor: &Actor,
        item: ChannelItem,
    ) -> std::result::Result<bool, ItemError> {
        let app = actor.app();
        let raw_kind = item
            .kind
            .as_deref()
            .ok_or_else(|| rejected("type is required: DIRECT, PUBLIC or PRIVATE"))?;
        let kind = ChannelKind::parse(raw_kind).ok_or_else(|| {
            rejected(format!(
                "unknown channel type '{raw_kind}' (expected DIRECT, PUBLIC or PRIVATE)"
            ))
        })?;
        let key = parse_key(item.idempotency_key.as_deref())?;
        if kind != ChannelKind::Direct
            && let Some(key) = &key
            && let Some(id) = self.store.find_import_key(app, CHANNEL_SCOPE, key).await?
            && self.store.get_channel(app, ChannelId(id)).await?.is_some()
        {
            return Ok(true);
        }
        let name_ref = |raw: &str, what: &str| {
            UserName::parse(raw)
                .map(UserRef::Name)
                .map_err(|_| rejected(format!("{what} '{raw}' is not a valid user name")))
        };
        let creator = item
            .creator
            .as_deref()
            .map(|c| name_ref(c, "creator"))
            .transpose()?;
        let members = item
            .members
            .unwrap_or_default()
            .iter()
            .map(|m| name_ref(m, "member"))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let (view, created) = match self
            .create_channel(
                actor,
                CreateChannel {
                    kind,
                    name: item.name.clone(),
                    display_name: item.display_name,
                    creator,
                    members,
                    properties: properties(item.properties),
                    live: None,
                },
            )
            .await
        {
            Ok(done) => done,
            Err(Error::Conflict(_)) => {
                return Err(rejected(format!(
                    "channel name '{}' is already taken",
                    item.name.unwrap_or_default()
                )));
            }
            Err(Error::NotFound { resource: "user" }) => {
                return Err(rejected(format!(
                    "unknown creator '{}'",
                    item.creator.unwrap_or_default()
                )));
            }
            Err(e) => return Err(e.into()),
        };
        if let (Some(key), true) = (&key, created) {
            self.store
                .put_import_key(app, CHANNEL_SCOPE, key, view.channel.id.0)
                .await?;
        }
        Ok(!created)
    }

    // ----- members ------------------------------------------------------------------

    async fn import_members(
        &self,
        actor: &Actor,
        channel: ChannelId,
        path: &Path,
        tracker: &mut Tracker<'_>,
    ) -> Result<()> {
        self.drain::<MemberItem, _, _>(path, SMALL_CHUNK, tracker, |items| {
            Self::run_chunk(
                items,
                |m: &MemberItem| Some(m.username.clone()),
                |item| self.import_member(actor, channel, item),
            )
        })
        .await
    }

    async fn import_member(
        &self,
        actor: &Actor,
        channel: ChannelId,
        item: MemberItem,
    ) -> std::result::Result<bool, ItemError> {
        let app = actor.app();
        let name = UserName::parse(&item.username)
            .map_err(|_| rejected(format!("'{}' is not a valid user name", item.username)))?;
        let Some(user) = self.store.get_user_by_name(app, &name).await? else {
            return Err(rejected(format!("unknown user '{}'", item.username)));
        };
        if self.store.is_member(app, channel, user.id).await? {
            return Ok(true);
        }
        self.add_member(actor, channel, &UserRef::Id(user.id))
            .await?;
        Ok(false)
    }

    // ----- messages -----------------------------------------------------------------

    /// Imports messages as a pipeline: while the store appends one chunk, the events
    /// of the previous chunk are published and the next chunk is prepared (the parser
    /// thread reads ahead too), so the writer is seldom idle. Chunks are still sent to
    /// the store one after the other, which keeps the file's order.
    async fn import_messages(
        &self,
        actor: &Actor,
        path: &Path,
        tracker: &mut Tracker<'_>,
    ) -> Result<()> {
        let app = actor.app();
        let mut authors: HashMap<String, Option<User>> = HashMap::new();
        let mut channels: HashMap<ChannelId, Option<Channel>> = HashMap::new();
        let batch = self.jobs.config.batch_size.max(1);
        let (mut rx, reader) = spawn_reader::<MessageItem>(path.to_owned(), batch);
        let mut current = match rx.recv().await {
            Some(items) => Some(
                self.prepare_chunk(app, items, &mut authors, &mut channels)
                    .await?,
            ),
            None => None,
        };
        let mut to_publish: Vec<(Option<User>, Message)> = Vec::new();
        while let Some(Prepared {
            news,
            meta,
            mut failures,
        }) = current.take()
        {
            let append = self.store.append_messages(app, news);
            let ahead = async {
                self.publish_imported(app, std::mem::take(&mut to_publish), &mut channels)
                    .await?;
                match rx.recv().await {
                    Some(items) => self
                        .prepare_chunk(app, items, &mut authors, &mut channels)
                        .await
                        .map(Some),
                    None => Ok(None),
                }
            };
            let (results, next) = tokio::join!(append, ahead);
            let results = results?;
            current = next?;
            for ((index, channel, author), result) in meta.into_iter().zip(results) {
                match result {
                    Ok(appended) => {
                        tracker.succeeded(appended.duplicate);
                        if !appended.duplicate {
                            to_publish.push((author, appended.message));
                        }
                    }
                    Err(Error::NotFound {
                        resource: "channel",
                    }) => failures.push(JobItemError {
                        index,
                        reason: format!("unknown channel {}", channel.0),
                    }),
                    Err(e) if is_fatal(&e) => return Err(e),
                    Err(e) => failures.push(JobItemError {
                        index,
                        reason: e.to_string(),
                    }),
                }
            }
            tracker.failed(failures);
            tracker.step().await?;
        }
        self.publish_imported(app, to_publish, &mut channels)
            .await?;
        match reader.await {
            Ok(Ok(count)) => {
                tracker.set_total(count);
                Ok(())
            }
            Ok(Err(e)) => Err(Error::invalid("file", e)),
            Err(e) => Err(Error::internal(e)),
        }
    }

    /// Validates a chunk of message items.
    async fn prepare_chunk(
        &self,
        app: AppId,
        items: Chunk<MessageItem>,
        authors: &mut HashMap<String, Option<User>>,
        channels: &mut HashMap<ChannelId, Option<Channel>>,
    ) -> Result<Prepared> {
        let mut prepared = Prepared {
            news: Vec::with_capacity(items.len()),
            meta: Vec::with_capacity(items.len()),
            failures: Vec::new(),
        };
        for (index, decoded) in items {
            let outcome = match decoded {
                Ok(item) => self.prepare_message(app, item, authors, channels).await,
                Err(reason) => Err(ItemError::Item(reason)),
            };
            match outcome {
                Ok((new, extras, author)) => {
                    prepared.meta.push((index, new.channel_id, author));
                    prepared.news.push((new, extras));
                }
                Err(ItemError::Item(reason)) => {
                    prepared.failures.push(JobItemError { index, reason })
                }
                Err(ItemError::Fatal(e)) => return Err(e),
            }
        }
        Ok(prepared)
    }

    /// Publishes `message.created` for committed imported messages.
    async fn publish_imported(
        &self,
        app: AppId,
        messages: Vec<(Option<User>, Message)>,
        channels: &mut HashMap<ChannelId, Option<Channel>>,
    ) -> Result<()> {
        for (author, message) in messages {
            let Some(channel) = self
                .cached_channel(app, message.channel_id, channels)
                .await?
            else {
                continue;
            };
            let epoch = channel.epoch.clone();
            let view = crate::model::MessageView {
                message,
                user: author,
            };
            self.publish(super::message_created_event(&epoch, &view));
        }
        Ok(())
    }

    /// A channel as an import remembers it (a channel's epoch and name do not change
    /// during an import; its position is not read from here).
    async fn cached_channel(
        &self,
        app: AppId,
        id: ChannelId,
        channels: &mut HashMap<ChannelId, Option<Channel>>,
    ) -> Result<Option<Channel>> {
        if let Some(found) = channels.get(&id) {
            return Ok(found.clone());
        }
        if channels.len() >= MAX_CACHED {
            channels.clear();
        }
        let found = self.store.get_channel(app, id).await?;
        channels.insert(id, found.clone());
        Ok(found)
    }

    /// Validates one message item and resolves its author.
    async fn prepare_message(
        &self,
        app: AppId,
        item: MessageItem,
        authors: &mut HashMap<String, Option<User>>,
        channels: &mut HashMap<ChannelId, Option<Channel>>,
    ) -> std::result::Result<(NewMessage, MessageExtras, Option<User>), ItemError> {
        let kind = match item.kind.as_deref() {
            Some(k) => k.to_ascii_uppercase(),
            None => match (item.user.is_some(), item.file.is_some()) {
                (true, false) => "TEXT".into(),
                (true, true) => "FILE".into(),
                (false, false) => "SYSTEM_TEXT".into(),
                (false, true) => "SYSTEM_FILE".into(),
            },
        };
        let (system, file) = match kind.as_str() {
            "TEXT" => (false, false),
            "SYSTEM_TEXT" => (true, false),
            "FILE" => (false, true),
            "SYSTEM_FILE" => (true, true),
            _ => {
                return Err(rejected(format!(
                    "unknown message type '{kind}' (expected TEXT or SYSTEM_TEXT)"
                )));
            }
        };
        let author = match (system, item.user.as_deref()) {
            (true, Some(_)) => {
                return Err(rejected(format!("a {kind} message has no user")));
            }
            (true, None) => None,
            (false, None) => return Err(rejected(format!("a {kind} message needs a user"))),
            (false, Some(name)) => {
                if authors.len() >= MAX_CACHED {
                    authors.clear();
                }
                let found = match authors.get(name) {
                    Some(found) => found.clone(),
                    None => {
                        let found = match UserName::parse(name) {
                            Ok(n) => self.store.get_user_by_name(app, &n).await?,
                            Err(_) => None,
                        };
                        authors.insert(name.to_owned(), found.clone());
                        found
                    }
                };
                Some(found.ok_or_else(|| rejected(format!("unknown user '{name}'")))?)
            }
        };
        let content = if file {
            let f = item
                .file
                .ok_or_else(|| rejected(format!("a {kind} message needs a file")))?;
            SendContent::ExternalFile {
                url: f.url,
                name: f.name.unwrap_or_default(),
                content_type: f.content_type.unwrap_or_default(),
                size: f.size.unwrap_or(0),
            }
        } else {
            SendContent::Text(
                item.body
                    .ok_or_else(|| rejected(format!("a {kind} message needs a body")))?,
            )
        };
        let content = self.parse_content(content)?;
        if item
            .group_tag
            .as_ref()
            .is_some_and(|t| t.len() > MAX_GROUP_TAG_BYTES)
        {
            return Err(rejected(format!(
                "invalid group_tag: must be at most {MAX_GROUP_TAG_BYTES} bytes"
            )));
        }
        let properties = Properties::parse("properties", properties(item.properties))?;
        let idempotency_key = parse_key(item.idempotency_key.as_deref())?;
        // Mentions are parsed as for a send; imported history notifies nobody.
        let mentions = match (
            &content,
            self.cached_channel(app, ChannelId(item.channel_id), channels)
                .await?,
        ) {
            (MessageContent::Text { body }, Some(channel)) => {
                self.find_mentions(&channel, body.as_str()).await?
            }
            _ => Vec::new(),
        };
        let extras = MessageExtras {
            mentions,
            notifications: Vec::new(),
        };
        let new = NewMessage {
            channel_id: ChannelId(item.channel_id),
            user_id: author.as_ref().map(|u| u.id),
            content,
            group_tag: item.group_tag,
            properties,
            parent_id: None,
            nested_level: 0,
            idempotency_key,
            created_at: item.created_time.map(|t| t.trunc_subsecs(6)),
        };
        Ok((new, extras, author))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn a_json_array_is_counted_as_a_stream() {
        let f = file(r#" [ {"a": 1}, 2, "three", [4], null ] "#);
        assert_eq!(check_import_file(f.path(), 10).unwrap(), 5);
        let empty = file("[]");
        assert_eq!(check_import_file(empty.path(), 10).unwrap(), 0);
    }

    #[test]
    fn malformed_files_are_invalid() {
        for text in [
            "",
            "{}",
            r#"{"name": "x"}"#,
            "[1, 2",
            r#"[{"name": "a"},]"#,
            "[1] [2]",
            "[1] x",
            "nope",
        ] {
            let f = file(text);
            let e = check_import_file(f.path(), 10).unwrap_err();
            assert!(matches!(e, Error::Invalid { .. }), "{text:?}: {e:?}");
        }
    }

    #[test]
    fn too_many_items_are_invalid() {
        let f = file("[1, 2, 3]");
        assert!(check_import_file(f.path(), 3).is_ok());
        let e = check_import_file(f.path(), 2).unwrap_err();
        assert!(e.to_string().contains("more than 2 items"), "{e}");
    }

    #[test]
    fn items_decode_with_either_spelling_and_errors_name_the_problem() {
        let m: MessageItem = serde_json::from_str(
            r#"{"type":"TEXT","channelId":3,"body":"hi","user":"jane","createdTime":"2020-01-02T03:04:05.123456789Z","extra":1}"#,
        )
        .unwrap();
        assert_eq!(m.channel_id, 3);
        assert_eq!(
            m.created_time.unwrap().to_rfc3339(),
            "2020-01-02T03:04:05.123456789+00:00"
        );
        let e = serde_json::from_str::<MessageItem>(r#"{"body":"x"}"#).unwrap_err();
        assert_eq!(item_error(e), "missing field `channel_id`");
        let u: UserItem =
            serde_json::from_str(r#"{"name":"a","displayName":"A","guest":true}"#).unwrap();
        assert_eq!(u.display_name.as_deref(), Some("A"));
        assert_eq!(u.guest, Some(true));
    }
}
