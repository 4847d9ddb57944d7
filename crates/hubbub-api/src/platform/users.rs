//! `/users`: chat users, their channels, messages, pictures and secrets.

use super::error::{ApiError, ApiErrorBody};
use super::extract::{AppActor, JsonBody, LinkBase, MergePatch, PathId, PathParams, Query};
use super::hal::{
    self, CursorPagedModelMessageResource, PagedModelChannelResource, PagedModelChatUserResource,
};
use super::resources::{
    ApplicationResource, ChannelResource, ChatUserResource, CountResource, SecretResource,
};
use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hubbub_core::engine::{CreateUser, UserPatch};
use hubbub_core::ids::UserId;
use hubbub_core::model::{UserFilter, UserKind};
use hubbub_core::names::UserName;
use hubbub_core::paging::SortField;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

const USER_SORTS: &[SortField] = &[
    SortField::Id,
    SortField::Name,
    SortField::DisplayName,
    SortField::CreatedTime,
];

/// List users.
#[utoipa::path(get, path = "/users", tag = "Users", operation_id = "listUsers",
    params(
        ("page" = Option<i64>, Query, description = "0-based page"),
        ("size" = Option<i64>, Query, description = "page size (max 1000)"),
        ("sort" = Option<Vec<String>>, Query, description = "property,(asc|desc); id, name, display_name, created_time"),
        ("name" = Option<String>, Query, description = "exact user name"),
        ("properties" = Option<String>, Query, description = "JSON object; users whose properties contain it"),
        ("unread" = Option<bool>, Query, description = "only users with (true) or without (false) unread messages"),
    ),
    responses((status = 200, body = PagedModelChatUserResource), (status = 400, body = ApiErrorBody), (status = 401, body = ApiErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    query: Query,
) -> Result<Json<PagedModelChatUserResource>, ApiError> {
    let page = hal::page_request(&query, USER_SORTS)?;
    let filter = UserFilter {
        // A name that cannot exist matches nobody.
        name: match query.get("name") {
            Some(n) => Some(UserName::parse(n).map_err(|_| {
                ApiError::bad_request("query parameter 'name' is not a valid user name")
            })?),
            None => None,
        },
        properties: properties_filter(&query)?,
        has_unread: query.bool("unread")?,
    };
    let found = state.engine.list_users(&actor, &filter, &page).await?;
    let (items, meta, links) = hal::offset_page(found, &base, &query, |u| {
        ChatUserResource::new(u, &base).online(state.engine.is_online(u.app_id, u.id))
    });
    Ok(Json(PagedModelChatUserResource::from_parts(
        items, meta, links,
    )))
}

/// Parses the `properties` filter: a JSON object matched as a subset.
pub fn properties_filter(
    query: &Query,
) -> Result<Option<serde_json::Map<String, Value>>, ApiError> {
    match query.get("properties") {
        None => Ok(None),
        Some(raw) => match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(map)) => Ok(Some(map)),
            _ => Err(ApiError::bad_request(
                "query parameter 'properties' must be a JSON object, e.g. {\"team\":\"red\"}",
            )),
        },
    }
}

/// `CreatePersonChatUserResource`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// Unique user name (1–128 characters).
    pub name: String,
    /// Shown to other users; defaults to the name.
    pub display_name: Option<String>,
    #[serde(default)]
    pub is_guest: bool,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub properties: Value,
}

/// Create a user.
#[utoipa::path(post, path = "/users", tag = "Users", operation_id = "createUser",
    request_body(content = CreateUserRequest, content_type = "application/vnd.chatkitty+json"),
    responses((status = 200, body = ChatUserResource), (status = 400, body = ApiErrorBody), (status = 409, body = ApiErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    JsonBody(input): JsonBody<CreateUserRequest>,
) -> Result<Json<ChatUserResource>, ApiError> {
    let user = state
        .engine
        .create_user(
            &actor,
            CreateUser {
                name: input.name,
                display_name: input.display_name,
                is_guest: input.is_guest,
                kind: UserKind::Person,
                properties: input.properties,
            },
        )
        .await?;
    Ok(Json(ChatUserResource::new(&user, &base)))
}

/// Check whether a user exists: 200 if so, 404 if not (no body).
#[utoipa::path(head, path = "/users", tag = "Users", operation_id = "checkUserExists",
    params(("name" = String, Query, description = "user name")),
    responses((status = 200, description = "exists"), (status = 404, description = "no such user")))]
