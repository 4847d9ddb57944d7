//! `/jobs`: the application's background jobs (imports and analytics exports) and
//! the files exports produce.

use super::error::{ApiError, ApiErrorBody};
use super::extract::{AppActor, LinkBase, PathId, Query};
use super::hal::{self, PagedModelApplicationJobResource};
use super::resources::{Link, Links, self_link, time};
use crate::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use hubbub_core::engine::export_download_name;
use hubbub_core::ids::JobId;
use hubbub_core::model::{Job, JobFilter};
use hubbub_core::paging::SortField;
use serde::Serialize;
use utoipa::ToSchema;

const JOB_SORTS: &[SortField] = &[SortField::Id, SortField::CreatedTime];

/// Counts of a job's items (imports) or rows (exports). A hubbub extension.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobProgressResource {
    /// Items handled so far (`succeeded + failed`).
    pub processed: u64,
    /// Items imported or rows exported, including `duplicates`.
    pub succeeded: u64,
    pub failed: u64,
    /// Items recognised as retries of an earlier import (nothing new written).
    pub duplicates: u64,
    /// Items in the file (rows to export), once known.
    pub total: Option<u64>,
}

/// One failed item of an import. A hubbub extension.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobItemErrorResource {
    /// 0-based position of the item in the file's array.
    pub index: u64,
    pub reason: String,
}

/// `ApplicationJobResource`, with hubbub's `progress`, `errors`, `failure` and
/// `channel_id`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationJobResource {
    /// `USER_IMPORT`, `CHANNEL_IMPORT`, `CHANNEL_MEMBERS_IMPORT`, `MESSAGE_IMPORT`,
    /// `MESSAGE_ANALYTICS_EXPORT` or `USER_ANALYTICS_EXPORT`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: i64,
    pub created_time: String,
    pub ended_time: Option<String>,
    /// URL of the file a finished export produced (Bearer-authenticated).
    pub file: Option<String>,
    /// `PENDING`, `RUNNING`, `FINISHED` or `FAILED`.
    pub state: &'static str,
    pub progress: JobProgressResource,
    /// The first failed items, in file order (their count is `progress.failed`).
    pub errors: Vec<JobItemErrorResource>,
    /// Why a `FAILED` job stopped (`interrupted` when its process went away).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The channel of a `CHANNEL_MEMBERS_IMPORT`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<i64>,
    #[schema(value_type = Object)]
    pub _links: Links,
}

impl ApplicationJobResource {
    pub fn new(job: &Job, base: &LinkBase) -> Self {
        let href = format!("{}/jobs/{}", base.base, job.id.0);
        let file = job.file.as_ref().map(|_| format!("{href}/file"));
        let mut links = self_link(href);
        if let Some(f) = &file {
            links.insert("file".into(), Link { href: f.clone() });
        }
        Self {
            kind: job.kind.as_str(),
            id: job.id.0,
            created_time: time(&job.created_at),
            ended_time: job.ended_at.as_ref().map(time),
            file,
            state: job.state.as_str(),
            progress: JobProgressResource {
                processed: job.progress.processed,
                succeeded: job.progress.succeeded,
                failed: job.progress.failed,
                duplicates: job.progress.duplicates,
                total: job.progress.total,
            },
            errors: job
                .errors
                .iter()
                .map(|e| JobItemErrorResource {
                    index: e.index,
                    reason: e.reason.clone(),
                })
                .collect(),
            failure: job.failure.clone(),
            channel_id: job.channel_id.map(|c| c.0),
            _links: links,
        }
    }
}

/// List jobs.
#[utoipa::path(get, path = "/jobs", tag = "Jobs", operation_id = "listJobs",
    params(
        ("page" = Option<i64>, Query, description = "0-based page"),
        ("size" = Option<i64>, Query, description = "page size (max 1000)"),
        ("sort" = Option<Vec<String>>, Query, description = "property,(asc|desc); id, created_time"),
        ("running" = Option<bool>, Query, description = "true: pending or running jobs; false: finished or failed ones"),
    ),
    responses((status = 200, body = PagedModelApplicationJobResource), (status = 400, body = ApiErrorBody), (status = 401, body = ApiErrorBody)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    query: Query,
) -> Result<Json<PagedModelApplicationJobResource>, ApiError> {
    let page = hal::page_request(&query, JOB_SORTS)?;
    let filter = JobFilter {
        running: query.bool("running")?,
    };
    let found = state.engine.list_jobs(&actor, &filter, &page).await?;
    let (items, meta, links) = hal::offset_page(found, &base, &query, |j| {
        ApplicationJobResource::new(j, &base)
    });
    Ok(Json(PagedModelApplicationJobResource::from_parts(
        items, meta, links,
    )))
}

/// Retrieve a job.
#[utoipa::path(get, path = "/jobs/{id}", tag = "Jobs", operation_id = "retrieveJob",
    params(("id" = i64, Path)),
    responses((status = 200, body = ApplicationJobResource), (status = 404, body = ApiErrorBody)))]
pub async fn retrieve_job(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
) -> Result<Json<ApplicationJobResource>, ApiError> {
    let job = state.engine.get_job(&actor, JobId(id)).await?;
    Ok(Json(ApplicationJobResource::new(&job, &base)))
}

/// Download the file of a finished export (JSON Lines, streamed). A hubbub extension;
/// the job's `file` links here.
#[utoipa::path(get, path = "/jobs/{id}/file", tag = "Jobs", operation_id = "downloadJobFile",
    params(("id" = i64, Path)),
    responses((status = 200, content_type = "application/x-ndjson", description = "one JSON object per line"),
        (status = 404, body = ApiErrorBody)))]
pub async fn download_job_file(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let (job, file, path) = state.engine.job_file(&actor, JobId(id)).await?;
    let opened = tokio::fs::File::open(&path).await.map_err(|e| {
        tracing::warn!(error = %e, path = %path.display(), "cannot open an export file");
        ApiError::from(hubbub_core::Error::not_found("job file"))
    })?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
        opened,
        64 * 1024,
    ));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&file.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(file.size));
    if let Ok(disposition) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        export_download_name(&job)
    )) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}
