//! Reports of messages and channel invites.

use crate::fixtures::*;
use hubbub_core::ids::{ChannelId, MessageId, UserId};
use hubbub_core::model::NewReport;
use hubbub_core::paging::PageRequest;
use hubbub_core::store::Store;
use std::sync::Arc;

fn report(message: MessageId, user: Option<UserId>, reason: &str) -> NewReport {
    NewReport {
        message_id: message,
        user_id: user,
        reason: reason.into(),
    }
}

pub async fn reports_count_once_per_user(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "reports").await;
    let jane = user(s, a, "jane").await;
    let bob = user(s, a, "bob").await;
    let c = channel(s, a, "room", &[jane.id, bob.id]).await;
    let other = channel(s, a, "other", &[]).await;
    let m1 = send(s, a, c.id, Some(bob.id), "bad").await;
    let m2 = send(s, a, c.id, Some(bob.id), "worse").await;
    let m3 = send(s, a, other.id, None, "elsewhere").await;

    let first = s
        .report_message(a, report(m1.id, Some(jane.id), "spam"))
        .await
        .unwrap();
    assert_eq!(first.message_id, m1.id);
    assert_eq!(first.channel_id, c.id);
    assert_eq!(first.user_id, Some(jane.id));
    assert_eq!(first.reason, "spam");
    let again = s
        .report_message(a, report(m1.id, Some(jane.id), "still spam"))
        .await
        .unwrap();
    assert_eq!(again, first, "a user's second report returns the first");
    s.report_message(a, report(m1.id, None, "by the backend"))
        .await
        .unwrap();
    s.report_message(a, report(m1.id, None, "and again"))
        .await
        .unwrap();
    let stored = s.get_message(a, m1.id).await.unwrap().unwrap();
    assert_eq!(stored.message.report_count, 3);
    s.report_message(a, report(m2.id, Some(jane.id), "rude"))
        .await
        .unwrap();
    s.report_message(a, report(m3.id, None, "other channel"))
        .await
        .unwrap();

    let listed = s
        .list_reported_messages(a, c.id, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 2);
    let ids: Vec<_> = listed.items.iter().map(|v| v.message.id).collect();
    assert_eq!(ids, vec![m2.id, m1.id], "most recently reported first");
    assert_eq!(listed.items[1].message.report_count, 3);
    assert_eq!(listed.items[1].user.as_ref().map(|u| u.id), Some(bob.id));

    let missing = s
        .report_message(a, report(MessageId(m3.id.0 + 100), None, "x"))
        .await;
    assert!(is_not_found(&missing), "{missing:?}");
    let missing = s
        .list_reported_messages(a, ChannelId(other.id.0 + 100), &PageRequest::default())
        .await;
    assert!(is_not_found(&missing), "{missing:?}");

    // Deleting a reported message takes it off the list.
    s.delete_message(a, m2.id).await.unwrap();
    let listed = s
        .list_reported_messages(a, c.id, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
}

pub async fn invites_are_pending_until_membership(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "invites").await;
    let owner = user(s, a, "owner").await;
    let jane = user(s, a, "jane").await;
    let bob = user(s, a, "bob").await;
    let c = channel(s, a, "room", &[owner.id]).await;

    let invite = s
        .create_invite(a, c.id, jane.id, Some(owner.id))
        .await
        .unwrap();
    assert_eq!(invite.channel_id, c.id);
    assert_eq!(invite.user.id, jane.id);
    assert_eq!(invite.invited_by, Some(owner.id));
    let again = s.create_invite(a, c.id, jane.id, None).await.unwrap();
    assert_eq!(again, invite, "inviting again returns the pending invite");
    s.create_invite(a, c.id, bob.id, None).await.unwrap();
    let listed = s
        .list_invites(a, c.id, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 2);
    let who: Vec<_> = listed.items.iter().map(|i| i.user.id).collect();
    assert_eq!(who, vec![jane.id, bob.id], "oldest first");

    // Joining fulfils the invite.
    s.add_member(a, c.id, jane.id).await.unwrap();
    let listed = s
        .list_invites(a, c.id, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
    assert_eq!(listed.items[0].user.id, bob.id);
    let member = s.create_invite(a, c.id, jane.id, None).await;
    assert!(is_conflict(&member), "{member:?}");

    let missing = s.create_invite(a, c.id, UserId(bob.id.0 + 100), None).await;
    assert!(is_not_found(&missing), "{missing:?}");
    let missing = s
        .create_invite(a, ChannelId(c.id.0 + 100), bob.id, None)
        .await;
    assert!(is_not_found(&missing), "{missing:?}");
    s.delete_user(a, bob.id).await.unwrap();
    let listed = s
        .list_invites(a, c.id, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 0);
}

pub async fn tenant_isolation_of_reports_and_invites(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "iso-mod-a").await;
    let b = app(s, "iso-mod-b").await;
    let jane = user(s, a, "jane").await;
    let c = channel(s, a, "room", &[]).await;
    let m = send(s, a, c.id, Some(jane.id), "hello").await;
    s.report_message(a, report(m.id, None, "a's report"))
        .await
        .unwrap();
    s.create_invite(a, c.id, jane.id, None).await.unwrap();

    let foreign = s.report_message(b, report(m.id, None, "b's report")).await;
    assert!(is_not_found(&foreign), "{foreign:?}");
    let foreign = s
        .list_reported_messages(b, c.id, &PageRequest::default())
        .await;
    assert!(is_not_found(&foreign), "{foreign:?}");
    let foreign = s.create_invite(b, c.id, jane.id, None).await;
    assert!(is_not_found(&foreign), "{foreign:?}");
    let foreign = s.list_invites(b, c.id, &PageRequest::default()).await;
    assert!(is_not_found(&foreign), "{foreign:?}");
    let cb = channel(s, b, "b-room", &[]).await;
    let foreign_user = s.create_invite(b, cb.id, jane.id, None).await;
    assert!(is_not_found(&foreign_user), "{foreign_user:?}");
    assert_eq!(
        s.get_message(a, m.id)
            .await
            .unwrap()
            .unwrap()
            .message
            .report_count,
        1
    );
}
