use super::{LiveRoom, Timestamp, User};
use crate::ids::{AppId, ChannelId, MessageId, UserId};
use crate::names::{ChannelName, DisplayName, Properties};
use serde::{Deserialize, Serialize};

/// A chat room. Live rooms are channels whose [`LiveRoom`] status is not `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    pub id: ChannelId,
    pub app_id: AppId,
    pub kind: ChannelKind,
    /// Unique name; `None` for direct channels.
    pub name: Option<ChannelName>,
    pub display_name: Option<DisplayName>,
    /// The creator, who is also the owner (anchor) of a live room.
    pub creator: Option<UserId>,
    pub properties: Properties,
    pub created_at: Timestamp,
    /// Changes whenever the channel's message sequence restarts, so a client holding
    /// an offset from an older sequence knows it cannot resume from it.
    pub epoch: String,
    /// The seq of the newest message (0 when there is none). Seqs start at 1 and grow
    /// by exactly 1 per message.
    pub last_seq: i64,
    pub last_message_id: Option<MessageId>,
    pub live: LiveRoom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChannelKind {
    Direct,
    Public,
    Private,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Direct => "DIRECT",
            ChannelKind::Public => "PUBLIC",
            ChannelKind::Private => "PRIVATE",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "DIRECT" => Some(ChannelKind::Direct),
            "PUBLIC" => Some(ChannelKind::Public),
            "PRIVATE" => Some(ChannelKind::Private),
            _ => None,
        }
    }
}

/// A validated request to create a channel.
#[derive(Debug, Clone)]
pub struct NewChannel {
    pub kind: ChannelKind,
    pub name: Option<ChannelName>,
    pub display_name: Option<DisplayName>,
    pub creator: Option<UserId>,
    /// Initial members (the creator is added by the engine when present).
    pub members: Vec<UserId>,
    pub properties: Properties,
    pub live: LiveRoom,
    /// For direct channels: the canonical key of the member set, so the same set
    /// always finds the same channel.
    pub direct_key: Option<String>,
}

/// A validated change to a channel; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ChannelChanges {
    pub display_name: Option<DisplayName>,
    pub properties: Option<Properties>,
    pub live: Option<LiveRoom>,
}

/// Filters of the channel list.
#[derive(Debug, Clone, Default)]
pub struct ChannelFilter {
    pub kind: Option<ChannelKind>,
    /// Channels whose members include all of these users.
    pub members: Vec<UserId>,
    /// Like `members`, by user name; resolved by the engine into `members` (stores
    /// never see it). An unknown name matches no channel.
    pub member_names: Vec<crate::names::UserName>,
    pub created_from: Option<Timestamp>,
    pub created_to: Option<Timestamp>,
    pub properties: Option<serde_json::Map<String, serde_json::Value>>,
    /// Only channels this user is a member of.
    pub member: Option<UserId>,
}

/// A user's membership of a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    pub channel_id: ChannelId,
    pub user: User,
    pub created_at: Timestamp,
}

/// The canonical key of a direct channel's member set.
pub fn direct_channel_key(members: &[UserId]) -> String {
    let mut ids: Vec<i64> = members.iter().map(|u| u.0).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_key_ignores_order_and_duplicates() {
        let a = direct_channel_key(&[UserId(3), UserId(1), UserId(3)]);
        let b = direct_channel_key(&[UserId(1), UserId(3)]);
        assert_eq!(a, b);
        assert_eq!(a, "1,3");
    }
}
