//! The ChatKitty resource shapes (snake_case, `isGuest` as the schema spells it) and
//! their construction from the domain model. hubbub adds a few members (a message's
//! `seq`, a channel's `live` room attributes); clients ignore members they do not know.

use super::extract::LinkBase;
use hubbub_core::engine::{ChannelView, message_type};
use hubbub_core::model::{
    AppSettings, Application, LiveRoom, Membership, MessageContent, MessageView, Timestamp, User,
};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A HAL link.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Link {
    pub href: String,
}

/// HAL links by relation (`self`, `next`, `prev`, ...).
pub type Links = BTreeMap<String, Link>;

pub fn self_link(href: String) -> Links {
    let mut links = Links::new();
    links.insert("self".into(), Link { href });
    links
}

pub fn time(t: &Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationResource {
    pub id: i64,
    pub created_time: String,
    /// The application's public key (its OAuth client id).
    pub key: String,
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
    #[schema(value_type = Object)]
    pub _links: Links,
}

impl ApplicationResource {
    pub fn new(app: &Application, base: &LinkBase) -> Self {
        Self {
            id: app.id.0,
            created_time: time(&app.created_at),
            key: app.client_id.clone(),
            properties: app.properties.as_map().clone(),
            _links: self_link(format!("{}/application", base.base)),
        }
    }
}

/// `ENABLED` or `DISABLED`.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Toggle {
    Enabled,
    Disabled,
}

