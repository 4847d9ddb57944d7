//! The ChatKitty resource shapes (snake_case, `isGuest` as the schema spells it) and
//! their construction from the domain model. hubbub adds a few members (a message's
//! `seq`, a channel's `live` room attributes); clients ignore members they do not know.

use super::extract::LinkBase;
use hubbub_core::engine::{ChannelView, NotificationEntry, UnreadSummaryEntry, message_type};
use hubbub_core::model::{
    AppSettings, Application, ChatSession, Invite, LiveRoom, Membership, Mention, MentionTarget,
    MessageContent, MessageView, NotificationKind, ReadMark, ReadReceipt, Report, Thread,
    ThreadRef, Timestamp, User, UserSession,
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
    /// Sets `presence.online` (true while the user has a live realtime session).
    pub fn online(mut self, online: bool) -> Self {
        self.presence.online = online;
        self
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
    /// hubbub: the message this one replies to (its thread is `/threads/{parent_id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<i64>,
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
            replies_count: i64::from(m.replies_count),
            report_count: i64::from(m.report_count),
            parent_id: m.parent_id.map(|p| p.0),
            reactions: vec![],
            links: is_text.then(Vec::new),
            mentions: is_text.then(|| m.mentions.iter().map(mention).collect()),
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
        let m = &view.message;
        let thread = match m.parent_id {
            Some(parent) => ThreadRef::Message(parent),
            None => ThreadRef::Main(m.channel_id),
        };
        links.insert(
            "thread".into(),
            Link {
                href: format!("{}/threads/{}", base.base, thread.id()),
            },
        );
        links.insert(
            "replies".into(),
            Link {
                href: format!("{}/threads/{}", base.base, ThreadRef::Message(m.id).id()),
            },
        );
        r._links = Some(links);
        r
    }
}

/// A `MessageMentionProperties`: `USER` with the user, or `CHANNEL` with the channel.
fn mention(m: &Mention) -> Value {
    let mut out = serde_json::json!({
        "tag": m.tag,
        "start_position": m.start_position,
        "end_position": m.end_position,
    });
    let obj = out.as_object_mut().expect("json! object");
    match &m.target {
        MentionTarget::User { user } => {
            obj.insert("type".into(), "USER".into());
            obj.insert(
                "user".into(),
                serde_json::to_value(ChatUserResource::properties(user)).unwrap_or_default(),
            );
        }
        MentionTarget::Channel { channel } => {
            obj.insert("type".into(), "CHANNEL".into());
            obj.insert(
                "channel".into(),
                serde_json::json!({
                    "type": channel.kind,
                    "id": channel.id,
                    "created_time": time(&channel.created_at),
                    "name": channel.name,
                    "display_name": channel.display_name,
                    "properties": channel.properties,
                }),
            );
        }
    }
    out
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

// ----- threads, keystrokes, invites, receipts, notifications, sessions, reports -----

/// A reply thread: a channel's `MAIN` thread (id `-channel_id`) or a message's
/// `MESSAGE` thread (id = the message's id). See `hubbub_core::model::ThreadRef`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyThreadResource {
    /// `MAIN` or `MESSAGE` (hubbub has no `STANDALONE` threads).
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: i64,
    pub created_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
    /// hubbub: the thread's channel.
    pub channel_id: i64,
    /// hubbub: for a `MESSAGE` thread, the message replied to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<i64>,
    #[schema(value_type = Object)]
    pub _links: Links,
}

impl ReplyThreadResource {
    pub fn new(thread: &Thread, base: &LinkBase) -> Self {
        let id = thread.reference.id();
        let mut links = self_link(format!("{}/threads/{id}", base.base));
        links.insert(
            "messages".into(),
            Link {
                href: format!("{}/threads/{id}/messages", base.base),
            },
        );
        links.insert(
            "channel".into(),
            Link {
                href: format!("{}/channels/{}", base.base, thread.channel_id),
            },
        );
        let message_id = match thread.reference {
            ThreadRef::Message(m) => {
                links.insert(
                    "message".into(),
                    Link {
                        href: format!("{}/messages/{m}", base.base),
                    },
                );
                Some(m.0)
            }
            ThreadRef::Main(_) => None,
        };
        Self {
            kind: thread.reference.kind(),
            id: id.0,
            created_time: time(&thread.created_at),
            name: None,
            properties: Map::new(),
            channel_id: thread.channel_id.0,
            message_id,
            _links: links,
        }
    }
}

