//! Messages: appends (seqs, idempotency, group commit isolation), reads, edits,
//! deletes, read marks and the write counters.

use crate::fixtures::*;
use chrono::Duration;
use futures::future::join_all;
use hubbub_core::Error;
use hubbub_core::ids::{AppId, ChannelId, MessageId, UserId};
use hubbub_core::model::{
    FileRef, Message, MessageChanges, MessageContent, MessageFilter, MessageView, NewMessage, now,
};
use hubbub_core::names::ExternalUrl;
use hubbub_core::paging::{CursorDirection, CursorPage, CursorRequest};
use hubbub_core::store::Store;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;

fn keyed(channel: ChannelId, user: Option<UserId>, body: &str, k: &str) -> NewMessage {
    NewMessage {
        idempotency_key: Some(key(k)),
        ..text(channel, user, body)
    }
}

fn bodies(page: &CursorPage<MessageView>) -> Vec<&str> {
    page.items.iter().map(|v| body_of(&v.message)).collect()
}

fn older(size: u32, cursor: Option<MessageId>) -> CursorRequest {
    CursorRequest {
        size,
        cursor,
        direction: CursorDirection::Older,
    }
}

fn newer(size: u32, cursor: Option<MessageId>) -> CursorRequest {
    CursorRequest {
        size,
        cursor,
        direction: CursorDirection::Newer,
    }
}

async fn total(s: &dyn Store, a: AppId, filter: MessageFilter) -> u64 {
    s.list_messages(a, &filter, &older(1, None))
        .await
        .expect("list messages")
        .total
}

pub async fn append_assigns_seqs_ids_and_updates_the_channel(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "append").await;
    let u = user(s, a, "u").await;
    let c = channel(s, a, "room", &[u.id]).await;
    let d = channel(s, a, "other", &[u.id]).await;

    let mut last_id = MessageId(0);
    for i in 1..=5 {
        let m = send(s, a, c.id, Some(u.id), &format!("m{i}")).await;
        assert_eq!(m.seq, i);
        assert!(m.id > last_id, "ids grow");
        assert_eq!(m.app_id, a);
        assert_eq!(m.channel_id, c.id);
        assert_eq!(m.user_id, Some(u.id));
        assert_eq!(m.edited_at, None);
        last_id = m.id;
    }
    // Each channel has its own sequence.
    let first_in_d = send(s, a, d.id, None, "system hello").await;
    assert_eq!(first_in_d.seq, 1);
    assert!(first_in_d.id > last_id);
    assert_eq!(first_in_d.user_id, None);

    let channel = s.get_channel(a, c.id).await.unwrap().unwrap();
    assert_eq!(channel.last_seq, 5);
    assert_eq!(channel.last_message_id, Some(last_id));
    assert_eq!(channel.epoch, c.epoch, "appends keep the epoch");

    // Everything given is stored as given.
    let at = now() - Duration::days(2);
    let file = FileRef {
        url: ExternalUrl::parse("url", "https://cdn.example.com/cat.png").unwrap(),
        name: "cat.png".into(),
        content_type: "image/png".into(),
        size: 1234,
    };
    let appended = s
        .append_message(
            a,
            NewMessage {
                channel_id: c.id,
                user_id: Some(u.id),
                content: MessageContent::File { file: file.clone() },
                group_tag: Some("tag-1".into()),
                properties: props(json!({"x": [1, {"y": null}]})),
                parent_id: Some(last_id),
                nested_level: 1,
                idempotency_key: Some(key("file-1")),
                created_at: Some(at),
            },
        )
        .await
        .unwrap();
    assert!(!appended.duplicate);
    let m = appended.message;
    assert_eq!(m.seq, 6);
    assert_eq!(m.created_at, at);
    let view = s.get_message(a, m.id).await.unwrap().expect("stored");
    assert_eq!(view.message, m);
    assert_eq!(view.message.content, MessageContent::File { file });
    assert_eq!(view.message.group_tag.as_deref(), Some("tag-1"));
    assert_eq!(view.message.parent_id, Some(last_id));
    assert_eq!(view.message.nested_level, 1);
    assert_eq!(
        view.message.properties,
        props(json!({"x": [1, {"y": null}]}))
    );

    let missing = s
        .append_message(a, text(ChannelId(d.id.0 + 1000), None, "x"))
        .await;
    assert!(is_not_found(&missing), "{missing:?}");
    assert_eq!(s.get_channel(a, c.id).await.unwrap().unwrap().last_seq, 6);
}

