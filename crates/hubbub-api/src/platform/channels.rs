//! `/channels`: channels, their members, moderators, messages and events.

use super::error::{ApiError, ApiErrorBody};
use super::extract::{
    AppActor, JsonBody, LinkBase, MergePatch, PathId, PathParams, Query, idempotency_header,
};
use super::hal::{
    self, CursorPagedModelMessageResource, PagedModelChannelMembershipResource,
    PagedModelChannelResource, PagedModelChatUserResource,
};
use super::messages::{CreateMessageRequest, send_request};
use super::resources::{
    ApplicationResource, ChannelGenericEventResource, ChannelMembershipResource, ChannelResource,
    ChatUserResource, MessageResource, self_link,
};
use super::users::properties_filter;
use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use hubbub_core::engine::{ChannelPatch, CreateChannel, UserRef};
use hubbub_core::ids::{ChannelId, UserId};
use hubbub_core::model::{ChannelFilter, ChannelKind, MessageFilter};
use hubbub_core::names::UserName;
use hubbub_core::paging::SortField;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

pub(crate) const CHANNEL_SORTS: &[SortField] =
    &[SortField::Id, SortField::Name, SortField::CreatedTime];
const MEMBER_SORTS: &[SortField] = &[
    SortField::Id,
    SortField::Name,
    SortField::DisplayName,
    SortField::CreatedTime,
];

/// A reference to a user: `{"id": 1}` or `{"username": "jane"}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserReference {
    pub id: Option<i64>,
    pub username: Option<String>,
}

impl UserReference {
    pub fn resolve(&self, field: &str) -> Result<UserRef, ApiError> {
        match (self.id, &self.username) {
            (Some(id), None) => Ok(UserRef::Id(UserId(id))),
            (None, Some(name)) => UserName::parse(name)
                .map(UserRef::Name)
                .map_err(|e| ApiError::from(e).explain(format!("in '{field}'"))),
            _ => Err(ApiError::bad_request(format!(
                "'{field}' must be {{\"id\": <user id>}} or {{\"username\": \"<name>\"}}"
            ))),
        }
    }
}

/// `CreateChannelResource` (PUBLIC, PRIVATE or DIRECT).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannelRequest {
    /// `PUBLIC`, `PRIVATE` or `DIRECT`.
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub creator: Option<UserReference>,
    #[serde(default)]
    pub members: Vec<UserReference>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub properties: Value,
}

/// List channels.
#[utoipa::path(get, path = "/channels", tag = "Channels", operation_id = "listChannels",
    params(("page" = Option<i64>, Query), ("size" = Option<i64>, Query), ("sort" = Option<Vec<String>>, Query),
        ("type" = Option<String>, Query, description = "DIRECT, PUBLIC or PRIVATE"),
        ("members" = Option<Vec<String>>, Query, description = "user names that must all be members"),
        ("startTime" = Option<String>, Query, description = "created at or after (ISO date-time)"),
        ("endTime" = Option<String>, Query, description = "created at or before (ISO date-time)"),
        ("properties" = Option<String>, Query, description = "JSON object; channels whose properties contain it")),
    responses((status = 200, body = PagedModelChannelResource), (status = 400, body = ApiErrorBody)))]
pub async fn list_channels(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    query: Query,
) -> Result<Json<PagedModelChannelResource>, ApiError> {
    let page = hal::page_request(&query, CHANNEL_SORTS)?;
    let kind = query
        .get("type")
        .map(|t| {
            ChannelKind::parse(t).ok_or_else(|| {
                ApiError::bad_request("query parameter 'type' must be DIRECT, PUBLIC or PRIVATE")
            })
        })
        .transpose()?;
    let mut members = Vec::new();
    for raw in query.all("members") {
        for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let Ok(name) = UserName::parse(name) else {
                return Err(ApiError::bad_request(format!(
                    "query parameter 'members': '{name}' is not a valid user name"
                )));
            };
            match state
                .engine
                .store()
                .get_user_by_name(actor.app(), &name)
                .await?
            {
                Some(u) => members.push(u.id),
                // An unknown member matches no channel.
                None => members.push(UserId(-1)),
            }
        }
    }
    let filter = ChannelFilter {
        kind,
        members,
        created_from: time_param(&query, "startTime")?,
        created_to: time_param(&query, "endTime")?,
        properties: properties_filter(&query)?,
        ..Default::default()
    };
    let found = state.engine.list_channels(&actor, &filter, &page).await?;
    let (items, meta, links) =
        hal::offset_page(found, &base, &query, |c| ChannelResource::new(c, &base));
    Ok(Json(PagedModelChannelResource::from_parts(
        items, meta, links,
    )))
}

