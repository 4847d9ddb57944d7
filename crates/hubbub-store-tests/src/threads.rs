//! Threads, mentions and notifications: `replies_count`, thread filters, and the
//! extras written in the same commit as a message.

use crate::fixtures::*;
use hubbub_core::ids::{ChannelId, MessageId, NotificationId, UserId};
use hubbub_core::model::{
    Mention, MentionTarget, MessageExtras, MessageFilter, NewMessage, NewNotification,
    NotificationCursor, NotificationKind, ThreadFilter,
};
use hubbub_core::paging::{CursorDirection, CursorRequest};
use hubbub_core::store::Store;
use std::sync::Arc;

fn reply(channel: ChannelId, user: Option<UserId>, parent: MessageId, body: &str) -> NewMessage {
    NewMessage {
        parent_id: Some(parent),
        nested_level: 1,
        ..text(channel, user, body)
    }
}

fn notify(user: UserId, kind: NotificationKind) -> NewNotification {
    NewNotification {
        user_id: user,
        kind,
        title: format!("title for {user}"),
        body: "body".into(),
    }
}

fn cursor(size: u32) -> NotificationCursor {
    NotificationCursor {
        size,
        cursor: None,
        direction: CursorDirection::Older,
    }
}

pub async fn replies_count_follows_replies(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "replies").await;
    let u = user(s, a, "u").await;
    let c = channel(s, a, "room", &[u.id]).await;
    let parent = send(s, a, c.id, Some(u.id), "parent").await;
    assert_eq!(parent.replies_count, 0);
    assert_eq!(parent.report_count, 0);
    assert!(parent.mentions.is_empty());

    let r1 = s
        .append_message(a, reply(c.id, Some(u.id), parent.id, "one"))
        .await
        .unwrap()
        .message;
    let r2 = s
        .append_message_with(
            a,
            reply(c.id, None, parent.id, "two"),
            MessageExtras::default(),
        )
        .await
        .unwrap()
        .message;
    assert_eq!(r1.seq, parent.seq + 1, "replies take the channel's seqs");
    assert_eq!(r2.seq, parent.seq + 2);
    let stored = s.get_message(a, parent.id).await.unwrap().unwrap();
    assert_eq!(stored.message.replies_count, 2);
    assert_eq!(
        s.get_message(a, r1.id)
            .await
            .unwrap()
            .unwrap()
            .message
            .replies_count,
        0
    );

    // A retried reply counts once.
    let keyed = || NewMessage {
        idempotency_key: Some(key("reply-key")),
        ..reply(c.id, Some(u.id), parent.id, "three")
    };
    let first = s.append_message(a, keyed()).await.unwrap();
    let again = s.append_message(a, keyed()).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.message.id, first.message.id);
    let stored = s.get_message(a, parent.id).await.unwrap().unwrap();
    assert_eq!(stored.message.replies_count, 3);

    // Deleting a reply takes it back; deleting a top-level message changes nothing.
    s.delete_message(a, r1.id).await.unwrap();
    let stored = s.get_message(a, parent.id).await.unwrap().unwrap();
    assert_eq!(stored.message.replies_count, 2);
}

