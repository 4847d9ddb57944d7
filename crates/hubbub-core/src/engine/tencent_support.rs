//! Room operations shaped the way Tencent's live API asks for them — rooms addressed
//! by name, members changed in batches, live rooms ranked by entries, users imported
//! by name — written generically, so any dialect may use them.
//!
//! Every batch resolves and checks all of its users before its first write: an
//! unknown user, or one the rule refuses, changes nothing (DESIGN invariant 8).

use super::{Actor, ChannelView, Engine, Restrict, UserRef, require_app};
use crate::error::{Error, Result};
use crate::ids::ChannelId;
use crate::model::{
    Channel, ChannelFilter, LiveStatus, NewUser, Restriction, RestrictionKind, User, UserChanges,
    UserKind,
};
use crate::names::{ChannelName, DisplayName, ExternalUrl, Properties, UserName};
use crate::paging::{MAX_PAGE_SIZE, PageRequest};
use std::collections::BinaryHeap;
use std::time::Duration;

/// A user to create, or to update when one of that name exists.
#[derive(Debug, Clone)]
pub struct UpsertUser {
    pub name: String,
    /// `None` keeps the current one (a new user gets its name).
    pub display_name: Option<String>,
    /// `None` keeps the current picture; `Some("")` removes it.
    pub display_picture_url: Option<String>,
}

/// Where a live room stands in the ranking of [`Engine::rank_live_rooms`]: more
/// entries first, then the older channel (smaller id) first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoomRank {
    /// Ordered by `Reverse(entries)` so that the natural order is the ranking.
    entries_desc: std::cmp::Reverse<u64>,
    channel: ChannelId,
}

impl RoomRank {
    pub fn new(entries: u64, channel: ChannelId) -> Self {
        Self {
            entries_desc: std::cmp::Reverse(entries),
            channel,
        }
    }
    pub fn of(channel: &Channel) -> Self {
        Self::new(channel.live.counters.entries, channel.id)
    }
    pub fn entries(&self) -> u64 {
        self.entries_desc.0
    }
    pub fn channel(&self) -> ChannelId {
        self.channel
    }
}

