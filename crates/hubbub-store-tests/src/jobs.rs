//! Jobs: creation, updates and the end of a job, heartbeats and abandoned jobs, the
//! batched append, import keys, and the keyset walks of exports.

use crate::fixtures::*;
use chrono::Duration;
use futures::future::join_all;
use hubbub_core::Error;
use hubbub_core::ids::{ChannelId, JobId, MessageId, UserId};
use hubbub_core::model::{
    JobFile, JobFilter, JobItemError, JobKind, JobProgress, JobState, JobUpdate, Mention,
    MentionTarget, MessageExtras, NewJob, NewMessage, now,
};
use hubbub_core::paging::{PageRequest, SortField};
use hubbub_core::store::Store;
use std::sync::Arc;

fn new_job(kind: JobKind, runner: &str) -> NewJob {
    NewJob {
        kind,
        channel_id: None,
        total: Some(3),
        runner: runner.to_owned(),
    }
}

fn page(page: u32, size: u32) -> PageRequest {
    PageRequest {
        page,
        size,
        sort: vec![],
    }
}

pub async fn jobs_round_trip(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "jobs").await;
    let before = now();
    let job = s
        .create_job(
            a,
            NewJob {
                channel_id: Some(ChannelId(42)),
                ..new_job(JobKind::ChannelMembersImport, "runner-1")
            },
        )
        .await
        .expect("create job");
    assert_eq!(job.app_id, a);
    assert_eq!(job.kind, JobKind::ChannelMembersImport);
    assert_eq!(job.state, JobState::Pending);
    assert_eq!(job.channel_id, Some(ChannelId(42)));
    assert_eq!(job.progress.total, Some(3));
    assert_eq!(job.progress.processed, 0);
    assert!(job.errors.is_empty());
    assert_eq!(job.failure, None);
    assert_eq!(job.file, None);
    assert_eq!(job.runner, "runner-1");
    assert!(job.created_at >= before && job.heartbeat_at >= before);
    assert_eq!((job.started_at, job.ended_at), (None, None));
    assert_eq!(s.get_job(a, job.id).await.unwrap(), Some(job.clone()));

    let started = now();
    let running = s
        .update_job(
            a,
            job.id,
            JobUpdate {
                state: Some(JobState::Running),
                started_at: Some(started),
                ..Default::default()
            },
        )
        .await
        .expect("start");
    assert_eq!(running.state, JobState::Running);
    assert_eq!(running.started_at, Some(started));

    let progress = JobProgress {
        processed: 3,
        succeeded: 2,
        failed: 1,
        duplicates: 1,
        total: Some(3),
    };
    let errors = vec![JobItemError {
        index: 1,
        reason: "unknown user 'x'".into(),
    }];
    let file = JobFile {
        name: "out.jsonl".into(),
        content_type: "application/x-ndjson".into(),
        size: 12,
    };
    let ended = now();
    let done = s
        .update_job(
            a,
            job.id,
            JobUpdate {
                state: Some(JobState::Finished),
                ended_at: Some(ended),
                progress: Some(progress),
                errors: Some(errors.clone()),
                file: Some(file.clone()),
                ..Default::default()
            },
        )
        .await
        .expect("finish");
    assert_eq!(done.state, JobState::Finished);
    assert_eq!(done.progress, progress);
    assert_eq!(done.errors, errors);
    assert_eq!(done.file, Some(file));
    assert_eq!(done.ended_at, Some(ended));
    assert_eq!(done.started_at, Some(started), "untouched fields stay");
    assert_eq!(s.get_job(a, job.id).await.unwrap(), Some(done.clone()));

    // An ended job never changes again.
    let late = s
        .update_job(
            a,
            job.id,
            JobUpdate {
                state: Some(JobState::Running),
                ..Default::default()
            },
        )
        .await;
    assert!(is_conflict(&late), "{late:?}");
    assert_eq!(s.get_job(a, job.id).await.unwrap(), Some(done));

    assert!(is_not_found(
        &s.update_job(a, JobId(job.id.0 + 100), JobUpdate::default())
            .await
    ));
    assert_eq!(s.get_job(a, JobId(job.id.0 + 100)).await.unwrap(), None);
}

