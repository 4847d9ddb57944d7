//! Background jobs: their settings, their lifecycle (pending → running → finished or
//! failed), the progress they persist as they go, and the keeper that tells the
//! jobs of a process that went away.
//!
//! Every process that runs jobs (a server, `hubbub import`) has a random *runner* id
//! and, while it lives, refreshes the heartbeat of its active jobs. A job whose
//! heartbeat is older than `stale_after` belongs to a process that stopped without
//! ending it: any process's keeper marks it `FAILED` with the reason `interrupted`.
//! A process shutting down cleanly gives up its own active jobs at once.

use super::{Actor, Engine, require_app};
use crate::error::{Error, Result};
use crate::ids::{AppId, JobId};
use crate::model::{
    Job, JobFile, JobFilter, JobItemError, JobKind, JobProgress, JobState, JobUpdate, NewJob, now,
};
use crate::paging::{Page, PageRequest};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, watch};

/// The reason given to jobs whose process went away.
pub const INTERRUPTED: &str = "interrupted";

/// How often a running job writes its progress to the store.
const SAVE_EVERY: Duration = Duration::from_millis(500);

/// Settings of imports, exports and the jobs that run them.
#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// Where upload spools (`uploads/`) and export files (`exports/`) live.
    pub dir: PathBuf,
    /// Largest import file, in bytes.
    pub max_file_bytes: u64,
    /// Most items in one import file.
    pub max_items: u64,
    /// Messages appended per store call (one or a few transactions each).
    pub batch_size: usize,
    /// Item failures kept on a job (the count is always exact).
    pub max_errors: usize,
    /// Jobs of this process running at once; the others wait `PENDING`.
    pub max_concurrent: usize,
    /// A job whose heartbeat is older than this is given up as interrupted.
    pub stale_after: Duration,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            dir: std::env::temp_dir().join("hubbub-jobs"),
            max_file_bytes: 1 << 30,
            max_items: 10_000_000,
            batch_size: 4096,
            max_errors: 100,
            max_concurrent: 2,
            stale_after: Duration::from_secs(30),
        }
    }
}

/// The jobs state of one engine (one process).
pub(crate) struct JobsRuntime {
    pub(crate) config: JobsConfig,
    pub(crate) runner: String,
    pub(crate) permits: Arc<Semaphore>,
}

impl JobsRuntime {
    pub(crate) fn new(config: JobsConfig) -> Self {
        let permits = Arc::new(Semaphore::new(config.max_concurrent.max(1)));
        Self {
            config,
            runner: uuid::Uuid::new_v4().simple().to_string(),
            permits,
        }
    }
}

impl Engine {
    /// Replaces the jobs settings (before the engine is shared).
    pub fn with_jobs(mut self, config: JobsConfig) -> Self {
        self.jobs = JobsRuntime::new(config);
        self
    }

    pub fn jobs_config(&self) -> &JobsConfig {
        &self.jobs.config
    }

    /// This process's runner id.
    pub fn runner_id(&self) -> &str {
        &self.jobs.runner
    }

    pub async fn get_job(&self, actor: &Actor, job: JobId) -> Result<Job> {
        self.store
            .get_job(actor.app(), job)
            .await?
            .ok_or_else(|| Error::not_found("job"))
    }

    pub async fn list_jobs(
        &self,
        actor: &Actor,
        filter: &JobFilter,
        page: &PageRequest,
    ) -> Result<Page<Job>> {
        self.store.list_jobs(actor.app(), filter, page).await
    }

