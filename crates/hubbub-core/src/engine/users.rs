//! Users and their secrets.

use super::{Actor, Engine, require_app};
use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::merge_patch;
use crate::model::{NewUser, User, UserChanges, UserFilter, UserKind};
use crate::names::{DisplayName, ExternalUrl, Properties, SecretName, UserName};
use crate::paging::{Page, PageRequest};
use serde_json::Value;

/// A request to create a user, as decoded from any dialect.
#[derive(Debug, Clone)]
pub struct CreateUser {
    pub name: String,
    /// Defaults to the name.
    pub display_name: Option<String>,
    pub is_guest: bool,
    pub kind: UserKind,
    pub properties: Value,
}

/// A merge patch of a user. Each `Some` is a member present in the patch.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub is_guest: Option<bool>,
    pub presence_status: Option<String>,
    /// Merged into the current properties (RFC 7386).
    pub properties: Option<Value>,
}

/// Presence statuses a user may choose.
const PRESENCE_STATUSES: &[&str] = &[
    "AVAILABLE",
    "AWAY",
    "BUSY",
    "DO_NOT_DISTURB",
    "INVISIBLE",
    "OFFLINE",
];

impl Engine {
    pub async fn create_user(&self, actor: &Actor, input: CreateUser) -> Result<User> {
        require_app(actor)?;
        let name = UserName::parse(&input.name)?;
        let display_name =
            DisplayName::parse(input.display_name.as_deref().unwrap_or(&input.name))?;
        let properties = Properties::parse("properties", input.properties)?;
        self.store
            .create_user(
                actor.app(),
                NewUser {
                    name,
                    display_name,
                    kind: input.kind,
                    is_guest: input.is_guest,
                    properties,
                },
            )
            .await
    }

    pub async fn get_user(&self, actor: &Actor, user: UserId) -> Result<User> {
        self.store
            .get_user(actor.app(), user)
            .await?
            .ok_or_else(|| Error::not_found("user"))
    }

    /// `HEAD /users?name=`: whether a user of that name exists.
    pub async fn user_exists(&self, actor: &Actor, name: &str) -> Result<bool> {
        let Ok(name) = UserName::parse(name) else {
            return Ok(false);
        };
        Ok(self
            .store
            .get_user_by_name(actor.app(), &name)
            .await?
            .is_some())
    }

    pub async fn list_users(
        &self,
        actor: &Actor,
        filter: &UserFilter,
        page: &PageRequest,
    ) -> Result<Page<User>> {
        self.store.list_users(actor.app(), filter, page).await
    }

    pub async fn update_user(&self, actor: &Actor, user: UserId, patch: UserPatch) -> Result<User> {
        require_app(actor)?;
        let current = self.get_user(actor, user).await?;
        let mut changes = UserChanges::default();
        if let Some(display_name) = patch.display_name {
            changes.display_name = Some(DisplayName::parse(&display_name)?);
        }
        changes.is_guest = patch.is_guest;
        if let Some(status) = patch.presence_status {
            let upper = status.to_ascii_uppercase();
            if !PRESENCE_STATUSES.contains(&upper.as_str()) {
                return Err(Error::invalid(
                    "presence.status",
                    format!("must be one of {}", PRESENCE_STATUSES.join(", ")),
                ));
            }
            changes.presence_status = Some(upper);
        }
        if let Some(props_patch) = patch.properties {
            changes.properties = Some(merge_properties(current.properties, &props_patch)?);
        }
        self.store.update_user(actor.app(), user, changes).await
    }

    /// Sets (or with `None` clears) the user's display picture to an external URL.
    pub async fn set_display_picture(
        &self,
        actor: &Actor,
        user: UserId,
        url: Option<&str>,
    ) -> Result<User> {
        require_app(actor)?;
        let url = url.map(|u| ExternalUrl::parse("url", u)).transpose()?;
        self.store
            .update_user(
                actor.app(),
                user,
                UserChanges {
                    display_picture_url: Some(url),
                    ..Default::default()
                },
            )
            .await
    }

    pub async fn delete_user(&self, actor: &Actor, user: UserId) -> Result<()> {
        require_app(actor)?;
        self.store.delete_user(actor.app(), user).await
    }

    pub async fn get_user_secret(&self, actor: &Actor, user: UserId, name: &str) -> Result<Value> {
        require_app(actor)?;
        let name = SecretName::parse(name)?;
        self.get_user(actor, user).await?;
        self.store
            .get_user_secret(actor.app(), user, &name)
            .await?
            .ok_or_else(|| Error::not_found("secret"))
    }

    pub async fn set_user_secret(
        &self,
        actor: &Actor,
        user: UserId,
        name: &str,
        value: Value,
    ) -> Result<User> {
        require_app(actor)?;
        let name = SecretName::parse(name)?;
        if value.is_null() {
            return Err(Error::invalid("secret", "must be present and not null"));
        }
        if serde_json::to_vec(&value).map(|v| v.len()).unwrap_or(0) > 16 * 1024 {
            return Err(Error::invalid(
                "secret",
                "must serialize to at most 16384 bytes",
            ));
        }
        let found = self.get_user(actor, user).await?;
        self.store
            .set_user_secret(actor.app(), user, &name, value)
            .await?;
        Ok(found)
    }

    pub async fn delete_user_secret(
        &self,
        actor: &Actor,
        user: UserId,
        name: &str,
    ) -> Result<User> {
        require_app(actor)?;
        let name = SecretName::parse(name)?;
        let found = self.get_user(actor, user).await?;
        self.store
            .delete_user_secret(actor.app(), user, &name)
            .await?;
        Ok(found)
    }

    /// Unread messages of a user across their channels.
    pub async fn count_unread(&self, actor: &Actor, user: UserId) -> Result<u64> {
        self.get_user(actor, user).await?;
        self.store.count_unread(actor.app(), user).await
    }
}

/// Applies a merge patch to a properties object and validates the result.
pub(crate) fn merge_properties(current: Properties, patch: &Value) -> Result<Properties> {
    if !patch.is_object() && !patch.is_null() {
        return Err(Error::invalid("properties", "must be a JSON object"));
    }
    let mut target = Value::Object(current.into_map());
    merge_patch::apply(&mut target, patch);
    Properties::parse("properties", target)
}