fn time_param(query: &Query, key: &str) -> Result<Option<hubbub_core::model::Timestamp>, ApiError> {
    query
        .get(key)
        .map(|raw| {
            chrono::DateTime::parse_from_rfc3339(raw)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|_| ApiError::bad_request(format!("query parameter '{key}' must be an ISO-8601 date-time such as 2024-01-31T12:00:00Z")))
        })
        .transpose()
}

/// Create a channel, or return the existing direct channel of the same members.
#[utoipa::path(post, path = "/channels", tag = "Channels", operation_id = "createChannel",
    request_body(content = CreateChannelRequest, content_type = "application/vnd.chatkitty+json"),
    responses((status = 200, body = ChannelResource), (status = 400, body = ApiErrorBody), (status = 409, body = ApiErrorBody)))]
pub async fn create_channel(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    JsonBody(input): JsonBody<CreateChannelRequest>,
) -> Result<Json<ChannelResource>, ApiError> {
    let kind = ChannelKind::parse(&input.kind)
        .ok_or_else(|| ApiError::bad_request("invalid type: must be DIRECT, PUBLIC or PRIVATE"))?;
    let creator = input
        .creator
        .as_ref()
        .map(|c| c.resolve("creator"))
        .transpose()?;
    let members = input
        .members
        .iter()
        .map(|m| m.resolve("members"))
        .collect::<Result<Vec<_>, _>>()?;
    let (view, _created) = state
        .engine
        .create_channel(
            &actor,
            CreateChannel {
                kind,
                name: input.name,
                display_name: input.display_name,
                creator,
                members,
                properties: input.properties,
                live: None,
            },
        )
        .await?;
    Ok(Json(ChannelResource::new(&view, &base)))
}

/// Retrieve a channel.
#[utoipa::path(get, path = "/channels/{id}", tag = "Channels", operation_id = "retrieveChannel",
    params(("id" = i64, Path)),
    responses((status = 200, body = ChannelResource), (status = 404, body = ApiErrorBody)))]
pub async fn retrieve_channel(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
) -> Result<Json<ChannelResource>, ApiError> {
    let view = state.engine.get_channel_view(&actor, ChannelId(id)).await?;
    Ok(Json(ChannelResource::new(&view, &base)))
}

/// Update a channel with a JSON merge patch of `display_name` and `properties`.
#[utoipa::path(patch, path = "/channels/{id}", tag = "Channels", operation_id = "updateChannel",
    params(("id" = i64, Path)),
    request_body(content = Object, content_type = "application/json+merge-patch"),
    responses((status = 200, body = ChannelResource), (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn update_channel(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    patch: MergePatch,
) -> Result<Json<ChannelResource>, ApiError> {
    patch.check(
        &["display_name", "properties"],
        &[
            "id",
            "type",
            "name",
            "created_time",
            "creator",
            "members",
            "last_received_message",
            "live",
            "epoch",
            "last_seq",
        ],
    )?;
    let view = state
        .engine
        .update_channel(
            &actor,
            ChannelId(id),
            ChannelPatch {
                display_name: patch.string("display_name")?,
                properties: patch.0.get("properties").cloned(),
            },
        )
        .await?;
    Ok(Json(ChannelResource::new(&view, &base)))
}

/// Delete a channel. Answers with the application, as ChatKitty does.
#[utoipa::path(delete, path = "/channels/{id}", tag = "Channels", operation_id = "deleteChannel",
    params(("id" = i64, Path)),
    responses((status = 200, body = ApplicationResource), (status = 404, body = ApiErrorBody)))]
pub async fn delete_channel(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
) -> Result<Json<ApplicationResource>, ApiError> {
    state.engine.delete_channel(&actor, ChannelId(id)).await?;
    let app = state.engine.get_application(&actor).await?;
    Ok(Json(ApplicationResource::new(&app, &base)))
}