pub async fn list_jobs_filters_by_running_and_pages(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "jobs-list").await;
    let mut ids = Vec::new();
    for kind in [
        JobKind::UserImport,
        JobKind::ChannelImport,
        JobKind::MessageImport,
        JobKind::MessageAnalyticsExport,
        JobKind::UserAnalyticsExport,
    ] {
        ids.push(s.create_job(a, new_job(kind, "r")).await.unwrap().id);
    }
    // 0: running, 1: finished, 2: failed, 3 and 4: pending.
    let set = |state| JobUpdate {
        state: Some(state),
        ..Default::default()
    };
    s.update_job(a, ids[0], set(JobState::Running))
        .await
        .unwrap();
    s.update_job(a, ids[1], set(JobState::Finished))
        .await
        .unwrap();
    s.update_job(a, ids[2], set(JobState::Failed))
        .await
        .unwrap();

    let all = s
        .list_jobs(a, &JobFilter::default(), &page(0, 10))
        .await
        .unwrap();
    assert_eq!(all.total, 5);
    assert_eq!(all.items.iter().map(|j| j.id).collect::<Vec<_>>(), ids);

    let running = s
        .list_jobs(
            a,
            &JobFilter {
                running: Some(true),
            },
            &page(0, 10),
        )
        .await
        .unwrap();
    assert_eq!(running.total, 3);
    assert_eq!(
        running.items.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![ids[0], ids[3], ids[4]]
    );
    let ended = s
        .list_jobs(
            a,
            &JobFilter {
                running: Some(false),
            },
            &page(0, 10),
        )
        .await
        .unwrap();
    assert_eq!(
        ended.items.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![ids[1], ids[2]]
    );

    let second = s
        .list_jobs(a, &JobFilter::default(), &page(1, 2))
        .await
        .unwrap();
    assert_eq!(second.total, 5);
    assert_eq!(
        second.items.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![ids[2], ids[3]]
    );
    let desc = PageRequest::parse(None, Some(2), &["id,desc".into()], &[SortField::Id]).unwrap();
    let newest = s.list_jobs(a, &JobFilter::default(), &desc).await.unwrap();
    assert_eq!(
        newest.items.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![ids[4], ids[3]]
    );

    // Another application sees none of them.
    let b = app(s, "jobs-list-other").await;
    let theirs = s
        .list_jobs(b, &JobFilter::default(), &page(0, 10))
        .await
        .unwrap();
    assert_eq!(theirs.total, 0);
    assert!(theirs.items.is_empty());
    assert_eq!(s.get_job(b, ids[0]).await.unwrap(), None);
    assert!(is_not_found(
        &s.update_job(b, ids[0], set(JobState::Failed)).await
    ));
}

