//! Channels (and the live rooms they can be), members and moderators.

use super::users::merge_properties;
use super::{Actor, Engine, UserRef, require_app};
use crate::error::{Error, Result};
use crate::events::{ChannelEvent, EventType};
use crate::ids::{ChannelId, UserId};
use crate::model::{
    Channel, ChannelChanges, ChannelFilter, ChannelKind, LiveRoom, Membership, MessageView,
    NewChannel, User, direct_channel_key,
};
use crate::names::{ChannelName, DisplayName, Properties};
use crate::paging::{Page, PageRequest};
use serde_json::{Value, json};

/// A request to create a channel, as decoded from any dialect.
#[derive(Debug, Clone)]
pub struct CreateChannel {
    pub kind: ChannelKind,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub creator: Option<UserRef>,
    pub members: Vec<UserRef>,
    pub properties: Value,
    pub live: Option<LiveRoom>,
}

/// A merge patch of a channel.
#[derive(Debug, Clone, Default)]
pub struct ChannelPatch {
    pub display_name: Option<String>,
    pub properties: Option<Value>,
}

/// A channel with what readers show alongside it.
#[derive(Debug, Clone)]
pub struct ChannelView {
    pub channel: Channel,
    pub creator: Option<User>,
    pub last_message: Option<MessageView>,
    /// Members, for direct channels only.
    pub members: Option<Vec<User>>,
}

impl Engine {
    /// Creates a channel. A direct channel with the same members as an existing one
    /// returns the existing one (`created == false`).
    pub async fn create_channel(
        &self,
        actor: &Actor,
        input: CreateChannel,
    ) -> Result<(ChannelView, bool)> {
        let app = actor.app();
        if let Actor::User { .. } = actor {
            let settings = self.get_application(actor).await?.settings;
            if !settings.user_created_channels {
                return Err(Error::Forbidden(
                    "users may not create channels in this application".into(),
                ));
            }
        }
        if input.members.len() > self.limits.max_initial_members {
            return Err(Error::invalid(
                "members",
                format!(
                    "at most {} members per request",
                    self.limits.max_initial_members
                ),
            ));
        }
        let properties = Properties::parse("properties", input.properties)?;
        let creator = match (&input.creator, actor.user()) {
            (Some(r), None) => Some(self.resolve_user(app, r).await?.id),
            // A user creates channels as themselves, never in another user's name.
            (Some(r), Some(user)) => {
                if self.resolve_user(app, r).await?.id != user {
                    return Err(Error::Forbidden(
                        "a user may only create channels as their own creator".into(),
                    ));
                }
                Some(user)
            }
            (None, Some(user)) => Some(user),
            (None, None) => None,
        };
        let mut members: Vec<UserId> = Vec::with_capacity(input.members.len() + 1);
        for r in &input.members {
            let id = self
                .resolve_user(app, r)
                .await
                .map_err(|_| Error::invalid("members", format!("unknown user {}", describe(r))))?;
            members.push(id.id);
        }
        if let Some(c) = creator {
            members.push(c);
        }
        members.sort_unstable();
        members.dedup();

        let new = match input.kind {
            ChannelKind::Direct => {
                if input.name.is_some() || input.display_name.is_some() {
                    return Err(Error::invalid(
                        "name",
                        "direct channels have no name or display_name",
                    ));
                }
                if members.len() < 2 {
                    return Err(Error::invalid(
                        "members",
                        "a direct channel needs at least 2 distinct users",
                    ));
                }
                if members.len() > 10 {
                    return Err(Error::invalid(
                        "members",
                        "a direct channel has at most 10 users",
                    ));
                }
                let key = direct_channel_key(&members);
                if let Some(existing) = self.store.find_direct_channel(app, &key).await? {
                    return Ok((self.channel_view(existing).await?, false));
                }
                NewChannel {
                    kind: ChannelKind::Direct,
                    name: None,
                    display_name: None,
                    creator,
                    members,
                    properties,
                    live: input.live.unwrap_or_default(),
                    direct_key: Some(key),
                }
            }
            kind => {
                let name = match input.name.as_deref() {
                    Some(n) => ChannelName::parse(n)?,
                    None => ChannelName::random(),
                };
                let display_name = match input.display_name.as_deref() {
                    Some(d) => DisplayName::parse(d)?,
                    None => DisplayName::parse(name.as_str())?,
                };
                NewChannel {
                    kind,
                    name: Some(name),
                    display_name: Some(display_name),
                    creator,
                    members,
                    properties,
                    live: input.live.unwrap_or_default(),
                    direct_key: None,
                }
            }
        };
        let direct_key = new.direct_key.clone();
        match self.store.create_channel(app, new).await {
            Ok(channel) => Ok((self.channel_view(channel).await?, true)),
            // Two concurrent creations of the same direct channel: the loser returns
            // the winner's channel.
            Err(Error::Conflict(_)) if direct_key.is_some() => {
                let key = direct_key.expect("checked above");
                let existing = self
                    .store
                    .find_direct_channel(app, &key)
                    .await?
                    .ok_or_else(|| Error::internal("direct channel vanished after conflict"))?;
                Ok((self.channel_view(existing).await?, false))
            }
            Err(e) => Err(e),
        }
    }

