//! Small builders the tests share: an application, users, channels, messages.

use hubbub_core::Error;
use hubbub_core::ids::{AppId, ChannelId, UserId};
use hubbub_core::model::{
    AppSettings, Application, Channel, ChannelKind, LiveRoom, Message, MessageContent,
    NewApplication, NewChannel, NewMessage, NewUser, User, UserKind,
};
use hubbub_core::names::{
    ChannelName, DisplayName, IdempotencyKey, MessageBody, Properties, UserName,
};
use hubbub_core::store::Store;
use serde_json::Value;

pub(crate) fn props(value: Value) -> Properties {
    Properties::parse("properties", value).expect("test properties are an object")
}

pub(crate) fn user_name(name: &str) -> UserName {
    UserName::parse(name).expect("valid test user name")
}

pub(crate) fn channel_name(name: &str) -> ChannelName {
    ChannelName::parse(name).expect("valid test channel name")
}

pub(crate) fn body(text: &str) -> MessageBody {
    MessageBody::parse(text, 4096).expect("valid test body")
}

pub(crate) fn key(k: &str) -> IdempotencyKey {
    IdempotencyKey::parse(k).expect("valid test key")
}

pub(crate) fn new_app(client_id: &str) -> NewApplication {
    NewApplication {
        name: format!("app {client_id}"),
        client_id: client_id.to_owned(),
        client_secret_hash: format!("hash-of-{client_id}"),
        signing_secret: format!("signing-{client_id}"),
        properties: Properties::default(),
        settings: AppSettings::default(),
    }
}

pub(crate) async fn app(store: &dyn Store, client_id: &str) -> AppId {
    create_app(store, client_id).await.id
}

pub(crate) async fn create_app(store: &dyn Store, client_id: &str) -> Application {
    store
        .create_application(new_app(client_id))
        .await
        .expect("create application")
}

pub(crate) fn new_user(name: &str) -> NewUser {
    NewUser {
        name: user_name(name),
        display_name: DisplayName::parse(name).expect("valid display name"),
        kind: UserKind::Person,
        is_guest: false,
        properties: Properties::default(),
    }
}

pub(crate) async fn user(store: &dyn Store, app: AppId, name: &str) -> User {
    store
        .create_user(app, new_user(name))
        .await
        .expect("create user")
}

pub(crate) async fn user_with(
    store: &dyn Store,
    app: AppId,
    name: &str,
    properties: Value,
) -> User {
    store
        .create_user(
            app,
            NewUser {
                properties: props(properties),
                ..new_user(name)
            },
        )
        .await
        .expect("create user")
}

pub(crate) fn new_channel(name: &str, members: &[UserId]) -> NewChannel {
    NewChannel {
        kind: ChannelKind::Public,
        name: Some(channel_name(name)),
        display_name: Some(DisplayName::parse(name).expect("valid display name")),
        creator: None,
        members: members.to_vec(),
        properties: Properties::default(),
        live: LiveRoom::default(),
        direct_key: None,
    }
}

pub(crate) async fn channel(
    store: &dyn Store,
    app: AppId,
    name: &str,
    members: &[UserId],
) -> Channel {
    store
        .create_channel(app, new_channel(name, members))
        .await
        .expect("create channel")
}

pub(crate) fn text(channel: ChannelId, user: Option<UserId>, text: &str) -> NewMessage {
    NewMessage {
        channel_id: channel,
        user_id: user,
        content: MessageContent::Text { body: body(text) },
        group_tag: None,
        properties: Properties::default(),
        parent_id: None,
        nested_level: 0,
        idempotency_key: None,
        created_at: None,
    }
}

pub(crate) async fn send(
    store: &dyn Store,
    app: AppId,
    channel: ChannelId,
    user: Option<UserId>,
    body: &str,
) -> Message {
    let appended = store
        .append_message(app, text(channel, user, body))
        .await
        .expect("append message");
    assert!(
        !appended.duplicate,
        "a message without key is never a duplicate"
    );
    appended.message
}

pub(crate) fn is_not_found<T: std::fmt::Debug>(result: &Result<T, Error>) -> bool {
    matches!(result, Err(Error::NotFound { .. }))
}

pub(crate) fn is_conflict<T: std::fmt::Debug>(result: &Result<T, Error>) -> bool {
    matches!(result, Err(Error::Conflict(_)))
}

/// The body of a text message.
pub(crate) fn body_of(m: &Message) -> &str {
    m.content.body().unwrap_or("<file>")
}
