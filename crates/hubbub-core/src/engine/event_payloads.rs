//! Typed payloads of the realtime events that are published on every send.
//!
//! `message.created` is the hottest serialization in hubbub (once per message sent),
//! so it is written straight from borrowed fields instead of going through a
//! `serde_json::Value` tree. Member order matches the documented event shape.

use super::mentions::mention_summary;
use super::messages::message_type;
use crate::events::EventType;
use crate::ids::{ChannelId, MessageId, UserId};
use crate::model::{FileRef, MessageContent, MessageView, Timestamp, User};
use crate::names::{DisplayName, ExternalUrl, MessageBody, Properties, UserName};
use serde::Serialize;
use serde_json::Value;

/// The user object inside realtime events.
#[derive(Serialize)]
pub(crate) struct UserSummary<'a> {
    id: UserId,
    name: &'a UserName,
    display_name: &'a DisplayName,
    display_picture_url: &'a Option<ExternalUrl>,
    #[serde(rename = "type")]
    kind: &'static str,
}

impl<'a> UserSummary<'a> {
    pub(crate) fn new(user: &'a User) -> Self {
        Self {
            id: user.id,
            name: &user.name,
            display_name: &user.display_name,
            display_picture_url: &user.display_picture_url,
            kind: user.kind.as_str(),
        }
    }
}

#[derive(Serialize)]
struct FileSummary<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a ExternalUrl,
    name: &'a str,
    content_type: &'a str,
    size: i64,
}

impl<'a> FileSummary<'a> {
    fn new(file: &'a FileRef) -> Self {
        Self {
            kind: "EXTERNAL",
            url: &file.url,
            name: &file.name,
            content_type: &file.content_type,
            size: file.size,
        }
    }
}

/// The message object inside realtime events.
#[derive(Serialize)]
pub(crate) struct MessageSummary<'a> {
    id: MessageId,
    channel_id: ChannelId,
    seq: i64,
    #[serde(rename = "type")]
    kind: &'static str,
    created_time: &'a Timestamp,
    properties: &'a Properties,
    group_tag: &'a Option<String>,
    nested_level: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a MessageBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<FileSummary<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<UserSummary<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<MessageId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mentions: Vec<Value>,
}

impl<'a> MessageSummary<'a> {
    pub(crate) fn new(view: &'a MessageView) -> Self {
        let m = &view.message;
        let (body, file) = match &m.content {
            MessageContent::Text { body } => (Some(body), None),
            MessageContent::File { file } => (None, Some(FileSummary::new(file))),
        };
        Self {
            id: m.id,
            channel_id: m.channel_id,
            seq: m.seq,
            kind: message_type(view),
            created_time: &m.created_at,
            properties: &m.properties,
            group_tag: &m.group_tag,
            nested_level: m.nested_level,
            body,
            file,
            user: view.user.as_ref().map(UserSummary::new),
            parent_id: m.parent_id,
            mentions: m.mentions.iter().map(mention_summary).collect(),
        }
    }
}

/// `{"type": "message.created" | "message.updated", "message": {...}}`.
#[derive(Serialize)]
pub(crate) struct MessageEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    message: MessageSummary<'a>,
}

impl<'a> MessageEvent<'a> {
    pub(crate) fn new(event_type: EventType, view: &'a MessageView) -> Self {
        Self {
            kind: event_type.as_str(),
            message: MessageSummary::new(view),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::AppId;
    use crate::model::{CallStatus, Message, UserKind, now};
    use serde_json::json;

    fn view(content: MessageContent, user: Option<User>) -> MessageView {
        MessageView {
            message: Message {
                id: MessageId(7),
                app_id: AppId(1),
                channel_id: ChannelId(3),
                seq: 2,
                user_id: user.as_ref().map(|u| u.id),
                content,
                group_tag: None,
                properties: Properties::default(),
                created_at: now(),
                edited_at: None,
                parent_id: None,
                nested_level: 0,
                idempotency_key: None,
                mentions: vec![],
                replies_count: 0,
                report_count: 0,
            },
            user,
        }
    }

    #[test]
    fn the_typed_event_matches_the_documented_shape() {
        let user = User {
            id: UserId(5),
            app_id: AppId(1),
            name: UserName::parse("jane").unwrap(),
            display_name: DisplayName::parse("Jane").unwrap(),
            display_picture_url: None,
            kind: UserKind::Person,
            is_guest: false,
            presence_status: "AVAILABLE".into(),
            call_status: CallStatus::Available,
            properties: Properties::default(),
            created_at: now(),
        };
        let v = view(
            MessageContent::Text {
                body: MessageBody::parse("hi", 10).unwrap(),
            },
            Some(user),
        );
        let typed =
            serde_json::to_string(&MessageEvent::new(EventType::MessageCreated, &v)).unwrap();
        let expected = json!({
            "type": "message.created",
            "message": {
                "id": 7, "channel_id": 3, "seq": 2, "type": "TEXT",
                "created_time": v.message.created_at, "properties": {}, "group_tag": null,
                "nested_level": 0, "body": "hi",
                "user": {"id": 5, "name": "jane", "display_name": "Jane", "display_picture_url": null, "type": "PERSON"}
            }
        });
        assert_eq!(
            typed,
            expected.to_string(),
            "same members in the same order"
        );
    }
}