pub async fn concurrent_appends_have_no_gaps(store: Arc<dyn Store>) {
    let a = app(store.as_ref(), "concurrent").await;
    let u = user(store.as_ref(), a, "u").await;
    let c = channel(store.as_ref(), a, "hot", &[u.id]).await;
    let side = channel(store.as_ref(), a, "side", &[u.id]).await;

    let tasks = (0..20).map(|t| {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let mut got = Vec::with_capacity(50);
            for i in 0..50 {
                let target = if i % 10 == 9 { side.id } else { c.id };
                let m = store
                    .append_message(a, text(target, Some(u.id), &format!("t{t} m{i}")))
                    .await
                    .expect("append");
                got.push(m.message);
            }
            got
        })
    });
    let mut all: Vec<Message> = Vec::new();
    for r in join_all(tasks).await {
        all.extend(r.expect("task"));
    }
    assert_eq!(all.len(), 1000);
    let ids: HashSet<MessageId> = all.iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), 1000, "ids are unique");

    for (ch, n) in [(c.id, 900_i64), (side.id, 100)] {
        let mut seqs: Vec<i64> = all
            .iter()
            .filter(|m| m.channel_id == ch)
            .map(|m| m.seq)
            .collect();
        seqs.sort_unstable();
        assert_eq!(
            seqs,
            (1..=n).collect::<Vec<_>>(),
            "seqs 1..={n} without gap"
        );
        let stored = store.get_channel(a, ch).await.unwrap().unwrap();
        assert_eq!(stored.last_seq, n);
        let newest = all
            .iter()
            .filter(|m| m.channel_id == ch)
            .max_by_key(|m| m.seq)
            .map(|m| m.id);
        assert_eq!(stored.last_message_id, newest);
        // Seq order and id order agree within a channel, and history has every seq.
        let history = store.messages_after_seq(a, ch, 0, 2000).await.unwrap();
        let hseqs: Vec<i64> = history.iter().map(|v| v.message.seq).collect();
        assert_eq!(hseqs, (1..=n).collect::<Vec<_>>());
        assert!(
            history
                .windows(2)
                .all(|w| w[0].message.id < w[1].message.id)
        );
    }
    // Every task's own messages are in the order it sent them.
    for t in 0..20 {
        let mine: Vec<&Message> = all
            .iter()
            .filter(|m| body_of(m).starts_with(&format!("t{t} ")))
            .collect();
        assert!(mine.windows(2).all(|w| w[0].id < w[1].id));
    }
}

pub async fn idempotent_appends_return_the_original(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "idem").await;
    let b = app(s, "idem-b").await;
    let u = user(s, a, "u").await;
    let v = user(s, a, "v").await;
    let c = channel(s, a, "room", &[u.id, v.id]).await;
    let d = channel(s, a, "other", &[u.id]).await;

    let first = s
        .append_message(a, keyed(c.id, Some(u.id), "hello", "k1"))
        .await
        .unwrap();
    assert!(!first.duplicate);
    let retry = s
        .append_message(a, keyed(c.id, Some(u.id), "hello", "k1"))
        .await
        .unwrap();
    assert!(retry.duplicate);
    assert_eq!(retry.message, first.message);
    // A retry returns the original even if its content (or channel) differs.
    let changed = s
        .append_message(a, keyed(d.id, Some(u.id), "HELLO?", "k1"))
        .await
        .unwrap();
    assert!(changed.duplicate);
    assert_eq!(changed.message, first.message);
    assert_eq!(s.get_channel(a, d.id).await.unwrap().unwrap().last_seq, 0);

    // Keys are scoped to the sender: another user, or the system, starts fresh.
    let by_v = s
        .append_message(a, keyed(c.id, Some(v.id), "hello", "k1"))
        .await
        .unwrap();
    assert!(!by_v.duplicate);
    assert_ne!(by_v.message.id, first.message.id);
    let by_system = s
        .append_message(a, keyed(c.id, None, "hello", "k1"))
        .await
        .unwrap();
    assert!(!by_system.duplicate);
    let system_retry = s
        .append_message(a, keyed(c.id, None, "again", "k1"))
        .await
        .unwrap();
    assert!(system_retry.duplicate);
    assert_eq!(system_retry.message, by_system.message);
    // ... and to the application.
    let cb = channel(s, b, "room-b", &[]).await;
    let in_b = s
        .append_message(b, keyed(cb.id, None, "hello", "k1"))
        .await
        .unwrap();
    assert!(!in_b.duplicate);

    let stored = s.get_channel(a, c.id).await.unwrap().unwrap();
    assert_eq!(stored.last_seq, 3, "retries take no seq");
    assert_eq!(total(s, a, MessageFilter::default()).await, 3);

    // Duplicates inside one batch: send the same new key many times at once.
    let burst = (0..10).map(|_| s.append_message(a, keyed(c.id, Some(u.id), "burst", "k2")));
    let results: Vec<_> = join_all(burst)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(results.iter().filter(|r| !r.duplicate).count(), 1);
    assert!(results.iter().all(|r| r.message == results[0].message));
    assert_eq!(s.get_channel(a, c.id).await.unwrap().unwrap().last_seq, 4);
}

