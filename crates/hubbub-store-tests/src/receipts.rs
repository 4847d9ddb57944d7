//! Read receipts and unread summaries: the history of read marks.

use crate::fixtures::*;
use hubbub_core::paging::{PageRequest, SortField, SortKey};
use hubbub_core::store::Store;
use std::sync::Arc;

pub async fn read_marks_keep_their_time_and_history(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "receipts").await;
    let author = user(s, a, "author").await;
    let jane = user(s, a, "jane").await;
    let bob = user(s, a, "bob").await;
    let c = channel(s, a, "room", &[author.id, jane.id, bob.id]).await;
    let m1 = send(s, a, c.id, Some(author.id), "one").await;
    let m2 = send(s, a, c.id, Some(author.id), "two").await;
    let m3 = send(s, a, c.id, Some(author.id), "three").await;

    assert_eq!(s.get_read_mark(a, c.id, jane.id).await.unwrap(), None);
    s.mark_read(a, c.id, jane.id, m1.seq).await.unwrap();
    let first = s.get_read_mark(a, c.id, jane.id).await.unwrap().unwrap();
    assert_eq!(first.last_read_seq, m1.seq);
    assert!(first.read_at >= m1.created_at);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    s.mark_read(a, c.id, jane.id, m3.seq).await.unwrap();
    let later = s.get_read_mark(a, c.id, jane.id).await.unwrap().unwrap();
    assert_eq!(later.last_read_seq, m3.seq);
    assert!(
        later.read_at > first.read_at,
        "the time moves with the mark"
    );
    // Going back changes nothing.
    s.mark_read(a, c.id, jane.id, m1.seq).await.unwrap();
    assert_eq!(
        s.get_read_mark(a, c.id, jane.id).await.unwrap().unwrap(),
        later
    );
    s.mark_read(a, c.id, bob.id, m2.seq).await.unwrap();
    let bob_mark = s.get_read_mark(a, c.id, bob.id).await.unwrap().unwrap();

    // m1: jane (her first mark), then bob; m2: jane (her second mark), then bob;
    // m3: jane only.
    let all = PageRequest::default();
    let r1 = s.list_read_receipts(a, m1.id, &all).await.unwrap();
    assert_eq!(r1.total, 2);
    let who: Vec<_> = r1.items.iter().map(|r| r.user.id).collect();
    assert_eq!(who, vec![jane.id, bob.id], "earliest reader first");
    assert_eq!(
        r1.items[0].read_at, first.read_at,
        "when the mark first covered it"
    );
    let r2 = s.list_read_receipts(a, m2.id, &all).await.unwrap();
    let who: Vec<_> = r2.items.iter().map(|r| r.user.id).collect();
    assert_eq!(who, vec![jane.id, bob.id]);
    assert_eq!(r2.items[0].read_at, later.read_at);
    assert_eq!(r2.items[1].read_at, bob_mark.read_at);
    let r3 = s.list_read_receipts(a, m3.id, &all).await.unwrap();
    assert_eq!(r3.total, 1);
    assert_eq!(r3.items[0].user.id, jane.id);
    let by_name = PageRequest {
        size: 1,
        page: 1,
        sort: vec![SortKey {
            field: SortField::Name,
            descending: false,
        }],
    };
    let paged = s.list_read_receipts(a, m1.id, &by_name).await.unwrap();
    assert_eq!(paged.total, 2);
    assert_eq!(paged.items.len(), 1);
    assert_eq!(
        paged.items[0].user.id, jane.id,
        "bob < jane: jane on page 1"
    );

    let missing = s
        .list_read_receipts(a, hubbub_core::ids::MessageId(m3.id.0 + 100), &all)
        .await;
    assert!(is_not_found(&missing), "{missing:?}");
    // A deleted reader leaves no receipt behind.
    s.delete_user(a, bob.id).await.unwrap();
    assert_eq!(s.list_read_receipts(a, m1.id, &all).await.unwrap().total, 1);
}

pub async fn unread_summaries_count_per_channel_and_member(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "summaries").await;
    let jane = user(s, a, "jane").await;
    let bob = user(s, a, "bob").await;
    let c1 = channel(s, a, "one", &[jane.id, bob.id]).await;
    let c2 = channel(s, a, "two", &[jane.id]).await;
    let quiet = channel(s, a, "quiet", &[jane.id, bob.id]).await;
    let mut last = None;
    for i in 0..3 {
        last = Some(send(s, a, c1.id, Some(bob.id), &format!("b{i}")).await);
    }
    send(s, a, c1.id, Some(jane.id), "jane's own").await;
    send(s, a, c2.id, None, "system").await;
    let m = send(s, a, quiet.id, Some(bob.id), "read already").await;
    s.mark_read(a, quiet.id, jane.id, m.seq).await.unwrap();

    let page = s
        .list_unread_summaries(a, &PageRequest::default())
        .await
        .unwrap();
    let got: Vec<_> = page
        .items
        .iter()
        .map(|x| (x.channel.id, x.user.id, x.count))
        .collect();
    // jane: 3 of bob's in c1 (not her own), 1 system in c2; bob: jane's one in c1.
    let mut want = vec![(c1.id, jane.id, 3), (c1.id, bob.id, 1), (c2.id, jane.id, 1)];
    want.sort();
    assert_eq!(got, want, "channel then user order");
    assert_eq!(page.total, 3);
    assert_eq!(
        page.items.iter().map(|x| x.count).sum::<u64>(),
        s.count_unread(a, jane.id).await.unwrap() + s.count_unread(a, bob.id).await.unwrap(),
        "the same rule as count_unread"
    );
    s.mark_read(a, c1.id, jane.id, last.unwrap().seq)
        .await
        .unwrap();
    let page = s
        .list_unread_summaries(a, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.total, 2);
    let other = app(s, "summaries-other").await;
    let none = s
        .list_unread_summaries(other, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(none.total, 0, "another application sees nothing");
    assert!(none.items.is_empty());
}