impl From<bool> for Toggle {
    fn from(b: bool) -> Self {
        if b { Toggle::Enabled } else { Toggle::Disabled }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationSettingsResource {
    pub guest_users: Toggle,
    pub user_created_channels: Toggle,
    #[schema(value_type = Object)]
    pub _links: Links,
}

impl ApplicationSettingsResource {
    pub fn new(settings: &AppSettings, base: &LinkBase) -> Self {
        Self {
            guest_users: settings.guest_users.into(),
            user_created_channels: settings.user_created_channels.into(),
            _links: self_link(format!("{}/application/settings", base.base)),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChatUserPresenceProperties {
    pub online: bool,
    pub status: String,
}

/// A chat user (`ChatUserResource`; without `_links` it is `ChatUserProperties`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChatUserResource {
    /// `PERSON` or `BOT`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: i64,
    pub name: String,
    pub display_name: String,
    pub display_picture_url: String,
    #[serde(rename = "isGuest")]
    pub is_guest: bool,
    /// `AVAILABLE` or `IN_CALL`.
    pub call_status: &'static str,
    pub presence: ChatUserPresenceProperties,
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub _links: Option<Links>,
}

/// The picture shown for users who have not set one: an inline SVG, so no request
/// leaves the deployment.
fn default_picture(user: &User) -> String {
    let initial = user
        .display_name
        .as_str()
        .chars()
        .next()
        .filter(|c| c.is_alphanumeric())
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_else(|| "?".into());
    format!(
        "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' width='64' height='64'><rect width='64' height='64' fill='%236b7280'/><text x='32' y='42' font-size='32' text-anchor='middle' fill='white'>{}</text></svg>",
        percent_encode(&initial)
    )
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl ChatUserResource {
    /// `online` comes from presence, which the realtime gateway feeds; until a user
    /// connects it is false.
    pub fn properties(user: &User) -> Self {
        Self {
            kind: user.kind.as_str(),
            id: user.id.0,
            name: user.name.as_str().to_owned(),
            display_name: user.display_name.as_str().to_owned(),
            display_picture_url: user
                .display_picture_url
                .as_ref()
                .map(|u| u.as_str().to_owned())
                .unwrap_or_else(|| default_picture(user)),
            is_guest: user.is_guest,
            call_status: user.call_status.as_str(),
            presence: ChatUserPresenceProperties {
                online: false,
                status: user.presence_status.clone(),
            },
            properties: user.properties.as_map().clone(),
            _links: None,
        }
    }
    pub fn new(user: &User, base: &LinkBase) -> Self {
        let mut r = Self::properties(user);
        r._links = Some(self_link(format!("{}/users/{}", base.base, user.id)));
        r
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileProperties {
    /// Always `EXTERNAL`: hubbub links to files, it does not host them.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub url: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
}

/// A message: `TEXT`, `FILE`, `SYSTEM_TEXT` or `SYSTEM_FILE`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageResource {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: i64,
    pub channel_id: i64,
    /// hubbub: the message's position in its channel (the realtime offset).
    pub seq: i64,
    pub created_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<FileProperties>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<ChatUserResource>,
    pub group_tag: Option<String>,
    pub last_edited_time: Option<String>,
    pub nested_level: i32,
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
    pub replies_count: i64,
    pub report_count: i64,
    #[schema(value_type = Vec<Object>)]
    pub reactions: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub links: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub mentions: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub _links: Option<Links>,
}

impl MessageResource {
    pub fn properties(view: &MessageView) -> Self {
        let m = &view.message;
        let (body, file) = match &m.content {
            MessageContent::Text { body } => (Some(body.as_str().to_owned()), None),
            MessageContent::File { file } => (
                None,
                Some(FileProperties {
                    kind: "EXTERNAL",
                    url: file.url.as_str().to_owned(),
                    name: file.name.clone(),
                    content_type: file.content_type.clone(),
                    size: file.size,
                }),
            ),
        };
        let is_text = body.is_some();
        Self {
            kind: message_type(view),
            id: m.id.0,
            channel_id: m.channel_id.0,
            seq: m.seq,
            created_time: time(&m.created_at),
            body,
            file,
            user: view.user.as_ref().map(ChatUserResource::properties),
            group_tag: m.group_tag.clone(),
            last_edited_time: m.edited_at.as_ref().map(time),
            nested_level: m.nested_level,
            properties: m.properties.as_map().clone(),
            replies_count: 0,
            report_count: 0,
            reactions: vec![],
            links: is_text.then(Vec::new),
            mentions: is_text.then(Vec::new),
            _links: None,
        }
    }
    pub fn new(view: &MessageView, base: &LinkBase) -> Self {
        let mut r = Self::properties(view);
        let mut links = self_link(format!("{}/messages/{}", base.base, view.message.id));
        links.insert(
            "channel".into(),
            Link {
                href: format!("{}/channels/{}", base.base, view.message.channel_id),
            },
        );
        r._links = Some(links);
        r
    }
}

/// A channel: `PUBLIC`, `PRIVATE` (with name and display name) or `DIRECT` (with
/// members).
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelResource {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: i64,
    pub created_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<ChatUserResource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<ChatUserResource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_received_message: Option<MessageResource>,
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
    /// hubbub: the live-room attributes of this channel (status `NONE` for plain chat).
    #[schema(value_type = Object)]
    pub live: LiveRoom,
    /// hubbub: the channel's current epoch and newest seq (for realtime recovery).
    pub epoch: String,
    pub last_seq: i64,
    #[schema(value_type = Object)]
    pub _links: Links,
}

impl ChannelResource {
    pub fn new(view: &ChannelView, base: &LinkBase) -> Self {
        let c = &view.channel;
        let mut links = self_link(format!("{}/channels/{}", base.base, c.id));
        for rel in ["messages", "members", "moderators", "memberships", "events"] {
            links.insert(
                rel.into(),
                Link {
                    href: format!("{}/channels/{}/{rel}", base.base, c.id),
                },
            );
        }
        Self {
            kind: c.kind.as_str(),
            id: c.id.0,
            created_time: time(&c.created_at),
            creator: view.creator.as_ref().map(ChatUserResource::properties),
            name: c.name.as_ref().map(|n| n.as_str().to_owned()),
            display_name: c.display_name.as_ref().map(|n| n.as_str().to_owned()),
            members: view
                .members
                .as_ref()
                .map(|m| m.iter().map(ChatUserResource::properties).collect()),
            last_received_message: view.last_message.as_ref().map(MessageResource::properties),
            properties: c.properties.as_map().clone(),
            live: c.live.clone(),
            epoch: c.epoch.clone(),
            last_seq: c.last_seq,
            _links: links,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelMembershipResource {
    pub created_time: String,
    /// hubbub: the member.
    pub user: ChatUserResource,
    #[schema(value_type = Object)]
    pub _links: Links,
}

impl ChannelMembershipResource {
    pub fn new(m: &Membership, base: &LinkBase) -> Self {
        Self {
            created_time: time(&m.created_at),
            user: ChatUserResource::properties(&m.user),
            _links: self_link(format!("{}/users/{}", base.base, m.user.id)),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelGenericEventResource {
    #[serde(rename = "type")]
    pub kind: String,
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<ChatUserResource>,
    #[schema(value_type = Object)]
    pub _links: Links,
}

#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretResource {
    /// Any JSON value.
    #[schema(value_type = Object)]
    pub secret: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountResource {
    pub count: u64,
}