pub async fn abandoned_jobs_fail_and_heartbeats_keep_jobs_alive(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "jobs-sweep").await;
    let b = app(s, "jobs-sweep-b").await;
    let mine = s
        .create_job(a, new_job(JobKind::UserImport, "me"))
        .await
        .unwrap();
    let theirs = s
        .create_job(b, new_job(JobKind::MessageImport, "them"))
        .await
        .unwrap();
    let done = s
        .create_job(a, new_job(JobKind::ChannelImport, "them"))
        .await
        .unwrap();
    s.update_job(
        a,
        done.id,
        JobUpdate {
            state: Some(JobState::Finished),
            ..Default::default()
        },
    )
    .await
    .unwrap();

    // A heartbeat refreshes only the runner's active jobs.
    let later = now() + Duration::seconds(60);
    assert_eq!(s.heartbeat_jobs("me", later).await.unwrap(), 1);
    assert_eq!(
        s.get_job(a, mine.id).await.unwrap().unwrap().heartbeat_at,
        later
    );
    assert_eq!(s.heartbeat_jobs("nobody", later).await.unwrap(), 0);

    // Jobs whose heartbeat is older than the cut are given up, in every application.
    let cut = now() + Duration::seconds(30);
    let at = now();
    assert_eq!(
        s.fail_abandoned_jobs(None, cut, "interrupted", at)
            .await
            .unwrap(),
        1
    );
    let failed = s.get_job(b, theirs.id).await.unwrap().unwrap();
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.failure.as_deref(), Some("interrupted"));
    assert_eq!(failed.ended_at, Some(at));
    assert_eq!(
        s.get_job(a, mine.id).await.unwrap().unwrap().state,
        JobState::Pending,
        "a job with a fresh heartbeat stays"
    );
    assert_eq!(
        s.get_job(a, done.id).await.unwrap().unwrap().state,
        JobState::Finished,
        "an ended job is never touched"
    );

    // A runner gives up its own jobs at shutdown, whatever their heartbeat.
    let other = s
        .create_job(b, new_job(JobKind::UserImport, "them"))
        .await
        .unwrap();
    let far = now() + Duration::days(365);
    assert_eq!(
        s.fail_abandoned_jobs(Some("me"), far, "stopped", now())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.get_job(a, mine.id)
            .await
            .unwrap()
            .unwrap()
            .failure
            .as_deref(),
        Some("stopped")
    );
    assert_eq!(
        s.get_job(b, other.id).await.unwrap().unwrap().state,
        JobState::Pending
    );
}

pub async fn append_messages_keeps_order_and_isolates_failures(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "batch").await;
    let u = user(s, a, "u").await;
    let c = channel(s, a, "one", &[]).await;
    let d = channel(s, a, "two", &[]).await;
    send(s, a, c.id, None, "before").await;

    let t0 = now() - Duration::days(30);
    let mut batch: Vec<NewMessage> = Vec::new();
    for i in 0..600 {
        let target = if i % 3 == 0 { d.id } else { c.id };
        let mut m = text(target, Some(u.id), &format!("m{i}"));
        m.created_at = Some(t0 + Duration::seconds(i));
        batch.push(m);
    }
    // An unknown channel, an unknown author, and a retry of a keyed message.
    batch.insert(10, text(ChannelId(c.id.0 + 1000), Some(u.id), "lost"));
    batch.insert(20, text(c.id, Some(UserId(u.id.0 + 1000)), "ghost"));
    let mut keyed = text(c.id, Some(u.id), "keyed");
    keyed.idempotency_key = Some(key("k1"));
    batch.push(keyed.clone());
    batch.push(keyed);

    let plain = |m: NewMessage| (m, MessageExtras::default());
    let mut batch: Vec<(NewMessage, MessageExtras)> = batch.into_iter().map(plain).collect();
    // Extras are written with their message.
    let mention = Mention {
        target: MentionTarget::User {
            user: Box::new(u.clone()),
        },
        tag: "@u".into(),
        start_position: 0,
        end_position: 2,
    };
    batch[5].1.mentions.push(mention.clone());
    let results = s.append_messages(a, batch).await.expect("batch");
    assert_eq!(results.len(), 604);
    let with_mention = results[5].as_ref().expect("appended").message.id;
    let stored = s.get_message(a, with_mention).await.unwrap().unwrap();
    assert_eq!(stored.message.mentions, vec![mention]);
    assert!(
        matches!(results[10], Err(Error::NotFound { .. })),
        "{:?}",
        results[10]
    );
    assert!(
        matches!(results[20], Err(Error::NotFound { .. })),
        "{:?}",
        results[20]
    );
    let original = results[602].as_ref().expect("keyed").clone();
    assert!(!original.duplicate);
    let retry = results[603].as_ref().expect("retry");
    assert!(retry.duplicate);
    assert_eq!(retry.message.id, original.message.id);

    // Seqs follow the batch order within each channel; timestamps are kept.
    let mut next_c = 2;
    let mut next_d = 1;
    let mut last_id = 0;
    for (i, r) in results.iter().enumerate().take(602) {
        if i == 10 || i == 20 {
            continue;
        }
        let m = &r.as_ref().expect("appended").message;
        assert!(m.id.0 > last_id, "ids grow in batch order");
        last_id = m.id.0;
        if m.channel_id == c.id {
            assert_eq!(m.seq, next_c);
            next_c += 1;
        } else {
            assert_eq!(m.seq, next_d);
            next_d += 1;
        }
    }
    let first = results[0].as_ref().unwrap().message.clone();
    assert_eq!(body_of(&first), "m0");
    assert_eq!(first.created_at, t0);
    let stored = s.get_message(a, first.id).await.unwrap().unwrap();
    assert_eq!(stored.message.created_at, t0);
    assert_eq!(stored.message.seq, 1);

    let c_now = s.get_channel(a, c.id).await.unwrap().unwrap();
    assert_eq!(c_now.last_seq, 1 + 400 + 1, "before + 400 + keyed");
    assert_eq!(c_now.last_message_id, Some(original.message.id));
    let d_now = s.get_channel(a, d.id).await.unwrap().unwrap();
    assert_eq!(d_now.last_seq, 200);

    // Two batches sent concurrently each keep their own order.
    let e = channel(s, a, "three", &[]).await;
    let batch = |tag: &'static str| -> Vec<(NewMessage, MessageExtras)> {
        (0..300)
            .map(|i| plain(text(e.id, None, &format!("{tag}{i}"))))
            .collect()
    };
    let both = join_all([
        s.append_messages(a, batch("x")),
        s.append_messages(a, batch("y")),
    ])
    .await;
    for (tag, results) in ["x", "y"].iter().zip(both) {
        let seqs: Vec<i64> = results
            .unwrap()
            .into_iter()
            .map(|r| r.unwrap().message.seq)
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{tag}: {seqs:?}");
    }
    assert_eq!(s.get_channel(a, e.id).await.unwrap().unwrap().last_seq, 600);

    assert!(s.append_messages(a, Vec::new()).await.unwrap().is_empty());
}

