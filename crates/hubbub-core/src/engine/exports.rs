//! Analytics exports: every message or every user of an application as JSON Lines
//! (`application/x-ndjson`, one JSON object per line, oldest first), streamed from
//! the store in keyset pages so memory stays flat whatever the size.
//!
//! As a job (`POST /analytics/...`) the file is written under the jobs directory
//! (`exports/`) and linked from the finished job; the CLI writes to any file or to
//! standard output. The line formats are documented in the README.

use super::jobs::{RemoveOnDrop, Tracker};
use super::{Actor, Engine, message_type, require_app};
use crate::error::{Error, Result};
use crate::ids::{AppId, ChannelId, JobId};
use crate::model::{
    Job, JobFile, JobKind, JobProgress, MessageContent, MessageFilter, MessageView, User,
    UserFilter,
};
use crate::paging::{CursorDirection, CursorRequest, PageRequest};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::watch;

/// The media type of export files.
pub const EXPORT_CONTENT_TYPE: &str = "application/x-ndjson";

/// Rows read from the store per query.
const PAGE: u32 = 1000;
/// Channels whose names an export remembers before starting over.
const MAX_CACHED_CHANNELS: usize = 65_536;

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Messages,
    Users,
}

impl ExportKind {
    pub fn job_kind(self) -> JobKind {
        match self {
            ExportKind::Messages => JobKind::MessageAnalyticsExport,
            ExportKind::Users => JobKind::UserAnalyticsExport,
        }
    }
    fn stem(self) -> &'static str {
        match self {
            ExportKind::Messages => "messages",
            ExportKind::Users => "users",
        }
    }
}

/// The download name of a job's export file.
pub fn export_download_name(job: &Job) -> String {
    let stem = match job.kind {
        JobKind::UserAnalyticsExport => "users",
        _ => "messages",
    };
    format!("{stem}-export-{}.jsonl", job.id.0)
}

impl Engine {
    /// Creates an export job and runs it in the background; the answer is the job,
    /// `PENDING`.
    pub async fn submit_export(self: &Arc<Self>, actor: &Actor, kind: ExportKind) -> Result<Job> {
        require_app(actor)?;
        let job = self.create_job(actor, kind.job_kind(), None, None).await?;
        let engine = Arc::clone(self);
        let actor = *actor;
        let id = job.id;
        tokio::spawn(async move {
            let Ok(_permit) = engine.jobs.permits.clone().acquire_owned().await else {
                return;
            };
            if let Err(e) = engine.run_export(&actor, id, kind).await {
                tracing::error!(error = %e, job = id.0, "export job could not be recorded");
            }
        });
        Ok(job)
    }

    async fn run_export(&self, actor: &Actor, job: JobId, kind: ExportKind) -> Result<Job> {
        let app = actor.app();
        let dir = self.exports_dir();
        let name = format!("app-{}-job-{}-{}.jsonl", app.0, job.0, kind.stem());
        let part = RemoveOnDrop(dir.join(format!("{name}.part")));
        let mut tracker = Tracker::new(self, Some((app, job)), None, None);
        let written = async {
            tracker.start().await?;
            tokio::fs::create_dir_all(&dir)
                .await
                .map_err(|e| Error::Unavailable(format!("creating {}: {e}", dir.display())))?;
            let file = tokio::fs::File::create(part.path())
                .await
                .map_err(|e| Error::Unavailable(format!("creating an export file: {e}")))?;
            let mut out = BufWriter::with_capacity(256 * 1024, file);
            self.write_export(app, kind, &mut out, &mut tracker).await?;
            out.flush().await.map_err(io_error)?;
            let file = out.into_inner();
            file.sync_all().await.map_err(io_error)?;
            let size = file.metadata().await.map_err(io_error)?.len();
            tokio::fs::rename(part.path(), dir.join(&name))
                .await
                .map_err(io_error)?;
            Ok::<_, Error>(size)
        }
        .await;
        let ended = match written {
            Ok(size) => {
                tracker
                    .finish(Some(JobFile {
                        name,
                        content_type: EXPORT_CONTENT_TYPE.into(),
                        size,
                    }))
                    .await
            }
            Err(e) => {
                tracing::warn!(error = %e, job = job.0, "export job failed");
                tracker.fail(e.to_string()).await
            }
        };
        match ended {
            Ok(Some(job)) => Ok(job),
            Ok(None) => Err(Error::internal("an export job has no record")),
            Err(Error::Conflict(_)) => self.get_job(actor, job).await,
            Err(e) => Err(e),
        }
    }