pub async fn check_user_exists(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    query: Query,
) -> Result<StatusCode, ApiError> {
    let name = query
        .get("name")
        .ok_or_else(|| ApiError::bad_request("query parameter 'name' is required"))?;
    Ok(if state.engine.user_exists(&actor, name).await? {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    })
}

/// Retrieve a user.
#[utoipa::path(get, path = "/users/{id}", tag = "Users", operation_id = "retrieveUser",
    params(("id" = i64, Path)),
    responses((status = 200, body = ChatUserResource), (status = 404, body = ApiErrorBody)))]
pub async fn retrieve_user(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
) -> Result<Json<ChatUserResource>, ApiError> {
    let user = state.engine.get_user(&actor, UserId(id)).await?;
    let online = state.engine.is_online(user.app_id, user.id);
    Ok(Json(ChatUserResource::new(&user, &base).online(online)))
}

/// Delete a user. Answers with the application, as ChatKitty does.
#[utoipa::path(delete, path = "/users/{id}", tag = "Users", operation_id = "deleteUser",
    params(("id" = i64, Path)),
    responses((status = 200, body = ApplicationResource), (status = 404, body = ApiErrorBody)))]
pub async fn delete_user(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
) -> Result<Json<ApplicationResource>, ApiError> {
    state.engine.delete_user(&actor, UserId(id)).await?;
    let app = state.engine.get_application(&actor).await?;
    Ok(Json(ApplicationResource::new(&app, &base)))
}

/// Update a user with a JSON merge patch of `display_name`, `is_guest`,
/// `presence.status` and `properties`.
#[utoipa::path(patch, path = "/users/{id}", tag = "Users", operation_id = "updateUser",
    params(("id" = i64, Path)),
    request_body(content = Object, content_type = "application/json+merge-patch"),
    responses((status = 200, body = ChatUserResource), (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    patch: MergePatch,
) -> Result<Json<ChatUserResource>, ApiError> {
    patch.check(
        &["display_name", "is_guest", "presence", "properties"],
        &[
            "id",
            "name",
            "type",
            "display_picture_url",
            "call_status",
            "created_time",
        ],
    )?;
    let presence_status = match patch.0.get("presence") {
        None => None,
        Some(Value::Object(p)) => {
            if let Some(k) = p.keys().find(|k| *k != "status") {
                return Err(ApiError::bad_request(format!(
                    "'presence.{k}' is read-only; only presence.status can be patched"
                )));
            }
            match p.get("status") {
                Some(Value::String(s)) => Some(s.clone()),
                None => None,
                Some(_) => return Err(ApiError::bad_request("'presence.status' must be a string")),
            }
        }
        Some(_) => return Err(ApiError::bad_request("'presence' must be an object")),
    };
    let user = state
        .engine
        .update_user(
            &actor,
            UserId(id),
            UserPatch {
                display_name: patch.string("display_name")?,
                is_guest: patch.bool("is_guest")?,
                presence_status,
                properties: patch.0.get("properties").cloned(),
            },
        )
        .await?;
    Ok(Json(ChatUserResource::new(&user, &base)))
}

/// List the channels a user is a member of.
#[utoipa::path(get, path = "/users/{id}/channels", tag = "Users", operation_id = "listUserChannels",
    params(("id" = i64, Path), ("page" = Option<i64>, Query), ("size" = Option<i64>, Query), ("sort" = Option<Vec<String>>, Query)),
    responses((status = 200, body = PagedModelChannelResource), (status = 404, body = ApiErrorBody)))]
pub async fn list_user_channels(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    query: Query,
) -> Result<Json<PagedModelChannelResource>, ApiError> {
    let page = hal::page_request(&query, super::channels::CHANNEL_SORTS)?;
    let found = state
        .engine
        .list_user_channels(&actor, UserId(id), &page)
        .await?;
    let (items, meta, links) =
        hal::offset_page(found, &base, &query, |c| ChannelResource::new(c, &base));
    Ok(Json(PagedModelChannelResource::from_parts(
        items, meta, links,
    )))
}

/// List the messages in a user's channels; `unread=true` keeps those the user has not
/// read.
#[utoipa::path(get, path = "/users/{id}/messages", tag = "Users", operation_id = "listUserMessages",
    params(("id" = i64, Path), ("size" = Option<i64>, Query), ("start" = Option<i64>, Query), ("next" = Option<i64>, Query),
        ("relation" = Option<String>, Query, description = "SELF, NEXT or PREVIOUS"), ("unread" = Option<bool>, Query)),
    responses((status = 200, body = CursorPagedModelMessageResource), (status = 404, body = ApiErrorBody)))]