    /// The channel, or `NotFound`.
    pub async fn get_channel(&self, actor: &Actor, channel: ChannelId) -> Result<Channel> {
        self.store
            .get_channel(actor.app(), channel)
            .await?
            .ok_or_else(|| Error::not_found("channel"))
    }

    pub async fn get_channel_view(&self, actor: &Actor, channel: ChannelId) -> Result<ChannelView> {
        let channel = self.get_channel(actor, channel).await?;
        self.channel_view(channel).await
    }

    /// Adds the creator, last message and (direct) members to a channel.
    pub async fn channel_view(&self, channel: Channel) -> Result<ChannelView> {
        let app = channel.app_id;
        let creator = match channel.creator {
            Some(c) => self.store.get_user(app, c).await?,
            None => None,
        };
        let last_message = match channel.last_message_id {
            Some(m) => self.store.get_message(app, m).await?,
            None => None,
        };
        let members = if channel.kind == ChannelKind::Direct {
            Some(self.store.direct_members(app, channel.id).await?)
        } else {
            None
        };
        Ok(ChannelView {
            channel,
            creator,
            last_message,
            members,
        })
    }

    pub async fn list_channels(
        &self,
        actor: &Actor,
        filter: &ChannelFilter,
        page: &PageRequest,
    ) -> Result<Page<ChannelView>> {
        let mut filter = filter.clone();
        for name in std::mem::take(&mut filter.member_names) {
            match self.store.get_user_by_name(actor.app(), &name).await? {
                Some(user) => filter.members.push(user.id),
                None => {
                    return Ok(Page {
                        items: vec![],
                        request: page.clone(),
                        total: 0,
                    });
                }
            }
        }
        let found = self.store.list_channels(actor.app(), &filter, page).await?;
        let mut views = Vec::with_capacity(found.items.len());
        for channel in found.items {
            views.push(self.channel_view(channel).await?);
        }
        Ok(Page {
            items: views,
            request: found.request,
            total: found.total,
        })
    }

    /// Channels the user is a member of.
    pub async fn list_user_channels(
        &self,
        actor: &Actor,
        user: UserId,
        page: &PageRequest,
    ) -> Result<Page<ChannelView>> {
        self.get_user(actor, user).await?;
        let filter = ChannelFilter {
            member: Some(user),
            ..Default::default()
        };
        self.list_channels(actor, &filter, page).await
    }

    pub async fn update_channel(
        &self,
        actor: &Actor,
        channel: ChannelId,
        patch: ChannelPatch,
    ) -> Result<ChannelView> {
        self.require_bus()?;
        let current = self.get_channel(actor, channel).await?;
        self.require_moderator(actor, &current).await?;
        let mut changes = ChannelChanges::default();
        if let Some(display_name) = patch.display_name {
            if current.kind == ChannelKind::Direct {
                return Err(Error::invalid(
                    "display_name",
                    "direct channels have no display name",
                ));
            }
            changes.display_name = Some(DisplayName::parse(&display_name)?);
        }
        if let Some(props) = patch.properties {
            changes.properties = Some(merge_properties(current.properties.clone(), &props)?);
        }
        let updated = self
            .store
            .update_channel(actor.app(), channel, changes)
            .await?;
        let view = self.channel_view(updated).await?;
        self.publish(ChannelEvent::new(
            view.channel.app_id,
            view.channel.id,
            EventType::ChannelUpdated,
            None,
            &view.channel.epoch,
            &json!({
                "type": EventType::ChannelUpdated.as_str(),
                "channel": channel_summary(&view.channel),
            }),
        ));
        Ok(view)
    }

    pub async fn delete_channel(&self, actor: &Actor, channel: ChannelId) -> Result<()> {
        self.require_bus()?;
        require_app(actor)?;
        let current = self.get_channel(actor, channel).await?;
        self.store.delete_channel(actor.app(), channel).await?;
        self.publish(ChannelEvent::new(
            current.app_id,
            current.id,
            EventType::ChannelDeleted,
            None,
            &current.epoch,
            &json!({"type": EventType::ChannelDeleted.as_str(), "channel_id": current.id}),
        ));
        Ok(())
    }

    pub async fn add_member(
        &self,
        actor: &Actor,
        channel: ChannelId,
        user: &UserRef,
    ) -> Result<ChannelView> {
        self.require_bus()?;
        let current = self.get_channel(actor, channel).await?;
        self.require_moderator(actor, &current).await?;
        if current.kind == ChannelKind::Direct {
            return Err(Error::invalid(
                "channel",
                "members of a direct channel cannot change",
            ));
        }
        let user = self.resolve_user(actor.app(), user).await?;
        self.store.add_member(actor.app(), channel, user.id).await?;
        self.publish_membership(&current, EventType::MemberAdded, &user);
        self.channel_view(current).await
    }