    /// Writes an export to `out` without a job (the CLI); returns the rows written.
    pub async fn export_to<W>(
        &self,
        actor: &Actor,
        kind: ExportKind,
        out: &mut W,
        watch: Option<watch::Sender<JobProgress>>,
    ) -> Result<u64>
    where
        W: AsyncWrite + Unpin + Send,
    {
        require_app(actor)?;
        let mut tracker = Tracker::new(self, None, None, watch);
        let mut buffered = BufWriter::with_capacity(256 * 1024, out);
        self.write_export(actor.app(), kind, &mut buffered, &mut tracker)
            .await?;
        buffered.flush().await.map_err(io_error)?;
        let rows = tracker.progress.succeeded;
        tracker.finish(None).await?;
        Ok(rows)
    }

    async fn write_export<W>(
        &self,
        app: AppId,
        kind: ExportKind,
        out: &mut W,
        tracker: &mut Tracker<'_>,
    ) -> Result<()>
    where
        W: AsyncWrite + Unpin + Send,
    {
        let mut line = Vec::with_capacity(1024);
        match kind {
            ExportKind::Messages => {
                let total = self
                    .store
                    .list_messages(
                        app,
                        &MessageFilter::default(),
                        &CursorRequest {
                            size: 1,
                            cursor: None,
                            direction: CursorDirection::Older,
                        },
                    )
                    .await?
                    .total;
                tracker.set_total(total);
                let mut channels: HashMap<ChannelId, Option<String>> = HashMap::new();
                let mut after = None;
                loop {
                    let page = self.store.messages_after_id(app, after, PAGE).await?;
                    let Some(last) = page.last() else { break };
                    after = Some(last.message.id);
                    for view in &page {
                        let channel = view.message.channel_id;
                        if !channels.contains_key(&channel) {
                            if channels.len() >= MAX_CACHED_CHANNELS {
                                channels.clear();
                            }
                            let name = self
                                .store
                                .get_channel(app, channel)
                                .await?
                                .and_then(|c| c.name.map(|n| n.as_str().to_owned()));
                            channels.insert(channel, name);
                        }
                        let name = channels.get(&channel).cloned().flatten();
                        write_line(out, &mut line, &message_row(view, name.as_deref())).await?;
                        tracker.succeeded(false);
                    }
                    tracker.step().await?;
                }
            }
            ExportKind::Users => {
                let total = self
                    .store
                    .list_users(
                        app,
                        &UserFilter::default(),
                        &PageRequest {
                            page: 0,
                            size: 1,
                            sort: vec![],
                        },
                    )
                    .await?
                    .total;
                tracker.set_total(total);
                let mut after = None;
                loop {
                    let page = self.store.users_after_id(app, after, PAGE).await?;
                    let Some(last) = page.last() else { break };
                    after = Some(last.id);
                    for user in &page {
                        write_line(out, &mut line, &user_row(user)).await?;
                        tracker.succeeded(false);
                    }
                    tracker.step().await?;
                }
            }
        }
        Ok(())
    }
}

fn io_error(e: std::io::Error) -> Error {
    Error::Unavailable(format!("writing an export: {e}"))
}

async fn write_line<W: AsyncWrite + Unpin>(
    out: &mut W,
    line: &mut Vec<u8>,
    row: &serde_json::Value,
) -> Result<()> {
    line.clear();
    serde_json::to_writer(&mut *line, row).map_err(Error::internal)?;
    line.push(b'\n');
    out.write_all(line).await.map_err(io_error)
}

fn time(t: &crate::model::Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// One line of a messages export.
fn message_row(view: &MessageView, channel_name: Option<&str>) -> serde_json::Value {
    let m = &view.message;
    let (body, file) = match &m.content {
        MessageContent::Text { body } => (Some(body.as_str()), None),
        MessageContent::File { file } => (
            None,
            Some(json!({
                "url": file.url, "name": file.name,
                "content_type": file.content_type, "size": file.size,
            })),
        ),
    };
    json!({
        "id": m.id,
        "type": message_type(view),
        "channel_id": m.channel_id,
        "channel_name": channel_name,
        "seq": m.seq,
        "user_id": m.user_id,
        "username": view.user.as_ref().map(|u| u.name.as_str()),
        "body": body,
        "file": file,
        "group_tag": m.group_tag,
        "properties": m.properties,
        "created_time": time(&m.created_at),
        "last_edited_time": m.edited_at.as_ref().map(time),
        "parent_id": m.parent_id,
        "nested_level": m.nested_level,
    })
}

/// One line of a users export.
fn user_row(user: &User) -> serde_json::Value {
    json!({
        "id": user.id,
        "name": user.name,
        "display_name": user.display_name,
        "type": user.kind.as_str(),
        "is_guest": user.is_guest,
        "display_picture_url": user.display_picture_url,
        "presence_status": user.presence_status,
        "call_status": user.call_status.as_str(),
        "properties": user.properties,
        "created_time": time(&user.created_at),
    })
}
