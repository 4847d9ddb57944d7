//! hubbub extensions of the Platform API for moderation and the live dialects'
//! logins: channel bans and mutes (`/channels/{id}/bans`, `/channels/{id}/mutes`) and
//! user passwords (`PUT /users/{id}/password`). ChatKitty has no such operations; the
//! shapes follow its conventions (HAL pages, `_time` suffixes, user references).

use super::channels::UserReference;
use super::error::{ApiError, ApiErrorBody};
use super::extract::{AppActor, JsonBody, LinkBase, PathId, PathParams, Query};
use super::hal::{self, PagedModelChannelRestrictionResource};
use super::resources::{ChatUserResource, Links, self_link, time};
use crate::AppState;
use axum::Json;
use axum::extract::State;
use hubbub_core::engine::{Restrict, UserRef};
use hubbub_core::ids::{ChannelId, UserId};
use hubbub_core::model::{Restriction, RestrictionKind};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::ToSchema;

/// A ban or a mute of a user in a channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelRestrictionResource {
    /// `BAN` or `MUTE`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub channel_id: i64,
    pub user: ChatUserResource,
    /// When it lapses by itself; absent for one that lasts until lifted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_time: Option<String>,
    pub reason: String,
    pub created_time: String,
    #[schema(value_type = Object)]
    pub _links: Links,
}

impl ChannelRestrictionResource {
    fn new(r: &Restriction, base: &LinkBase) -> Self {
        let links = self_link(format!(
            "{}/channels/{}/{}/{}",
            base.base,
            r.channel_id,
            segment(r.kind),
            r.user.id
        ));
        Self {
            kind: r.kind.as_str(),
            channel_id: r.channel_id.0,
            user: ChatUserResource::new(&r.user, base),
            expires_time: r.until.as_ref().map(time),
            reason: r.reason.clone(),
            created_time: time(&r.created_at),
            _links: links,
        }
    }
}

fn segment(kind: RestrictionKind) -> &'static str {
    match kind {
        RestrictionKind::Ban => "bans",
        RestrictionKind::Mute => "mutes",
    }
}

/// Ban or mute a user: `{"user": {"username": "jane"}, "duration_seconds": 600,
/// "reason": "spam"}`. Without `duration_seconds` it lasts until lifted.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestrictUserRequest {
    pub user: UserReference,
    /// More than 0; at most ten years.
    pub duration_seconds: Option<u64>,
    #[serde(default)]
    pub reason: String,
}

async fn restrict(
    state: &AppState,
    actor: &hubbub_core::engine::Actor,
    base: &LinkBase,
    channel: i64,
    kind: RestrictionKind,
    input: RestrictUserRequest,
) -> Result<Json<ChannelRestrictionResource>, ApiError> {
    let user = input.user.resolve("user")?;
    let restriction = state
        .engine
        .restrict_user(
            actor,
            ChannelId(channel),
            Restrict {
                user,
                kind,
                duration: input.duration_seconds.map(Duration::from_secs),
                reason: input.reason,
            },
        )
        .await?;
    Ok(Json(ChannelRestrictionResource::new(&restriction, base)))
}

async fn list(
    state: &AppState,
    actor: &hubbub_core::engine::Actor,
    base: &LinkBase,
    channel: i64,
    kind: RestrictionKind,
    query: &Query,
) -> Result<Json<PagedModelChannelRestrictionResource>, ApiError> {
    let page = hal::page_request(query, &[])?;
    let found = state
        .engine
        .list_restrictions(actor, ChannelId(channel), kind, &page)
        .await?;
    let (items, meta, links) = hal::offset_page(found, base, query, |r| {
        ChannelRestrictionResource::new(r, base)
    });
    Ok(Json(PagedModelChannelRestrictionResource::from_parts(
        items, meta, links,
    )))
}

async fn lift(
    state: &AppState,
    actor: &hubbub_core::engine::Actor,
    params: &PathParams,
    kind: RestrictionKind,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (channel, user) = (params.id("id")?, params.id("user_id")?);
    let lifted = state
        .engine
        .lift_restriction(actor, ChannelId(channel), &UserRef::Id(UserId(user)), kind)
        .await?;
    if !lifted {
        return Err(ApiError::from(hubbub_core::Error::not_found(match kind {
            RestrictionKind::Ban => "ban",
            RestrictionKind::Mute => "mute",
        })));
    }
    Ok(Json(serde_json::json!({"lifted": true})))
}

