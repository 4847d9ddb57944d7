//! Moderation of rooms: bans and mutes (permanent or timed), robots, and the checks
//! every send and every entry goes through. Every dialect (PRISM ban/timedBan, Tencent
//! ban_member/mute_member, kitkot admins, the gateway) calls these, so a ban made
//! through one API holds in all of them.

use super::channels::user_summary;
use super::{Actor, Engine, UserRef};
use crate::error::{Error, Result};
use crate::events::{ChannelEvent, EventType};
use crate::ids::{ChannelId, UserId};
use crate::model::{
    Channel, NewRestriction, Restriction, RestrictionKind, User, UserChanges, UserKind, now,
};
use crate::paging::{Page, PageRequest};
use serde_json::json;
use std::time::Duration;

/// Tencent's limit, applied everywhere: at most three robots per room.
pub const MAX_ROBOTS_PER_ROOM: usize = 3;

/// The longest timed restriction (ten years); longer ones are refused rather than
/// silently made permanent.
pub const MAX_RESTRICTION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Longest reason kept with a restriction.
pub const MAX_RESTRICTION_REASON_BYTES: usize = 512;

/// A request to ban or mute a user.
#[derive(Debug, Clone)]
pub struct Restrict {
    pub user: UserRef,
    pub kind: RestrictionKind,
    /// `None` = until lifted. Must be more than zero.
    pub duration: Option<Duration>,
    pub reason: String,
}