pub async fn thread_filters_list_top_level_and_replies(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "thread-filters").await;
    let u = user(s, a, "u").await;
    let c = channel(s, a, "room", &[u.id]).await;
    let other = channel(s, a, "other", &[u.id]).await;
    let p1 = send(s, a, c.id, Some(u.id), "p1").await;
    let p2 = send(s, a, c.id, Some(u.id), "p2").await;
    send(s, a, other.id, Some(u.id), "elsewhere").await;
    let mut replies = Vec::new();
    for i in 0..5 {
        let m = s
            .append_message(a, reply(c.id, Some(u.id), p1.id, &format!("r{i}")))
            .await
            .unwrap()
            .message;
        replies.push(m.id);
    }
    s.append_message(a, reply(c.id, Some(u.id), p2.id, "to p2"))
        .await
        .unwrap();

    let top = s
        .list_messages(
            a,
            &MessageFilter {
                channel_id: Some(c.id),
                thread: Some(ThreadFilter::TopLevel),
                ..Default::default()
            },
            &CursorRequest::default(),
        )
        .await
        .unwrap();
    let ids: Vec<_> = top.items.iter().map(|v| v.message.id).collect();
    assert_eq!(ids, vec![p2.id, p1.id], "top-level only, newest first");
    assert_eq!(top.total, 2);

    let thread = MessageFilter {
        thread: Some(ThreadFilter::RepliesTo(p1.id)),
        ..Default::default()
    };
    let first = s
        .list_messages(
            a,
            &thread,
            &CursorRequest {
                size: 3,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(first.total, 5);
    assert!(first.has_more);
    let ids: Vec<_> = first.items.iter().map(|v| v.message.id).collect();
    assert_eq!(ids, vec![replies[4], replies[3], replies[2]]);
    let rest = s
        .list_messages(
            a,
            &thread,
            &CursorRequest {
                size: 3,
                cursor: Some(replies[2]),
                direction: CursorDirection::Older,
            },
        )
        .await
        .unwrap();
    let ids: Vec<_> = rest.items.iter().map(|v| v.message.id).collect();
    assert_eq!(ids, vec![replies[1], replies[0]]);
    assert!(!rest.has_more);
    assert!(
        rest.items
            .iter()
            .all(|v| v.message.parent_id == Some(p1.id) && v.message.nested_level == 1)
    );
}

pub async fn extras_are_written_with_their_message_once(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "extras").await;
    let jane = user(s, a, "jane").await;
    let bob = user(s, a, "bob").await;
    let c = channel(s, a, "room", &[jane.id, bob.id]).await;
    let mention = Mention {
        target: MentionTarget::User {
            user: Box::new(jane.clone()),
        },
        tag: "@jane".into(),
        start_position: 3,
        end_position: 8,
    };
    let extras = MessageExtras {
        mentions: vec![mention.clone()],
        notifications: vec![notify(jane.id, NotificationKind::UserMentioned)],
    };
    let new = || NewMessage {
        idempotency_key: Some(key("k1")),
        ..text(c.id, Some(bob.id), "hi @jane")
    };
    let appended = s
        .append_message_with(a, new(), extras.clone())
        .await
        .unwrap();
    assert!(!appended.duplicate);
    assert_eq!(appended.message.mentions, vec![mention.clone()]);
    let stored = s
        .get_message(a, appended.message.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.message, appended.message, "mentions are stored");

    // A retry returns the original and writes no second notification.
    let again = s.append_message_with(a, new(), extras).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.message, appended.message);
    let page = s.list_notifications(a, jane.id, &cursor(10)).await.unwrap();
    assert_eq!(page.total, 1);
    let n = &page.items[0];
    assert_eq!(n.notification.kind, NotificationKind::UserMentioned);
    assert_eq!(n.notification.user_id, jane.id);
    assert_eq!(n.notification.channel_id, c.id);
    assert_eq!(n.notification.message_id, appended.message.id);
    assert_eq!(n.notification.created_at, appended.message.created_at);
    assert_eq!(n.notification.title, format!("title for {}", jane.id));
    assert_eq!(n.notification.read_at, None);
    assert!(!n.notification.muted);
    assert_eq!(n.message.message, appended.message);
    assert_eq!(n.message.user.as_ref().map(|u| u.id), Some(bob.id));
    assert_eq!(n.parent, None);
    assert_eq!(
        s.list_notifications(a, bob.id, &cursor(10))
            .await
            .unwrap()
            .total,
        0
    );

    // A reply's notification carries the parent; deleting the message removes them.
    let r = s
        .append_message_with(
            a,
            reply(c.id, Some(jane.id), appended.message.id, "yes?"),
            MessageExtras {
                mentions: vec![],
                notifications: vec![notify(bob.id, NotificationKind::RepliedTo)],
            },
        )
        .await
        .unwrap()
        .message;
    let page = s.list_notifications(a, bob.id, &cursor(10)).await.unwrap();
    assert_eq!(page.total, 1);
    let parent = page.items[0].parent.as_ref().expect("the parent is joined");
    assert_eq!(parent.message.id, appended.message.id);
    s.delete_message(a, r.id).await.unwrap();
    assert_eq!(
        s.list_notifications(a, bob.id, &cursor(10))
            .await
            .unwrap()
            .total,
        0
    );
}