pub async fn import_keys_round_trip_per_app_and_scope(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "keys").await;
    let b = app(s, "keys-b").await;
    let k = key("alpha");
    assert_eq!(s.find_import_key(a, "user", &k).await.unwrap(), None);
    s.put_import_key(a, "user", &k, 7).await.unwrap();
    assert_eq!(s.find_import_key(a, "user", &k).await.unwrap(), Some(7));
    assert_eq!(s.find_import_key(a, "channel", &k).await.unwrap(), None);
    assert_eq!(s.find_import_key(b, "user", &k).await.unwrap(), None);
    s.put_import_key(a, "user", &k, 9).await.unwrap();
    assert_eq!(s.find_import_key(a, "user", &k).await.unwrap(), Some(9));
}

pub async fn keyset_walks_cover_every_row_once(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "walk").await;
    let b = app(s, "walk-b").await;
    let mut users = Vec::new();
    for i in 0..7 {
        users.push(user(s, a, &format!("u{i}")).await.id);
    }
    user(s, b, "theirs").await;
    let c = channel(s, a, "room", &[]).await;
    let theirs = channel(s, b, "room", &[]).await;
    for i in 0..11 {
        send(s, a, c.id, Some(users[i % 7]), &format!("m{i}")).await;
        send(s, b, theirs.id, None, "not yours").await;
    }

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let chunk = s.users_after_id(a, after, 3).await.unwrap();
        if chunk.is_empty() {
            break;
        }
        assert!(chunk.len() <= 3);
        after = chunk.last().map(|u| u.id);
        seen.extend(chunk.into_iter().map(|u| u.id));
    }
    assert_eq!(seen, users);

    let mut bodies = Vec::new();
    let mut after: Option<MessageId> = None;
    loop {
        let chunk = s.messages_after_id(a, after, 4).await.unwrap();
        if chunk.is_empty() {
            break;
        }
        after = chunk.last().map(|m| m.message.id);
        for view in chunk {
            assert_eq!(view.message.app_id, a);
            assert_eq!(view.user.as_ref().map(|u| u.id), view.message.user_id);
            bodies.push(body_of(&view.message).to_owned());
        }
    }
    assert_eq!(bodies, (0..11).map(|i| format!("m{i}")).collect::<Vec<_>>());
}