/// List a channel's members.
#[utoipa::path(get, path = "/channels/{id}/members", tag = "Channels", operation_id = "listChannelMembers",
    params(("id" = i64, Path), ("page" = Option<i64>, Query), ("size" = Option<i64>, Query), ("sort" = Option<Vec<String>>, Query)),
    responses((status = 200, body = PagedModelChatUserResource), (status = 404, body = ApiErrorBody)))]
pub async fn list_members(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    query: Query,
) -> Result<Json<PagedModelChatUserResource>, ApiError> {
    let page = hal::page_request(&query, MEMBER_SORTS)?;
    let found = state
        .engine
        .list_members(&actor, ChannelId(id), &page)
        .await?;
    let (items, meta, links) = hal::offset_page(found, &base, &query, |u| {
        ChatUserResource::new(u, &base).online(state.engine.is_online(u.app_id, u.id))
    });
    Ok(Json(PagedModelChatUserResource::from_parts(
        items, meta, links,
    )))
}

/// Add a member. Answers with the channel.
#[utoipa::path(post, path = "/channels/{id}/members", tag = "Channels", operation_id = "addChannelMember",
    params(("id" = i64, Path)),
    request_body(content = UserReference, content_type = "application/vnd.chatkitty+json"),
    responses((status = 200, body = ChannelResource), (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn add_member(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    JsonBody(input): JsonBody<UserReference>,
) -> Result<Json<ChannelResource>, ApiError> {
    let user = input.resolve("user")?;
    let view = state
        .engine
        .add_member(&actor, ChannelId(id), &user)
        .await?;
    Ok(Json(ChannelResource::new(&view, &base)))
}

/// Remove a member. Answers with the channel.
#[utoipa::path(delete, path = "/channels/{id}/members/{user_id}", tag = "Channels", operation_id = "removeChannelMember",
    params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 200, body = ChannelResource), (status = 404, body = ApiErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    params: PathParams,
) -> Result<Json<ChannelResource>, ApiError> {
    let (channel, user) = (params.id("id")?, params.id("user_id")?);
    let view = state
        .engine
        .remove_member(&actor, ChannelId(channel), UserId(user))
        .await?;
    Ok(Json(ChannelResource::new(&view, &base)))
}

/// List a channel's memberships.
#[utoipa::path(get, path = "/channels/{id}/memberships", tag = "Channels", operation_id = "listChannelMemberships",
    params(("id" = i64, Path), ("page" = Option<i64>, Query), ("size" = Option<i64>, Query), ("sort" = Option<Vec<String>>, Query)),
    responses((status = 200, body = PagedModelChannelMembershipResource), (status = 404, body = ApiErrorBody)))]
pub async fn list_memberships(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    query: Query,
) -> Result<Json<PagedModelChannelMembershipResource>, ApiError> {
    let page = hal::page_request(&query, MEMBER_SORTS)?;
    let found = state
        .engine
        .list_memberships(&actor, ChannelId(id), &page)
        .await?;
    let (items, meta, links) = hal::offset_page(found, &base, &query, |m| {
        ChannelMembershipResource::new(m, &base)
    });
    Ok(Json(PagedModelChannelMembershipResource::from_parts(
        items, meta, links,
    )))
}

/// List a channel's moderators.
#[utoipa::path(get, path = "/channels/{id}/moderators", tag = "Channels", operation_id = "listChannelModerators",
    params(("id" = i64, Path), ("page" = Option<i64>, Query), ("size" = Option<i64>, Query), ("sort" = Option<Vec<String>>, Query)),
    responses((status = 200, body = PagedModelChatUserResource), (status = 404, body = ApiErrorBody)))]
pub async fn list_moderators(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    query: Query,
) -> Result<Json<PagedModelChatUserResource>, ApiError> {
    let page = hal::page_request(&query, MEMBER_SORTS)?;
    let found = state
        .engine
        .list_moderators(&actor, ChannelId(id), &page)
        .await?;
    let (items, meta, links) = hal::offset_page(found, &base, &query, |u| {
        ChatUserResource::new(u, &base).online(state.engine.is_online(u.app_id, u.id))
    });
    Ok(Json(PagedModelChatUserResource::from_parts(
        items, meta, links,
    )))
}