impl Engine {
    /// Whether the actor may moderate the channel: the application's backend, the
    /// room's owner, or one of its moderators (managers, admins).
    pub async fn can_moderate(&self, actor: &Actor, channel: &Channel) -> Result<bool> {
        match self.require_moderator(actor, channel).await {
            Ok(()) => Ok(true),
            Err(Error::Forbidden(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Bans or mutes a user in a channel. Setting one again replaces it (a new end, a
    /// new reason). The owner and the moderators cannot be restricted.
    pub async fn restrict_user(
        &self,
        actor: &Actor,
        channel: ChannelId,
        input: Restrict,
    ) -> Result<Restriction> {
        let channel = self.get_channel(actor, channel).await?;
        self.require_moderator(actor, &channel).await?;
        let target = self.resolve_user(actor.app(), &input.user).await?;
        let until = match input.duration {
            None => None,
            Some(d) if d.is_zero() => {
                return Err(Error::invalid("duration", "must be more than 0 seconds"));
            }
            Some(d) if d > MAX_RESTRICTION => {
                return Err(Error::invalid("duration", "must be at most ten years"));
            }
            Some(d) => Some(
                now()
                    + chrono::Duration::from_std(d)
                        .map_err(|_| Error::invalid("duration", "must be at most ten years"))?,
            ),
        };
        let reason = input.reason.trim().to_owned();
        if reason.len() > MAX_RESTRICTION_REASON_BYTES {
            return Err(Error::invalid(
                "reason",
                format!("must be at most {MAX_RESTRICTION_REASON_BYTES} bytes"),
            ));
        }
        if channel.creator == Some(target.id) {
            return Err(Error::Forbidden(
                "the room's owner cannot be restricted".into(),
            ));
        }
        if self
            .store
            .is_moderator(channel.app_id, channel.id, target.id)
            .await?
        {
            return Err(Error::Forbidden(
                "a moderator cannot be restricted; remove the role first".into(),
            ));
        }
        let restriction = self
            .store
            .set_restriction(
                actor.app(),
                channel.id,
                NewRestriction {
                    user_id: target.id,
                    kind: input.kind,
                    until,
                    reason,
                    created_by: actor.user(),
                },
            )
            .await?;
        self.publish_restriction(
            &channel,
            EventType::UserRestricted,
            &restriction.user,
            || {
                json!({
                    "kind": restriction.kind.as_str(),
                    "until": restriction.until,
                    "reason": restriction.reason,
                })
            },
        );
        Ok(restriction)
    }

    /// Lifts a ban or mute. Returns whether there was one; lifting nothing is not an
    /// error (moderation calls are idempotent).
    pub async fn lift_restriction(
        &self,
        actor: &Actor,
        channel: ChannelId,
        user: &UserRef,
        kind: RestrictionKind,
    ) -> Result<bool> {
        let channel = self.get_channel(actor, channel).await?;
        self.require_moderator(actor, &channel).await?;
        let target = self.resolve_user(actor.app(), user).await?;
        let lifted = self
            .store
            .lift_restriction(actor.app(), channel.id, target.id, kind)
            .await?;
        if lifted {
            self.publish_restriction(
                &channel,
                EventType::UserUnrestricted,
                &target,
                || json!({ "kind": kind.as_str() }),
            );
        }
        Ok(lifted)
    }

    /// The channel's bans or mutes in force, oldest first.
    pub async fn list_restrictions(
        &self,
        actor: &Actor,
        channel: ChannelId,
        kind: RestrictionKind,
        page: &PageRequest,
    ) -> Result<Page<Restriction>> {
        let channel = self.get_channel(actor, channel).await?;
        self.store
            .list_restrictions(actor.app(), channel.id, kind, now(), page)
            .await
    }

    /// The user's restrictions in force in the channel.
    pub async fn restrictions_of(
        &self,
        channel: &Channel,
        user: UserId,
    ) -> Result<Vec<Restriction>> {
        self.store
            .active_restrictions(channel.app_id, channel.id, user, now())
            .await
    }

    /// Refuses a post by a banned or muted author, whoever sends it (the user, a
    /// dialect's admin on their behalf, the gateway).
    pub(crate) async fn require_unrestricted_author(
        &self,
        channel: &Channel,
        author: UserId,
    ) -> Result<()> {
        let restrictions = self.restrictions_of(channel, author).await?;
        match restrictions.iter().find(|r| r.kind == RestrictionKind::Ban) {
            Some(ban) => Err(Error::Forbidden(restricted_message("banned", ban))),
            None => match restrictions.first() {
                Some(mute) => Err(Error::Forbidden(restricted_message("muted", mute))),
                None => Ok(()),
            },
        }
    }

    /// Refuses entry (subscribe, join) to a banned user.
    pub async fn require_can_enter(&self, channel: &Channel, user: UserId) -> Result<()> {
        let restrictions = self.restrictions_of(channel, user).await?;
        match restrictions.iter().find(|r| r.kind == RestrictionKind::Ban) {
            Some(ban) => Err(Error::Forbidden(restricted_message("banned", ban))),
            None => Ok(()),
        }
    }

    /// Makes an existing user a robot of the room (at most [`MAX_ROBOTS_PER_ROOM`]).
    /// A robot is a bot user: its kind becomes `BOT`, so every API shows it as one.
    /// Returns whether it was newly added.
    pub async fn add_robot(
        &self,
        actor: &Actor,
        channel: ChannelId,
        user: &UserRef,
    ) -> Result<bool> {
        let channel = self.get_channel(actor, channel).await?;
        self.require_moderator(actor, &channel).await?;
        let mut robot = self.resolve_user(actor.app(), user).await?;
        let added = self
            .store
            .add_robot(actor.app(), channel.id, robot.id, MAX_ROBOTS_PER_ROOM)
            .await
            .map_err(|e| match e {
                Error::Conflict(_) => Error::invalid(
                    "robots",
                    format!("a room has at most {MAX_ROBOTS_PER_ROOM} robots"),
                ),
                other => other,
            })?;
        if robot.kind != UserKind::Bot {
            robot = self
                .store
                .update_user(
                    actor.app(),
                    robot.id,
                    UserChanges {
                        kind: Some(UserKind::Bot),
                        ..UserChanges::default()
                    },
                )
                .await?;
        }
        if added {
            self.publish_restriction(&channel, EventType::RobotAdded, &robot, || json!({}));
        }
        Ok(added)
    }

    pub async fn remove_robot(
        &self,
        actor: &Actor,
        channel: ChannelId,
        user: &UserRef,
    ) -> Result<bool> {
        let channel = self.get_channel(actor, channel).await?;
        self.require_moderator(actor, &channel).await?;
        let robot = self.resolve_user(actor.app(), user).await?;
        let removed = self
            .store
            .remove_robot(actor.app(), channel.id, robot.id)
            .await?;
        if removed {
            self.publish_restriction(&channel, EventType::RobotRemoved, &robot, || json!({}));
        }
        Ok(removed)
    }

    pub async fn list_robots(&self, actor: &Actor, channel: ChannelId) -> Result<Vec<User>> {
        let channel = self.get_channel(actor, channel).await?;
        self.store.list_robots(actor.app(), channel.id).await
    }

    fn publish_restriction(
        &self,
        channel: &Channel,
        event_type: EventType,
        user: &User,
        details: impl FnOnce() -> serde_json::Value,
    ) {
        let mut data = json!({
            "type": event_type.as_str(),
            "channel_id": channel.id,
            "user": user_summary(user),
        });
        if let (Some(data), serde_json::Value::Object(extra)) = (data.as_object_mut(), details()) {
            data.extend(extra);
        }
        self.publish(ChannelEvent::new(
            channel.app_id,
            channel.id,
            event_type,
            None,
            &channel.epoch,
            &data,
        ));
    }
}

fn restricted_message(what: &str, r: &Restriction) -> String {
    match r.until {
        Some(until) => format!(
            "you are {what} in this room until {}",
            until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
        None => format!("you are {what} in this room"),
    }
}