    pub async fn remove_member(
        &self,
        actor: &Actor,
        channel: ChannelId,
        user: UserId,
    ) -> Result<ChannelView> {
        self.require_bus()?;
        let current = self.get_channel(actor, channel).await?;
        self.require_moderator(actor, &current).await?;
        if current.kind == ChannelKind::Direct {
            return Err(Error::invalid(
                "channel",
                "members of a direct channel cannot change",
            ));
        }
        let user = self.get_user(actor, user).await?;
        self.store
            .remove_member(actor.app(), channel, user.id)
            .await?;
        self.publish_membership(&current, EventType::MemberRemoved, &user);
        self.channel_view(current).await
    }

    pub async fn list_members(
        &self,
        actor: &Actor,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<User>> {
        self.get_channel(actor, channel).await?;
        self.store.list_members(actor.app(), channel, page).await
    }

    pub async fn list_memberships(
        &self,
        actor: &Actor,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<Membership>> {
        self.get_channel(actor, channel).await?;
        self.store
            .list_memberships(actor.app(), channel, page)
            .await
    }

    pub async fn add_moderator(
        &self,
        actor: &Actor,
        channel: ChannelId,
        user: &UserRef,
    ) -> Result<User> {
        self.require_bus()?;
        require_app(actor)?;
        let current = self.get_channel(actor, channel).await?;
        let user = self.resolve_user(actor.app(), user).await?;
        self.store
            .add_moderator(actor.app(), channel, user.id)
            .await?;
        self.publish_membership(&current, EventType::ModeratorAdded, &user);
        Ok(user)
    }

    pub async fn remove_moderator(
        &self,
        actor: &Actor,
        channel: ChannelId,
        user: UserId,
    ) -> Result<ChannelView> {
        self.require_bus()?;
        require_app(actor)?;
        let current = self.get_channel(actor, channel).await?;
        let user = self.get_user(actor, user).await?;
        self.store
            .remove_moderator(actor.app(), channel, user.id)
            .await?;
        self.publish_membership(&current, EventType::ModeratorRemoved, &user);
        self.channel_view(current).await
    }

    pub async fn list_moderators(
        &self,
        actor: &Actor,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<User>> {
        self.get_channel(actor, channel).await?;
        self.store.list_moderators(actor.app(), channel, page).await
    }

    /// Publishes a custom channel event (`POST /channels/{id}/events`). Custom events
    /// are not stored; they reach whoever is subscribed now.
    pub async fn send_channel_event(
        &self,
        actor: &Actor,
        channel: ChannelId,
        event_type: &str,
        properties: Value,
    ) -> Result<(String, Properties, Option<User>)> {
        self.require_bus()?;
        let current = self.get_channel(actor, channel).await?;
        let event_type = event_type.trim();
        if event_type.is_empty() || event_type.len() > 128 {
            return Err(Error::invalid("type", "must be 1 to 128 bytes"));
        }
        let properties = Properties::parse("properties", properties)?;
        let user = match actor.user() {
            Some(u) => Some(self.get_user(actor, u).await?),
            None => None,
        };
        self.publish(ChannelEvent::new(
            current.app_id,
            current.id,
            EventType::Custom,
            None,
            &current.epoch,
            &json!({
                "type": EventType::Custom.as_str(),
                "channel_id": current.id,
                "event": {"type": event_type, "properties": properties, "user": user.as_ref().map(user_summary)},
            }),
        ));
        Ok((event_type.to_owned(), properties, user))
    }

    /// The app backend, or a moderator (or owner) of this channel.
    pub(crate) async fn require_moderator(&self, actor: &Actor, channel: &Channel) -> Result<()> {
        match actor {
            Actor::App(_) => Ok(()),
            Actor::User { app, user } => {
                if channel.creator == Some(*user)
                    || self.store.is_moderator(*app, channel.id, *user).await?
                {
                    Ok(())
                } else {
                    Err(Error::Forbidden(
                        "only moderators of this channel may do this".into(),
                    ))
                }
            }
        }
    }

    fn publish_membership(&self, channel: &Channel, event_type: EventType, user: &User) {
        self.publish(ChannelEvent::new(
            channel.app_id,
            channel.id,
            event_type,
            None,
            &channel.epoch,
            &json!({
                "type": event_type.as_str(),
                "channel_id": channel.id,
                "user": user_summary(user),
            }),
        ));
    }
}

fn describe(r: &UserRef) -> String {
    match r {
        UserRef::Id(id) => format!("id {id}"),
        UserRef::Name(n) => format!("'{}'", n.as_str()),
    }
}

/// The user object inside realtime events.
pub(crate) fn user_summary(user: &User) -> Value {
    serde_json::to_value(super::event_payloads::UserSummary::new(user)).unwrap_or_default()
}

/// The channel object inside realtime events.
pub(crate) fn channel_summary(channel: &Channel) -> Value {
    json!({
        "id": channel.id,
        "type": channel.kind.as_str(),
        "name": channel.name,
        "display_name": channel.display_name,
        "properties": channel.properties,
        "live": channel.live,
    })
}