/// Ban a user from a channel (hubbub extension): they can neither post nor watch.
#[utoipa::path(post, path = "/channels/{id}/bans", tag = "Moderation", operation_id = "banChannelUser",
    params(("id" = i64, Path)),
    request_body(content = RestrictUserRequest, content_type = "application/json"),
    responses((status = 200, body = ChannelRestrictionResource), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn ban_user(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    JsonBody(input): JsonBody<RestrictUserRequest>,
) -> Result<Json<ChannelRestrictionResource>, ApiError> {
    restrict(&state, &actor, &base, id, RestrictionKind::Ban, input).await
}

/// The channel's bans in force, oldest first (hubbub extension).
#[utoipa::path(get, path = "/channels/{id}/bans", tag = "Moderation", operation_id = "listChannelBans",
    params(("id" = i64, Path), ("page" = Option<i64>, Query), ("size" = Option<i64>, Query)),
    responses((status = 200, body = PagedModelChannelRestrictionResource), (status = 404, body = ApiErrorBody)))]
pub async fn list_bans(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    query: Query,
) -> Result<Json<PagedModelChannelRestrictionResource>, ApiError> {
    list(&state, &actor, &base, id, RestrictionKind::Ban, &query).await
}

/// Lift a ban (hubbub extension). 404 if the user is not banned.
#[utoipa::path(delete, path = "/channels/{id}/bans/{user_id}", tag = "Moderation", operation_id = "unbanChannelUser",
    params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 200, description = "lifted"), (status = 404, body = ApiErrorBody)))]
pub async fn unban_user(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    params: PathParams,
) -> Result<Json<serde_json::Value>, ApiError> {
    lift(&state, &actor, &params, RestrictionKind::Ban).await
}

/// Mute a user in a channel (hubbub extension): they can watch but not post.
#[utoipa::path(post, path = "/channels/{id}/mutes", tag = "Moderation", operation_id = "muteChannelUser",
    params(("id" = i64, Path)),
    request_body(content = RestrictUserRequest, content_type = "application/json"),
    responses((status = 200, body = ChannelRestrictionResource), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn mute_user(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    JsonBody(input): JsonBody<RestrictUserRequest>,
) -> Result<Json<ChannelRestrictionResource>, ApiError> {
    restrict(&state, &actor, &base, id, RestrictionKind::Mute, input).await
}

/// The channel's mutes in force, oldest first (hubbub extension).
#[utoipa::path(get, path = "/channels/{id}/mutes", tag = "Moderation", operation_id = "listChannelMutes",
    params(("id" = i64, Path), ("page" = Option<i64>, Query), ("size" = Option<i64>, Query)),
    responses((status = 200, body = PagedModelChannelRestrictionResource), (status = 404, body = ApiErrorBody)))]
pub async fn list_mutes(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    query: Query,
) -> Result<Json<PagedModelChannelRestrictionResource>, ApiError> {
    list(&state, &actor, &base, id, RestrictionKind::Mute, &query).await
}

/// Lift a mute (hubbub extension). 404 if the user is not muted.
#[utoipa::path(delete, path = "/channels/{id}/mutes/{user_id}", tag = "Moderation", operation_id = "unmuteChannelUser",
    params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 200, description = "lifted"), (status = 404, body = ApiErrorBody)))]
pub async fn unmute_user(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    params: PathParams,
) -> Result<Json<serde_json::Value>, ApiError> {
    lift(&state, &actor, &params, RestrictionKind::Mute).await
}

/// `{"password": "..."}` sets, `{"password": null}` removes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPasswordRequest {
    /// 8 to 256 characters, or null.
    pub password: Option<String>,
}

/// Set or remove a user's password for the PRISM, kitkot and Allmine logins (hubbub
/// extension). The password is stored as an Argon2id hash and never returned.
#[utoipa::path(put, path = "/users/{id}/password", tag = "Users", operation_id = "setUserPassword",
    params(("id" = i64, Path)),
    request_body(content = SetPasswordRequest, content_type = "application/json"),
    responses((status = 200, body = ChatUserResource), (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn set_password(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    JsonBody(input): JsonBody<SetPasswordRequest>,
) -> Result<Json<ChatUserResource>, ApiError> {
    let user = state
        .engine
        .set_user_password(&actor, &UserRef::Id(UserId(id)), input.password.as_deref())
        .await?;
    Ok(Json(ChatUserResource::new(&user, &base)))
}