/// Serialises capped moderator additions on this node, so two concurrent requests
/// cannot both pass the count.
static MODERATOR_CAP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Engine {
    /// The channel with this unique name; `NotFound` otherwise (also for a string
    /// that cannot be a channel name).
    pub async fn get_channel_by_name(&self, actor: &Actor, name: &str) -> Result<Channel> {
        let Ok(name) = ChannelName::parse(name) else {
            return Err(Error::not_found("channel"));
        };
        self.store
            .get_channel_by_name(actor.app(), &name)
            .await?
            .ok_or_else(|| Error::not_found("channel"))
    }

    /// Creates the user, or updates the given fields of the existing user of that
    /// name (an account import: the same call twice is the same as once). Returns the
    /// user and whether it was created. Everything is validated before any write.
    pub async fn upsert_user(&self, actor: &Actor, input: UpsertUser) -> Result<(User, bool)> {
        require_app(actor)?;
        let app = actor.app();
        let name = UserName::parse(&input.name)?;
        let display_name = input
            .display_name
            .as_deref()
            .map(DisplayName::parse)
            .transpose()?;
        let picture = match input.display_picture_url.as_deref() {
            None => None,
            Some("") => Some(None),
            Some(url) => Some(Some(ExternalUrl::parse("display_picture_url", url)?)),
        };
        let update = |user: User| {
            let changes = UserChanges {
                display_name: display_name.clone(),
                display_picture_url: picture.clone(),
                ..UserChanges::default()
            };
            async move {
                if changes.display_name.is_none() && changes.display_picture_url.is_none() {
                    return Ok(user);
                }
                self.store.update_user(app, user.id, changes).await
            }
        };
        if let Some(existing) = self.store.get_user_by_name(app, &name).await? {
            return Ok((update(existing).await?, false));
        }
        let created = self
            .store
            .create_user(
                app,
                NewUser {
                    name: name.clone(),
                    display_name: match &display_name {
                        Some(d) => d.clone(),
                        None => DisplayName::parse(name.as_str())?,
                    },
                    kind: UserKind::Person,
                    is_guest: false,
                    properties: Properties::default(),
                },
            )
            .await;
        match created {
            Ok(user) if picture.is_none() => Ok((user, true)),
            Ok(user) => Ok((update(user).await?, true)),
            // Imported concurrently by another request: update that one.
            Err(Error::Conflict(_)) => {
                let existing = self
                    .store
                    .get_user_by_name(app, &name)
                    .await?
                    .ok_or_else(|| Error::internal("user vanished after a name conflict"))?;
                Ok((update(existing).await?, false))
            }
            Err(e) => Err(e),
        }
    }

    /// [`upsert_user`](Self::upsert_user) for many users. One user's bad input fails
    /// that user only (its error is in its slot); a store failure fails the call.
    pub async fn upsert_users(
        &self,
        actor: &Actor,
        inputs: Vec<UpsertUser>,
    ) -> Result<Vec<Result<(User, bool)>>> {
        require_app(actor)?;
        let mut results = Vec::with_capacity(inputs.len());
        for input in inputs {
            match self.upsert_user(actor, input).await {
                Ok(done) => results.push(Ok(done)),
                Err(e @ (Error::Invalid { .. } | Error::Conflict(_))) => results.push(Err(e)),
                Err(e) => return Err(e),
            }
        }
        Ok(results)
    }

    /// Bans or mutes every listed user (see [`restrict_user`](Self::restrict_user)).
    /// All users are resolved and checked first: an unknown user (`NotFound`), the
    /// owner or a moderator (`Forbidden`) restricts nobody.
    pub async fn restrict_users(
        &self,
        actor: &Actor,
        channel: ChannelId,
        users: &[UserRef],
        kind: RestrictionKind,
        duration: Option<Duration>,
        reason: &str,
    ) -> Result<Vec<Restriction>> {
        let room = self.get_channel(actor, channel).await?;
        self.require_moderator(actor, &room).await?;
        let targets = self.resolve_distinct(actor, users).await?;
        for target in &targets {
            if room.creator == Some(target.id) {
                return Err(Error::Forbidden(format!(
                    "{} owns the room and cannot be restricted",
                    target.name.as_str()
                )));
            }
            if self
                .store
                .is_moderator(room.app_id, room.id, target.id)
                .await?
            {
                return Err(Error::Forbidden(format!(
                    "{} is a moderator of the room and cannot be restricted",
                    target.name.as_str()
                )));
            }
        }
        let mut done = Vec::with_capacity(targets.len());
        for target in targets {
            done.push(
                self.restrict_user(
                    actor,
                    channel,
                    Restrict {
                        user: UserRef::Id(target.id),
                        kind,
                        duration,
                        reason: reason.to_owned(),
                    },
                )
                .await?,
            );
        }
        Ok(done)
    }

    /// Lifts the `kind` restriction of every listed user; returns how many had one.
    /// An unknown user lifts nothing (`NotFound`).
    pub async fn lift_restrictions(
        &self,
        actor: &Actor,
        channel: ChannelId,
        users: &[UserRef],
        kind: RestrictionKind,
    ) -> Result<usize> {
        let room = self.get_channel(actor, channel).await?;
        self.require_moderator(actor, &room).await?;
        let targets = self.resolve_distinct(actor, users).await?;
        let mut lifted = 0;
        for target in targets {
            if self
                .lift_restriction(actor, channel, &UserRef::Id(target.id), kind)
                .await?
            {
                lifted += 1;
            }
        }
        Ok(lifted)
    }

    /// The channel's `kind` restrictions in force, oldest first: `limit` of them from
    /// position `offset`, and how many there are in all.
    pub async fn list_restrictions_from(
        &self,
        actor: &Actor,
        channel: ChannelId,
        kind: RestrictionKind,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Restriction>, u64)> {
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let first = offset / u64::from(limit);
        let skip = (offset % u64::from(limit)) as usize;
        let page_at = |n: u64| -> Result<PageRequest> {
            Ok(PageRequest {
                page: u32::try_from(n).map_err(|_| Error::invalid("offset", "is too large"))?,
                size: limit,
                sort: Vec::new(),
            })
        };
        let head = self
            .list_restrictions(actor, channel, kind, &page_at(first)?)
            .await?;
        let total = head.total;
        let mut items = head.items;
        // An offset between page boundaries takes the rest from the next page.
        if skip > 0 && (first + 1) * u64::from(limit) < total {
            let tail = self
                .list_restrictions(actor, channel, kind, &page_at(first + 1)?)
                .await?;
            items.extend(tail.items);
        }
        Ok((
            items.into_iter().skip(skip).take(limit as usize).collect(),
            total,
        ))
    }

    /// Makes every listed user a robot of the room (see [`add_robot`](Self::add_robot)).
    /// Unknown users (`NotFound`) or more robots than
    /// [`MAX_ROBOTS_PER_ROOM`](super::MAX_ROBOTS_PER_ROOM) (`Invalid`) add none.
    /// Returns how many were newly added.
    pub async fn add_robots(
        &self,
        actor: &Actor,
        channel: ChannelId,
        users: &[UserRef],
    ) -> Result<usize> {
        let room = self.get_channel(actor, channel).await?;
        self.require_moderator(actor, &room).await?;
        let targets = self.resolve_distinct(actor, users).await?;
        let current = self.store.list_robots(room.app_id, room.id).await?;
        let new = targets
            .iter()
            .filter(|t| !current.iter().any(|r| r.id == t.id))
            .count();
        if current.len() + new > super::MAX_ROBOTS_PER_ROOM {
            return Err(Error::invalid(
                "robots",
                format!(
                    "a room has at most {} robots (it has {}, {new} more asked)",
                    super::MAX_ROBOTS_PER_ROOM,
                    current.len()
                ),
            ));
        }
        let mut added = 0;
        for target in targets {
            if self
                .add_robot(actor, channel, &UserRef::Id(target.id))
                .await?
            {
                added += 1;
            }
        }
        Ok(added)
    }

    /// Removes every listed user from the room's robots; returns how many were ones.
    /// Unknown users remove none (`NotFound`).
    pub async fn remove_robots(
        &self,
        actor: &Actor,
        channel: ChannelId,
        users: &[UserRef],
    ) -> Result<usize> {
        let room = self.get_channel(actor, channel).await?;
        self.require_moderator(actor, &room).await?;
        let targets = self.resolve_distinct(actor, users).await?;
        let mut removed = 0;
        for target in targets {
            if self
                .remove_robot(actor, channel, &UserRef::Id(target.id))
                .await?
            {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Makes every listed user a moderator of the channel, keeping at most `max`
    /// moderators: past that nobody is added and the answer is `Conflict`. Unknown
    /// users add nobody (`NotFound`). Backend only.
    pub async fn add_moderators_up_to(
        &self,
        actor: &Actor,
        channel: ChannelId,
        users: &[UserRef],
        max: usize,
    ) -> Result<()> {
        require_app(actor)?;
        let room = self.get_channel(actor, channel).await?;
        let targets = self.resolve_distinct(actor, users).await?;
        let _serial = MODERATOR_CAP.lock().await;
        let mut new = Vec::new();
        for target in targets {
            if !self
                .store
                .is_moderator(room.app_id, room.id, target.id)
                .await?
            {
                new.push(target);
            }
        }
        let current = self
            .store
            .list_moderators(
                room.app_id,
                room.id,
                &PageRequest {
                    page: 0,
                    size: 1,
                    sort: Vec::new(),
                },
            )
            .await?
            .total;
        if current as usize + new.len() > max {
            return Err(Error::Conflict(format!(
                "a room has at most {max} moderators (it has {current}, {} more asked)",
                new.len()
            )));
        }
        for target in new {
            self.add_moderator(actor, channel, &UserRef::Id(target.id))
                .await?;
        }
        Ok(())
    }

    /// Removes every listed user from the channel's moderators (those who are not
    /// ones are skipped). Unknown users remove nobody (`NotFound`). Backend only.
    pub async fn remove_moderators(
        &self,
        actor: &Actor,
        channel: ChannelId,
        users: &[UserRef],
    ) -> Result<()> {
        require_app(actor)?;
        let room = self.get_channel(actor, channel).await?;
        let targets = self.resolve_distinct(actor, users).await?;
        for target in targets {
            if self
                .store
                .is_moderator(room.app_id, room.id, target.id)
                .await?
            {
                self.remove_moderator(actor, channel, target.id).await?;
            }
        }
        Ok(())
    }

    /// The application's live rooms (channels whose live status is not `None`) in
    /// [`RoomRank`] order, starting after `after`, at most `limit` of them; with the
    /// rank of the last one when more follow.
    ///
    /// The ranking is computed by reading every channel of the application, keeping
    /// only the best `limit + 1`: cost grows with the number of channels, so callers
    /// rate-limit it (Tencent allows 10 calls a second). Counters move between pages,
    /// so a room may show twice or not at all across pages of a changing ranking.
    pub async fn rank_live_rooms(
        &self,
        actor: &Actor,
        after: Option<RoomRank>,
        limit: usize,
    ) -> Result<(Vec<ChannelView>, Option<RoomRank>)> {
        let limit = limit.clamp(1, MAX_PAGE_SIZE as usize);
        // A max-heap of the best `limit + 1` ranks seen: its top is the worst kept.
        let mut best: BinaryHeap<(RoomRank, ChannelKey)> = BinaryHeap::new();
        let mut page = 0u32;
        loop {
            let found = self
                .store
                .list_channels(
                    actor.app(),
                    &ChannelFilter::default(),
                    &PageRequest {
                        page,
                        size: MAX_PAGE_SIZE,
                        sort: Vec::new(),
                    },
                )
                .await?;
            let count = found.items.len();
            for channel in found.items {
                let rank = RoomRank::of(&channel);
                if channel.live.status == LiveStatus::None || after.is_some_and(|a| rank <= a) {
                    continue;
                }
                if best.len() <= limit {
                    best.push((rank, ChannelKey(channel)));
                } else if best.peek().is_some_and(|(worst, _)| rank < *worst) {
                    best.pop();
                    best.push((rank, ChannelKey(channel)));
                }
            }
            if count < MAX_PAGE_SIZE as usize {
                break;
            }
            page += 1;
        }
        let mut ranked: Vec<(RoomRank, Channel)> =
            best.into_iter().map(|(rank, c)| (rank, c.0)).collect();
        ranked.sort_by_key(|(rank, _)| *rank);
        let more = ranked.len() > limit;
        ranked.truncate(limit);
        let next = if more {
            ranked.last().map(|(rank, _)| *rank)
        } else {
            None
        };
        let mut views = Vec::with_capacity(ranked.len());
        for (_, channel) in ranked {
            views.push(self.channel_view(channel).await?);
        }
        Ok((views, next))
    }

    /// The distinct users of `users`, in order; `NotFound` names the first unknown.
    async fn resolve_distinct(&self, actor: &Actor, users: &[UserRef]) -> Result<Vec<User>> {
        let mut found: Vec<User> = Vec::with_capacity(users.len());
        for r in users {
            let user = self.resolve_user(actor.app(), r).await?;
            if !found.iter().any(|u| u.id == user.id) {
                found.push(user);
            }
        }
        Ok(found)
    }
}

/// A channel in the ranking heap; ranks are unique (they hold the id), so the heap
/// never compares channels.
struct ChannelKey(Channel);

impl PartialEq for ChannelKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}
impl Eq for ChannelKey {}
impl PartialOrd for ChannelKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ChannelKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.id.cmp(&other.0.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_order_by_entries_descending_then_id() {
        let mut ranks = vec![
            RoomRank::new(5, ChannelId(3)),
            RoomRank::new(9, ChannelId(7)),
            RoomRank::new(5, ChannelId(1)),
            RoomRank::new(0, ChannelId(2)),
        ];
        ranks.sort();
        assert_eq!(
            ranks,
            vec![
                RoomRank::new(9, ChannelId(7)),
                RoomRank::new(5, ChannelId(1)),
                RoomRank::new(5, ChannelId(3)),
                RoomRank::new(0, ChannelId(2)),
            ]
        );
        assert_eq!(ranks[1].entries(), 5);
        assert_eq!(ranks[1].channel(), ChannelId(1));
        // "After" a rank means worse than it.
        assert!(RoomRank::new(5, ChannelId(3)) > RoomRank::new(5, ChannelId(1)));
        assert!(RoomRank::new(4, ChannelId(1)) > RoomRank::new(5, ChannelId(9)));
    }
}