pub async fn concurrent_idempotent_appends_store_one_message(store: Arc<dyn Store>) {
    let a = app(store.as_ref(), "idem-conc").await;
    let u = user(store.as_ref(), a, "u").await;
    let c = channel(store.as_ref(), a, "room", &[u.id]).await;
    // 50 keys, each sent by 4 concurrent tasks (and twice by each).
    let tasks = (0..4).map(|_| {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let mut got = Vec::new();
            for round in 0..2 {
                for k in 0..50 {
                    let r = store
                        .append_message(
                            a,
                            keyed(c.id, Some(u.id), &format!("msg {k}"), &format!("key-{k}")),
                        )
                        .await
                        .expect("append");
                    got.push((k, round, r));
                }
            }
            got
        })
    });
    let mut all = Vec::new();
    for r in join_all(tasks).await {
        all.extend(r.expect("task"));
    }
    assert_eq!(all.len(), 400);
    assert_eq!(all.iter().filter(|(_, _, r)| !r.duplicate).count(), 50);
    for k in 0..50 {
        let copies: Vec<&Message> = all
            .iter()
            .filter(|(key, _, _)| *key == k)
            .map(|(_, _, r)| &r.message)
            .collect();
        assert!(
            copies.iter().all(|m| *m == copies[0]),
            "key {k}: one message"
        );
        assert_eq!(body_of(copies[0]), format!("msg {k}"));
    }
    let channel = store.get_channel(a, c.id).await.unwrap().unwrap();
    assert_eq!(channel.last_seq, 50);
    assert_eq!(total(store.as_ref(), a, MessageFilter::default()).await, 50);
}

pub async fn a_failing_append_does_not_fail_its_neighbours(store: Arc<dyn Store>) {
    let a = app(store.as_ref(), "isolation").await;
    let u = user(store.as_ref(), a, "u").await;
    let c = channel(store.as_ref(), a, "good", &[u.id]).await;
    let ghost = ChannelId(c.id.0 + 1000);
    let ghost_user = UserId(u.id.0 + 1000);
    // Interleave good appends with bad ones and with other writes, all at once, so that
    // they share batches.
    let tasks = (0..200).map(|i| {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            match i % 10 {
                3 => Err(store
                    .append_message(a, text(ghost, Some(u.id), "lost"))
                    .await),
                5 => Err(store
                    .append_message(a, text(c.id, Some(ghost_user), "lost"))
                    .await),
                7 => {
                    let dup = store
                        .create_user(a, new_user("u"))
                        .await
                        .map(|_| unreachable!("duplicate user name"));
                    Err(dup)
                }
                _ => Ok(store
                    .append_message(a, text(c.id, Some(u.id), &format!("ok {i}")))
                    .await
                    .expect("good append")),
            }
        })
    });
    let mut good = 0;
    for r in join_all(tasks).await {
        match r.expect("task") {
            Ok(appended) => {
                assert!(!appended.duplicate);
                good += 1;
            }
            Err(Err(Error::NotFound { .. })) | Err(Err(Error::Conflict(_))) => {}
            Err(other) => panic!("unexpected result {other:?}"),
        }
    }
    assert_eq!(good, 140);
    let stored = store.get_channel(a, c.id).await.unwrap().unwrap();
    assert_eq!(stored.last_seq, 140);
    let history = store.messages_after_seq(a, c.id, 0, 1000).await.unwrap();
    assert_eq!(history.len(), 140);
    assert!(
        history
            .iter()
            .all(|v| body_of(&v.message).starts_with("ok "))
    );
}

