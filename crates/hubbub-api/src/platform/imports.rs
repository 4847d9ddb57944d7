//! `/imports`: users, channels, channel members and messages from an uploaded JSON
//! array file (`multipart/form-data`, part `file`). Each answers 202 with the job.
//!
//! The upload is streamed to a spool file in the jobs directory as it arrives, never
//! held in memory; beyond the configured size the request is refused (413) and the
//! spool removed. The engine then checks the file (a malformed one is a 400, before
//! any item is imported) and imports it in the background.

use super::error::{ApiError, ApiErrorBody};
use super::extract::{AppActor, LinkBase, PathId};
use super::jobs::ApplicationJobResource;
use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::http::{HeaderMap, StatusCode, header};
use hubbub_core::engine::ImportKind;
use hubbub_core::ids::ChannelId;
use serde::Serialize;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;
use utoipa::ToSchema;

/// The multipart form of every import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportFile {
    /// A JSON array of the import models.
    #[schema(value_type = String, format = Binary)]
    pub file: String,
}

/// Multipart framing allowed beyond the file itself before a declared length is
/// refused outright.
const MULTIPART_OVERHEAD: u64 = 1 << 20;
/// Bytes of an oversized upload still read (and dropped) so the client, still
/// sending, receives the 413 instead of a reset connection.
const DRAIN_LIMIT: u64 = 64 << 20;

/// Import users (`ChatUserImport`).
#[utoipa::path(post, path = "/imports/users", tag = "Imports", operation_id = "importUsers",
    request_body(content = ImportFile, content_type = "multipart/form-data"),
    responses((status = 202, body = ApplicationJobResource), (status = 400, body = ApiErrorBody), (status = 413, body = ApiErrorBody)))]
pub async fn import_users(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<ApplicationJobResource>), ApiError> {
    let file = spool(&state, &headers, form).await?;
    let job = state
        .engine
        .submit_import(&actor, ImportKind::Users, file)
        .await?;
    Ok(accepted(&job, &base))
}

/// Import channels (`DirectChannelImport`, `PublicChannelImport`,
/// `PrivateChannelImport`).
#[utoipa::path(post, path = "/imports/channels", tag = "Imports", operation_id = "importChannels",
    request_body(content = ImportFile, content_type = "multipart/form-data"),
    responses((status = 202, body = ApplicationJobResource), (status = 400, body = ApiErrorBody), (status = 413, body = ApiErrorBody)))]
pub async fn import_channels(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<ApplicationJobResource>), ApiError> {
    let file = spool(&state, &headers, form).await?;
    let job = state
        .engine
        .submit_import(&actor, ImportKind::Channels, file)
        .await?;
    Ok(accepted(&job, &base))
}

/// Import members of a channel (`ChannelMembershipImport`).
#[utoipa::path(post, path = "/imports/channels/{id}/members", tag = "Imports", operation_id = "importChannelMembers",
    params(("id" = i64, Path)),
    request_body(content = ImportFile, content_type = "multipart/form-data"),
    responses((status = 202, body = ApplicationJobResource), (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 413, body = ApiErrorBody)))]
pub async fn import_members(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<ApplicationJobResource>), ApiError> {
    let file = spool(&state, &headers, form).await?;
    let job = state
        .engine
        .submit_import(&actor, ImportKind::Members(ChannelId(id)), file)
        .await?;
    Ok(accepted(&job, &base))
}

/// Import messages (`TextChatUserMessageImport`, `TextSystemMessageImport`; hubbub
/// also keeps an item's `created_time`).
#[utoipa::path(post, path = "/imports/messages", tag = "Imports", operation_id = "importMessages",
    request_body(content = ImportFile, content_type = "multipart/form-data"),
    responses((status = 202, body = ApplicationJobResource), (status = 400, body = ApiErrorBody), (status = 413, body = ApiErrorBody)))]
pub async fn import_messages(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<ApplicationJobResource>), ApiError> {
    let file = spool(&state, &headers, form).await?;
    let job = state
        .engine
        .submit_import(&actor, ImportKind::Messages, file)
        .await?;
    Ok(accepted(&job, &base))
}

fn accepted(
    job: &hubbub_core::model::Job,
    base: &LinkBase,
) -> (StatusCode, Json<ApplicationJobResource>) {
    (
        StatusCode::ACCEPTED,
        Json(ApplicationJobResource::new(job, base)),
    )
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PayloadTooLargeError",
        format!("the import file is larger than the limit of {limit} bytes"),
    )
    .explain("Split the file, or raise imports.max_file_bytes.")
}

fn multipart_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLargeError",
            e.body_text(),
        )
    } else {
        ApiError::bad_request(format!("malformed multipart body: {}", e.body_text()))
    }
}

/// Removes the spool unless the upload completes.
struct Spool(Option<PathBuf>);

impl Drop for Spool {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Streams the `file` part to a spool file, enforcing the size limit.
async fn spool(
    state: &AppState,
    headers: &HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<PathBuf, ApiError> {
    let max = state.engine.jobs_config().max_file_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max.saturating_add(MULTIPART_OVERHEAD)) {
        return Err(too_large(max));
    }
    let mut form = form.map_err(|e| {
        ApiError::bad_request(format!(
            "expected a multipart/form-data body with a 'file' part: {}",
            e.body_text()
        ))
    })?;
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("file") {
            continue;
        }
        let path = state.engine.spool_path().await?;
        let spool = Spool(Some(path.clone()));
        let written = copy_field(&mut field, &path, max).await?;
        if written > max {
            // Read what the client still sends (up to a point) so it gets the answer.
            let mut drained = 0u64;
            while drained < DRAIN_LIMIT {
                match field.chunk().await {
                    Ok(Some(chunk)) => drained += chunk.len() as u64,
                    _ => break,
                }
            }
            return Err(too_large(max));
        }
        let mut spool = spool;
        return Ok(spool.0.take().unwrap_or(path));
    }
    Err(ApiError::bad_request(
        "the multipart body has no 'file' part; send the JSON array as the part named 'file'",
    ))
}

/// Writes the field to `path`; stops (returning a count above `max`) once the limit
/// is passed.
async fn copy_field(
    field: &mut axum::extract::multipart::Field<'_>,
    path: &Path,
    max: u64,
) -> Result<u64, ApiError> {
    let io = |e: std::io::Error| {
        ApiError::from(hubbub_core::Error::Unavailable(format!(
            "spooling an upload: {e}"
        )))
    };
    let file = tokio::fs::File::create(path).await.map_err(io)?;
    let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
    let mut written = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        written += chunk.len() as u64;
        if written > max {
            return Ok(written);
        }
        out.write_all(&chunk).await.map_err(io)?;
    }
    out.flush().await.map_err(io)?;
    Ok(written)
}
