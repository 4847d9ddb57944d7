//! Background jobs of an application: imports of users, channels, members and
//! messages, and analytics exports. A job is persisted so its state and progress
//! survive the process that runs it and can be read from any node.

use super::Timestamp;
use crate::ids::{AppId, ChannelId, JobId};
use serde::{Deserialize, Serialize};

/// What a job does. The names are ChatKitty's `ApplicationJobResource.type` values,
/// plus `USER_ANALYTICS_EXPORT` (ChatKitty's enum lacks it, its API has the operation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobKind {
    UserImport,
    ChannelImport,
    ChannelMembersImport,
    MessageImport,
    MessageAnalyticsExport,
    UserAnalyticsExport,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::UserImport => "USER_IMPORT",
            JobKind::ChannelImport => "CHANNEL_IMPORT",
            JobKind::ChannelMembersImport => "CHANNEL_MEMBERS_IMPORT",
            JobKind::MessageImport => "MESSAGE_IMPORT",
            JobKind::MessageAnalyticsExport => "MESSAGE_ANALYTICS_EXPORT",
            JobKind::UserAnalyticsExport => "USER_ANALYTICS_EXPORT",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            JobKind::UserImport,
            JobKind::ChannelImport,
            JobKind::ChannelMembersImport,
            JobKind::MessageImport,
            JobKind::MessageAnalyticsExport,
            JobKind::UserAnalyticsExport,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
    pub fn is_export(self) -> bool {
        matches!(
            self,
            JobKind::MessageAnalyticsExport | JobKind::UserAnalyticsExport
        )
    }
}

/// Where a job is in its life. `Finished` and `Failed` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    /// Accepted, waiting for a free runner.
    Pending,
    Running,
    /// Ran to the end; individual items may still have failed (see the progress).
    Finished,
    /// Stopped before the end (see [`Job::failure`]); items reported as succeeded stay.
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "PENDING",
            JobState::Running => "RUNNING",
            JobState::Finished => "FINISHED",
            JobState::Failed => "FAILED",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PENDING" => Some(JobState::Pending),
            "RUNNING" => Some(JobState::Running),
            "FINISHED" => Some(JobState::Finished),
            "FAILED" => Some(JobState::Failed),
            _ => None,
        }
    }
    /// Pending or running.
    pub fn is_active(self) -> bool {
        matches!(self, JobState::Pending | JobState::Running)
    }
}

/// Counts of a job's items (imports) or rows (exports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JobProgress {
    /// Items handled so far: `succeeded + failed`.
    pub processed: u64,
    /// Items imported (or rows exported), including `duplicates`.
    pub succeeded: u64,
    /// Items that could not be imported (the first of them are in [`Job::errors`]).
    pub failed: u64,
    /// Items recognised as retries of earlier imports (same idempotency key, the same
    /// direct channel): nothing new was written for them.
    pub duplicates: u64,
    /// Items in the file, once known.
    pub total: Option<u64>,
}

/// Why one item of an import failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobItemError {
    /// 0-based position of the item in the file's array.
    pub index: u64,
    pub reason: String,
}

/// A file a job produced (analytics exports), stored in the jobs directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFile {
    /// File name inside the exports directory (never a path).
    pub name: String,
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub app_id: AppId,
    pub kind: JobKind,
    pub state: JobState,
    /// The channel of a `CHANNEL_MEMBERS_IMPORT`.
    pub channel_id: Option<ChannelId>,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub progress: JobProgress,
    /// The first item failures, in item order (the count is `progress.failed`).
    pub errors: Vec<JobItemError>,
    /// Why a `FAILED` job stopped (`interrupted` when its process went away).
    pub failure: Option<String>,
    pub file: Option<JobFile>,
    /// The process running the job (a random id per process).
    pub runner: String,
    /// When the runner last showed it was alive.
    pub heartbeat_at: Timestamp,
}

/// A job to create.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: JobKind,
    pub channel_id: Option<ChannelId>,
    pub total: Option<u64>,
    pub runner: String,
}

/// A change to a job; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct JobUpdate {
    pub state: Option<JobState>,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub progress: Option<JobProgress>,
    pub errors: Option<Vec<JobItemError>>,
    pub failure: Option<String>,
    pub file: Option<JobFile>,
}

/// Filters of the job list.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// `true`: pending or running jobs; `false`: finished or failed ones.
    pub running: Option<bool>,
}