    /// The file a finished export produced, with its path on disk. `NotFound` while
    /// the job has none (not an export, not finished, or the file was removed).
    pub async fn job_file(&self, actor: &Actor, job: JobId) -> Result<(Job, JobFile, PathBuf)> {
        require_app(actor)?;
        let job = self.get_job(actor, job).await?;
        let file = job
            .file
            .clone()
            .ok_or_else(|| Error::not_found("job file"))?;
        let path = self.exports_dir().join(&file.name);
        if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Err(Error::not_found("job file"));
        }
        Ok((job, file, path))
    }

    pub(crate) fn exports_dir(&self) -> PathBuf {
        self.jobs.config.dir.join("exports")
    }

    fn uploads_dir(&self) -> PathBuf {
        self.jobs.config.dir.join("uploads")
    }

    /// A fresh path for spooling an upload to, in the uploads directory (created).
    pub async fn spool_path(&self) -> Result<PathBuf> {
        let dir = self.uploads_dir();
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| Error::Unavailable(format!("creating {}: {e}", dir.display())))?;
        Ok(dir.join(format!("upload-{}.json", uuid::Uuid::new_v4().simple())))
    }

    /// The name a spooled upload takes once its job exists, so leftovers of a crash
    /// can be matched to their job.
    pub(crate) fn job_spool_path(&self, app: AppId, job: JobId) -> PathBuf {
        self.uploads_dir()
            .join(format!("job-{}-{}.json", app.0, job.0))
    }

    /// Creates a job for the actor's application, owned by this process.
    pub(crate) async fn create_job(
        &self,
        actor: &Actor,
        kind: JobKind,
        channel: Option<crate::ids::ChannelId>,
        total: Option<u64>,
    ) -> Result<Job> {
        require_app(actor)?;
        self.store
            .create_job(
                actor.app(),
                NewJob {
                    kind,
                    channel_id: channel,
                    total,
                    runner: self.jobs.runner.clone(),
                },
            )
            .await
    }

    /// Starts the keeper of this process's jobs: at once and then periodically it
    /// gives up abandoned jobs (of any process) and refreshes the heartbeat of its own.
    /// Also removes upload spools left behind by jobs that ended.
    pub fn start_job_keeper(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let engine = Arc::clone(self);
        tokio::spawn(async move {
            engine.clean_spools().await;
            let stale = engine.jobs.config.stale_after;
            let period = (stale / 3).clamp(Duration::from_millis(100), Duration::from_secs(5));
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                engine.keep_jobs().await;
            }
        })
    }

    /// One round of the keeper.
    pub async fn keep_jobs(&self) {
        let at = now();
        if let Err(e) = self.store.heartbeat_jobs(&self.jobs.runner, at).await {
            tracing::warn!(error = %e, "cannot refresh job heartbeats");
        }
        let stale = chrono::Duration::from_std(self.jobs.config.stale_after)
            .unwrap_or_else(|_| chrono::Duration::seconds(30));
        match self
            .store
            .fail_abandoned_jobs(None, at - stale, INTERRUPTED, at)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::warn!(jobs = n, "jobs of a stopped process marked interrupted"),
            Err(e) => tracing::warn!(error = %e, "cannot sweep abandoned jobs"),
        }
    }

    /// Gives up this process's active jobs (at shutdown): they are marked `FAILED`
    /// `interrupted` now rather than when their heartbeat goes stale.
    pub async fn stop_jobs(&self) {
        let at = now();
        let far = at + chrono::Duration::days(36_500);
        match self
            .store
            .fail_abandoned_jobs(Some(&self.jobs.runner), far, INTERRUPTED, at)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::warn!(jobs = n, "running jobs interrupted by shutdown"),
            Err(e) => tracing::warn!(error = %e, "cannot mark this process's jobs interrupted"),
        }
    }

    /// Removes spooled uploads whose job has ended, and unclaimed uploads older than a
    /// day (a request that died mid-upload).
    async fn clean_spools(&self) {
        let Ok(mut dir) = tokio::fs::read_dir(self.uploads_dir()).await else {
            return;
        };
        while let Ok(Some(entry)) = dir.next_entry().await {
            let name = entry.file_name().to_string_lossy().into_owned();
            let remove = if let Some((app, job)) = parse_job_spool(&name) {
                match self.store.get_job(app, job).await {
                    Ok(Some(j)) => !j.state.is_active(),
                    Ok(None) => true,
                    Err(_) => false,
                }
            } else {
                entry
                    .metadata()
                    .await
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > Duration::from_secs(86_400))
            };
            if remove {
                let _ = tokio::fs::remove_file(entry.path()).await;
            }
        }
    }
}

fn parse_job_spool(name: &str) -> Option<(AppId, JobId)> {
    let rest = name.strip_prefix("job-")?.strip_suffix(".json")?;
    let (app, job) = rest.split_once('-')?;
    Some((AppId(app.parse().ok()?), JobId(job.parse().ok()?)))
}