pub async fn get_message_joins_the_author(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "join").await;
    let u = user(s, a, "author").await;
    let c = channel(s, a, "room", &[u.id]).await;
    let by_user = send(s, a, c.id, Some(u.id), "mine").await;
    let by_system = send(s, a, c.id, None, "announcement").await;

    let view = s.get_message(a, by_user.id).await.unwrap().unwrap();
    assert_eq!(view.message, by_user);
    assert_eq!(view.user, Some(u.clone()));
    let view = s.get_message(a, by_system.id).await.unwrap().unwrap();
    assert_eq!(view.message, by_system);
    assert_eq!(view.user, None);
    assert_eq!(
        s.get_message(a, MessageId(by_system.id.0 + 1000))
            .await
            .unwrap(),
        None
    );

    let page = s
        .list_messages(a, &MessageFilter::default(), &older(10, None))
        .await
        .unwrap();
    assert_eq!(page.items[0].user, None);
    assert_eq!(page.items[1].user, Some(u.clone()));

    s.delete_user(a, u.id).await.unwrap();
    let view = s
        .get_message(a, by_user.id)
        .await
        .unwrap()
        .expect("message stays");
    assert_eq!(view.user, None);
    assert_eq!(body_of(&view.message), "mine");
}

pub async fn list_messages_cursor_paging(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "cursor").await;
    let c = channel(s, a, "room", &[]).await;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(send(s, a, c.id, None, &format!("m{i}")).await.id);
    }
    let all = MessageFilter::default();

    // Newest first, going back in time.
    let p1 = s.list_messages(a, &all, &older(4, None)).await.unwrap();
    assert_eq!(bodies(&p1), ["m9", "m8", "m7", "m6"]);
    assert!(p1.has_more);
    assert_eq!(p1.total, 10);
    let p2 = s
        .list_messages(a, &all, &older(4, Some(ids[6])))
        .await
        .unwrap();
    assert_eq!(bodies(&p2), ["m5", "m4", "m3", "m2"]);
    assert!(p2.has_more);
    assert_eq!(p2.total, 10);
    let p3 = s
        .list_messages(a, &all, &older(4, Some(ids[2])))
        .await
        .unwrap();
    assert_eq!(bodies(&p3), ["m1", "m0"]);
    assert!(!p3.has_more);
    let exact = s
        .list_messages(a, &all, &older(2, Some(ids[2])))
        .await
        .unwrap();
    assert_eq!(bodies(&exact), ["m1", "m0"]);
    assert!(!exact.has_more, "has_more is exact on a full last page");
    let empty = s
        .list_messages(a, &all, &older(4, Some(ids[0])))
        .await
        .unwrap();
    assert!(empty.items.is_empty());
    assert!(!empty.has_more);
    assert_eq!(empty.total, 10);

    // Newer: the messages just above the cursor, still newest first.
    let n1 = s
        .list_messages(a, &all, &newer(3, Some(ids[2])))
        .await
        .unwrap();
    assert_eq!(bodies(&n1), ["m5", "m4", "m3"]);
    assert!(n1.has_more);
    let n2 = s
        .list_messages(a, &all, &newer(3, Some(ids[5])))
        .await
        .unwrap();
    assert_eq!(bodies(&n2), ["m8", "m7", "m6"]);
    assert!(n2.has_more);
    let n3 = s
        .list_messages(a, &all, &newer(3, Some(ids[6])))
        .await
        .unwrap();
    assert_eq!(bodies(&n3), ["m9", "m8", "m7"]);
    assert!(!n3.has_more);
    let n4 = s
        .list_messages(a, &all, &newer(3, Some(ids[9])))
        .await
        .unwrap();
    assert!(n4.items.is_empty());
    assert!(!n4.has_more);
    // Without a cursor, Newer starts from the oldest.
    let n0 = s.list_messages(a, &all, &newer(3, None)).await.unwrap();
    assert_eq!(bodies(&n0), ["m2", "m1", "m0"]);
    assert!(n0.has_more);
    assert_eq!(n0.total, 10);

    // The same within one channel, with messages of another channel interleaved.
    let d = channel(s, a, "other", &[]).await;
    let in_c = MessageFilter {
        channel_id: Some(c.id),
        ..Default::default()
    };
    let mut foreign = Vec::new();
    for i in 10..14 {
        ids.push(send(s, a, c.id, None, &format!("m{i}")).await.id);
        foreign.push(send(s, a, d.id, None, &format!("d{i}")).await.id);
    }
    let p = s
        .list_messages(a, &in_c, &older(3, Some(ids[12])))
        .await
        .unwrap();
    assert_eq!(bodies(&p), ["m11", "m10", "m9"]);
    assert!(p.has_more);
    assert_eq!(p.total, 14);
    let p = s
        .list_messages(a, &in_c, &newer(3, Some(ids[9])))
        .await
        .unwrap();
    assert_eq!(bodies(&p), ["m12", "m11", "m10"]);
    assert!(p.has_more);
    // A cursor from another channel still splits by id.
    let p = s
        .list_messages(a, &in_c, &older(2, Some(foreign[1])))
        .await
        .unwrap();
    assert_eq!(bodies(&p), ["m11", "m10"]);
    let p = s
        .list_messages(a, &in_c, &newer(2, Some(foreign[1])))
        .await
        .unwrap();
    assert_eq!(bodies(&p), ["m13", "m12"]);
    assert!(!p.has_more);
    // A cursor whose message was deleted still works, in both directions.
    s.delete_message(a, ids[8]).await.unwrap();
    let p = s
        .list_messages(a, &in_c, &older(3, Some(ids[8])))
        .await
        .unwrap();
    assert_eq!(bodies(&p), ["m7", "m6", "m5"]);
    assert!(p.has_more);
    let p = s
        .list_messages(a, &in_c, &newer(3, Some(ids[8])))
        .await
        .unwrap();
    assert_eq!(bodies(&p), ["m11", "m10", "m9"]);
    assert!(p.has_more);
    let p = s
        .list_messages(a, &all, &newer(3, Some(ids[8])))
        .await
        .unwrap();
    assert_eq!(bodies(&p), ["d10", "m10", "m9"]);
}