/// Add a moderator. Answers with the user.
#[utoipa::path(post, path = "/channels/{id}/moderators", tag = "Channels", operation_id = "addChannelModerator",
    params(("id" = i64, Path)),
    request_body(content = UserReference, content_type = "application/vnd.chatkitty+json"),
    responses((status = 200, body = ChatUserResource), (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn add_moderator(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    JsonBody(input): JsonBody<UserReference>,
) -> Result<Json<ChatUserResource>, ApiError> {
    let user = input.resolve("user")?;
    let user = state
        .engine
        .add_moderator(&actor, ChannelId(id), &user)
        .await?;
    Ok(Json(ChatUserResource::new(&user, &base)))
}

/// Remove a moderator. Answers with the channel.
#[utoipa::path(delete, path = "/channels/{id}/moderators/{user_id}", tag = "Channels", operation_id = "removeChannelModerator",
    params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 200, body = ChannelResource), (status = 404, body = ApiErrorBody)))]
pub async fn remove_moderator(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    params: PathParams,
) -> Result<Json<ChannelResource>, ApiError> {
    let (channel, user) = (params.id("id")?, params.id("user_id")?);
    let view = state
        .engine
        .remove_moderator(&actor, ChannelId(channel), UserId(user))
        .await?;
    Ok(Json(ChannelResource::new(&view, &base)))
}

/// List a channel's messages, newest first.
#[utoipa::path(get, path = "/channels/{id}/messages", tag = "Channels", operation_id = "listChannelMessages",
    params(("id" = i64, Path), ("size" = Option<i64>, Query), ("start" = Option<i64>, Query), ("next" = Option<i64>, Query),
        ("relation" = Option<String>, Query, description = "SELF, NEXT or PREVIOUS"),
        ("username" = Option<String>, Query, description = "only messages of this sender"),
        ("query" = Option<String>, Query, description = "only text messages containing this text")),
    responses((status = 200, body = CursorPagedModelMessageResource), (status = 404, body = ApiErrorBody)))]
pub async fn list_channel_messages(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    query: Query,
) -> Result<Json<CursorPagedModelMessageResource>, ApiError> {
    let cursor = hal::cursor_request(&query)?;
    let filter = MessageFilter {
        channel_id: Some(ChannelId(id)),
        ..super::messages::message_filter(&query)?
    };
    let found = state.engine.list_messages(&actor, filter, &cursor).await?;
    Ok(Json(hal::message_page(found, &cursor, &base, &query)))
}

/// Send a message: a system message, or with `user` on behalf of that user.
/// An `Idempotency-Key` header (or `idempotency_key` member) makes retries safe.
#[utoipa::path(post, path = "/channels/{id}/messages", tag = "Channels", operation_id = "sendChannelMessage",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the original message")),
    request_body(content = CreateMessageRequest, content_type = "application/json"),
    responses((status = 200, body = MessageResource), (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn send_message(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    headers: HeaderMap,
    JsonBody(input): JsonBody<CreateMessageRequest>,
) -> Result<Json<MessageResource>, ApiError> {
    let request = send_request(input, idempotency_header(&headers)?)?;
    let (_, view) = state
        .engine
        .send_message(&actor, ChannelId(id), request)
        .await?;
    Ok(Json(MessageResource::new(&view, &base)))
}

/// `CreateChannelGenericEventResource`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannelEventRequest {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub properties: Value,
}

/// Send a custom event to the channel's live subscribers (not stored).
#[utoipa::path(post, path = "/channels/{id}/events", tag = "Channels", operation_id = "sendChannelEvent",
    params(("id" = i64, Path)),
    request_body(content = CreateChannelEventRequest, content_type = "application/vnd.chatkitty+json"),
    responses((status = 200, body = ChannelGenericEventResource), (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn send_event(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    JsonBody(input): JsonBody<CreateChannelEventRequest>,
) -> Result<Json<ChannelGenericEventResource>, ApiError> {
    let (kind, properties, user) = state
        .engine
        .send_channel_event(&actor, ChannelId(id), &input.kind, input.properties)
        .await?;
    Ok(Json(ChannelGenericEventResource {
        kind,
        properties: properties.into_map(),
        user: user.as_ref().map(ChatUserResource::properties),
        _links: self_link(format!("{}/channels/{id}", base.base)),
    }))
}
