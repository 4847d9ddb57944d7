//! Participants: the users present in a channel right now, as the realtime gateway
//! records them in [`Presence`]. Anonymous viewers are counted by presence but are not
//! users, so they are not participants.

use super::{Actor, Engine};
use crate::error::Result;
use crate::ids::ChannelId;
use crate::model::User;
use crate::names::UserName;
use crate::paging::{Page, PageRequest, SortField};
use crate::presence::Presence;
use std::collections::BTreeSet;

impl Engine {
    /// The channel's participants, by name (ascending, or descending when the first
    /// sort key asks so).
    pub async fn list_participants(
        &self,
        actor: &Actor,
        channel: ChannelId,
        presence: &dyn Presence,
        page: &PageRequest,
    ) -> Result<Page<User>> {
        let app = actor.app();
        self.get_channel(actor, channel).await?;
        let names: BTreeSet<String> = presence
            .list(app, channel)
            .into_iter()
            .filter(|e| !e.user.is_empty())
            .map(|e| e.user.to_string())
            .collect();
        let descending = page
            .sort
            .first()
            .is_some_and(|k| k.field == SortField::Name && k.descending);
        let total = names.len() as u64;
        let (skip, take) = (page.offset() as usize, page.size as usize);
        let on_page: Vec<&String> = if descending {
            names.iter().rev().skip(skip).take(take).collect()
        } else {
            names.iter().skip(skip).take(take).collect()
        };
        let mut items = Vec::with_capacity(on_page.len());
        for name in on_page {
            let Ok(name) = UserName::parse(name) else {
                continue;
            };
            if let Some(user) = self.store.get_user_by_name(app, &name).await? {
                items.push(user);
            }
        }
        Ok(Page {
            items,
            request: page.clone(),
            total,
        })
    }
}