pub async fn reads_see_acknowledged_writes(store: Arc<dyn Store>) {
    let a = app(store.as_ref(), "coherent").await;
    let u = user(store.as_ref(), a, "u").await;
    let c = channel(store.as_ref(), a, "room", &[u.id]).await;
    // Writers check what they read right after each acknowledged write, while readers
    // hammer the same rows (so any cache in front of the store is exercised).
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for _ in 0..200 {
                    let seen = store.get_channel(a, c.id).await.unwrap().unwrap();
                    assert!(seen.last_seq >= 0);
                    store.get_user(a, u.id).await.unwrap().unwrap();
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    let writers: Vec<_> = (0..8)
        .map(|t| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut newest = MessageId(0);
                for i in 0..40 {
                    let m = store
                        .append_message(a, text(c.id, Some(u.id), &format!("t{t} m{i}")))
                        .await
                        .unwrap()
                        .message;
                    let seen = store.get_channel(a, c.id).await.unwrap().unwrap();
                    assert!(
                        seen.last_seq >= m.seq,
                        "a read after the ack sees the write"
                    );
                    assert!(seen.last_message_id >= Some(m.id));
                    assert!(store.get_message(a, m.id).await.unwrap().is_some());
                    newest = newest.max(m.id);
                }
                newest
            })
        })
        .collect();
    for r in join_all(readers).await {
        r.expect("reader");
    }
    let mut newest = MessageId(0);
    for w in join_all(writers).await {
        newest = newest.max(w.expect("writer"));
    }
    let final_channel = store.get_channel(a, c.id).await.unwrap().unwrap();
    assert_eq!(final_channel.last_seq, 320);
    assert_eq!(final_channel.last_message_id, Some(newest));

    // Changes to the channel and the user are visible at once, by id and by name.
    let renamed = store
        .update_channel(
            a,
            c.id,
            hubbub_core::model::ChannelChanges {
                properties: Some(props(json!({"v": 2}))),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(store.get_channel(a, c.id).await.unwrap(), Some(renamed));
    let changed = store
        .update_user(
            a,
            u.id,
            hubbub_core::model::UserChanges {
                presence_status: Some("AWAY".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store.get_user(a, u.id).await.unwrap(),
        Some(changed.clone())
    );
    assert_eq!(
        store.get_user_by_name(a, &u.name).await.unwrap(),
        Some(changed)
    );
    store.delete_user(a, u.id).await.unwrap();
    assert_eq!(store.get_user(a, u.id).await.unwrap(), None);
    assert_eq!(store.get_user_by_name(a, &u.name).await.unwrap(), None);
    let last = store.get_channel(a, c.id).await.unwrap().unwrap();
    store.delete_message(a, newest).await.unwrap();
    let after = store.get_channel(a, c.id).await.unwrap().unwrap();
    assert_eq!(after.last_seq, last.last_seq);
    assert!(after.last_message_id < Some(newest));
    store.delete_channel(a, c.id).await.unwrap();
    assert_eq!(store.get_channel(a, c.id).await.unwrap(), None);
}

pub async fn list_messages_filters(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "filters").await;
    let ann = user(s, a, "ann").await;
    let bob = user(s, a, "bob").await;
    let c = channel(s, a, "c", &[ann.id, bob.id]).await;
    let d = channel(s, a, "d", &[bob.id]).await;
    send(s, a, c.id, Some(ann.id), "Hello World").await; // c1
    send(s, a, c.id, Some(bob.id), "50% off_today").await; // c2
    send(s, a, c.id, Some(ann.id), "hello again").await; // c3
    send(s, a, d.id, Some(bob.id), "HELLO from d").await; // d1
    send(s, a, d.id, None, "500 offers").await; // d2
    send(s, a, c.id, None, "system: x_y").await; // c4

    let q = |text: &str| MessageFilter {
        query: Some(text.into()),
        ..Default::default()
    };
    let all_of = |f: MessageFilter| async move {
        let p = s.list_messages(a, &f, &older(100, None)).await.unwrap();
        let b: Vec<String> = p
            .items
            .iter()
            .map(|v| body_of(&v.message).to_owned())
            .collect();
        (b, p.total)
    };

    assert_eq!(
        all_of(q("hello")).await,
        (
            vec![
                "HELLO from d".into(),
                "hello again".into(),
                "Hello World".into()
            ],
            3
        )
    );
    assert_eq!(
        all_of(q("50%")).await,
        (vec!["50% off_today".into()], 1),
        "% is literal"
    );
    assert_eq!(all_of(q("0%")).await.1, 1);
    assert_eq!(all_of(q("o_f")).await.1, 0, "_ is literal");
    assert_eq!(all_of(q("x_y")).await, (vec!["system: x_y".into()], 1));
    assert_eq!(all_of(q("%")).await.1, 1);

    let by_bob = MessageFilter {
        sender: Some(bob.id),
        ..Default::default()
    };
    assert_eq!(
        all_of(by_bob).await,
        (vec!["HELLO from d".into(), "50% off_today".into()], 2)
    );
    let by_name = MessageFilter {
        sender_name: Some(user_name("ann")),
        ..Default::default()
    };
    assert_eq!(all_of(by_name).await.1, 2);
    let in_d = MessageFilter {
        channel_id: Some(d.id),
        ..Default::default()
    };
    assert_eq!(
        all_of(in_d).await,
        (vec!["500 offers".into(), "HELLO from d".into()], 2)
    );
    let hello_in_c = MessageFilter {
        channel_id: Some(c.id),
        query: Some("HELLO".into()),
        ..Default::default()
    };
    assert_eq!(all_of(hello_in_c).await.1, 2);

    let anns_channels = MessageFilter {
        member: Some(ann.id),
        ..Default::default()
    };
    assert_eq!(all_of(anns_channels).await.1, 4, "everything in c");
    let bobs_channels = MessageFilter {
        member: Some(bob.id),
        ..Default::default()
    };
    assert_eq!(all_of(bobs_channels).await.1, 6);

    // Unread: member channels, above the read mark, not sent by the reader.
    let unread = |u: UserId| MessageFilter {
        unread_for: Some(u),
        ..Default::default()
    };
    assert_eq!(
        all_of(unread(ann.id)).await,
        (vec!["system: x_y".into(), "50% off_today".into()], 2)
    );
    assert_eq!(s.count_unread(a, ann.id).await.unwrap(), 2);
    assert_eq!(all_of(unread(bob.id)).await.1, 4);
    s.mark_read(a, c.id, ann.id, 2).await.unwrap();
    assert_eq!(
        all_of(unread(ann.id)).await,
        (vec!["system: x_y".into()], 1)
    );
    assert_eq!(s.count_unread(a, ann.id).await.unwrap(), 1);
    s.mark_read(a, c.id, ann.id, 4).await.unwrap();
    assert_eq!(all_of(unread(ann.id)).await.1, 0);
    assert_eq!(s.count_unread(a, ann.id).await.unwrap(), 0);
    s.mark_read(a, d.id, bob.id, 2).await.unwrap();
    assert_eq!(
        all_of(unread(bob.id)).await,
        (
            vec![
                "system: x_y".into(),
                "hello again".into(),
                "Hello World".into()
            ],
            3
        )
    );
    // Paging within a filter keeps its total.
    let page = s
        .list_messages(a, &unread(bob.id), &older(2, None))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert!(page.has_more);
    assert_eq!(page.total, 3);
}

pub async fn messages_after_seq_is_oldest_first(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "after").await;
    let c = channel(s, a, "room", &[]).await;
    let other = channel(s, a, "other", &[]).await;
    let mut sent = Vec::new();
    for i in 1..=6 {
        sent.push(send(s, a, c.id, None, &format!("m{i}")).await);
        send(s, a, other.id, None, "noise").await;
    }
    let seqs = |v: &[MessageView]| v.iter().map(|m| m.message.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(&s.messages_after_seq(a, c.id, 0, 100).await.unwrap()),
        [1, 2, 3, 4, 5, 6]
    );
    assert_eq!(
        seqs(&s.messages_after_seq(a, c.id, 2, 3).await.unwrap()),
        [3, 4, 5]
    );
    assert!(
        s.messages_after_seq(a, c.id, 6, 10)
            .await
            .unwrap()
            .is_empty()
    );
    s.delete_message(a, sent[3].id).await.unwrap();
    assert_eq!(
        seqs(&s.messages_after_seq(a, c.id, 2, 10).await.unwrap()),
        [3, 5, 6]
    );
    let first = &s.messages_after_seq(a, c.id, 0, 1).await.unwrap()[0];
    assert_eq!(first.message, sent[0]);
}

pub async fn update_message_sets_edited_at_only_on_body_change(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "edit").await;
    let u = user(s, a, "u").await;
    let c = channel(s, a, "room", &[u.id]).await;
    let m = send(s, a, c.id, Some(u.id), "first").await;

    let props_only = s
        .update_message(
            a,
            m.id,
            MessageChanges {
                properties: Some(props(json!({"pinned": true}))),
                group_tag: Some(Some("g".into())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(props_only.message.edited_at, None);
    assert_eq!(
        props_only.message.properties,
        props(json!({"pinned": true}))
    );
    assert_eq!(props_only.message.group_tag.as_deref(), Some("g"));
    assert_eq!(props_only.user, Some(u.clone()));

    let same_body = s
        .update_message(
            a,
            m.id,
            MessageChanges {
                body: Some(body("first")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        same_body.message.edited_at, None,
        "an unchanged body is no edit"
    );

    let edited = s
        .update_message(
            a,
            m.id,
            MessageChanges {
                body: Some(body("second")),
                group_tag: Some(None),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(body_of(&edited.message), "second");
    assert!(edited.message.edited_at.is_some());
    assert!(edited.message.edited_at >= Some(m.created_at));
    assert_eq!(edited.message.group_tag, None);
    assert_eq!(edited.message.seq, m.seq);
    assert_eq!(edited.message.properties, props(json!({"pinned": true})));
    assert_eq!(s.get_message(a, m.id).await.unwrap(), Some(edited));

    let missing = s
        .update_message(a, MessageId(m.id.0 + 1000), MessageChanges::default())
        .await;
    assert!(is_not_found(&missing), "{missing:?}");
}

pub async fn delete_message_keeps_seqs_and_fixes_last_message(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "delete").await;
    let b = app(s, "delete-b").await;
    let c = channel(s, a, "room", &[]).await;
    let d = channel(s, a, "other", &[]).await;
    let cb = channel(s, b, "room-b", &[]).await;
    let m1 = send(s, a, c.id, None, "one").await;
    let m2 = send(s, a, c.id, None, "two").await;
    send(s, a, d.id, None, "elsewhere").await;
    let in_b = send(s, b, cb.id, None, "b's").await;

    let deleted = s.delete_message(a, m2.id).await.unwrap();
    assert_eq!(deleted.message, m2, "returns the message as it was");
    assert_eq!(s.get_message(a, m2.id).await.unwrap(), None);
    let again = s.delete_message(a, m2.id).await;
    assert!(is_not_found(&again), "{again:?}");
    let channel = s.get_channel(a, c.id).await.unwrap().unwrap();
    assert_eq!(channel.last_seq, 2, "seqs are not reused");
    assert_eq!(channel.last_message_id, Some(m1.id));
    let m3 = send(s, a, c.id, None, "three").await;
    assert_eq!(m3.seq, 3);
    assert!(m3.id > m2.id, "ids are not reused");

    assert_eq!(s.delete_all_messages(a).await.unwrap(), 3);
    assert_eq!(total(s, a, MessageFilter::default()).await, 0);
    for ch in [c.id, d.id] {
        let channel = s.get_channel(a, ch).await.unwrap().unwrap();
        assert_eq!(channel.last_message_id, None);
    }
    assert_eq!(s.get_channel(a, c.id).await.unwrap().unwrap().last_seq, 3);
    assert_eq!(send(s, a, c.id, None, "four").await.seq, 4);
    // Another application's messages are untouched.
    assert_eq!(
        s.get_message(b, in_b.id).await.unwrap().map(|v| v.message),
        Some(in_b)
    );
    assert_eq!(s.delete_all_messages(a).await.unwrap(), 1);
}

pub async fn read_marks_never_move_backwards(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "marks").await;
    let me = user(s, a, "me").await;
    let them = user(s, a, "them").await;
    let c = channel(s, a, "room", &[me.id, them.id]).await;
    let d = channel(s, a, "not-mine", &[them.id]).await;
    for i in 0..6 {
        send(s, a, c.id, Some(them.id), &format!("t{i}")).await;
    }
    send(s, a, c.id, Some(me.id), "mine").await; // seq 7, never unread for me
    send(s, a, c.id, None, "system").await; // seq 8
    send(s, a, d.id, Some(them.id), "elsewhere").await;
    assert_eq!(s.count_unread(a, me.id).await.unwrap(), 7);

    s.mark_read(a, c.id, me.id, 5).await.unwrap();
    assert_eq!(s.count_unread(a, me.id).await.unwrap(), 2);
    s.mark_read(a, c.id, me.id, 3).await.unwrap();
    assert_eq!(
        s.count_unread(a, me.id).await.unwrap(),
        2,
        "never backwards"
    );
    s.mark_read(a, c.id, me.id, 8).await.unwrap();
    assert_eq!(s.count_unread(a, me.id).await.unwrap(), 0);
    send(s, a, c.id, Some(them.id), "new").await;
    assert_eq!(s.count_unread(a, me.id).await.unwrap(), 1);
    assert_eq!(
        s.count_unread(a, them.id).await.unwrap(),
        2,
        "mine and system"
    );

    let no_channel = s.mark_read(a, ChannelId(d.id.0 + 1000), me.id, 1).await;
    assert!(is_not_found(&no_channel), "{no_channel:?}");
    let no_user = s.mark_read(a, c.id, UserId(them.id.0 + 1000), 1).await;
    assert!(is_not_found(&no_user), "{no_user:?}");
}

pub async fn stats_count_commits_and_messages(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "stats").await;
    let c = channel(s, a, "room", &[]).await;
    let before = s.stats();
    for i in 0..5 {
        send(s, a, c.id, None, &format!("m{i}")).await;
    }
    s.append_message(a, keyed(c.id, None, "k", "once"))
        .await
        .unwrap();
    let dup = s
        .append_message(a, keyed(c.id, None, "k", "once"))
        .await
        .unwrap();
    assert!(dup.duplicate);
    let after = s.stats();
    assert_eq!(
        after.messages_appended - before.messages_appended,
        6,
        "duplicates excluded"
    );
    assert!(after.commits > before.commits);
    assert!(after.commits - before.commits <= 7);
    assert!(after.writes - before.writes >= 6);
}