/// Removes a file when dropped (spooled uploads, unfinished exports).
pub(crate) struct RemoveOnDrop(pub(crate) PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl RemoveOnDrop {
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

/// Counts a job's items, keeps its first failures, and saves both to the store now
/// and then (and to a watcher, such as the CLI's progress bar, at every step).
pub(crate) struct Tracker<'e> {
    engine: &'e Engine,
    job: Option<(AppId, JobId)>,
    pub(crate) progress: JobProgress,
    errors: Vec<JobItemError>,
    saved_at: Instant,
    watch: Option<watch::Sender<JobProgress>>,
}

impl<'e> Tracker<'e> {
    pub(crate) fn new(
        engine: &'e Engine,
        job: Option<(AppId, JobId)>,
        total: Option<u64>,
        watch: Option<watch::Sender<JobProgress>>,
    ) -> Self {
        let progress = JobProgress {
            total,
            ..JobProgress::default()
        };
        if let Some(w) = &watch {
            w.send_replace(progress);
        }
        Self {
            engine,
            job,
            progress,
            errors: Vec::new(),
            saved_at: Instant::now(),
            watch,
        }
    }

    pub(crate) fn set_total(&mut self, total: u64) {
        self.progress.total = Some(total);
    }

    pub(crate) fn succeeded(&mut self, duplicate: bool) {
        self.progress.processed += 1;
        self.progress.succeeded += 1;
        if duplicate {
            self.progress.duplicates += 1;
        }
    }

    /// Records failures; the errors kept are the first ones by item index.
    pub(crate) fn failed(&mut self, mut failures: Vec<JobItemError>) {
        self.progress.processed += failures.len() as u64;
        self.progress.failed += failures.len() as u64;
        self.errors.append(&mut failures);
        self.errors.sort_by_key(|e| e.index);
        self.errors.truncate(self.engine.jobs.config.max_errors);
    }

    /// Marks the job running.
    pub(crate) async fn start(&mut self) -> Result<()> {
        self.publish_watch();
        let Some((app, job)) = self.job else {
            return Ok(());
        };
        self.engine
            .store
            .update_job(
                app,
                job,
                JobUpdate {
                    state: Some(JobState::Running),
                    started_at: Some(now()),
                    progress: Some(self.progress),
                    ..Default::default()
                },
            )
            .await?;
        self.saved_at = Instant::now();
        Ok(())
    }

    /// Tells the watcher, and saves to the store if the last save is old enough.
    pub(crate) async fn step(&mut self) -> Result<()> {
        self.publish_watch();
        if self.saved_at.elapsed() < SAVE_EVERY {
            return Ok(());
        }
        self.save(JobUpdate::default()).await.map(|_| ())
    }

    fn publish_watch(&self) {
        if let Some(w) = &self.watch {
            w.send_replace(self.progress);
        }
    }

    async fn save(&mut self, mut update: JobUpdate) -> Result<Option<Job>> {
        self.saved_at = Instant::now();
        let Some((app, job)) = self.job else {
            return Ok(None);
        };
        update.progress = Some(self.progress);
        update.errors = Some(self.errors.clone());
        self.engine
            .store
            .update_job(app, job, update)
            .await
            .map(Some)
    }

    /// Ends the job `FINISHED` (with its output file, for exports).
    pub(crate) async fn finish(mut self, file: Option<JobFile>) -> Result<Option<Job>> {
        self.publish_watch();
        self.save(JobUpdate {
            state: Some(JobState::Finished),
            ended_at: Some(now()),
            file,
            ..Default::default()
        })
        .await
    }

    /// Ends the job `FAILED` with `reason`; the progress so far stays.
    pub(crate) async fn fail(mut self, reason: String) -> Result<Option<Job>> {
        self.publish_watch();
        self.save(JobUpdate {
            state: Some(JobState::Failed),
            ended_at: Some(now()),
            failure: Some(reason),
            ..Default::default()
        })
        .await
    }
}

/// Whether an error stops a whole job (the store cannot be used) rather than one item.
pub(crate) fn is_fatal(e: &Error) -> bool {
    matches!(e, Error::Unavailable(_) | Error::Internal(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_spools_are_recognised() {
        assert_eq!(
            parse_job_spool("job-3-17.json"),
            Some((AppId(3), JobId(17)))
        );
        assert_eq!(parse_job_spool("upload-abc.json"), None);
        assert_eq!(parse_job_spool("job-x-1.json"), None);
    }
}