/// `ReplyThreadKeystrokesResource`: what was published.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyThreadKeystrokesResource {
    pub keys: String,
    pub username: String,
    #[schema(value_type = Object)]
    pub _links: Links,
}

/// `ChannelInviteResource`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelInviteResource {
    pub created_time: String,
    /// hubbub: the invited user.
    pub user: ChatUserResource,
    /// hubbub: the channel.
    pub channel_id: i64,
    #[schema(value_type = Object)]
    pub _links: Links,
}

impl ChannelInviteResource {
    pub fn new(invite: &Invite, base: &LinkBase) -> Self {
        let mut links = self_link(format!(
            "{}/channels/{}/invites",
            base.base, invite.channel_id
        ));
        links.insert(
            "user".into(),
            Link {
                href: format!("{}/users/{}", base.base, invite.user.id),
            },
        );
        Self {
            created_time: time(&invite.created_at),
            user: ChatUserResource::properties(&invite.user),
            channel_id: invite.channel_id.0,
            _links: links,
        }
    }
}

/// `MessageReadReceiptResource`: a user who read the message, and when.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageReadReceiptResource {
    pub created_time: String,
    pub user: ChatUserResource,
    #[schema(value_type = Object)]
    pub _links: Links,
}

impl MessageReadReceiptResource {
    pub fn new(receipt: &ReadReceipt, base: &LinkBase) -> Self {
        Self {
            created_time: time(&receipt.read_at),
            user: ChatUserResource::properties(&receipt.user),
            _links: self_link(format!("{}/users/{}", base.base, receipt.user.id)),
        }
    }
}

/// `MessageReadReceiptSummaryResource`: a member's unread messages in a channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageReadReceiptSummaryResource {
    pub channel: ChannelResource,
    /// Unread messages.
    pub count: u64,
    pub user: ChatUserResource,
    #[schema(value_type = Object)]
    pub _links: Links,
}

impl MessageReadReceiptSummaryResource {
    pub fn new(summary: &UnreadSummaryEntry, base: &LinkBase) -> Self {
        let user = &summary.user;
        Self {
            channel: ChannelResource::new(&summary.channel, base),
            count: summary.count,
            user: ChatUserResource::properties(user),
            _links: self_link(format!(
                "{}/users/{}/messages?unread=true",
                base.base, user.id
            )),
        }
    }
}

/// hubbub: a user's read mark in a channel (`POST /v1/channels/{id}/read`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadMarkResource {
    pub channel_id: i64,
    pub user_id: i64,
    /// Every message of the channel up to this seq is read.
    pub last_read_seq: i64,
    /// When the mark last moved.
    pub created_time: String,
    #[schema(value_type = Object)]
    pub _links: Links,
}

impl ReadMarkResource {
    pub fn new(mark: &ReadMark, base: &LinkBase) -> Self {
        Self {
            channel_id: mark.channel_id.0,
            user_id: mark.user_id.0,
            last_read_seq: mark.last_read_seq,
            created_time: time(&mark.read_at),
            _links: self_link(format!(
                "{}/users/{}/messages?unread=true",
                base.base, mark.user_id
            )),
        }
    }
}

/// `NotificationResource`. `data.type` says which data it is:
/// `chat_user:mentioned:chat_user` (`mentioned_user`, `message`),
/// `chat_user:replied_to:chat_user_message` (`message`, `parent`),
/// `application:sent:system_message` and `chat_user:sent:chat_user_message`
/// (`message`); every data has `channel_id`.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationResource {
    pub id: i64,
    pub title: String,
    pub body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelResource>,
    pub created_time: String,
    #[schema(value_type = Object)]
    pub data: Value,
    pub muted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_time: Option<String>,
    #[schema(value_type = Object)]
    pub _links: Links,
}

