use super::Timestamp;
use crate::ids::{AppId, UserId};
use crate::names::{DisplayName, ExternalUrl, Properties, UserName};
use serde::{Deserialize, Serialize};

/// A person or a bot chatting in an application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub app_id: AppId,
    pub name: UserName,
    pub display_name: DisplayName,
    pub display_picture_url: Option<ExternalUrl>,
    pub kind: UserKind,
    pub is_guest: bool,
    /// Availability status chosen by the user (`AVAILABLE`, `AWAY`, ...).
    pub presence_status: String,
    pub call_status: CallStatus,
    pub properties: Properties,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserKind {
    Person,
    Bot,
}

impl UserKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UserKind::Person => "PERSON",
            UserKind::Bot => "BOT",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PERSON" => Some(UserKind::Person),
            "BOT" => Some(UserKind::Bot),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CallStatus {
    Available,
    InCall,
}

impl CallStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Available => "AVAILABLE",
            CallStatus::InCall => "IN_CALL",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "AVAILABLE" => Some(CallStatus::Available),
            "IN_CALL" => Some(CallStatus::InCall),
            _ => None,
        }
    }
}

/// A validated request to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: UserName,
    pub display_name: DisplayName,
    pub kind: UserKind,
    pub is_guest: bool,
    pub properties: Properties,
}

/// A validated change to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub display_name: Option<DisplayName>,
    /// `Some(None)` clears the picture.
    pub display_picture_url: Option<Option<ExternalUrl>>,
    pub is_guest: Option<bool>,
    pub presence_status: Option<String>,
    pub properties: Option<Properties>,
    /// A person becomes a bot when made a room's robot.
    pub kind: Option<UserKind>,
}

/// Filters of the user list.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Exact user name.
    pub name: Option<UserName>,
    /// Subset match on custom properties.
    pub properties: Option<serde_json::Map<String, serde_json::Value>>,
    /// Only users with (true) or without (false) unread messages.
    pub has_unread: Option<bool>,
}
