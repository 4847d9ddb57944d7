//! Channel invites: the app backend or a channel moderator invites a user to a group
//! channel. An invite is pending while the user is not a member; adding them as a
//! member (`POST /channels/{id}/members`) fulfils it.

use super::{Actor, Engine, UserRef};
use crate::error::{Error, Result};
use crate::ids::ChannelId;
use crate::model::{ChannelKind, Invite};
use crate::paging::{Page, PageRequest};

impl Engine {
    /// Invites a user. Inviting a member is a `Conflict`; inviting again returns the
    /// pending invite.
    pub async fn invite(
        &self,
        actor: &Actor,
        channel: ChannelId,
        user: &UserRef,
    ) -> Result<Invite> {
        let app = actor.app();
        let channel = self.get_channel(actor, channel).await?;
        self.require_moderator(actor, &channel).await?;
        if channel.kind == ChannelKind::Direct {
            return Err(Error::invalid(
                "channel",
                "nobody can be invited to a direct channel",
            ));
        }
        let user = self.resolve_user(app, user).await?;
        if self.store.is_member(app, channel.id, user.id).await? {
            return Err(Error::Conflict(format!(
                "user '{}' is already a member of this channel",
                user.name.as_str()
            )));
        }
        self.store
            .create_invite(app, channel.id, user.id, actor.user())
            .await
    }

    /// The channel's pending invites.
    pub async fn list_invites(
        &self,
        actor: &Actor,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<Invite>> {
        self.get_channel(actor, channel).await?;
        self.store.list_invites(actor.app(), channel, page).await
    }
}