impl NotificationResource {
    pub fn new(entry: &NotificationEntry, base: &LinkBase) -> Self {
        let n = &entry.view.notification;
        let message = serde_json::to_value(MessageResource::new(&entry.view.message, base))
            .unwrap_or_default();
        let mut data = serde_json::json!({
            "type": n.kind.as_str(),
            "channel_id": n.channel_id,
            "message": message,
        });
        let obj = data.as_object_mut().expect("json! object");
        match n.kind {
            NotificationKind::UserMentioned => {
                obj.insert(
                    "mentioned_user".into(),
                    serde_json::to_value(ChatUserResource::new(&entry.recipient, base))
                        .unwrap_or_default(),
                );
            }
            NotificationKind::RepliedTo => {
                let parent = entry
                    .view
                    .parent
                    .as_ref()
                    .map(|p| serde_json::to_value(MessageResource::new(p, base)))
                    .transpose()
                    .unwrap_or_default()
                    .unwrap_or(Value::Null);
                obj.insert("parent".into(), parent);
            }
            NotificationKind::SystemMessage | NotificationKind::DirectMessage => {}
        }
        let mut links = self_link(format!("{}/users/{}/notifications", base.base, n.user_id));
        links.insert(
            "message".into(),
            Link {
                href: format!("{}/messages/{}", base.base, n.message_id),
            },
        );
        Self {
            id: n.id.0,
            title: n.title.clone(),
            body: n.body.clone(),
            channel: Some(ChannelResource::new(&entry.channel, base)),
            created_time: time(&n.created_at),
            data,
            muted: n.muted,
            read_time: n.read_at.as_ref().map(time),
            _links: links,
        }
    }
}

/// `ChatUserSessionResource` (without `_links`: `ChatUserSessionProperties`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatUserSessionResource {
    pub id: i64,
    pub created_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// `ACTIVE` or `ENDED`.
    pub state: &'static str,
    pub user: ChatUserResource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub _links: Option<Links>,
}

impl ChatUserSessionResource {
    pub fn properties(session: &UserSession) -> Self {
        Self {
            id: session.id.0,
            created_time: time(&session.created_at),
            end_time: session.ended_at.as_ref().map(time),
            state: session.state().as_str(),
            user: ChatUserResource::properties(&session.user),
            user_agent: session.user_agent.clone(),
            _links: None,
        }
    }
    pub fn new(session: &UserSession, base: &LinkBase) -> Self {
        let mut r = Self::properties(session);
        r._links = Some(self_link(format!(
            "{}/users/{}",
            base.base, session.user.id
        )));
        r
    }
}

/// `ChatSessionResource`: a user session's stay in a channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatSessionResource {
    pub id: i64,
    pub created_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    pub session: ChatUserSessionResource,
    /// `ACTIVE` or `ENDED`.
    pub state: &'static str,
    /// hubbub: the channel.
    pub channel_id: i64,
    #[schema(value_type = Object)]
    pub _links: Links,
}

impl ChatSessionResource {
    pub fn new(session: &ChatSession, base: &LinkBase) -> Self {
        Self {
            id: session.id.0,
            created_time: time(&session.created_at),
            end_time: session.ended_at.as_ref().map(time),
            session: ChatUserSessionResource::properties(&session.user_session),
            state: session.state().as_str(),
            channel_id: session.channel_id.0,
            _links: self_link(format!("{}/channels/{}", base.base, session.channel_id)),
        }
    }
}

/// hubbub: a report of a message (`POST /v1/messages/{id}/reports`).
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageReportResource {
    pub id: i64,
    pub created_time: String,
    pub reason: String,
    /// The reporting user; absent for reports by the application's backend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    /// The reported message, with its `report_count`.
    pub message: MessageResource,
    #[schema(value_type = Object)]
    pub _links: Links,
}

impl MessageReportResource {
    pub fn new(report: &Report, message: &MessageView, base: &LinkBase) -> Self {
        Self {
            id: report.id.0,
            created_time: time(&report.created_at),
            reason: report.reason.clone(),
            user_id: report.user_id.map(|u| u.0),
            message: MessageResource::new(message, base),
            _links: self_link(format!(
                "{}/channels/{}/reported-messages",
                base.base, report.channel_id
            )),
        }
    }
}
