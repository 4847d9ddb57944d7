//! Tenant isolation: application B addressing application A's ids sees nothing and
//! changes nothing — exactly as if the ids did not exist.

use crate::fixtures::*;
use hubbub_core::model::{
    ChannelChanges, ChannelFilter, MessageChanges, MessageFilter, UserChanges, UserFilter,
};
use hubbub_core::names::SecretName;
use hubbub_core::paging::{CursorRequest, PageRequest};
use hubbub_core::store::Store;
use serde_json::json;
use std::sync::Arc;

pub async fn tenant_isolation_of_users(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "tenant-a").await;
    let b = app(s, "tenant-b").await;
    let alice = user(s, a, "alice").await;
    let secret = SecretName::parse("token").unwrap();
    s.set_user_secret(a, alice.id, &secret, json!("s3cret"))
        .await
        .unwrap();

    assert_eq!(s.get_user(b, alice.id).await.unwrap(), None);
    assert_eq!(s.get_user_by_name(b, &alice.name).await.unwrap(), None);
    let listed = s
        .list_users(b, &UserFilter::default(), &PageRequest::default())
        .await
        .unwrap();
    assert!(listed.items.is_empty());
    assert_eq!(listed.total, 0);
    let update = s.update_user(b, alice.id, UserChanges::default()).await;
    assert!(is_not_found(&update), "{update:?}");
    let delete = s.delete_user(b, alice.id).await;
    assert!(is_not_found(&delete), "{delete:?}");
    assert_eq!(s.get_user_secret(b, alice.id, &secret).await.unwrap(), None);
    let set = s
        .set_user_secret(b, alice.id, &secret, json!("stolen"))
        .await;
    assert!(is_not_found(&set), "{set:?}");
    let del = s.delete_user_secret(b, alice.id, &secret).await;
    assert!(is_not_found(&del), "{del:?}");
    assert_eq!(s.count_unread(b, alice.id).await.unwrap(), 0);

    // Nothing of A changed.
    assert_eq!(s.get_user(a, alice.id).await.unwrap(), Some(alice.clone()));
    assert_eq!(
        s.get_user_secret(a, alice.id, &secret).await.unwrap(),
        Some(json!("s3cret"))
    );
    // B's own channel cannot take A's user as a member or moderator.
    let cb = channel(s, b, "b-room", &[]).await;
    let add = s.add_member(b, cb.id, alice.id).await;
    assert!(is_not_found(&add), "{add:?}");
    let add = s.add_moderator(b, cb.id, alice.id).await;
    assert!(is_not_found(&add), "{add:?}");
    let create = s.create_channel(b, new_channel("b-two", &[alice.id])).await;
    assert!(is_not_found(&create), "{create:?}");
    let foreign_author = s
        .append_message(b, text(cb.id, Some(alice.id), "as alice"))
        .await;
    assert!(is_not_found(&foreign_author), "{foreign_author:?}");
}

pub async fn tenant_isolation_of_channels(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "tenant-a").await;
    let b = app(s, "tenant-b").await;
    let alice = user(s, a, "alice").await;
    let bert = user(s, b, "bert").await;
    let room = channel(s, a, "room", &[alice.id]).await;
    s.add_moderator(a, room.id, alice.id).await.unwrap();

    assert_eq!(s.get_channel(b, room.id).await.unwrap(), None);
    assert_eq!(
        s.get_channel_by_name(b, &channel_name("room"))
            .await
            .unwrap(),
        None
    );
    let listed = s
        .list_channels(b, &ChannelFilter::default(), &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 0);
    let update = s
        .update_channel(b, room.id, ChannelChanges::default())
        .await;
    assert!(is_not_found(&update), "{update:?}");
    let delete = s.delete_channel(b, room.id).await;
    assert!(is_not_found(&delete), "{delete:?}");

    assert!(!s.is_member(b, room.id, alice.id).await.unwrap());
    assert!(!s.is_moderator(b, room.id, alice.id).await.unwrap());
    let add = s.add_member(b, room.id, bert.id).await;
    assert!(is_not_found(&add), "{add:?}");
    let remove = s.remove_member(b, room.id, alice.id).await;
    assert!(is_not_found(&remove), "{remove:?}");
    let add = s.add_moderator(b, room.id, bert.id).await;
    assert!(is_not_found(&add), "{add:?}");
    let remove = s.remove_moderator(b, room.id, alice.id).await;
    assert!(is_not_found(&remove), "{remove:?}");
    let members = s.list_members(b, room.id, &PageRequest::default()).await;
    assert!(is_not_found(&members), "{members:?}");
    let memberships = s
        .list_memberships(b, room.id, &PageRequest::default())
        .await;
    assert!(is_not_found(&memberships), "{memberships:?}");
    let moderators = s.list_moderators(b, room.id, &PageRequest::default()).await;
    assert!(is_not_found(&moderators), "{moderators:?}");
    let direct = s.direct_members(b, room.id).await;
    assert!(is_not_found(&direct), "{direct:?}");
    let mark = s.mark_read(b, room.id, bert.id, 1).await;
    assert!(is_not_found(&mark), "{mark:?}");

    // Nothing of A changed.
    assert_eq!(s.get_channel(a, room.id).await.unwrap(), Some(room.clone()));
    assert!(s.is_member(a, room.id, alice.id).await.unwrap());
    assert!(s.is_moderator(a, room.id, alice.id).await.unwrap());
    assert!(!s.is_member(a, room.id, bert.id).await.unwrap());
}

pub async fn tenant_isolation_of_messages(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "tenant-a").await;
    let b = app(s, "tenant-b").await;
    let alice = user(s, a, "alice").await;
    let room = channel(s, a, "room", &[alice.id]).await;
    let m = send(s, a, room.id, Some(alice.id), "private words").await;
    let b_room = channel(s, b, "b-room", &[]).await;
    send(s, b, b_room.id, None, "b's own").await;

    assert_eq!(s.get_message(b, m.id).await.unwrap(), None);
    let everything = s
        .list_messages(b, &MessageFilter::default(), &CursorRequest::default())
        .await
        .unwrap();
    assert_eq!(everything.total, 1, "only b's own message");
    let in_a_room = MessageFilter {
        channel_id: Some(room.id),
        ..Default::default()
    };
    let listed = s
        .list_messages(b, &in_a_room, &CursorRequest::default())
        .await
        .unwrap();
    assert!(listed.items.is_empty());
    assert_eq!(listed.total, 0);
    let query = MessageFilter {
        query: Some("private".into()),
        ..Default::default()
    };
    assert_eq!(
        s.list_messages(b, &query, &CursorRequest::default())
            .await
            .unwrap()
            .total,
        0
    );
    assert!(
        s.messages_after_seq(b, room.id, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let append = s.append_message(b, text(room.id, None, "intrusion")).await;
    assert!(is_not_found(&append), "{append:?}");
    let update = s
        .update_message(
            b,
            m.id,
            MessageChanges {
                body: Some(body("defaced")),
                ..Default::default()
            },
        )
        .await;
    assert!(is_not_found(&update), "{update:?}");
    let delete = s.delete_message(b, m.id).await;
    assert!(is_not_found(&delete), "{delete:?}");
    assert_eq!(s.delete_all_messages(b).await.unwrap(), 1);

    // Nothing of A changed.
    let view = s
        .get_message(a, m.id)
        .await
        .unwrap()
        .expect("a's message stays");
    assert_eq!(view.message, m);
    let channel = s.get_channel(a, room.id).await.unwrap().unwrap();
    assert_eq!(channel.last_seq, 1);
    assert_eq!(channel.last_message_id, Some(m.id));
}