pub async fn list_user_messages(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    query: Query,
) -> Result<Json<CursorPagedModelMessageResource>, ApiError> {
    let cursor = hal::cursor_request(&query)?;
    let unread = query.bool("unread")?.unwrap_or(false);
    let found = state
        .engine
        .list_user_messages(&actor, UserId(id), unread, &cursor)
        .await?;
    Ok(Json(hal::message_page(found, &cursor, &base, &query)))
}

/// Count a user's unread messages.
#[utoipa::path(get, path = "/users/{id}/messages/unread/count", tag = "Users", operation_id = "countUserUnreadMessages",
    params(("id" = i64, Path)),
    responses((status = 200, body = CountResource), (status = 404, body = ApiErrorBody)))]
pub async fn count_unread(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    PathId(id): PathId,
) -> Result<Json<CountResource>, ApiError> {
    let count = state.engine.count_unread(&actor, UserId(id)).await?;
    Ok(Json(CountResource { count }))
}

/// `CreateExternalFileProperties`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalFileInput {
    pub url: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
}

/// Set a user's display picture to an external file.
#[utoipa::path(post, path = "/users/{id}/display-picture", tag = "Users", operation_id = "updateUserDisplayPicture",
    params(("id" = i64, Path)),
    request_body(content = ExternalFileInput, content_type = "application/json"),
    responses((status = 200, body = ChatUserResource), (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn update_display_picture(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    PathId(id): PathId,
    JsonBody(input): JsonBody<ExternalFileInput>,
) -> Result<Json<ChatUserResource>, ApiError> {
    if !input
        .content_type
        .to_ascii_lowercase()
        .starts_with("image/")
    {
        return Err(ApiError::bad_request(
            "invalid content_type: a display picture must be an image/* file",
        ));
    }
    if input.size < 0 {
        return Err(ApiError::bad_request("invalid size: must be 0 or more"));
    }
    let user = state
        .engine
        .set_display_picture(&actor, UserId(id), Some(&input.url))
        .await?;
    Ok(Json(ChatUserResource::new(&user, &base)))
}

/// Retrieve a user secret.
#[utoipa::path(get, path = "/users/{id}/secrets/{name}", tag = "Users", operation_id = "retrieveUserSecret",
    params(("id" = i64, Path), ("name" = String, Path)),
    responses((status = 200, body = SecretResource), (status = 404, body = ApiErrorBody)))]
pub async fn retrieve_secret(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    params: PathParams,
) -> Result<Json<SecretResource>, ApiError> {
    let id = params.id("id")?;
    let secret = state
        .engine
        .get_user_secret(&actor, UserId(id), params.get("name"))
        .await?;
    Ok(Json(SecretResource { secret }))
}

/// Set a user secret. Answers with the user (never the secret).
#[utoipa::path(put, path = "/users/{id}/secrets/{name}", tag = "Users", operation_id = "setUserSecret",
    params(("id" = i64, Path), ("name" = String, Path)),
    request_body(content = SecretResource, content_type = "application/vnd.chatkitty+json"),
    responses((status = 200, body = ChatUserResource), (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn set_secret(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    params: PathParams,
    JsonBody(input): JsonBody<SecretResource>,
) -> Result<Json<ChatUserResource>, ApiError> {
    let id = params.id("id")?;
    let user = state
        .engine
        .set_user_secret(&actor, UserId(id), params.get("name"), input.secret)
        .await?;
    Ok(Json(ChatUserResource::new(&user, &base)))
}

/// Remove a user secret.
#[utoipa::path(delete, path = "/users/{id}/secrets/{name}", tag = "Users", operation_id = "removeUserSecret",
    params(("id" = i64, Path), ("name" = String, Path)),
    responses((status = 200, body = ChatUserResource), (status = 404, body = ApiErrorBody)))]
pub async fn remove_secret(
    State(state): State<AppState>,
    AppActor(actor): AppActor,
    base: LinkBase,
    params: PathParams,
) -> Result<Json<ChatUserResource>, ApiError> {
    let id = params.id("id")?;
    let user = state
        .engine
        .delete_user_secret(&actor, UserId(id), params.get("name"))
        .await?;
    Ok(Json(ChatUserResource::new(&user, &base)))
}