pub async fn a_failing_append_writes_none_of_its_extras(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "extras-fail").await;
    let jane = user(s, a, "jane").await;
    let missing = s
        .append_message_with(
            a,
            text(ChannelId(9_999), None, "nowhere"),
            MessageExtras {
                mentions: vec![],
                notifications: vec![notify(jane.id, NotificationKind::SystemMessage)],
            },
        )
        .await;
    assert!(is_not_found(&missing), "{missing:?}");
    assert_eq!(
        s.list_notifications(a, jane.id, &cursor(10))
            .await
            .unwrap()
            .total,
        0
    );
}

pub async fn notifications_are_cursor_paged_newest_first(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "notif-pages").await;
    let jane = user(s, a, "jane").await;
    let c = channel(s, a, "room", &[jane.id]).await;
    for i in 0..7 {
        s.append_message_with(
            a,
            text(c.id, None, &format!("system {i}")),
            MessageExtras {
                mentions: vec![],
                notifications: vec![notify(jane.id, NotificationKind::SystemMessage)],
            },
        )
        .await
        .unwrap();
    }
    let first = s.list_notifications(a, jane.id, &cursor(3)).await.unwrap();
    assert_eq!(first.total, 7);
    assert!(first.has_more);
    let bodies: Vec<_> = first
        .items
        .iter()
        .map(|n| body_of(&n.message.message).to_owned())
        .collect();
    assert_eq!(bodies, vec!["system 6", "system 5", "system 4"]);
    let ids: Vec<NotificationId> = first.items.iter().map(|n| n.notification.id).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]));
    let older = s
        .list_notifications(
            a,
            jane.id,
            &NotificationCursor {
                size: 10,
                cursor: Some(ids[2]),
                direction: CursorDirection::Older,
            },
        )
        .await
        .unwrap();
    assert_eq!(older.items.len(), 4);
    assert!(!older.has_more);
    let newer = s
        .list_notifications(
            a,
            jane.id,
            &NotificationCursor {
                size: 2,
                cursor: Some(older.items[0].notification.id),
                direction: CursorDirection::Newer,
            },
        )
        .await
        .unwrap();
    let got: Vec<_> = newer.items.iter().map(|n| n.notification.id).collect();
    assert_eq!(
        got,
        vec![ids[1], ids[2]],
        "the two just above, newest first"
    );
    assert!(newer.has_more);
}

pub async fn tenant_isolation_of_threads_and_notifications(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "iso-threads-a").await;
    let b = app(s, "iso-threads-b").await;
    let jane = user(s, a, "jane").await;
    let c = channel(s, a, "room", &[jane.id]).await;
    let parent = send(s, a, c.id, Some(jane.id), "parent").await;
    s.append_message_with(
        a,
        reply(c.id, None, parent.id, "reply"),
        MessageExtras {
            mentions: vec![],
            notifications: vec![notify(jane.id, NotificationKind::RepliedTo)],
        },
    )
    .await
    .unwrap();
    // B sees neither the thread nor the notification.
    let thread = s
        .list_messages(
            b,
            &MessageFilter {
                thread: Some(ThreadFilter::RepliesTo(parent.id)),
                ..Default::default()
            },
            &CursorRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(thread.total, 0);
    assert_eq!(
        s.list_notifications(b, jane.id, &cursor(10))
            .await
            .unwrap()
            .total,
        0
    );
    // B cannot reply into A's channel, nor bump A's counters from its own channel.
    let cb = channel(s, b, "b-room", &[]).await;
    let into_a = s
        .append_message_with(
            b,
            reply(c.id, None, parent.id, "x"),
            MessageExtras::default(),
        )
        .await;
    assert!(is_not_found(&into_a), "{into_a:?}");
    s.append_message(b, reply(cb.id, None, parent.id, "dangling"))
        .await
        .unwrap();
    let stored = s.get_message(a, parent.id).await.unwrap().unwrap();
    assert_eq!(stored.message.replies_count, 1, "B's message did not count");
}
